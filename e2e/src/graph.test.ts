// Graphs through the proxy process over gRPC and Connect, on Gremlin Server and PostgreSQL, with the effects
// read back from the backend itself: a separate gremlin driver connection to the server, and the vertex and
// edge rows in PostgreSQL. Also the bad input the issue names: a traversal deeper than the limit and a
// Gremlin query that tries to mutate a read-only namespace.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { Code, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GraphBasicInterface } from '@prism/graph-basic';
import { GraphQueryInterface } from '@prism/graph-query';
import { Direction, GraphTraversalInterface } from '@prism/graph-traversal';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
import gremlin from 'gremlin';
import postgres from 'postgres';
import { codeOf } from './codes.js';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

describe('graphs through the proxy, checked in Gremlin Server and PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-e2e-graph-'));
  let pgUrl: string;
  let proxy: ProxyProcess;
  let sql: postgres.Sql;
  let direct: InstanceType<typeof gremlin.driver.Client>;
  const doors: Record<string, () => Transport> = {
    gRPC: () => createGrpcTransport({ baseUrl: proxy.url }),
    Connect: () => createConnectTransport({ baseUrl: proxy.url, httpVersion: '1.1' }),
  };

  beforeAll(async () => {
    pgUrl = await createDatabase(testServerUrl('postgres'));
    sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
    direct = new gremlin.driver.Client(testServerUrl('gremlin'), { traversalsource: 'g' });
    const config = join(dir, 'prism.yaml');
    writeFileSync(
      config,
      `proxy:
  listen: 127.0.0.1:0
namespaces:
  - name: graph-gremlin
    pattern: graph
    needs: [graph_traversal, graph_query]
    backend: { type: gremlin, config: { url: "${testServerUrl('gremlin')}", read_only_traversal_source: gro, partition: e2e-graph } }
  - { name: graph-pg, pattern: graph, needs: [graph_traversal], backend: { type: postgres, config: { url: "${pgUrl}" } } }
`,
    );
    proxy = await startProxyProcess(config);
  });
  afterAll(async () => {
    await proxy?.stop('SIGTERM');
    await direct?.close();
    await sql?.end();
    if (pgUrl) await dropDatabase(pgUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [door, transport] of Object.entries(doors)) {
    for (const ns of ['graph-gremlin', 'graph-pg']) {
      it(`${ns} over ${door}: a chain with a cycle, k-hop, shortest path, cascade and the depth limit`, async () => {
        const t = transport();
        const graph = createClient(GraphBasicInterface, t);
        const walk = createClient(GraphTraversalInterface, t);
        const v = (n: number) => `${door}-v${n}`;
        // v1 → v2 → v3 → v4 → v1 (a cycle), plus a shortcut v1 → v3 labelled "skip".
        for (let n = 1; n <= 4; n++)
          await graph.addVertex({ namespace: ns, vertex: { id: v(n), label: 'station', properties: { n } } });
        for (let n = 1; n <= 4; n++)
          await graph.addEdge({
            namespace: ns,
            edge: { id: `${door}-e${n}`, label: 'next', fromId: v(n), toId: v((n % 4) + 1), properties: {} },
          });
        await graph.addEdge({
          namespace: ns,
          edge: { id: `${door}-skip`, label: 'skip', fromId: v(1), toId: v(3), properties: {} },
        });

        const hop = await walk.kHop({ namespace: ns, startId: v(1), depth: 3, edges: { labels: ['next'] } });
        expect(hop.vertices.map((x) => [x.vertex?.id, x.depth])).toEqual([
          [v(2), 1],
          [v(3), 2],
          [v(4), 3],
        ]);
        const path = await walk.shortestPath({ namespace: ns, fromId: v(1), toId: v(4) });
        expect(path.vertexIds).toEqual([v(1), v(3), v(4)]);
        const back = await walk.neighbors({
          namespace: ns,
          vertexId: v(1),
          edges: { direction: Direction.IN },
        });
        expect(back.vertices.map((x) => x.id)).toEqual([v(4)]);
        expect(await codeOf(walk.kHop({ namespace: ns, startId: v(1), depth: 7 }))).toBe(
          Code.InvalidArgument,
        );

        const gone = await graph.deleteVertex({ namespace: ns, id: v(3) });
        expect([gone.deleted, gone.deletedEdges]).toEqual([true, 3n]);
        expect((await graph.getEdge({ namespace: ns, id: `${door}-skip` })).found).toBe(false);
      });
    }

    it(`graph_query over ${door}: bindings only, and no mutation of a read-only namespace`, async () => {
      const q = createClient(GraphQueryInterface, transport());
      const results: unknown[] = [];
      for await (const batch of q.query({
        namespace: 'graph-gremlin',
        gremlin: "g.V().hasLabel('station').has('n', gt(x)).count()",
        bindings: { x: 1 },
      }))
        results.push(...batch.results.map((r) => toJson(ValueSchema, r)));
      // Stations with n > 1 left after the traversal tests (v3 was deleted): v2 and v4 of each door run so far.
      expect(results).toEqual([door === 'gRPC' ? 2 : 4]);
      expect(await codeOf(q.query({ namespace: 'graph-gremlin', gremlin: 'g.V().drop()' }))).toBe(
        Code.InvalidArgument,
      );
      expect(
        await codeOf(
          q.query({ namespace: 'graph-gremlin', gremlin: "g.addV('x').property('prism.ns', 'e2e-graph')" }),
        ),
      ).toBe(Code.InvalidArgument);
    });
  }

  it('Gremlin Server holds the namespace-prefixed vertices and no edges of the deleted vertex', async () => {
    const ids = (await direct.submit("g.V().has('prism.ns', p).id()", { p: 'e2e-graph' })).toArray();
    expect([...ids].map(String).sort()).toEqual(
      ['Connect-v1', 'Connect-v2', 'Connect-v4', 'gRPC-v1', 'gRPC-v2', 'gRPC-v4'].map(
        (id) => `e2e-graph/${id}`,
      ),
    );
    const edges = (await direct.submit("g.E().has('prism.ns', p).count()", { p: 'e2e-graph' })).toArray();
    // Per door: e1 (v1→v2) and e4 (v4→v1) survive the cascade.
    expect(Number(edges[0])).toBe(4);
  });

  it('PostgreSQL holds the vertex and edge rows, with the cascade applied', async () => {
    const tables = await sql<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'prism' AND table_name LIKE 'graph%'`;
    const names = tables.map((t) => t.table_name);
    const vertexTable = names.find((n) => /vert/.test(n));
    const edgeTable = names.find((n) => /edge/.test(n));
    expect(vertexTable && edgeTable).toBeTruthy();
    const [vertices] = await sql.unsafe(
      `SELECT count(*)::int AS n FROM prism."${vertexTable}" WHERE namespace = 'graph-pg'`,
    );
    const [edges] = await sql.unsafe(
      `SELECT count(*)::int AS n FROM prism."${edgeTable}" WHERE namespace = 'graph-pg'`,
    );
    expect([vertices?.n, edges?.n]).toEqual([6, 4]);
  });
});
