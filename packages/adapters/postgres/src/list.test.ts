import { describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { ListBasic } from '@prism/list-basic';
import { listBasic } from '@prism/list-basic/conformance';
import { useTestDatabase } from './database.test-util.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const db = useTestDatabase();

async function open(namespace: string) {
  const h = await db.open({ pool_size: 8 }, { namespace });
  return listBasic(h.get(ListBasic)!, namespace);
}

describe('postgres adapter: lists as rows', () => {
  it('keeps one lists row (head..tail) and one list_items row per value, in position order', async () => {
    const ns = uniqueNamespace('pglist');
    const list = await open(ns);
    await list.pushRight('q', bytes('b'), bytes('c'));
    await list.pushLeft('q', bytes('a'));
    const [head] =
      await db.direct`SELECT head::int, tail::int FROM prism.lists WHERE namespace = ${ns} AND key = 'q'`;
    expect(head).toEqual({ head: -1, tail: 1 });
    const items = await db.direct<{ pos: number; value: Buffer }[]>`
      SELECT pos::int, value FROM prism.list_items WHERE namespace = ${ns} AND key = 'q' ORDER BY pos`;
    expect(items.map((r) => [r.pos, r.value.toString()])).toEqual([
      [-1, 'a'],
      [0, 'b'],
      [1, 'c'],
    ]);
    await list.popLeft('q');
    await list.popRight('q');
    await list.popRight('q');
    expect(await db.direct`SELECT 1 FROM prism.lists WHERE namespace = ${ns}`).toHaveLength(0);
    expect(await db.direct`SELECT 1 FROM prism.list_items WHERE namespace = ${ns}`).toHaveLength(0);
  });

  it('loses and duplicates nothing under concurrent pushes and pops at both ends from two instances', async () => {
    const ns = uniqueNamespace('pgrace');
    const a = await open(ns);
    const b = await open(ns);
    const popped: string[] = [];
    const pushes = Array.from({ length: 60 }, (_, i) =>
      (i % 2 ? a : b)[i % 3 ? 'pushRight' : 'pushLeft']('race', bytes(`v${i}`)),
    );
    const pops = Array.from({ length: 40 }, async (_, i) => {
      const r = await (i % 2 ? b : a)[i % 3 ? 'popLeft' : 'popRight']('race');
      if (r.found) popped.push(text(r.value));
    });
    await Promise.all([...pushes, ...pops]);
    for (let r = await a.popLeft('race'); r.found; r = await a.popLeft('race')) popped.push(text(r.value));
    expect(popped.sort()).toEqual(Array.from({ length: 60 }, (_, i) => `v${i}`).sort());
    expect(await a.length('race')).toBe(0);
    expect(await db.direct`SELECT 1 FROM prism.list_items WHERE namespace = ${ns}`).toHaveLength(0);
  });
});
