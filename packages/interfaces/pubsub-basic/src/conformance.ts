import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  PublishRequestSchema,
  PubSubBasic,
  type PubSubBasicImpl,
  SubscribeRequestSchema,
  SubscribeResponseSchema,
} from './index.js';
import {
  ALL_BYTES,
  DEFAULT_DEADLINE_MS,
  expectCode,
  INVALID_TOPICS,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  SAMPLE_METADATA,
  sameBytes,
  text,
  uniqueNamespace,
  utf8,
} from './kit.js';
import { MessageSubscription } from './subscription.js';

export * from './kit.js';
export * from './subscription.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a pubsub_basic implementation, used by this and the wildcard suite. */
export function pubsubBasic(impl: PubSubBasicImpl, namespace: string) {
  const open = (topic: string) =>
    new MessageSubscription((c) =>
      (async function* () {
        for await (const r of impl.subscribe(create(SubscribeRequestSchema, { namespace, topic }), c))
          yield create(SubscribeResponseSchema, r);
      })(),
    );
  return {
    /** Publishes and returns the message id. */
    publish: async (topic: string, payload: Uint8Array, metadata: Record<string, string> = {}) =>
      (await impl.publish(create(PublishRequestSchema, { namespace, topic, payload, metadata }), ctx))
        .messageId ?? '',
    /** Opens a subscription stream (not yet waited for; call `.ready()`). */
    open,
    /** Opens a subscription and waits until it is active. */
    subscribe: (topic: string) => open(topic).ready(),
  };
}

/**
 * The pubsub_basic conformance suite (at-most-once publish/subscribe). `factory` must create instances of
 * a plugin implementing pubsub_basic against a real backend.
 */
