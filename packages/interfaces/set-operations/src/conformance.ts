import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { MAX_BATCH_SIZE, SetBasic } from '@prism/set-basic';
import {
  bytes,
  collectBatches,
  hex,
  setBasic,
  sortedHex,
  sortedText,
  TRICKY_MEMBERS,
} from '@prism/set-basic/conformance';
import {
  DifferenceRequestSchema,
  DifferenceStoreRequestSchema,
  IntersectRequestSchema,
  IntersectStoreRequestSchema,
  MAX_SET_KEYS,
  type SetOp,
  SetOperations,
  type SetOperationsImpl,
  UnionRequestSchema,
  UnionStoreRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a set_operations implementation. */
export function setOperations(impl: SetOperationsImpl, namespace: string) {
  const stream = (op: SetOp, keys: string[], batchSize: number) => {
    const req = { namespace, keys, batchSize };
    if (op === 'union') return impl.union(create(UnionRequestSchema, req), ctx);
    if (op === 'intersect') return impl.intersect(create(IntersectRequestSchema, req), ctx);
    return impl.difference(create(DifferenceRequestSchema, req), ctx);
  };
  const store = async (op: SetOp, destination: string, keys: string[]) => {
    const req = { namespace, destination, keys };
    const res =
      op === 'union'
        ? await impl.unionStore(create(UnionStoreRequestSchema, req), ctx)
        : op === 'intersect'
          ? await impl.intersectStore(create(IntersectStoreRequestSchema, req), ctx)
          : await impl.differenceStore(create(DifferenceStoreRequestSchema, req), ctx);
    return Number(res.cardinality ?? 0);
  };
  return {
    /** The batches of one streamed operation. */
    batches: (op: SetOp, keys: string[], batchSize = 0) => collectBatches(stream(op, keys, batchSize)),
    /** The members of one streamed operation. */
    run: async (op: SetOp, keys: string[], batchSize = 0) =>
      (await collectBatches(stream(op, keys, batchSize))).flat(),
    store,
  };
}

const OPS: readonly SetOp[] = ['union', 'intersect', 'difference'];

/**
 * The set_operations conformance suite: union/intersection/difference semantics over 1..N keys with
 * missing keys as empty sets, batches, Store variants (overwrite, destination among the inputs, empty
 * result deletes), limits and namespace isolation. The adapter must also implement set_basic.
 */
export function describeSetOperationsConformance(label: string, factory: PluginFactory): void {
  describe(`set_operations conformance: ${label}`, () => {
    let handle: PluginHandle;
    let set: ReturnType<typeof setBasic>;
    let ops: ReturnType<typeof setOperations>;
    const namespace = uniqueNamespace(label);
    const members = async (key: string) => sortedText(await set.members(key));

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const basic = handle.get(SetBasic);
      const impl = handle.get(SetOperations);
      if (!basic || !impl) throw new Error(`${label} must implement set_basic and set_operations`);
      set = setBasic(basic, namespace);
      ops = setOperations(impl, namespace);
      await set.add('a', ...['1', '2', '3', '4'].map(bytes));
      await set.add('b', ...['3', '4', '5'].map(bytes));
      await set.add('c', ...['4', '5', '6'].map(bytes));
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('computes union, intersection and difference (first minus the rest) over several keys', async () => {
      expect(sortedText(await ops.run('union', ['a', 'b', 'c']))).toEqual(['1', '2', '3', '4', '5', '6']);
      expect(sortedText(await ops.run('intersect', ['a', 'b', 'c']))).toEqual(['4']);
      expect(sortedText(await ops.run('intersect', ['a', 'b']))).toEqual(['3', '4']);
      expect(sortedText(await ops.run('difference', ['a', 'b', 'c']))).toEqual(['1', '2']);
      expect(sortedText(await ops.run('difference', ['a', 'c']))).toEqual(['1', '2', '3']);
      expect(sortedText(await ops.run('difference', ['c', 'a']))).toEqual(['5', '6']);
      expect(sortedText(await ops.run('difference', ['b', 'a', 'c']))).toEqual([]);
    });

    it('answers the set itself for a single key, and each member once', async () => {
      for (const op of OPS) expect(sortedText(await ops.run(op, ['a']))).toEqual(['1', '2', '3', '4']);
      const u = await ops.run('union', ['a', 'a', 'b']);
      expect(u).toHaveLength(5);
      expect(sortedText(await ops.run('intersect', ['a', 'a']))).toEqual(['1', '2', '3', '4']);
      expect(await ops.run('difference', ['a', 'a'])).toEqual([]);
    });

    it('treats a missing key as the empty set', async () => {
      expect(sortedText(await ops.run('union', ['a', 'missing']))).toEqual(['1', '2', '3', '4']);
      expect(await ops.run('intersect', ['a', 'missing'])).toEqual([]);
      expect(await ops.run('intersect', ['missing', 'a'])).toEqual([]);
      expect(sortedText(await ops.run('difference', ['a', 'missing']))).toEqual(['1', '2', '3', '4']);
      expect(await ops.run('difference', ['missing', 'a'])).toEqual([]);
      for (const op of OPS) expect(await ops.run(op, ['missing', 'also-missing'])).toEqual([]);
    });

    it('compares binary members byte for byte', async () => {
      await set.add('bin1', ...TRICKY_MEMBERS);
      const half = TRICKY_MEMBERS.filter((_, i) => i % 2 === 0);
      await set.add('bin2', ...half);
      expect(sortedHex(await ops.run('union', ['bin1', 'bin2']))).toEqual(sortedHex(TRICKY_MEMBERS));
      expect(sortedHex(await ops.run('intersect', ['bin1', 'bin2']))).toEqual(sortedHex(half));
      expect(sortedHex(await ops.run('difference', ['bin1', 'bin2']))).toEqual(
        sortedHex(TRICKY_MEMBERS.filter((_, i) => i % 2 === 1)),
      );
      expect(await ops.store('union', 'bin3', ['bin2'])).toBe(half.length);
      expect(sortedHex(await set.members('bin3'))).toEqual(sortedHex(half));
    });

    it('streams large results in batches within batch_size, each member once', async () => {
      const x = Array.from({ length: 600 }, (_, i) => `x${i}`);
      const y = Array.from({ length: 600 }, (_, i) => `x${i + 300}`);
      await set.add('x', ...x.map(bytes));
      await set.add('y', ...y.map(bytes));
      const batches = await ops.batches('union', ['x', 'y'], 13);
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(13);
      const flat = batches.flat();
      expect(flat).toHaveLength(900);
      expect(new Set(flat.map(hex)).size).toBe(900);
      const inter = await ops.batches('intersect', ['x', 'y']);
      for (const b of inter) expect(b.length).toBeLessThanOrEqual(100);
      expect(inter.flat()).toHaveLength(300);
      expect(await ops.run('difference', ['x', 'y'], MAX_BATCH_SIZE)).toHaveLength(300);
    });

    it('stores each result into destination and answers its cardinality', async () => {
      expect(await ops.store('union', 'u', ['a', 'b', 'c'])).toBe(6);
      expect(await members('u')).toEqual(['1', '2', '3', '4', '5', '6']);
      expect(await ops.store('intersect', 'i', ['a', 'b'])).toBe(2);
      expect(await members('i')).toEqual(['3', '4']);
      expect(await ops.store('difference', 'd', ['a', 'b', 'c'])).toBe(2);
      expect(await members('d')).toEqual(['1', '2']);
      // The sources are untouched, and the destination is a copy, not a view.
      expect(await members('a')).toEqual(['1', '2', '3', '4']);
      await set.add('a', bytes('9'));
      expect(await set.isMember('u', bytes('9'))).toBe(false);
      await set.remove('a', bytes('9'));
    });

    it('overwrites an existing destination completely', async () => {
      await set.add('dest', bytes('old'), bytes('1'));
      expect(await ops.store('intersect', 'dest', ['b', 'c'])).toBe(2);
      expect(await members('dest')).toEqual(['4', '5']);
      expect(await ops.store('union', 'dest', ['c'])).toBe(3);
      expect(await members('dest')).toEqual(['4', '5', '6']);
    });

    it('accepts the destination as one of the inputs', async () => {
      await set.add('acc', bytes('1'), bytes('7'));
      expect(await ops.store('union', 'acc', ['acc', 'a'])).toBe(5);
      expect(await members('acc')).toEqual(['1', '2', '3', '4', '7']);
      expect(await ops.store('difference', 'acc', ['acc', 'b'])).toBe(3);
      expect(await members('acc')).toEqual(['1', '2', '7']);
      expect(await ops.store('intersect', 'acc', ['a', 'acc'])).toBe(2);
      expect(await members('acc')).toEqual(['1', '2']);
    });

    it('deletes the destination when the result is empty', async () => {
      await set.add('gone', bytes('x'));
      for (const op of ['intersect', 'difference'] as const) {
        await set.add('gone', bytes('x'));
        const keys = op === 'intersect' ? ['a', 'missing'] : ['b', 'a', 'c'];
        expect(await ops.store(op, 'gone', keys)).toBe(0);
        expect(await set.members('gone')).toEqual([]);
        expect(await set.isMember('gone', bytes('x'))).toBe(false);
      }
      expect(await ops.store('union', 'gone', ['missing'])).toBe(0);
      expect(await set.members('gone')).toEqual([]);
      expect(await set.add('gone', bytes('again'))).toBe(1);
      expect(await ops.store('union', 'never-there', ['missing', 'also-missing'])).toBe(0);
      expect(await set.members('never-there')).toEqual([]);
    });

    it('runs concurrent stores into one destination without mixing their results', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          ops.store(i % 2 === 0 ? 'union' : 'intersect', 'race', ['a', 'b']),
        ),
      );
      for (const [i, n] of results.entries()) expect(n).toBe(i % 2 === 0 ? 5 : 2);
      const final = await members('race');
      expect([
        ['1', '2', '3', '4', '5'],
        ['3', '4'],
      ]).toContainEqual(final);
    });

    it('rejects no keys, too many keys and bad keys with INVALID_ARGUMENT naming the field', async () => {
      for (const op of OPS) {
        const none = await expectCode(() => ops.run(op, []), Code.InvalidArgument);
        expect(none.rawMessage).toMatch(/keys/);
        const noneStored = await expectCode(() => ops.store(op, 'dst', []), Code.InvalidArgument);
        expect(noneStored.rawMessage).toMatch(/keys/);
        const many = Array.from({ length: MAX_SET_KEYS + 1 }, (_, i) => `k${i}`);
        const tooMany = await expectCode(() => ops.run(op, many), Code.InvalidArgument);
        expect(tooMany.rawMessage).toMatch(String(MAX_SET_KEYS));
        await expectCode(() => ops.store(op, 'dst', many), Code.InvalidArgument);
        const bad = await expectCode(() => ops.run(op, ['a', '']), Code.InvalidArgument);
        expect(bad.rawMessage).toMatch(/keys\[1\]/);
        const long = 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1);
        const badStored = await expectCode(() => ops.store(op, 'dst', ['a', long]), Code.InvalidArgument);
        expect(badStored.rawMessage).toMatch(/keys\[1\]/);
        const dest = await expectCode(() => ops.store(op, '', ['a']), Code.InvalidArgument);
        expect(dest.rawMessage).toMatch(/destination/);
        await expectCode(() => ops.store(op, long, ['a']), Code.InvalidArgument);
        const batch = await expectCode(() => ops.run(op, ['a'], MAX_BATCH_SIZE + 1), Code.InvalidArgument);
        expect(batch.rawMessage).toMatch(/batch_size/);
      }
      expect(await set.members('dst')).toEqual([]);
      const max = Array.from({ length: MAX_SET_KEYS }, (_, i) => (i === 0 ? 'a' : `k${i}`));
      expect(sortedText(await ops.run('union', max))).toEqual(['1', '2', '3', '4']);
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const otherSet = setBasic(other.get(SetBasic)!, ns);
        const otherOps = setOperations(other.get(SetOperations)!, ns);
        await otherSet.add('a', bytes('theirs'));
        await otherSet.add('b', bytes('theirs'), bytes('3'));
        expect(sortedText(await otherOps.run('union', ['a', 'b', 'c']))).toEqual(['3', 'theirs']);
        expect(sortedText(await ops.run('union', ['a', 'b']))).toEqual(['1', '2', '3', '4', '5']);
        expect(await otherOps.store('intersect', 'a', ['a', 'b'])).toBe(1);
        expect(await members('a')).toEqual(['1', '2', '3', '4']);
        expect(await otherOps.store('union', 'u', ['missing'])).toBe(0);
        expect(await members('u')).toEqual(['1', '2', '3', '4', '5', '6']);
      } finally {
        await other.close();
      }
    });
  });
}
