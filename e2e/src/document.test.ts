// Documents through the proxy process over gRPC and Connect, on PostgreSQL (JSONB) and SQLite (JSON1), with
// the effects read back from the backend itself: rows and expression indexes in PostgreSQL, the database file
// with better-sqlite3.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentBasicInterface } from '@prism/document-basic';
import { DocumentIndexingInterface } from '@prism/document-indexing';
import { DocumentQueryInterface } from '@prism/document-query';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { codeOf } from './codes.js';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

describe('documents through the proxy, checked in PostgreSQL and SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-e2e-doc-'));
  const sqlitePath = join(dir, 'docs.db');
  let pgUrl: string;
  let proxy: ProxyProcess;
  let sql: postgres.Sql;
  const doors: Record<string, () => Transport> = {
    gRPC: () => createGrpcTransport({ baseUrl: proxy.url }),
    Connect: () => createConnectTransport({ baseUrl: proxy.url, httpVersion: '1.1' }),
  };

  beforeAll(async () => {
    pgUrl = await createDatabase(testServerUrl('postgres'));
    sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
    const config = join(dir, 'prism.yaml');
    writeFileSync(
      config,
      `proxy:
  listen: 127.0.0.1:0
namespaces:
  - { name: doc-pg, pattern: document, needs: [document_query, document_indexing], backend: { type: postgres, config: { url: "${pgUrl}" } } }
  - { name: doc-sqlite, pattern: document, needs: [document_query, document_indexing], backend: { type: sqlite, config: { path: "${sqlitePath}" } } }
`,
    );
    proxy = await startProxyProcess(config);
  });
  afterAll(async () => {
    await proxy?.stop('SIGTERM');
    await sql?.end();
    if (pgUrl) await dropDatabase(pgUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [door, transport] of Object.entries(doors)) {
    for (const ns of ['doc-pg', 'doc-sqlite']) {
      it(`${ns} over ${door}: put, patch, and a query with a filter, sort and projection`, async () => {
        const t = transport();
        const docs = createClient(DocumentBasicInterface, t);
        const query = createClient(DocumentQueryInterface, t);
        const id = (n: number) => `${door}-${n}`;
        for (let n = 1; n <= 5; n++)
          await docs.put({
            namespace: ns,
            id: id(n),
            json: JSON.stringify({ door, n, address: { city: n % 2 ? 'Oslo' : 'Rome' } }),
          });
        const patched = await docs.patch({
          namespace: ns,
          id: id(1),
          mergePatch: '{"address":{"zip":"0150"},"n":null}',
          expectedVersion: 1n,
        });
        expect(patched.document?.version).toBe(2n);
        expect(JSON.parse(patched.document?.json ?? '')).toEqual({
          door,
          address: { city: 'Oslo', zip: '0150' },
        });
        expect(await codeOf(docs.put({ namespace: ns, id: id(1), json: '{"a":', expectedVersion: 2n }))).toBe(
          Code.InvalidArgument,
        );
        expect(await codeOf(docs.put({ namespace: ns, id: id(1), json: '{}', expectedVersion: 1n }))).toBe(
          Code.Aborted,
        );

        const filter = {
          condition: {
            case: 'and' as const,
            value: {
              filters: [
                { condition: { case: 'eq' as const, value: { field: 'door', value: door } } },
                { condition: { case: 'eq' as const, value: { field: 'address.city', value: 'Oslo' } } },
              ],
            },
          },
        };
        const page = await query.query({
          namespace: ns,
          filter,
          sort: [{ path: 'n', descending: true }],
          projection: ['n'],
          limit: 10,
        });
        // n=1 lost its n with the patch: absent sorts last in both directions.
        expect(page.documents.map((d) => [d.id, JSON.parse(d.json)])).toEqual([
          [id(5), { n: 5 }],
          [id(3), { n: 3 }],
          [id(1), {}],
        ]);
      });
    }
  }

  for (const ns of ['doc-pg', 'doc-sqlite'])
    it(`${ns}: a declared index is really created and the backend's plan uses it`, async () => {
      const t = doors.gRPC!();
      const docs = createClient(DocumentBasicInterface, t);
      const indexing = createClient(DocumentIndexingInterface, t);
      // Enough rows over enough distinct values that an index is worth using.
      for (let n = 0; n < 200; n++)
        await docs.put({
          namespace: ns,
          id: `many-${n}`,
          json: JSON.stringify({ address: { city: `city-${n % 50}` } }),
        });
      const filter = {
        condition: { case: 'eq' as const, value: { field: 'address.city', value: 'city-7' } },
      };
      expect((await indexing.explain({ namespace: ns, filter })).indexesUsed).toEqual([]);
      expect(
        (await indexing.createIndex({ namespace: ns, index: { name: 'by_city', paths: ['address.city'] } }))
          .created,
      ).toBe(true);
      const plan = await indexing.explain({ namespace: ns, filter });
      expect(plan.indexesUsed).toEqual(['by_city']);
      expect(plan.plan.length).toBeGreaterThan(0);
      expect((await indexing.listIndexes({ namespace: ns })).indexes.map((i) => i.name)).toEqual(['by_city']);
    });

  it('PostgreSQL holds the rows, versions and the real expression index', async () => {
    const rows = await sql<{ id: string; version: string; body: string }[]>`
      SELECT id, version::text, body FROM prism.documents WHERE namespace = 'doc-pg' ORDER BY id`;
    expect(rows.map((r) => r.id)).toContain('gRPC-1');
    const first = rows.find((r) => r.id === 'gRPC-1');
    expect(first?.version).toBe('2');
    expect(JSON.parse(first?.body ?? '')).toEqual({ door: 'gRPC', address: { city: 'Oslo', zip: '0150' } });
    const indexes = await sql<{ indexdef: string }[]>`
      SELECT indexdef FROM pg_indexes WHERE schemaname = 'prism' AND tablename = 'documents'`;
    expect(indexes.some((i) => /address/.test(i.indexdef) && /doc-pg/.test(i.indexdef))).toBe(true);
  });

  it('the SQLite file holds the documents', () => {
    const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[];
      const table = tables.map((t) => t.name).find((n) => /doc/.test(n));
      expect(table).toBeDefined();
      const count = db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number };
      expect(count.n).toBeGreaterThanOrEqual(210);
      const indexes = db
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '%json_extract%'")
        .all();
      expect(indexes.length).toBeGreaterThanOrEqual(1);
    } finally {
      db.close();
    }
  });
});