export function describePubSubBasicConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`pubsub_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let ps: ReturnType<typeof pubsubBasic>;
    const namespace = uniqueNamespace(label);
    const open: MessageSubscription[] = [];
    const sub = async (topic: string) => {
      const s = ps.open(topic);
      open.push(s);
      return s.ready(deadline);
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const impl = handle.get(PubSubBasic);
      if (!impl) throw new Error(`${label} does not implement pubsub_basic`);
      ps = pubsubBasic(impl, namespace);
    });
    afterAll(async () => {
      await Promise.all(open.map((s) => s.cancel().catch(() => {})));
      await handle?.close();
    });

    it('delivers a message with id, concrete topic, payload, metadata and timestamp', async () => {
      const s = await sub('greetings');
      const before = Date.now();
      const id = await ps.publish(
        'greetings',
        utf8('hello'),
        options.metadata === false ? {} : { kind: 'test' },
      );
      expect(id.length).toBeGreaterThan(0);
      const m = await s.waitForId(id, deadline);
      expect(m.topic).toBe('greetings');
      expect(text(m.payload)).toBe('hello');
      if (options.metadata !== false) expect(m.metadata).toEqual({ kind: 'test' });
      // The timestamp is the backend's acceptance time: sane, not a duration assertion.
      expect(Number(m.timestampMs)).toBeGreaterThan(before - 60_000);
      expect(Number(m.timestampMs)).toBeLessThan(Date.now() + 60_000);
      expect(s.cases[0]).toBe('subscribed');
      expect(s.cases.filter((c) => c === 'subscribed')).toHaveLength(1);
    });

    it('fans out every message to 5 subscribers, in publish order', async () => {
      const subs = await Promise.all(Array.from({ length: 5 }, () => sub('fanout')));
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await ps.publish('fanout', utf8(`m${i}`)));
      for (const s of subs) {
        const got = await s.atLeast(10, '10 fan-out messages', deadline);
        expect(got.map((m) => m.id)).toEqual(ids);
        expect(got.map((m) => text(m.payload))).toEqual(ids.map((_, i) => `m${i}`));
      }
      expect(new Set(ids).size).toBe(10);
    });

    it('keeps per-publisher order for 100 sequential publishes', async () => {
      const s = await sub('ordered');
      for (let i = 0; i < 100; i++) await ps.publish('ordered', utf8(String(i)));
      const got = await s.atLeast(100, '100 ordered messages', deadline);
      expect(got.map((m) => text(m.payload))).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    });

    it('keeps each publisher in order when 5 publish concurrently', async () => {
      const s = await sub('concurrent');
      await Promise.all(
        Array.from({ length: 5 }, async (_, p) => {
          for (let i = 0; i < 20; i++) await ps.publish('concurrent', utf8(`${p}:${i}`));
        }),
      );
      const got = await s.atLeast(100, '100 messages of 5 publishers', deadline);
      for (let p = 0; p < 5; p++) {
        const mine = got.map((m) => text(m.payload)).filter((t) => t.startsWith(`${p}:`));
        expect(mine).toEqual(Array.from({ length: 20 }, (_, i) => `${p}:${i}`));
      }
    });

    it('delivers nothing after unsubscribe (the stream is cancelled), while others still receive', async () => {
      const leaving = await sub('leave');
      const staying = await sub('leave');
      const firstId = await ps.publish('leave', utf8('before'));
      await leaving.waitForId(firstId, deadline);
      await leaving.cancel(deadline);
      expect(leaving.ended).toBe(true);
      const countAtCancel = leaving.messages.length;
      const afterId = await ps.publish('leave', utf8('after'));
      // The publish happened: the still-open subscriber receives it.
      await staying.waitForId(afterId, deadline);
      expect(leaving.messages).toHaveLength(countAtCancel);
      expect(leaving.messages.some((m) => m.id === afterId)).toBe(false);
    });

    it('does not deliver other topics, including longer and shorter ones', async () => {
      const s = await sub('exact.topic');
      await ps.publish('exact', utf8('shorter'));
      await ps.publish('exact.topic.sub', utf8('longer'));
      await ps.publish('other', utf8('other'));
      const id = await ps.publish('exact.topic', utf8('mine'));
      await s.waitForId(id, deadline);
      expect(s.messages.map((m) => text(m.payload))).toEqual(['mine']);
    });

    it('keeps binary payloads intact: all 256 byte values, and an empty payload', async () => {
      const s = await sub('binary');
      const a = await ps.publish('binary', ALL_BYTES);
      const b = await ps.publish('binary', new Uint8Array());
      const reversed = Uint8Array.from(ALL_BYTES).reverse();
      const c = await ps.publish('binary', reversed);
      await s.atLeast(3, '3 binary messages', deadline);
      const byId = new Map(s.messages.map((m) => [m.id, m.payload]));
      expect(sameBytes(byId.get(a)!, ALL_BYTES)).toBe(true);
      expect(byId.get(b)!.byteLength).toBe(0);
      expect(sameBytes(byId.get(c)!, reversed)).toBe(true);
    });

    if (options.metadata !== false)
      it('round-trips metadata (lower-case keys, unicode and empty values)', async () => {
        const s = await sub('meta');
        const id = await ps.publish('meta', utf8('x'), { ...SAMPLE_METADATA });
        const m = await s.waitForId(id, deadline);
        expect(m.metadata).toEqual(SAMPLE_METADATA);
      });

    it('delivers a payload at the namespace limit', async () => {
      const s = await sub('large');
      const max = MESSAGING_CONFORMANCE_LIMITS.maxValueBytes!;
      const payload = Uint8Array.from({ length: max }, (_, i) => (i * 7) & 0xff);
      const id = await ps.publish('large', payload);
      const m = await s.waitForId(id, deadline);
      expect(sameBytes(m.payload, payload)).toBe(true);
    });

    it('isolates namespaces sharing the backend', async () => {
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: MESSAGING_CONFORMANCE_LIMITS });
      try {
        const otherPs = pubsubBasic(other.get(PubSubBasic)!, otherNs);
        const theirs = await otherPs.subscribe('shared');
        const mine = await sub('shared');
        await ps.publish('shared', utf8('mine'));
        const theirId = await otherPs.publish('shared', utf8('theirs'));
        await theirs.waitForId(theirId, deadline);
        await mine.atLeast(1, 'my message', deadline);
        expect(theirs.messages.map((m) => text(m.payload))).toEqual(['theirs']);
        expect(mine.messages.map((m) => text(m.payload))).toEqual(['mine']);
        await theirs.cancel();
      } finally {
        await other.close();
      }
    });

    it('rejects invalid topics, payloads and metadata with INVALID_ARGUMENT', async () => {
      for (const topic of INVALID_TOPICS) {
        await expectCode(() => ps.publish(topic, utf8('x')), Code.InvalidArgument);
        await expectCode(() => ps.open(topic).ready(deadline), Code.InvalidArgument);
      }
      const big = new Uint8Array(MESSAGING_CONFORMANCE_LIMITS.maxValueBytes! + 1);
      const err = await expectCode(() => ps.publish('t', big), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/payload/);
      const badMetadata: Record<string, string>[] = [
        { 'Upper-Case': 'x' },
        { 'prism-reserved': 'x' },
        { ok: 'a\nb' },
        { '': 'x' },
      ];
      for (const metadata of badMetadata)
        await expectCode(() => ps.publish('t', utf8('x'), metadata), Code.InvalidArgument);
      const tooMany = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
      await expectCode(() => ps.publish('t', utf8('x'), tooMany), Code.InvalidArgument);
    });
  });
}
