import { describe, expect, it } from '@jest/globals';
import { DocumentBasic } from '@prism/document-basic';
import { documentBasic } from '@prism/document-basic/conformance';
import { DocumentIndexing } from '@prism/document-indexing';
import { documentIndexing } from '@prism/document-indexing/conformance';
import { DocumentQuery } from '@prism/document-query';
import { documentQuery, f } from '@prism/document-query/conformance';
import { expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code } from '@prism/sdk';
import { useTestDatabase } from './database.test-util.js';

const db = useTestDatabase();

async function open(namespace: string) {
  const h = await db.open({ pool_size: 2 }, { namespace });
  return {
    docs: documentBasic(h.get(DocumentBasic)!, namespace),
    q: documentQuery(h.get(DocumentQuery)!, namespace),
    idx: documentIndexing(h.get(DocumentIndexing)!, namespace),
  };
}

describe('postgres adapter: documents as rows of prism.documents', () => {
  it('stores the canonical text, the same as jsonb, and the version', async () => {
    const ns = uniqueNamespace('pgdoc');
    const { docs, q } = await open(ns);
    await docs.put('a', '{ "z": 1, "a": {"b": [1, 2.50]} }');
    await docs.patch('a', { y: true });
    const [row] = await db.direct<{ body: string; same: boolean; version: string; kind: string }[]>`
      SELECT body, doc = body::jsonb AS same, version, jsonb_typeof(doc) AS kind FROM prism.documents
      WHERE namespace = ${ns} AND id = 'a'`;
    expect(row).toEqual({
      body: '{"z":1,"a":{"b":[1,2.5]},"y":true}',
      same: true,
      version: '2',
      kind: 'object',
    });
    // A row written by someone else is served as is, and queried through its jsonb.
    await db.direct`INSERT INTO prism.documents (namespace, id, body, doc, version)
      VALUES (${ns}, 'planted', '{"k":"v"}', '{"k":"v"}'::jsonb, 7)`;
    expect(await docs.get('planted')).toEqual({ id: 'planted', json: '{"k":"v"}', version: 7 });
    expect((await q.query({ filter: f.eq('k', 'v') })).ids).toEqual(['planted']);
    expect(await docs.delete('planted', 7)).toBe(true);
    const [{ n } = { n: -1 }] = await db.direct<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM prism.documents
      WHERE namespace = ${ns}`;
    expect(n).toBe(1);
  });

  it('answers INVALID_ARGUMENT for U+0000, which jsonb cannot hold, and keeps an escaped backslash before u0000', async () => {
    const ns = uniqueNamespace('pgnul');
    const { docs } = await open(ns);
    const e = await expectCode(() => docs.put('n', '{"s":"a\\u0000b"}'), Code.InvalidArgument);
    expect(e.rawMessage).toContain('U+0000');
    expect(await docs.put('n', '{"s":"a\\\\u0000b"}')).toBe(1);
    expect((await docs.get('n'))?.json).toBe('{"s":"a\\\\u0000b"}');
    await expectCode(() => docs.patch('n', '{"t":"\\u0000"}'), Code.InvalidArgument);
  });

  it('creates a real expression index partial to the namespace, which EXPLAIN uses, and drops it', async () => {
    const ns = uniqueNamespace("pg'idx\\");
    const path = 'we"ird\\.x\'y.z';
    const { docs, q, idx } = await open(ns);
    for (let i = 0; i < 40; i++)
      await docs.put(`d${i}`, { 'we"ird.x\'y': { z: `v${i % 4}` }, address: { city: 'X' } });
    expect(await idx.create('by_weird', path)).toBe(true);
    expect(await idx.create('by_city', 'address.city')).toBe(true);
    const rows = await db.direct<{ indexname: string; indexdef: string }[]>`
      SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN prism.document_indexes d ON d.relname = i.indexname
      WHERE d.namespace = ${ns} ORDER BY d.name`;
    expect(rows).toHaveLength(2);
    const [city, weird] = rows;
    expect(city!.indexdef).toContain(`(doc #>> '{address,city}'::text[])`);
    expect(city!.indexdef).toContain(`WHERE (namespace = '${ns.replace(/'/g, "''")}'::text)`);
    expect(weird!.indexdef).toContain('we\\"ird.x');
    const plan = await idx.explain(f.eq(path, 'v1'));
    expect(plan.indexesUsed).toEqual(['by_weird']);
    expect(plan.plan).toContain(weird!.indexname);
    expect((await q.query({ filter: f.eq(path, 'v1'), limit: 1000 })).ids).toHaveLength(10);
    expect(await idx.drop('by_weird')).toBe(true);
    const left = await db.direct`SELECT 1 FROM pg_indexes WHERE indexname = ${weird!.indexname}`;
    expect(left).toHaveLength(0);
    expect((await idx.explain(f.eq(path, 'v1'))).indexesUsed).toEqual([]);
  });

  it('answers equality on a path without a declared index through the GIN index (containment)', async () => {
    const ns = uniqueNamespace('pggin');
    const { q, idx } = await open(ns);
    await db.direct`INSERT INTO prism.documents (namespace, id, body, doc, version)
      SELECT ${ns}, 'g' || i, b, b::jsonb, 1 FROM (
        SELECT i, json_build_object('k', 'v' || i, 'n', i)::text AS b FROM generate_series(1, 5000) AS i
      ) AS rows`;
    await db.direct`ANALYZE prism.documents`;
    const plan = await idx.explain(f.eq('k', 'v42'));
    expect(plan.plan).toContain('documents_doc');
    expect(plan.indexesUsed).toEqual([]);
    expect((await q.query({ filter: f.eq('k', 'v42') })).ids).toEqual(['g42']);
    expect((await q.query({ filter: f.eq('n', '42') })).ids).toEqual(['g42']);
    // Once an index is declared on the path, equality is left to it.
    expect(await idx.create('by_k', 'k')).toBe(true);
    const declared = await idx.explain(f.eq('k', 'v42'));
    expect(declared.indexesUsed).toEqual(['by_k']);
    expect(declared.plan).not.toContain('documents_doc');
    expect((await q.query({ filter: f.eq('k', 'v42') })).ids).toEqual(['g42']);
  });

  it('keeps a path with an integer-like name on objects only (#> would index into arrays)', async () => {
    const ns = uniqueNamespace('pgarr');
    const { docs, q, idx } = await open(ns);
    await docs.put('arr', { a: ['x', 'y'] });
    await docs.put('obj', { a: { '0': 'x' } });
    expect((await q.query({ filter: f.eq('a.0', 'x') })).ids).toEqual(['obj']);
    expect((await q.query({ sort: ['a.0'] })).ids).toEqual(['obj', 'arr']);
    expect(await idx.create('by_a0', 'a.0')).toBe(true);
    expect((await idx.explain(f.eq('a.0', 'x'))).indexesUsed).toEqual(['by_a0']);
    expect((await q.query({ filter: f.eq('a.0', 'x') })).ids).toEqual(['obj']);
  });
});
