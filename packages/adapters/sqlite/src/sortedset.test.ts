import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { instantiatePlugin } from '@prism/sdk';
import { basicOf } from '@prism/sortedset-basic/conformance';
import Database from 'better-sqlite3';
import plugin from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'prism-sqlite-zsetraw-'));
const file = join(dir, 'zsets.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite adapter: sorted sets as rows of prism_zset_members', () => {
  it('stores one row per member with a REAL score (±Inf included), and none for an emptied set', async () => {
    const h = await instantiatePlugin(plugin, { path: file }, { namespace: 'raw' });
    const raw = new Database(file, { readonly: true });
    try {
      const z = basicOf(h, 'sqlite', 'raw');
      await z.add('board', [
        ['b', Number.NEGATIVE_INFINITY],
        [Uint8Array.of(0xff), 2.5],
        ['a', 2.5],
      ]);
      const rows = raw
        .prepare(
          "SELECT namespace, member, score, typeof(member) AS t FROM prism_zset_members WHERE key = 'board' ORDER BY score, member",
        )
        .all() as { namespace: string; member: Buffer; score: number; t: string }[];
      expect(rows.map((r) => [r.namespace, r.member.toString('hex'), r.score, r.t])).toEqual([
        ['raw', '62', Number.NEGATIVE_INFINITY, 'blob'],
        ['raw', '61', 2.5, 'blob'],
        ['raw', 'ff', 2.5, 'blob'],
      ]);
      const plan = raw
        .prepare(
          "EXPLAIN QUERY PLAN SELECT member, score FROM prism_zset_members WHERE namespace = 'raw' AND key = 'board' AND score >= 1 ORDER BY score, member LIMIT 5",
        )
        .all() as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/prism_zset_members_order/);
      expect(plan.map((p) => p.detail).join(' ')).not.toMatch(/TEMP B-TREE/);
      await z.remove('board', 'a', 'b', Uint8Array.of(0xff));
      expect(raw.prepare("SELECT count(*) AS n FROM prism_zset_members WHERE key = 'board'").get()).toEqual({
        n: 0,
      });
    } finally {
      raw.close();
      await h.close();
    }
  });
});
