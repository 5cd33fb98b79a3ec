import { create, toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AddEdgeRequestSchema,
  AddVertexRequestSchema,
  DeleteVertexRequestSchema,
  GetVertexRequestSchema,
  GraphBasic,
} from '@prism/graph-basic';
import { GraphQuery, QueryRequestSchema } from '@prism/graph-query';
import { Code, ConnectError, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { type GremlinTestServer, startGremlinServer } from '@prism/testing';
import gremlin from 'gremlin';
import { GremlinConnection } from './connection.js';
import plugin from './index.js';
import { queryScript } from './query.js';

const ctx = { signal: new AbortController().signal };

// Effects checked on the server itself, through a separate driver client that bypasses the adapter.
describe('gremlin adapter against Gremlin Server', () => {
  let server: GremlinTestServer;
  let direct: InstanceType<typeof gremlin.driver.Client>;
  const handles: PluginHandle[] = [];

  const open = async (namespace: string, extra: Record<string, unknown> = {}) => {
    const h = await instantiatePlugin(
      plugin,
      { url: server.url, read_only_traversal_source: 'gro', connect_timeout_ms: 2000, ...extra },
      { namespace },
    );
    handles.push(h);
    return h;
  };
  const raw = async (script: string, bindings: Record<string, unknown> = {}) =>
    (await direct.submit(script, bindings)).toArray();
  const addVertex = (h: PluginHandle, id: string, properties = {}) =>
    h
      .get(GraphBasic)!
      .addVertex(
        create(AddVertexRequestSchema, { namespace: h.namespace, vertex: { id, label: 'node', properties } }),
        ctx,
      );
  const addEdge = (h: PluginHandle, id: string, fromId: string, toId: string) =>
    h
      .get(GraphBasic)!
      .addEdge(
        create(AddEdgeRequestSchema, { namespace: h.namespace, edge: { id, label: 'rel', fromId, toId } }),
        ctx,
      );
  const query = async (h: PluginHandle, text: string, bindings = {}) => {
    const out: unknown[] = [];
    for await (const res of h
      .get(GraphQuery)!
      .query(create(QueryRequestSchema, { namespace: h.namespace, gremlin: text, bindings }), ctx))
      out.push(...(res.results ?? []).map((v) => toJson(ValueSchema, create(ValueSchema, v))));
    return out;
  };

  beforeAll(async () => {
    server = await startGremlinServer();
    direct = new gremlin.driver.Client(server.url, {
      traversalSource: 'g',
      mimeType: 'application/vnd.graphbinary-v1.0',
    });
  }, 120_000);

  afterAll(async () => {
    for (const h of handles) await h.close();
    await direct?.close();
    await server?.dispose();
  }, 60_000);

  it('stores elements under <namespace>/<id> with prism.ns and prism.id, apart per namespace', async () => {
    const a = await open('ns-a');
    const b = await open('ns-b');
    await addVertex(a, 'same', { n: 1 });
    await addVertex(b, 'same', { n: 2 });
    const rows = (await raw(
      "g.V().has('prism.id', 'same').project('id', 'ns', 'n').by(id()).by(values('prism.ns')).by(values('n')).order().by(select('id'))",
    )) as Map<string, unknown>[];
    expect(rows.map((r) => Object.fromEntries(r))).toEqual([
      { id: 'ns-a/same', ns: 'ns-a', n: 1 },
      { id: 'ns-b/same', ns: 'ns-b', n: 2 },
    ]);
    const got = await a
      .get(GraphBasic)!
      .getVertex(create(GetVertexRequestSchema, { namespace: 'ns-a', id: 'same' }), ctx);
    expect(got.vertex?.properties).toEqual({ n: 1 });
  });

  it('removes the incident edges on the server when a vertex is deleted (cascade)', async () => {
    const h = await open('ns-cascade');
    for (const v of ['x', 'y', 'z']) await addVertex(h, v);
    await addEdge(h, 'xy', 'x', 'y');
    await addEdge(h, 'zx', 'z', 'x');
    await addEdge(h, 'xx', 'x', 'x');
    await addEdge(h, 'yz', 'y', 'z');
    expect(await raw("g.E().has('prism.ns', 'ns-cascade').count()")).toEqual([4]);
    const res = await h
      .get(GraphBasic)!
      .deleteVertex(create(DeleteVertexRequestSchema, { namespace: 'ns-cascade', id: 'x' }), ctx);
    expect(res).toMatchObject({ deleted: true, deletedEdges: 3n });
    expect(await raw("g.E().has('prism.ns', 'ns-cascade').values('prism.id')")).toEqual(['yz']);
    expect(await raw("g.V('ns-cascade/x').count()")).toEqual([0]);
  });

  it('addresses elements by client id in graph_query and never sees another namespace', async () => {
    const a = await open('ns-qa');
    const b = await open('ns-qb');
    await addVertex(a, 'v', { who: 'a' });
    await addVertex(b, 'v', { who: 'b' });
    await addVertex(b, 'only-b');
    expect(await query(a, "g.V(x).values('who')", { x: 'v' })).toEqual(['a']);
    expect(await query(a, 'g.V().id()')).toEqual(['v']);
    expect(await query(a, 'g.V(x)', { x: 'only-b' })).toEqual([]);
    expect(await query(a, 'g.V().count()')).toEqual([1]);
    expect(await query(b, 'g.V().hasId(x)', { x: 'v' })).toEqual([
      { id: 'v', label: 'node', properties: { who: 'b' } },
    ]);
  });

  it('runs read-only namespaces on the read-only source: the server refuses writes the lexical check let through', async () => {
    const h = await open('ns-ro');
    await addVertex(h, 'keep');
    // What the adapter would send for a mutating text if checkGremlin had missed it.
    const conn = new GremlinConnection({
      url: server.url,
      where: 'test',
      partition: 'ns-ro',
      traversalSource: 'g',
      requestTimeoutMs: 5000,
      connectTimeoutMs: 2000,
    });
    try {
      const script = queryScript('g.V(x).drop()', 'ns-ro', 10);
      const err = await conn.script(script, { x: 'keep' }, { g: 'gro' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.InvalidArgument);
      expect((err as ConnectError).rawMessage).toMatch(/read-only/);
      // The same script on the read/write source does mutate: the refusal above came from the server.
      await conn.script(queryScript("g.addV('probe')", 'ns-ro', 10), {}, { g: 'g' });
    } finally {
      await conn.close();
    }
    expect(await raw("g.V().has('prism.ns', 'ns-ro').label().order()")).toEqual(['node', 'probe']);
    await expect(query(h, 'g.V(x).drop()', { x: 'keep' })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
  });

  it('answers UNAVAILABLE while the server is down and reconnects on its own when it is back', async () => {
    const h = await open('ns-outage');
    await addVertex(h, 'before');
    const get = async (id: string) =>
      h.get(GraphBasic)!.getVertex(create(GetVertexRequestSchema, { namespace: 'ns-outage', id }), ctx);
    await server.stop();
    const down = await get('before').catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ConnectError);
    expect((down as ConnectError).code).toBe(Code.Unavailable);
    expect((down as ConnectError).rawMessage).toMatch(
      /gremlin backend of namespace "ns-outage" is unavailable/,
    );
    expect((await h.health()).status).toBe('unhealthy');
    // Still down: a second call fails the same way (no stuck half-open connection).
    expect(await get('before').catch((e: ConnectError) => e.code)).toBe(Code.Unavailable);
    await server.restart();
    const back = await get('before');
    expect(back.found).toBe(true);
    await addVertex(h, 'after');
    expect((await h.health()).status).toBe('healthy');
    await direct.close();
    direct = new gremlin.driver.Client(server.url, {
      traversalSource: 'g',
      mimeType: 'application/vnd.graphbinary-v1.0',
    });
    expect(await raw("g.V('ns-outage/after').count()")).toEqual([1]);
  }, 120_000);
});
