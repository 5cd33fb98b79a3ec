import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { SetBasic } from '@prism/set-basic';
import { bytes, hex, setBasic, sortedHex, sortedText, TRICKY_MEMBERS } from '@prism/set-basic/conformance';
import {
  MAX_RANDOM_COUNT,
  PopRequestSchema,
  RandomMemberRequestSchema,
  SetRandom,
  type SetRandomImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a set_random implementation. */
export function setRandom(impl: SetRandomImpl, namespace: string) {
  return {
    randomMember: async (key: string, count: number) => [
      ...((await impl.randomMember(create(RandomMemberRequestSchema, { namespace, key, count }), ctx))
        .members ?? []),
    ],
    pop: async (key: string, count: number) => [
      ...((await impl.pop(create(PopRequestSchema, { namespace, key, count }), ctx)).members ?? []),
    ],
  };
}

const texts = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/**
 * The set_random conformance suite: RandomMember answers min(count, card) distinct members without
 * removing them, Pop removes what it answers (each member to one caller only), both really random,
 * empty sets cease to exist, limits and namespace isolation. The adapter must also implement set_basic.
 */
export function describeSetRandomConformance(label: string, factory: PluginFactory): void {
  describe(`set_random conformance: ${label}`, () => {
    let handle: PluginHandle;
    let set: ReturnType<typeof setBasic>;
    let rnd: ReturnType<typeof setRandom>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const basic = handle.get(SetBasic);
      const impl = handle.get(SetRandom);
      if (!basic || !impl) throw new Error(`${label} must implement set_basic and set_random`);
      set = setBasic(basic, namespace);
      rnd = setRandom(impl, namespace);
      await set.add('hundred', ...texts(100).map(bytes));
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('answers count distinct members of the set without removing them', async () => {
      const all = texts(100);
      for (const count of [1, 7, 99]) {
        const got = sortedText(await rnd.randomMember('hundred', count));
        expect(got).toHaveLength(count);
        expect(new Set(got).size).toBe(count);
        for (const m of got) expect(all).toContain(m);
      }
      expect((await set.members('hundred')).length).toBe(100);
    });

    it('answers the whole set when count reaches the cardinality, and nothing for a missing set', async () => {
      const all = [...texts(100)].sort();
      expect(sortedText(await rnd.randomMember('hundred', 100))).toEqual(all);
      expect(sortedText(await rnd.randomMember('hundred', MAX_RANDOM_COUNT))).toEqual(all);
      expect(await rnd.randomMember('missing', 5)).toEqual([]);
      expect(await rnd.pop('missing', 5)).toEqual([]);
      expect(await set.members('missing')).toEqual([]);
    });

    it('picks members at random, not always the same ones', async () => {
      const singles = new Set<string>();
      for (let i = 0; i < 40; i++) for (const m of await rnd.randomMember('hundred', 1)) singles.add(hex(m));
      expect(singles.size).toBeGreaterThanOrEqual(8);
      const subsets = new Set<string>();
      for (let i = 0; i < 10; i++) subsets.add(sortedHex(await rnd.randomMember('hundred', 10)).join(','));
      expect(subsets.size).toBeGreaterThan(1);
    });

    it('pops count distinct members, removing exactly those', async () => {
      await set.add('p', ...texts(30, 'p').map(bytes));
      const popped = sortedText(await rnd.pop('p', 12));
      expect(popped).toHaveLength(12);
      expect(new Set(popped).size).toBe(12);
      const rest = sortedText(await set.members('p'));
      expect(rest).toHaveLength(18);
      for (const m of popped) expect(rest).not.toContain(m);
      expect([...popped, ...rest].sort()).toEqual(texts(30, 'p').sort());
    });

    it('pops at random, not always the same members', async () => {
      const firsts = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const key = `fresh-${i}`;
        await set.add(key, ...texts(100).map(bytes));
        firsts.add(sortedText(await rnd.pop(key, 5)).join(','));
      }
      expect(firsts.size).toBeGreaterThan(1);
    });

    it('pops everything when count reaches the cardinality and deletes the set', async () => {
      await set.add('all', bytes('x'), bytes('y'), bytes('z'));
      expect(sortedText(await rnd.pop('all', 10))).toEqual(['x', 'y', 'z']);
      expect(await set.members('all')).toEqual([]);
      expect(await set.isMember('all', bytes('x'))).toBe(false);
      expect(await rnd.pop('all', 1)).toEqual([]);
      expect(await rnd.randomMember('all', 1)).toEqual([]);
      expect(await set.add('all', bytes('x'))).toBe(1);
    });

    it('returns binary and empty members intact', async () => {
      await set.add('bin', ...TRICKY_MEMBERS);
      expect(sortedHex(await rnd.randomMember('bin', 1000))).toEqual(sortedHex(TRICKY_MEMBERS));
      expect(sortedHex(await rnd.pop('bin', 1000))).toEqual(sortedHex(TRICKY_MEMBERS));
      expect(await set.members('bin')).toEqual([]);
    });

    it('gives each member to exactly one of many concurrent pops', async () => {
      const all = texts(60, 'c');
      await set.add('contended', ...all.map(bytes));
      const results = await Promise.all(Array.from({ length: 25 }, () => rnd.pop('contended', 4)));
      const popped = results.flat().map((m) => new TextDecoder().decode(m));
      expect(popped).toHaveLength(60);
      expect(new Set(popped).size).toBe(60);
      expect([...popped].sort()).toEqual([...all].sort());
      expect(await set.members('contended')).toEqual([]);
    });

    it('rejects a count outside 1..max and bad keys with INVALID_ARGUMENT naming the field', async () => {
      for (const count of [0, MAX_RANDOM_COUNT + 1]) {
        const a = await expectCode(() => rnd.randomMember('hundred', count), Code.InvalidArgument);
        expect(a.rawMessage).toMatch(/count/);
        const b = await expectCode(() => rnd.pop('hundred', count), Code.InvalidArgument);
        expect(b.rawMessage).toMatch(/count/);
      }
      expect((await set.members('hundred')).length).toBe(100);
      for (const key of ['', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        const e = await expectCode(() => rnd.randomMember(key, 1), Code.InvalidArgument);
        expect(e.rawMessage).toMatch(/key/);
        await expectCode(() => rnd.pop(key, 1), Code.InvalidArgument);
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const otherSet = setBasic(other.get(SetBasic)!, ns);
        const otherRnd = setRandom(other.get(SetRandom)!, ns);
        expect(await otherRnd.randomMember('hundred', 5)).toEqual([]);
        expect(await otherRnd.pop('hundred', 5)).toEqual([]);
        await otherSet.add('hundred', bytes('theirs'));
        expect(sortedText(await otherRnd.pop('hundred', 5))).toEqual(['theirs']);
        expect((await set.members('hundred')).length).toBe(100);
      } finally {
        await other.close();
      }
    });
  });
}
