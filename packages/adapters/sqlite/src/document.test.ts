import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { DocumentBasic } from '@prism/document-basic';
import { documentBasic } from '@prism/document-basic/conformance';
import { DocumentIndexing } from '@prism/document-indexing';
import { documentIndexing } from '@prism/document-indexing/conformance';
import { DocumentQuery } from '@prism/document-query';
import { documentQuery, f } from '@prism/document-query/conformance';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import Database from 'better-sqlite3';
import plugin from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'prism-sqlite-docs-'));
const file = join(dir, 'docs.db');
const handles: PluginHandle[] = [];
afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function open(namespace: string) {
  const h = await instantiatePlugin(plugin, { path: file }, { namespace });
  handles.push(h);
  return {
    docs: documentBasic(h.get(DocumentBasic)!, namespace),
    q: documentQuery(h.get(DocumentQuery)!, namespace),
    idx: documentIndexing(h.get(DocumentIndexing)!, namespace),
  };
}

describe('sqlite adapter: documents as rows of prism_documents', () => {
  it('stores the canonical text and version per (namespace, id)', async () => {
    const { docs } = await open('docs-a');
    await docs.put('x', '{ "b": [1, 2.50], "a": "é" }');
    await docs.patch('x', { c: null, d: 1 });
    const raw = new Database(file, { readonly: true });
    try {
      expect(
        raw
          .prepare(
            "SELECT body, version, json_valid(body) AS ok FROM prism_documents WHERE namespace = 'docs-a' AND id = 'x'",
          )
          .get(),
      ).toEqual({
        body: '{"b":[1,2.5],"a":"é","d":1}',
        version: 2,
        ok: 1,
      });
    } finally {
      raw.close();
    }
  });

  it('creates a real expression index that EXPLAIN QUERY PLAN uses, and drops it', async () => {
    const { docs, q, idx } = await open("docs'b");
    for (let i = 0; i < 30; i++) await docs.put(`d${i}`, { 'we"ird\\x': { z: `v${i % 3}` } });
    const path = 'we"ird\\\\x.z';
    expect(await idx.create('by_z', path)).toBe(true);
    const raw = new Database(file, { readonly: true });
    try {
      const row = raw
        .prepare(
          "SELECT i.relname, m.sql FROM prism_document_indexes i JOIN sqlite_master m ON m.name = i.relname WHERE i.namespace = 'docs''b'",
        )
        .get() as { relname: string; sql: string };
      expect(row.sql).toContain(`json_extract(body, '$."we\\"ird\\\\x"."z"')`);
      expect(row.sql).toContain("WHERE namespace = 'docs''b'");
      const plan = await idx.explain(f.eq(path, 'v1'));
      expect(plan.plan).toContain(`USING INDEX ${row.relname}`);
      expect(plan.indexesUsed).toEqual(['by_z']);
      expect((await q.query({ filter: f.eq(path, 'v1') })).ids).toHaveLength(10);
      expect(await idx.drop('by_z')).toBe(true);
      expect(raw.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(row.relname)).toBeUndefined();
      expect((await idx.explain(f.eq(path, 'v1'))).indexesUsed).toEqual([]);
    } finally {
      raw.close();
    }
  });
});
