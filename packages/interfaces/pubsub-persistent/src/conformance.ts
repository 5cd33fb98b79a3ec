import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  ALL_BYTES,
  DEFAULT_DEADLINE_MS,
  expectCode,
  INVALID_TOPICS,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  pollUntil,
  SAMPLE_METADATA,
  StreamCollector,
  sameBytes,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  AckRequestSchema,
  DeleteSubscriptionRequestSchema,
  type DurableMessage,
  PublishPersistentRequestSchema,
  PubSubPersistent,
  type PubSubPersistentImpl,
  SubscribeDurableRequestSchema,
  type SubscribeDurableResponse,
  SubscribeDurableResponseSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Options of one durable stream. */
export interface DurableOptions {
  readonly ackWaitMs?: number;
  readonly maxInFlight?: number;
}

/** One SubscribeDurable stream. */
export class DurableStream {
  readonly stream: StreamCollector<SubscribeDurableResponse>;
  #acked = 0;

  constructor(
    open: (c: { signal: AbortSignal }) => AsyncIterable<SubscribeDurableResponse>,
    private readonly ackIds: (ids: string[]) => Promise<void>,
  ) {
    this.stream = new StreamCollector(open);
  }

  /** Waits for the `subscribed` event (the durable subscription exists from then on). */
  async ready(timeoutMs = DEFAULT_DEADLINE_MS): Promise<this> {
    const [first] = await this.stream.atLeast(1, 'the subscribed event', timeoutMs);
    if (first?.event.case !== 'subscribed')
      throw new Error(`the first response must be the subscribed event, got ${first?.event.case}`);
    return this;
  }

  get messages(): DurableMessage[] {
    return this.stream.items.flatMap((r) => (r.event.case === 'message' ? [r.event.value] : []));
  }

  async until(what: string, predicate: (m: DurableMessage[]) => boolean, timeoutMs = DEFAULT_DEADLINE_MS) {
    await this.stream.until(what, () => predicate(this.messages), timeoutMs);
    return this.messages;
  }

