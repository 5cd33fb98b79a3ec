import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { PubSubBasic } from '@prism/pubsub-basic';
import {
  ALL_BYTES,
  DEFAULT_DEADLINE_MS,
  expectCode,
  INVALID_TOPICS,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  pause,
  pubsubBasic,
  SAMPLE_METADATA,
  StreamCollector,
  sameBytes,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { type CallContext, Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  type OrderedMessage,
  PublishOrderedRequestSchema,
  PubSubOrdering,
  type PubSubOrderingImpl,
  SubscribeOrderedRequestSchema,
  type SubscribeOrderedResponse,
  SubscribeOrderedResponseSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** A delivered message flattened for assertions. */
export interface Delivered {
  readonly id: string;
  readonly topic: string;
  readonly key: string;
  readonly payload: Uint8Array;
  readonly metadata: Record<string, string>;
  readonly timestampMs: bigint;
}

const flatten = (m: OrderedMessage): Delivered => ({
  id: m.message?.id ?? '',
  topic: m.message?.topic ?? '',
  key: m.orderingKey,
  payload: m.message?.payload ?? new Uint8Array(),
  metadata: m.message?.metadata ?? {},
  timestampMs: m.message?.timestampMs ?? 0n,
});

/** One open SubscribeOrdered stream, consumed in the background. */
export class OrderedSubscription {
  readonly #collector: StreamCollector<SubscribeOrderedResponse>;
  constructor(open: (c: CallContext) => AsyncIterable<SubscribeOrderedResponse>) {
    this.#collector = new StreamCollector(open);
  }
  /** Waits for the `subscribed` event, which must come first. */
  async ready(timeoutMs = DEFAULT_DEADLINE_MS): Promise<this> {
    const [first] = await this.#collector.atLeast(1, 'the subscribed event', timeoutMs);
    if (first?.event.case !== 'subscribed')
      throw new Error(`the first response must be the subscribed event, got ${first?.event.case}`);
    return this;
  }
  get messages(): Delivered[] {
    return this.#collector.items.flatMap((r) => (r.event.case === 'message' ? [flatten(r.event.value)] : []));
  }
  get cases(): (string | undefined)[] {
    return this.#collector.items.map((r) => r.event.case);
  }
  get ended(): boolean {
    return this.#collector.ended;
  }
  async until(what: string, predicate: (m: Delivered[]) => boolean, timeoutMs = DEFAULT_DEADLINE_MS) {
    await this.#collector.until(what, () => predicate(this.messages), timeoutMs);
    return this.messages;
  }
  atLeast(n: number, what = `${n} messages`, timeoutMs = DEFAULT_DEADLINE_MS) {
    return this.until(what, (m) => m.length >= n, timeoutMs);
  }
  async waitForId(id: string, timeoutMs = DEFAULT_DEADLINE_MS): Promise<Delivered> {
    await this.until(`message ${id}`, (m) => m.some((x) => x.id === id), timeoutMs);
    return this.messages.find((x) => x.id === id)!;
  }
  cancel(timeoutMs = DEFAULT_DEADLINE_MS): Promise<void> {
    return this.#collector.cancel(timeoutMs);
  }
}

/** Small typed client over a pubsub_ordering implementation. */
export function pubsubOrdering(impl: PubSubOrderingImpl, namespace: string) {
  const request = (topic: string, orderingKeys: string[]) =>
    create(SubscribeOrderedRequestSchema, { namespace, topic, orderingKeys });
  const open = (topic: string, keys: string[] = []) =>
    new OrderedSubscription((c) =>
      (async function* () {
        for await (const r of impl.subscribeOrdered(request(topic, keys), c))
          yield create(SubscribeOrderedResponseSchema, r);
      })(),
    );
  return {
    /** Publishes and returns the message id. */
    publish: async (
      topic: string,
      orderingKey: string,
      payload: Uint8Array,
      metadata: Record<string, string> = {},
    ) =>
      (
        await impl.publishOrdered(
          create(PublishOrderedRequestSchema, { namespace, topic, orderingKey, payload, metadata }),
          ctx,
        )
      ).messageId ?? '',
    open,
    subscribe: (topic: string, keys: string[] = []) => open(topic, keys).ready(),
    /**
     * Opens a stream that is NOT read after its subscribed event (a client that stopped reading): `read`
     * later pulls what the implementation has for it; `close` cancels it.
     */
    stalled: async (topic: string, keys: string[] = []) => {
      const abort = new AbortController();
      const it = impl
        .subscribeOrdered(request(topic, keys), { signal: abort.signal })
        [Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || create(SubscribeOrderedResponseSchema, first.value).event.case !== 'subscribed')
        throw new Error('the first response must be the subscribed event');
      return {
        /** Reads until `n` messages arrived or `timeoutMs` passed (whichever first). */
        async read(n: number, timeoutMs: number): Promise<Delivered[]> {
          const out: Delivered[] = [];
          const deadline = Date.now() + timeoutMs;
          while (out.length < n && Date.now() < deadline) {
            let timer: NodeJS.Timeout | undefined;
            const next = await Promise.race([
              it.next(),
              new Promise<'timeout'>((resolve) => {
                timer = setTimeout(() => resolve('timeout'), Math.max(1, deadline - Date.now()));
              }),
            ]);
            clearTimeout(timer);
            if (next === 'timeout' || next.done) break;
            const r = create(SubscribeOrderedResponseSchema, next.value);
            if (r.event.case === 'message') out.push(flatten(r.event.value));
          }
          return out;
        },
        async close(): Promise<void> {
          abort.abort();
          await Promise.race([it.return?.(undefined), new Promise((r) => setTimeout(r, 5000))]);
        },
      };
    },
  };
}

/**
 * Options of the pubsub_ordering suite: the messaging suites' options, of which only `deadlineMs` applies (the
 * flavour needs metadata, so `metadata: false` is not supported; nothing is durable, so `durable` is moot).
 */
export type PubSubOrderingSuiteOptions = MessagingSuiteOptions;

const payloads = (ms: readonly Delivered[]) => ms.map((m) => text(m.payload));
const seq = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/**
 * The pubsub_ordering conformance suite (at-most-once, per-key order; see pubsub_ordering.proto). `factory`
 * must create instances of a plugin implementing pubsub_ordering against a real backend. When the plugin
 * also implements pubsub_basic, the suite checks that the two flavours' topics are separate.
 */
export function describePubSubOrderingConformance(
  label: string,
  factory: PluginFactory,
  options: PubSubOrderingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  jest.setTimeout(6 * deadline);
  describe(`pubsub_ordering conformance: ${label}`, () => {
    let handle: PluginHandle;
    let ps: ReturnType<typeof pubsubOrdering>;
    const namespace = uniqueNamespace(label);
    const open: OrderedSubscription[] = [];
    const sub = async (topic: string, keys: string[] = []) => {
      const s = ps.open(topic, keys);
      open.push(s);
      return s.ready(deadline);
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const impl = handle.get(PubSubOrdering);
      if (!impl) throw new Error(`${label} does not implement pubsub_ordering`);
      ps = pubsubOrdering(impl, namespace);
    });
    afterAll(async () => {
      await Promise.all(open.map((s) => s.cancel().catch(() => {})));
      await handle?.close();
    });

    it('delivers id, topic, payload, metadata as published, the ordering key and a timestamp', async () => {
      const s = await sub('orders');
      const before = Date.now();
      const id = await ps.publish('orders', 'customer-42', utf8('hello'), { kind: 'test' });
      expect(id.length).toBeGreaterThan(0);
      const m = await s.waitForId(id, deadline);
      expect(m.topic).toBe('orders');
      expect(m.key).toBe('customer-42');
      expect(text(m.payload)).toBe('hello');
      expect(m.metadata).toEqual({ kind: 'test' });
      expect(Number(m.timestampMs)).toBeGreaterThan(before - 60_000);
      expect(Number(m.timestampMs)).toBeLessThan(Date.now() + 60_000);
      expect(s.cases[0]).toBe('subscribed');
      expect(s.cases.filter((c) => c === 'subscribed')).toHaveLength(1);
    });

    it('keeps one key in publish order over 300 messages, at every subscription', async () => {
      const subs = await Promise.all([sub('many'), sub('many'), sub('many', ['k'])]);
      const ids: string[] = [];
      for (let i = 0; i < 300; i++) ids.push(await ps.publish('many', 'k', utf8(`m${i}`)));
      expect(new Set(ids).size).toBe(300);
      for (const s of subs) {
        const got = await s.atLeast(300, '300 messages of one key', deadline);
        expect(got.map((m) => m.id)).toEqual(ids);
        expect(payloads(got)).toEqual(seq('m', 300));
        expect(got.every((m) => m.key === 'k')).toBe(true);
      }
    });

    it('keeps per-key order when 8 publishers of distinct keys publish concurrently', async () => {
      const all = await sub('parallel');
      const keys = Array.from({ length: 8 }, (_, k) => `key-${k}`);
      const only3 = await sub('parallel', ['key-3']);
      await Promise.all(
        keys.map(async (key) => {
          for (let i = 0; i < 40; i++) await ps.publish('parallel', key, utf8(`${key}:${i}`));
        }),
      );
      const got = await all.atLeast(320, '320 messages of 8 keys', deadline);
      expect(got).toHaveLength(320);
      for (const key of keys) {
        const mine = got.filter((m) => m.key === key);
        expect(payloads(mine)).toEqual(seq(`${key}:`, 40));
      }
      const three = await only3.atLeast(40, '40 messages of key-3', deadline);
      expect(payloads(three)).toEqual(seq('key-3:', 40));
      expect(three.every((m) => m.key === 'key-3')).toBe(true);
    });

    it('gives every subscription the same order of a key that several clients publish concurrently', async () => {
      const a = await sub('shared-key');
      const b = await sub('shared-key', ['hot']);
      await Promise.all(
        Array.from({ length: 4 }, async (_, p) => {
          for (let i = 0; i < 25; i++) await ps.publish('shared-key', 'hot', utf8(`${p}:${i}`));
        }),
      );
      const gotA = await a.atLeast(100, '100 messages at subscription A', deadline);
      const gotB = await b.atLeast(100, '100 messages at subscription B', deadline);
      expect(gotA.map((m) => m.id)).toEqual(gotB.map((m) => m.id));
      expect(new Set(gotA.map((m) => m.id)).size).toBe(100);
      for (let p = 0; p < 4; p++)
        expect(payloads(gotA).filter((t) => t.startsWith(`${p}:`))).toEqual(seq(`${p}:`, 25));
    });

    it('delivers only the requested keys, matched exactly (no prefixes), ignoring duplicates', async () => {
      const s = await sub('subset', ['a', 'c', 'a', 'ünï-✓']);
      for (const key of ['a', 'b', 'ab', 'c', 'A', 'ünï-✓', 'ünï', 'c '])
        await ps.publish('subset', key, utf8(key));
      await ps.publish('subset', 'c', utf8('last'));
      // Keys may arrive in any order between them: wait for the four wanted, then a moment for strays.
      await s.atLeast(4, 'the four messages of the requested keys', deadline);
      await pause(500);
      // Only the requested keys, each in publish order (there is no order between keys).
      const byKey = new Map<string, string[]>();
      for (const m of s.messages) byKey.set(m.key, [...(byKey.get(m.key) ?? []), text(m.payload)]);
      expect(Object.fromEntries(byKey)).toEqual({ a: ['a'], c: ['c', 'last'], 'ünï-✓': ['ünï-✓'] });
      expect(s.messages).toHaveLength(4);
    });

    it('keeps keys that look like topic tokens apart from topics (topic "x" key "y.z" vs topic "x.y" key "z")', async () => {
      const xy = await sub('x.y');
      const x = await sub('x');
      await ps.publish('x', 'y.z', utf8('topic x'));
      await ps.publish('x.y', 'z', utf8('topic x.y'));
      await ps.publish('x.y.z', 'k', utf8('topic x.y.z'));
      await ps.publish('x', '*', utf8('star key'));
      await ps.publish('x', '>', utf8('gt key'));
      const lastX = await ps.publish('x', 'end', utf8('end x'));
      const lastXY = await ps.publish('x.y', 'end', utf8('end x.y'));
      await x.waitForId(lastX, deadline);
      await xy.waitForId(lastXY, deadline);
      expect(x.messages.map((m) => [m.topic, m.key, text(m.payload)])).toEqual([
        ['x', 'y.z', 'topic x'],
        ['x', '*', 'star key'],
        ['x', '>', 'gt key'],
        ['x', 'end', 'end x'],
      ]);
      expect(xy.messages.map((m) => [m.topic, m.key, text(m.payload)])).toEqual([
        ['x.y', 'z', 'topic x.y'],
        ['x.y', 'end', 'end x.y'],
      ]);
    });

    it('serves streams independently: a stream nobody reads does not delay another key (or the same key elsewhere)', async () => {
      const slowA = await ps.stalled('independent', ['A']);
      try {
        const fastB = await sub('independent', ['B']);
        const fastAll = await sub('independent');
        // Interleave: key A floods the stalled stream while key B must flow freely to its reader.
        for (let i = 0; i < 200; i++) {
          await ps.publish('independent', 'A', utf8(`A${i}`));
          if (i % 10 === 9) await ps.publish('independent', 'B', utf8(`B${(i - 9) / 10}`));
        }
        const b = await fastB.atLeast(20, '20 messages of key B while key A is not read', deadline);
        expect(payloads(b)).toEqual(seq('B', 20));
        const all = await fastAll.atLeast(220, '220 messages at a reading all-key stream', deadline);
        expect(payloads(all.filter((m) => m.key === 'A'))).toEqual(seq('A', 200));
        // The stalled stream, read late, has key A in order without duplicates (it may have dropped some).
        const late = await slowA.read(200, deadline);
        expect(late.length).toBeGreaterThan(0);
        const indexes = late.map((m) => Number(text(m.payload).slice(1)));
        expect(late.every((m) => m.key === 'A')).toBe(true);
        for (let i = 1; i < indexes.length; i++) expect(indexes[i]!).toBeGreaterThan(indexes[i - 1]!);
      } finally {
        await slowA.close();
      }
    });

    it('delivers nothing after unsubscribe (the stream is cancelled), while others still receive', async () => {
      const leaving = await sub('leave');
      const staying = await sub('leave');
      const firstId = await ps.publish('leave', 'k', utf8('before'));
      await leaving.waitForId(firstId, deadline);
      await leaving.cancel(deadline);
      expect(leaving.ended).toBe(true);
      const afterId = await ps.publish('leave', 'k', utf8('after'));
      await staying.waitForId(afterId, deadline);
      expect(leaving.messages.map((m) => m.id)).toEqual([firstId]);
    });

    it('does not deliver other topics, including longer and shorter ones', async () => {
      const s = await sub('exact.topic');
      await ps.publish('exact', 'k', utf8('shorter'));
      await ps.publish('exact.topic.sub', 'k', utf8('longer'));
      await ps.publish('other', 'k', utf8('other'));
      const id = await ps.publish('exact.topic', 'k', utf8('mine'));
      await s.waitForId(id, deadline);
      expect(payloads(s.messages)).toEqual(['mine']);
    });

    it('keeps binary payloads, metadata, unicode keys and a payload at the namespace limit intact', async () => {
      const s = await sub('binary');
      const max = MESSAGING_CONFORMANCE_LIMITS.maxValueBytes!;
      const large = Uint8Array.from({ length: max }, (_, i) => (i * 7) & 0xff);
      const longKey = `${'ü'.repeat(127)}k`; // 255 UTF-8 bytes
      const a = await ps.publish('binary', 'bytes', ALL_BYTES, { ...SAMPLE_METADATA });
      const b = await ps.publish('binary', '订单/7 ✓', new Uint8Array());
      const c = await ps.publish('binary', longKey, large);
      await s.atLeast(3, '3 binary messages', deadline);
      const byId = new Map(s.messages.map((m) => [m.id, m]));
      expect(sameBytes(byId.get(a)!.payload, ALL_BYTES)).toBe(true);
      expect(byId.get(a)!.metadata).toEqual(SAMPLE_METADATA);
      expect(byId.get(b)!.payload.byteLength).toBe(0);
      expect(byId.get(b)!.key).toBe('订单/7 ✓');
      expect(byId.get(b)!.metadata).toEqual({});
      expect(sameBytes(byId.get(c)!.payload, large)).toBe(true);
      expect(byId.get(c)!.key).toBe(longKey);
    });

    it('keeps ordered topics apart from pubsub_basic topics of the same name', async () => {
      const basicImpl = handle.get(PubSubBasic);
      if (!basicImpl) return; // only meaningful when the plugin also serves pubsub_basic
      const basic = pubsubBasic(basicImpl, namespace);
      const basicSub = await basic.subscribe('spaces');
      try {
        const orderedSub = await sub('spaces');
        await ps.publish('spaces', 'k', utf8('ordered'));
        await basic.publish('spaces', utf8('basic'));
        const lastOrdered = await ps.publish('spaces', 'k', utf8('ordered-last'));
        const lastBasic = await basic.publish('spaces', utf8('basic-last'));
        await orderedSub.waitForId(lastOrdered, deadline);
        await basicSub.waitForId(lastBasic, deadline);
        expect(payloads(orderedSub.messages)).toEqual(['ordered', 'ordered-last']);
        expect(basicSub.messages.map((m) => text(m.payload))).toEqual(['basic', 'basic-last']);
      } finally {
        await basicSub.cancel();
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: MESSAGING_CONFORMANCE_LIMITS });
      try {
        const otherPs = pubsubOrdering(other.get(PubSubOrdering)!, otherNs);
        const theirs = await otherPs.subscribe('shared');
        const mine = await sub('shared');
        await ps.publish('shared', 'k', utf8('mine'));
        const theirId = await otherPs.publish('shared', 'k', utf8('theirs'));
        await theirs.waitForId(theirId, deadline);
        await mine.atLeast(1, 'my message', deadline);
        expect(payloads(theirs.messages)).toEqual(['theirs']);
        expect(payloads(mine.messages)).toEqual(['mine']);
        await theirs.cancel();
      } finally {
        await other.close();
      }
    });

    it('rejects invalid topics, ordering keys, payloads and metadata with INVALID_ARGUMENT naming the field', async () => {
      for (const topic of INVALID_TOPICS) {
        await expectCode(() => ps.publish(topic, 'k', utf8('x')), Code.InvalidArgument);
        await expectCode(() => ps.open(topic).ready(deadline), Code.InvalidArgument);
      }
      for (const key of [
        '',
        'x'.repeat(257),
        'ü'.repeat(129),
        'a\nb',
        'tab\there',
        'nul\u0000',
        'del\u007f',
      ]) {
        const err = await expectCode(() => ps.publish('t', key, utf8('x')), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/ordering_key/);
      }
      expect(await ps.publish('t', 'x'.repeat(256), utf8('x'))).not.toBe('');
      const badKeys = await expectCode(() => ps.open('t', ['ok', '']).ready(deadline), Code.InvalidArgument);
      expect(badKeys.rawMessage).toMatch(/ordering_keys\[1\]/);
      const tooManyKeys = Array.from({ length: 101 }, (_, i) => `k${i}`);
      const many = await expectCode(() => ps.open('t', tooManyKeys).ready(deadline), Code.InvalidArgument);
      expect(many.rawMessage).toMatch(/ordering_keys/);
      const big = new Uint8Array(MESSAGING_CONFORMANCE_LIMITS.maxValueBytes! + 1);
      const err = await expectCode(() => ps.publish('t', 'k', big), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/payload/);
      const badMetadata: Record<string, string>[] = [
        { 'Upper-Case': 'x' },
        { 'prism-reserved': 'x' },
        { ok: 'a\nb' },
      ];
      for (const metadata of badMetadata)
        await expectCode(() => ps.publish('t', 'k', utf8('x'), metadata), Code.InvalidArgument);
    });
  });
}
