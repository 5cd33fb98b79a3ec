import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { MAX_MEMBERS_PER_CALL, SetBasic } from '@prism/set-basic';
import { bytes, setBasic, TRICKY_MEMBERS } from '@prism/set-basic/conformance';
import {
  CardRequestSchema,
  MultiIsMemberRequestSchema,
  SetCardinality,
  type SetCardinalityImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a set_cardinality implementation. */
export function setCardinality(impl: SetCardinalityImpl, namespace: string) {
  return {
    card: async (key: string) =>
      Number((await impl.card(create(CardRequestSchema, { namespace, key }), ctx)).cardinality ?? 0),
    multiIsMember: async (key: string, ...members: Uint8Array[]) => [
      ...((await impl.multiIsMember(create(MultiIsMemberRequestSchema, { namespace, key, members }), ctx))
        .isMember ?? []),
    ],
  };
}

/**
 * The set_cardinality conformance suite: Card through adds and removes, MultiIsMember answers in
 * request order, byte-exact members, limits and namespace isolation. The adapter must also implement
 * set_basic.
 */
export function describeSetCardinalityConformance(label: string, factory: PluginFactory): void {
  describe(`set_cardinality conformance: ${label}`, () => {
    let handle: PluginHandle;
    let set: ReturnType<typeof setBasic>;
    let card: ReturnType<typeof setCardinality>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const basic = handle.get(SetBasic);
      const impl = handle.get(SetCardinality);
      if (!basic || !impl) throw new Error(`${label} must implement set_basic and set_cardinality`);
      set = setBasic(basic, namespace);
      card = setCardinality(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('follows adds and removes, and answers 0 for a missing or emptied set', async () => {
      expect(await card.card('c')).toBe(0);
      await set.add('c', bytes('a'), bytes('b'), bytes('b'));
      expect(await card.card('c')).toBe(2);
      await set.add('c', bytes('a'), bytes('z'));
      expect(await card.card('c')).toBe(3);
      await set.remove('c', bytes('a'), bytes('nope'));
      expect(await card.card('c')).toBe(2);
      await set.remove('c', bytes('b'), bytes('z'));
      expect(await card.card('c')).toBe(0);
    });

    it('counts large sets and binary members exactly', async () => {
      const many = Array.from({ length: 2500 }, (_, i) => bytes(`m${i}`));
      await set.add('many', ...many);
      expect(await card.card('many')).toBe(2500);
      await set.add('bin', ...TRICKY_MEMBERS);
      expect(await card.card('bin')).toBe(TRICKY_MEMBERS.length);
    });

    it('answers MultiIsMember in request order, duplicates included', async () => {
      await set.add('m', bytes('x'), bytes('y'));
      expect(
        await card.multiIsMember('m', bytes('y'), bytes('q'), bytes('x'), bytes('y'), bytes('X')),
      ).toEqual([true, false, true, true, false]);
      expect(await card.multiIsMember('m', bytes('q'))).toEqual([false]);
      expect(await card.multiIsMember('missing', bytes('x'), bytes('y'))).toEqual([false, false]);
    });

    it('compares binary members byte for byte', async () => {
      const probe = [...TRICKY_MEMBERS, Uint8Array.of(0, 0, 0), Uint8Array.of(0xfe), bytes('a  ')];
      const want = probe.map((_, i) => i < TRICKY_MEMBERS.length);
      expect(await card.multiIsMember('bin', ...probe)).toEqual(want);
      await set.remove('bin', new Uint8Array(), Uint8Array.of(0));
      const after = await card.multiIsMember('bin', new Uint8Array(), Uint8Array.of(0), Uint8Array.of(0, 0));
      expect(after).toEqual([false, false, true]);
    });

    it(`answers up to ${MAX_MEMBERS_PER_CALL} members in one call`, async () => {
      const probe = Array.from({ length: MAX_MEMBERS_PER_CALL }, (_, i) => bytes(`m${i}`));
      const got = await card.multiIsMember('many', ...probe);
      expect(got).toHaveLength(MAX_MEMBERS_PER_CALL);
      expect(got).toEqual(probe.map((_, i) => i < 2500));
    });

    it('rejects bad input with INVALID_ARGUMENT naming the field', async () => {
      const none = await expectCode(() => card.multiIsMember('m'), Code.InvalidArgument);
      expect(none.rawMessage).toMatch(/members/);
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      const over = await expectCode(() => card.multiIsMember('m', bytes('x'), big), Code.InvalidArgument);
      expect(over.rawMessage).toMatch(/members\[1\]/);
      const many = Array.from({ length: MAX_MEMBERS_PER_CALL + 1 }, () => bytes('x'));
      const tooMany = await expectCode(() => card.multiIsMember('m', ...many), Code.InvalidArgument);
      expect(tooMany.rawMessage).toMatch(String(MAX_MEMBERS_PER_CALL));
      for (const key of ['', 'a\u0000', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        const e = await expectCode(() => card.card(key), Code.InvalidArgument);
        expect(e.rawMessage).toMatch(/key/);
        await expectCode(() => card.multiIsMember(key, bytes('x')), Code.InvalidArgument);
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const otherSet = setBasic(other.get(SetBasic)!, ns);
        const otherCard = setCardinality(other.get(SetCardinality)!, ns);
        expect(await otherCard.card('m')).toBe(0);
        expect(await otherCard.multiIsMember('m', bytes('x'))).toEqual([false]);
        await otherSet.add('m', bytes('x'), bytes('1'), bytes('2'));
        expect(await otherCard.card('m')).toBe(3);
        expect(await card.card('m')).toBe(2);
        expect(await card.multiIsMember('m', bytes('1'))).toEqual([false]);
      } finally {
        await other.close();
      }
    });
  });
}