  /** Acks every message received since the last call; returns how many. */
  async ackNew(): Promise<number> {
    const fresh = this.messages.slice(this.#acked);
    this.#acked += fresh.length;
    if (fresh.length) await this.ackIds(fresh.map((m) => m.ackId));
    return fresh.length;
  }

  cancel(timeoutMs = DEFAULT_DEADLINE_MS): Promise<void> {
    return this.stream.cancel(timeoutMs);
  }
}

/** Typed client over a pubsub_persistent implementation. */
export function persistentClient(impl: PubSubPersistentImpl, namespace: string) {
  const ack = async (topic: string, subscription: string, ackIds: string[]) => {
    await impl.ack(create(AckRequestSchema, { namespace, topic, subscription, ackIds }), ctx);
  };
  return {
    publish: async (topic: string, payload: Uint8Array, metadata: Record<string, string> = {}) =>
      (
        await impl.publishPersistent(
          create(PublishPersistentRequestSchema, { namespace, topic, payload, metadata }),
          ctx,
        )
      ).messageId ?? '',
    ack,
    open: (topic: string, subscription: string, o: DurableOptions = {}) =>
      new DurableStream(
        (c) =>
          (async function* () {
            const req = create(SubscribeDurableRequestSchema, {
              namespace,
              topic,
              subscription,
              ackWaitMs: BigInt(o.ackWaitMs ?? 0),
              maxInFlight: o.maxInFlight ?? 0,
            });
            for await (const r of impl.subscribeDurable(req, c))
              yield create(SubscribeDurableResponseSchema, r);
          })(),
        (ids) => ack(topic, subscription, ids),
      ),
    deleteSubscription: async (topic: string, subscription: string) =>
      (
        await impl.deleteSubscription(
          create(DeleteSubscriptionRequestSchema, { namespace, topic, subscription }),
          ctx,
        )
      ).deleted ?? false,
  };
}

/** The pubsub_persistent conformance suite (durable subscriptions, at-least-once with ack). */
export function describePubSubPersistentConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`pubsub_persistent conformance: ${label}`, () => {
    let handle: PluginHandle;
    let p: ReturnType<typeof persistentClient>;
    const namespace = uniqueNamespace(label);
    const streams: DurableStream[] = [];
    const open = (topic: string, subscription: string, o: DurableOptions = {}) => {
      const s = p.open(topic, subscription, o);
      streams.push(s);
      return s.ready(deadline);
    };
    const ids = (ms: readonly DurableMessage[]) => ms.map((m) => m.message!.id);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const impl = handle.get(PubSubPersistent);
      if (!impl) throw new Error(`${label} does not implement pubsub_persistent`);
      p = persistentClient(impl, namespace);
    });
    afterAll(async () => {
      await Promise.all(streams.map((s) => s.cancel().catch(() => {})));
      await handle?.close();
    });

    it('delivers a message with ack id and delivery count 1, in publish order', async () => {
      const s = await open('orders', 'billing');
      const metadata: Record<string, string> = options.metadata === false ? {} : { kind: 'order' };
      const sent: string[] = [];
      for (let i = 0; i < 5; i++) sent.push(await p.publish('orders', utf8(`o${i}`), metadata));
      const got = await s.until('5 messages', (m) => m.length >= 5, deadline);
      expect(ids(got)).toEqual(sent);
      for (const m of got) {
        expect(m.ackId.length).toBeGreaterThan(0);
        expect(m.deliveryCount).toBe(1);
        expect(m.message!.topic).toBe('orders');
        if (options.metadata !== false) expect(m.message!.metadata).toEqual(metadata);
        expect(Math.abs(Number(m.message!.timestampMs) - Date.now())).toBeLessThan(60_000);
      }
      expect(got.map((m) => text(m.message!.payload))).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
      await s.ackNew();
    });

    it('keeps messages published while no stream is open (survives a disconnect)', async () => {
      const first = await open('offline', 'keeper');
      await first.cancel(deadline);
      const sent = [await p.publish('offline', utf8('a')), await p.publish('offline', utf8('b'))];
      const second = await open('offline', 'keeper');
      const got = await second.until('the messages published while offline', (m) => m.length >= 2, deadline);
      expect(ids(got)).toEqual(sent);
      await second.ackNew();
    });

    it('redelivers an unacked message after its stream ends, and never an acked one', async () => {
      const first = await open('retry', 'worker', { ackWaitMs: 1000 });
      const id = await p.publish('retry', utf8('needs ack'));
      await first.until('the first delivery', (m) => m.length >= 1, deadline);
      await first.cancel(deadline);
      const second = await open('retry', 'worker', { ackWaitMs: 1000 });
      const again = (await second.until('the redelivery', (m) => ids(m).includes(id), deadline)).find(
        (m) => m.message!.id === id,
      )!;
      expect(again.deliveryCount).toBeGreaterThanOrEqual(2);
      expect(await second.ackNew()).toBeGreaterThan(0);
      // A sentinel left unacked is redelivered after ack_wait_ms; by then an ignored ack would show too.
      const sentinel = await p.publish('retry', utf8('sentinel'));
      await second.until(
        'the sentinel redelivery',
        (m) => m.filter((x) => x.message!.id === sentinel).length >= 2,
        deadline,
      );
      expect(ids(second.messages).filter((x) => x === id)).toHaveLength(1);
    });

    it('fans out to every durable subscription, and shares among streams of one subscription', async () => {
      const audit = await open('fan', 'audit');
      const trio = await Promise.all([1, 2, 3].map(() => open('fan', 'workers', { maxInFlight: 10 })));
      const sent = new Set<string>();
      for (let i = 0; i < 30; i++) sent.add(await p.publish('fan', utf8(`f${i}`)));
      await audit.until('30 messages on the audit subscription', (m) => m.length >= 30, deadline);
      expect(new Set(ids(audit.messages))).toEqual(sent);
      await audit.ackNew();
      await pollUntil(
        '30 messages across the worker streams',
        async () => {
          for (const s of trio) await s.ackNew();
          return trio.flatMap((s) => s.messages).length >= 30;
        },
        deadline,
      );
      const shared = trio.flatMap((s) => ids(s.messages));
      expect(shared).toHaveLength(30);
      expect(new Set(shared)).toEqual(sent);
    });

    it('never has more than max_in_flight unacked messages outstanding on a stream', async () => {
      const s = await open('window', 'slow', { maxInFlight: 3, ackWaitMs: 60_000 });
      for (let i = 0; i < 10; i++) await p.publish('window', utf8(`w${i}`));
      let acked = 0;
      while (acked < 10) {
        const got = await s.until(
          'the window to refill',
          (m) => m.length >= Math.min(acked + 3, 10),
          deadline,
        );
        expect(got.length).toBeLessThanOrEqual(acked + 3);
        // Ack one at a time: each ack may admit exactly one more message.
        await p.ack('window', 'slow', [got[acked]!.ackId]);
        acked++;
      }
      expect(s.messages.map((m) => text(m.message!.payload))).toEqual(
        Array.from({ length: 10 }, (_, i) => `w${i}`),
      );
    });

    it('keeps binary payloads intact and round-trips metadata', async () => {
      const s = await open('binary', 'bin');
      const a = await p.publish(
        'binary',
        ALL_BYTES,
        options.metadata === false ? {} : { ...SAMPLE_METADATA },
      );
      const b = await p.publish('binary', new Uint8Array());
      const got = await s.until('2 messages', (m) => m.length >= 2, deadline);
      const byId = new Map(got.map((m) => [m.message!.id, m.message!]));
      expect(sameBytes(byId.get(a)!.payload, ALL_BYTES)).toBe(true);
      expect(byId.get(b)!.payload.byteLength).toBe(0);
      if (options.metadata !== false) expect(byId.get(a)!.metadata).toEqual(SAMPLE_METADATA);
      await s.ackNew();
    });

    it('DeleteSubscription drops the subscription and its pending messages', async () => {
      const s = await open('gone', 'temp');
      await s.cancel(deadline);
      await p.publish('gone', utf8('pending'));
      expect(await p.deleteSubscription('gone', 'temp')).toBe(true);
      expect(await p.deleteSubscription('gone', 'temp')).toBe(false);
      const fresh = await open('gone', 'temp');
      const sentinel = await p.publish('gone', utf8('fresh'));
      const got = await fresh.until('the fresh message', (m) => ids(m).includes(sentinel), deadline);
      expect(got.map((m) => text(m.message!.payload))).toEqual(['fresh']);
      await fresh.ackNew();
    });

    if (options.durable !== false)
      it('loses nothing when the instance restarts between publish and consume', async () => {
        const first = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
        const p1 = persistentClient(first.get(PubSubPersistent)!, namespace);
        const s1 = p1.open('restart', 'durable', { ackWaitMs: 1000 });
        await s1.ready(deadline);
        const unacked = await p1.publish('restart', utf8('received, not acked'));
        await s1.until('the first delivery', (m) => ids(m).includes(unacked), deadline);
        const queued = await p1.publish('restart', utf8('never received'));
        await first.close();
        await s1.cancel().catch(() => {});
        const s2 = await open('restart', 'durable', { ackWaitMs: 1000 });
        await s2.until(
          'both messages after the restart',
          (m) => [unacked, queued].every((id) => ids(m).includes(id)),
          deadline,
        );
        await s2.ackNew();
      });

    it('rejects invalid input with INVALID_ARGUMENT', async () => {
      for (const topic of INVALID_TOPICS) {
        await expectCode(() => p.publish(topic, utf8('x')), Code.InvalidArgument);
        await expectCode(() => p.open(topic, 'sub').ready(deadline), Code.InvalidArgument);
      }
      for (const sub of ['', 'has.dot', 'has space', 'x'.repeat(65)])
        await expectCode(() => p.open('t', sub).ready(deadline), Code.InvalidArgument);
      await expectCode(() => p.open('t', 's', { maxInFlight: 1001 }).ready(deadline), Code.InvalidArgument);
      await expectCode(() => p.open('t', 's', { ackWaitMs: -1 }).ready(deadline), Code.InvalidArgument);
      await expectCode(() => p.ack('t', 's', []), Code.InvalidArgument);
      const big = new Uint8Array(MESSAGING_CONFORMANCE_LIMITS.maxValueBytes! + 1);
      await expectCode(() => p.publish('t', big), Code.InvalidArgument);
    });
  });
}
