import { describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { SetBasic } from '@prism/set-basic';
import { bytes, setBasic, sortedText } from '@prism/set-basic/conformance';
import { SetOperations } from '@prism/set-operations';
import { setOperations } from '@prism/set-operations/conformance';
import { useTestDatabase } from './database.test-util.js';

const db = useTestDatabase();

async function open(namespace: string) {
  const h = await db.open({ pool_size: 2 }, { namespace });
  return { set: setBasic(h.get(SetBasic)!, namespace), ops: setOperations(h.get(SetOperations)!, namespace) };
}

const rows = (ns: string, key: string) =>
  db.direct<{ member: Buffer; digest: Buffer }[]>`SELECT member, digest FROM prism.set_members
    WHERE namespace = ${ns} AND key = ${key} ORDER BY member`;

describe('postgres adapter: sets as rows of prism.set_members', () => {
  it('stores one row per member keyed by its sha256, and no rows for an emptied set', async () => {
    const ns = uniqueNamespace('pgset');
    const { set } = await open(ns);
    await set.add('tags', bytes('a'), bytes('b'), bytes('a'));
    const got = await rows(ns, 'tags');
    expect(got.map((r) => r.member.toString())).toEqual(['a', 'b']);
    const [sha] = await db.direct<{ d: Buffer }[]>`SELECT sha256('a'::bytea) AS d`;
    expect(got[0]!.digest).toEqual(sha!.d);
    await db.direct`INSERT INTO prism.set_members (namespace, key, member) VALUES (${ns}, 'tags', 'outside'::bytea)`;
    expect(await set.isMember('tags', bytes('outside'))).toBe(true);
    await set.remove('tags', bytes('a'), bytes('b'), bytes('outside'));
    expect(await rows(ns, 'tags')).toHaveLength(0);
  });

  it('holds members larger than a btree entry (the primary key is on the digest)', async () => {
    const ns = uniqueNamespace('pgbig');
    const { set } = await open(ns);
    const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    expect(await set.add('big', big, bytes('small'))).toBe(2);
    const [row] = await db.direct<{ n: number }[]>`SELECT octet_length(member) AS n FROM prism.set_members
      WHERE namespace = ${ns} AND key = 'big' ORDER BY 1 DESC LIMIT 1`;
    expect(row!.n).toBe(big.byteLength);
  });

  it('writes a Store result as rows of the destination, replacing the old ones', async () => {
    const ns = uniqueNamespace('pgstore');
    const { set, ops } = await open(ns);
    await set.add('a', bytes('1'), bytes('2'), bytes('3'));
    await set.add('b', bytes('2'), bytes('3'), bytes('4'));
    await set.add('dest', bytes('old'), bytes('2'));
    expect(await ops.store('intersect', 'dest', ['a', 'b'])).toBe(2);
    expect((await rows(ns, 'dest')).map((r) => r.member.toString())).toEqual(['2', '3']);
    expect(await ops.store('difference', 'dest', ['a', 'a'])).toBe(0);
    expect(await rows(ns, 'dest')).toHaveLength(0);
    expect(sortedText(await set.members('a'))).toEqual(['1', '2', '3']);
  });
});
