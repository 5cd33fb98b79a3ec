import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  AddRequestSchema,
  DEFAULT_BATCH_SIZE,
  IsMemberRequestSchema,
  MAX_BATCH_SIZE,
  MAX_MEMBERS_PER_CALL,
  MembersRequestSchema,
  RemoveRequestSchema,
  SetBasic,
  type SetBasicImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Reads a stream of member batches; stops after `maxBatches` (the client walks away). */
export async function collectBatches(
  stream: AsyncIterable<{ members?: Uint8Array[] }>,
  maxBatches = Number.POSITIVE_INFINITY,
): Promise<Uint8Array[][]> {
  const batches: Uint8Array[][] = [];
  for await (const res of stream) {
    batches.push([...(res.members ?? [])]);
    if (batches.length >= maxBatches) break;
  }
  return batches;
}

/** Small typed client over a set_basic implementation, used by this and the other set suites. */
export function setBasic(impl: SetBasicImpl, namespace: string) {
  return {
    add: async (key: string, ...members: Uint8Array[]) =>
      Number((await impl.add(create(AddRequestSchema, { namespace, key, members }), ctx)).added ?? 0),
    remove: async (key: string, ...members: Uint8Array[]) =>
      Number((await impl.remove(create(RemoveRequestSchema, { namespace, key, members }), ctx)).removed ?? 0),
    isMember: async (key: string, member: Uint8Array) =>
      (await impl.isMember(create(IsMemberRequestSchema, { namespace, key, member }), ctx)).isMember ?? false,
    /** The batches of one Members call. */
    batches: (key: string, batchSize = 0, maxBatches?: number) =>
      collectBatches(
        impl.members(create(MembersRequestSchema, { namespace, key, batchSize }), ctx),
        maxBatches,
      ),
    /** All members of a complete Members call, in the order returned. */
    members: async (key: string, batchSize = 0) =>
      (
        await collectBatches(impl.members(create(MembersRequestSchema, { namespace, key, batchSize }), ctx))
      ).flat(),
  };
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
/** A byte-exact, sortable string form of a member (hex), for comparing binary members. */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Members as sorted hex strings (set equality regardless of order; duplicates stay visible). */
export const sortedHex = (members: readonly Uint8Array[]): string[] => members.map(hex).sort();
/** Members as sorted text. */
export const sortedText = (members: readonly Uint8Array[]): string[] => members.map(text).sort();

/** Binary members that SQL, Redis and string-keyed maps could confuse with one another. */
export const TRICKY_MEMBERS: readonly Uint8Array[] = [
  new Uint8Array(),
  Uint8Array.of(0),
  Uint8Array.of(0, 0),
  Uint8Array.of(0xff),
  Uint8Array.of(0xff, 0),
  Uint8Array.from({ length: 256 }, (_, i) => i),
  bytes('A'),
  bytes('a'),
  bytes('a '),
  bytes('\u00e9'), // é precomposed
  bytes('e\u0301'), // é decomposed: different bytes, a different member
  Uint8Array.of(0xc3), // a lone UTF-8 lead byte (invalid text)
  Uint8Array.of(0xc3, 0x28),
];

/**
 * The set_basic conformance suite: Add/Remove counts, membership, byte-exact members, empty sets
 * ceasing to exist, Members batches, limits, concurrency and namespace isolation.
 */
export function describeSetBasicConformance(label: string, factory: PluginFactory): void {
  describe(`set_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let set: ReturnType<typeof setBasic>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(SetBasic);
      if (!impl) throw new Error(`${label} does not implement set_basic`);
      set = setBasic(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('counts only new members on Add, each distinct member once', async () => {
      expect(await set.add('fruit', bytes('apple'), bytes('pear'))).toBe(2);
      expect(await set.add('fruit', bytes('pear'), bytes('plum'), bytes('plum'), bytes('apple'))).toBe(1);
      expect(await set.add('fruit', bytes('apple'))).toBe(0);
      expect(sortedText(await set.members('fruit'))).toEqual(['apple', 'pear', 'plum']);
    });

    it('answers IsMember byte for byte, and false for a missing set', async () => {
      await set.add('colours', bytes('red'), bytes('green'));
      expect(await set.isMember('colours', bytes('red'))).toBe(true);
      expect(await set.isMember('colours', bytes('green'))).toBe(true);
      expect(await set.isMember('colours', bytes('Red'))).toBe(false);
      expect(await set.isMember('colours', bytes('red '))).toBe(false);
      expect(await set.isMember('colours', bytes('re'))).toBe(false);
      expect(await set.isMember('colours', new Uint8Array())).toBe(false);
      expect(await set.isMember('no-such-set', bytes('red'))).toBe(false);
    });

    it('counts only present members on Remove, each distinct member once', async () => {
      await set.add('rm', bytes('a'), bytes('b'), bytes('c'), bytes('d'));
      expect(await set.remove('rm', bytes('a'), bytes('a'), bytes('x'))).toBe(1);
      expect(await set.remove('rm', bytes('a'))).toBe(0);
      expect(await set.remove('rm', bytes('b'), bytes('c'))).toBe(2);
      expect(sortedText(await set.members('rm'))).toEqual(['d']);
      expect(await set.isMember('rm', bytes('b'))).toBe(false);
      expect(await set.remove('no-such-set', bytes('a'))).toBe(0);
      expect(await set.members('no-such-set')).toEqual([]);
    });

    it('deletes a set when its last member is removed, and starts a fresh one on the next Add', async () => {
      await set.add('brief', bytes('one'), bytes('two'));
      expect(await set.remove('brief', bytes('one'), bytes('two'), bytes('three'))).toBe(2);
      expect(await set.members('brief')).toEqual([]);
      expect(await set.isMember('brief', bytes('one'))).toBe(false);
      expect(await set.remove('brief', bytes('one'))).toBe(0);
      expect(await set.add('brief', bytes('one'))).toBe(1);
      expect(sortedText(await set.members('brief'))).toEqual(['one']);
    });

    it('keeps binary, empty and look-alike members distinct and intact', async () => {
      expect(await set.add('bin', ...TRICKY_MEMBERS)).toBe(TRICKY_MEMBERS.length);
      expect(await set.add('bin', ...TRICKY_MEMBERS)).toBe(0);
      const got = await set.members('bin');
      expect(sortedHex(got)).toEqual(sortedHex(TRICKY_MEMBERS));
      for (const m of TRICKY_MEMBERS) expect(await set.isMember('bin', m)).toBe(true);
      expect(await set.isMember('bin', Uint8Array.of(0, 0, 0))).toBe(false);
      expect(await set.isMember('bin', Uint8Array.of(0xfe))).toBe(false);
      expect(await set.remove('bin', Uint8Array.of(0))).toBe(1);
      expect(await set.isMember('bin', Uint8Array.of(0, 0))).toBe(true);
      expect(await set.isMember('bin', new Uint8Array())).toBe(true);
      expect(await set.remove('bin', new Uint8Array())).toBe(1);
      expect(await set.isMember('bin', Uint8Array.of(0))).toBe(false);
      expect((await set.members('bin')).length).toBe(TRICKY_MEMBERS.length - 2);
    });

    it('accepts a member of exactly the value limit', async () => {
      const max = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes).fill(7);
      expect(await set.add('large', max)).toBe(1);
      expect(await set.isMember('large', max)).toBe(true);
      const got = await set.members('large');
      expect(got).toHaveLength(1);
      expect(got[0]!.byteLength).toBe(max.byteLength);
      expect(hex(got[0]!) === hex(max)).toBe(true);
    });

    it('uses unicode keys as distinct sets', async () => {
      await set.add('键/ü', bytes('x'));
      await set.add('键/u', bytes('y'));
      expect(sortedText(await set.members('键/ü'))).toEqual(['x']);
      expect(sortedText(await set.members('键/u'))).toEqual(['y']);
    });

    it('streams Members in batches within batch_size, each member exactly once', async () => {
      const all = Array.from({ length: 1000 }, (_, i) => `m${i}`);
      for (let i = 0; i < all.length; i += 250)
        expect(await set.add('big', ...all.slice(i, i + 250).map(bytes))).toBe(250);
      const batches = await set.batches('big', 7);
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(7);
      expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(all.length / 7));
      const flat = batches.flat();
      expect(flat).toHaveLength(all.length);
      expect(sortedText(flat)).toEqual([...all].sort());

      const defaults = await set.batches('big');
      for (const b of defaults) expect(b.length).toBeLessThanOrEqual(DEFAULT_BATCH_SIZE);
      expect(defaults.length).toBeGreaterThanOrEqual(all.length / DEFAULT_BATCH_SIZE);
      expect(sortedText(defaults.flat())).toEqual([...all].sort());

      const one = await set.batches('big', MAX_BATCH_SIZE);
      expect(sortedText(one.flat())).toEqual([...all].sort());
    });

    it('lets a client stop reading Members after one batch', async () => {
      const first = await set.batches('big', 10, 1);
      expect(first).toHaveLength(1);
      expect(first[0]!.length).toBeGreaterThan(0);
      expect(first[0]!.length).toBeLessThanOrEqual(10);
      expect(await set.isMember('big', bytes('m999'))).toBe(true);
    });

    it('keeps every concurrent Add and counts a contested member once', async () => {
      const added = await Promise.all(
        Array.from({ length: 50 }, (_, i) => set.add('busy', bytes(`${i}`), bytes('same'))),
      );
      expect(added.reduce((a, b) => a + b, 0)).toBe(51);
      const members = sortedText(await set.members('busy'));
      expect(members).toHaveLength(51);
      expect(members).toContain('same');
      const removed = await Promise.all(Array.from({ length: 20 }, () => set.remove('busy', bytes('same'))));
      expect(removed.reduce((a, b) => a + b, 0)).toBe(1);
      expect(await set.isMember('busy', bytes('same'))).toBe(false);
    });

    it('rejects Add and Remove without members, naming the field, and creates nothing', async () => {
      const err = await expectCode(() => set.add('nothing'), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/members/);
      const err2 = await expectCode(() => set.remove('nothing'), Code.InvalidArgument);
      expect(err2.rawMessage).toMatch(/members/);
      expect(await set.members('nothing')).toEqual([]);
    });

    it('rejects an over-limit member with INVALID_ARGUMENT and adds none of the batch', async () => {
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      const err = await expectCode(() => set.add('limited', bytes('ok'), big), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/members\[1\]/);
      await expectCode(() => set.remove('limited', big), Code.InvalidArgument);
      const err2 = await expectCode(() => set.isMember('limited', big), Code.InvalidArgument);
      expect(err2.rawMessage).toMatch(/member/);
      expect(await set.members('limited')).toEqual([]);
    });

    it(`rejects more than ${MAX_MEMBERS_PER_CALL} members in one call`, async () => {
      const many = Array.from({ length: MAX_MEMBERS_PER_CALL + 1 }, (_, i) => bytes(`${i}`));
      const err = await expectCode(() => set.add('many', ...many), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/members/);
      expect(err.rawMessage).toMatch(String(MAX_MEMBERS_PER_CALL));
      await expectCode(() => set.remove('many', ...many), Code.InvalidArgument);
      expect(await set.members('many')).toEqual([]);
      expect(await set.add('many', ...many.slice(0, MAX_MEMBERS_PER_CALL))).toBe(MAX_MEMBERS_PER_CALL);
    });

    it('rejects a batch_size above the maximum, naming the field', async () => {
      const err = await expectCode(() => set.batches('fruit', MAX_BATCH_SIZE + 1), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/batch_size/);
    });

    it('rejects an empty, NUL-containing or over-limit key with INVALID_ARGUMENT on every method', async () => {
      for (const key of ['', 'a\u0000b', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        await expectCode(() => set.add(key, bytes('x')), Code.InvalidArgument);
        await expectCode(() => set.remove(key, bytes('x')), Code.InvalidArgument);
        await expectCode(() => set.isMember(key, bytes('x')), Code.InvalidArgument);
        const err = await expectCode(() => set.members(key), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/key/);
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const otherSet = setBasic(other.get(SetBasic)!, ns);
        await set.add('shared', bytes('mine'));
        expect(await otherSet.isMember('shared', bytes('mine'))).toBe(false);
        expect(await otherSet.members('shared')).toEqual([]);
        expect(await otherSet.add('shared', bytes('mine'), bytes('theirs'))).toBe(2);
        expect(sortedText(await set.members('shared'))).toEqual(['mine']);
        expect(await otherSet.remove('shared', bytes('mine'))).toBe(1);
        expect(await set.isMember('shared', bytes('mine'))).toBe(true);
      } finally {
        await other.close();
      }
    });
  });
}
