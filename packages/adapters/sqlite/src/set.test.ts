import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { instantiatePlugin } from '@prism/sdk';
import { SetBasic } from '@prism/set-basic';
import { bytes, setBasic } from '@prism/set-basic/conformance';
import { SetOperations } from '@prism/set-operations';
import { setOperations } from '@prism/set-operations/conformance';
import Database from 'better-sqlite3';
import plugin from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'prism-sqlite-setraw-'));
const file = join(dir, 'sets.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite adapter: sets as rows of prism_set_members', () => {
  it('stores one BLOB row per member, keyed by namespace, and none for an emptied set', async () => {
    const h = await instantiatePlugin(plugin, { path: file }, { namespace: 'raw' });
    const raw = new Database(file, { readonly: true });
    try {
      const set = setBasic(h.get(SetBasic)!, 'raw');
      await set.add('tags', bytes('b'), bytes('a'), new Uint8Array(), bytes('a'));
      const rows = raw
        .prepare(
          "SELECT namespace, key, member, typeof(member) AS t FROM prism_set_members WHERE key = 'tags' ORDER BY member",
        )
        .all() as { namespace: string; key: string; member: Buffer; t: string }[];
      expect(rows.map((r) => [r.namespace, r.member.toString(), r.t])).toEqual([
        ['raw', '', 'blob'],
        ['raw', 'a', 'blob'],
        ['raw', 'b', 'blob'],
      ]);
      await set.remove('tags', bytes('a'), bytes('b'), new Uint8Array());
      expect(raw.prepare("SELECT count(*) AS n FROM prism_set_members WHERE key = 'tags'").get()).toEqual({
        n: 0,
      });
    } finally {
      raw.close();
      await h.close();
    }
  });

  it('replaces the destination rows of a Store in one transaction', async () => {
    const h = await instantiatePlugin(plugin, { path: file }, { namespace: 'store' });
    const raw = new Database(file, { readonly: true });
    try {
      const set = setBasic(h.get(SetBasic)!, 'store');
      await set.add('a', bytes('1'), bytes('2'));
      await set.add('dest', bytes('old'));
      expect(await setOperations(h.get(SetOperations)!, 'store').store('union', 'dest', ['a'])).toBe(2);
      const members = raw
        .prepare(
          "SELECT member FROM prism_set_members WHERE namespace = 'store' AND key = 'dest' ORDER BY member",
        )
        .all() as { member: Buffer }[];
      expect(members.map((r) => r.member.toString())).toEqual(['1', '2']);
    } finally {
      raw.close();
      await h.close();
    }
  });
});
