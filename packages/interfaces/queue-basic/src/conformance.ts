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
  sameBytes,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  AckRequestSchema,
  EnqueueRequestSchema,
  QueueBasic,
  type QueueBasicImpl,
  type ReceivedMessage,
  ReceiveRequestSchema,
  ReceiveResponseSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Receive options of {@link queueClient}. */
export interface ReceiveOptions {
  readonly max?: number;
  readonly waitMs?: number;
  readonly visibilityMs?: number;
}

/** Small typed client over a queue_basic implementation, used by the queue suites. */
export function queueClient(impl: QueueBasicImpl, namespace: string) {
  const receive = async (queue: string, o: ReceiveOptions = {}): Promise<ReceivedMessage[]> => {
    const req = create(ReceiveRequestSchema, {
      namespace,
      queue,
      maxMessages: o.max ?? 1,
      waitMs: BigInt(o.waitMs ?? 0),
      visibilityTimeoutMs: BigInt(o.visibilityMs ?? 0),
    });
    return create(ReceiveResponseSchema, await impl.receive(req, ctx)).messages;
  };
  return {
    enqueue: async (queue: string, payload: Uint8Array, metadata: Record<string, string> = {}) =>
      (await impl.enqueue(create(EnqueueRequestSchema, { namespace, queue, payload, metadata }), ctx))
        .messageId ?? '',
    receive,
    ack: async (queue: string, receipts: string[]) =>
      (await impl.ack(create(AckRequestSchema, { namespace, queue, receipts }), ctx)).ackedCount ?? 0,
    /** Receives (short long-polls) until a message with `id` arrives; returns that delivery. */
    receiveId: async (queue: string, id: string, o: ReceiveOptions = {}, timeoutMs = DEFAULT_DEADLINE_MS) => {
      const seen: ReceivedMessage[] = [];
      const hit = await pollUntil(
        `message ${id} from queue ${queue}`,
        async () => {
          const got = await receive(queue, { max: 10, waitMs: 200, ...o });
          seen.push(...got);
          return got.find((m) => m.message?.id === id);
        },
        timeoutMs,
        1,
      );
      return { hit, seen };
    },
    /** Receives until every id in `ids` arrived; returns the first delivery of each, by id. */
    receiveAll: async (
      queue: string,
      ids: readonly string[],
      o: ReceiveOptions = {},
      timeoutMs = DEFAULT_DEADLINE_MS,
    ) => {
      const byId = new Map<string, ReceivedMessage>();
      await pollUntil(
        `${ids.length} messages from queue ${queue}`,
        async () => {
          for (const m of await receive(queue, { max: 10, waitMs: 200, ...o }))
            if (!byId.has(m.message!.id)) byId.set(m.message!.id, m);
          return ids.every((id) => byId.has(id));
        },
        timeoutMs,
        1,
      );
      return byId;
    },
  };
}

/** The client type the queue suites share. */
export type QueueClient = ReturnType<typeof queueClient>;

/** The queue_basic conformance suite (at-least-once, competing consumers, visibility timeout). */
export function describeQueueBasicConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`queue_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let q: QueueClient;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const impl = handle.get(QueueBasic);
      if (!impl) throw new Error(`${label} does not implement queue_basic`);
      q = queueClient(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('delivers an enqueued message with id, queue, payload, metadata, timestamp, receipt and count', async () => {
      const before = Date.now();
      const id = await q.enqueue('jobs', utf8('job-1'), options.metadata === false ? {} : { kind: 'test' });
      expect(id.length).toBeGreaterThan(0);
      const { hit } = await q.receiveId('jobs', id, { visibilityMs: 30_000 }, deadline);
      expect(hit.message?.topic).toBe('jobs');
      expect(text(hit.message!.payload)).toBe('job-1');
      if (options.metadata !== false) expect(hit.message?.metadata).toEqual({ kind: 'test' });
      expect(Number(hit.message?.timestampMs)).toBeGreaterThan(before - 60_000);
      expect(Number(hit.message?.timestampMs)).toBeLessThan(Date.now() + 60_000);
      expect(hit.receipt.length).toBeGreaterThan(0);
      expect(hit.deliveryCount).toBe(1);
      expect(await q.ack('jobs', [hit.receipt])).toBe(1);
    });

    it('competing consumers: 30 messages over 3 receivers, each to exactly one, all received', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 30; i++) ids.add(await q.enqueue('compete', utf8(`c${i}`)));
      const byReceiver: string[][] = [[], [], []];
      const all = () => byReceiver.flat();
      const stopAt = Date.now() + deadline;
      await Promise.all(
        byReceiver.map(async (mine) => {
          while (all().length < 30 && Date.now() < stopAt) {
            const got = await q.receive('compete', { max: 5, waitMs: 500, visibilityMs: 60_000 });
            for (const m of got) mine.push(m.message!.id);
            if (got.length)
              await q.ack(
                'compete',
                got.map((m) => m.receipt),
              );
          }
        }),
      );
      expect(all()).toHaveLength(30);
      expect(new Set(all())).toEqual(ids);
    });

    it('redelivers a message that was received but not acked once its visibility expires', async () => {
      const id = await q.enqueue('redeliver', utf8('again'));
      const first = await q.receiveId('redeliver', id, { visibilityMs: 1000 }, deadline);
      expect(first.hit.deliveryCount).toBe(1);
      const second = await q.receiveId('redeliver', id, { visibilityMs: 30_000 }, deadline);
      expect(second.hit.deliveryCount).toBe(2);
      expect(text(second.hit.message!.payload)).toBe('again');
      expect(await q.ack('redeliver', [second.hit.receipt])).toBe(1);
    });

    it('keeps a received message invisible to other receivers during its visibility timeout', async () => {
      const hidden = await q.enqueue('invisible', utf8('hidden'));
      await q.receiveId('invisible', hidden, { visibilityMs: 60_000 }, deadline);
      const sentinel = await q.enqueue('invisible', utf8('sentinel'));
      const { hit, seen } = await q.receiveId('invisible', sentinel, { visibilityMs: 60_000 }, deadline);
      expect(seen.map((m) => m.message!.id)).not.toContain(hidden);
      await q.ack('invisible', [hit.receipt]);
    });

    it('never redelivers an acked message', async () => {
      const acked = await q.enqueue('acked', utf8('a'));
      const unacked = await q.enqueue('acked', utf8('b'));
      const got: ReceivedMessage[] = [];
      await pollUntil(
        'both messages',
        async () => {
          got.push(...(await q.receive('acked', { max: 2, waitMs: 200, visibilityMs: 1000 })));
          return got.length >= 2;
        },
        deadline,
      );
      const a = got.find((m) => m.message!.id === acked)!;
      expect(await q.ack('acked', [a.receipt])).toBe(1);
      // By the time the unacked one comes back, the acked one would have come back too.
      const { seen } = await q.receiveId('acked', unacked, { visibilityMs: 60_000 }, deadline);
      expect(seen.map((m) => m.message!.id)).not.toContain(acked);
    });

    it('long-polls: a waiting Receive returns a message enqueued while it waits', async () => {
      const waiting = q.receive('longpoll', { max: 1, waitMs: 10_000, visibilityMs: 30_000 });
      const id = await q.enqueue('longpoll', utf8('late'));
      const got = await waiting;
      // A backend may answer early and empty; the message must then be there on the next poll.
      const hit =
        got.find((m) => m.message!.id === id) ?? (await q.receiveId('longpoll', id, {}, deadline)).hit;
      expect(text(hit.message!.payload)).toBe('late');
    });

    it('returns at most max_messages per Receive and loses nothing', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 7; i++) ids.add(await q.enqueue('batch', utf8(`b${i}`)));
      const seen: string[] = [];
      await pollUntil(
        'all 7 messages',
        async () => {
          const got = await q.receive('batch', { max: 3, waitMs: 200, visibilityMs: 60_000 });
          expect(got.length).toBeLessThanOrEqual(3);
          seen.push(...got.map((m) => m.message!.id));
          if (got.length)
            await q.ack(
              'batch',
              got.map((m) => m.receipt),
            );
          return seen.length >= 7;
        },
        deadline,
      );
      expect(new Set(seen)).toEqual(ids);
      expect(seen).toHaveLength(7);
    });

    it('keeps binary payloads intact (all 256 byte values, empty)', async () => {
      const a = await q.enqueue('binary', ALL_BYTES);
      const b = await q.enqueue('binary', new Uint8Array());
      const got = await q.receiveAll('binary', [a, b], { visibilityMs: 60_000 }, deadline);
      expect(sameBytes(got.get(a)!.message!.payload, ALL_BYTES)).toBe(true);
      expect(got.get(b)!.message!.payload.byteLength).toBe(0);
      expect(
        await q.ack(
          'binary',
          [...got.values()].map((m) => m.receipt),
        ),
      ).toBe(2);
    });

    if (options.metadata !== false)
      it('round-trips metadata', async () => {
        const id = await q.enqueue('meta', utf8('m'), { ...SAMPLE_METADATA });
        const { hit } = await q.receiveId('meta', id, { visibilityMs: 60_000 }, deadline);
        expect(hit.message!.metadata).toEqual(SAMPLE_METADATA);
        await q.ack('meta', [hit.receipt]);
      });

    it('returns nothing for an unknown queue, and keeps queues and namespaces apart', async () => {
      expect(await q.receive('never-used', { waitMs: 0 })).toEqual([]);
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: MESSAGING_CONFORMANCE_LIMITS });
      try {
        const oq = queueClient(other.get(QueueBasic)!, otherNs);
        await q.enqueue('iso-a', utf8('mine'));
        const theirs = await oq.enqueue('iso-a', utf8('theirs'));
        const sentinel = await q.enqueue('iso-b', utf8('other queue'));
        const { seen: inB } = await q.receiveId('iso-b', sentinel, { visibilityMs: 60_000 }, deadline);
        expect(inB.map((m) => text(m.message!.payload))).toEqual(['other queue']);
        const { seen: theirSeen } = await oq.receiveId('iso-a', theirs, { visibilityMs: 60_000 }, deadline);
        expect(theirSeen.map((m) => text(m.message!.payload))).toEqual(['theirs']);
      } finally {
        await other.close();
      }
    });

    if (options.durable !== false)
      it('loses nothing when the instance restarts between enqueue and receive, or before an ack', async () => {
        const first = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
        const q1 = queueClient(first.get(QueueBasic)!, namespace);
        const kept = await q1.enqueue('restart', utf8('kept'));
        const unacked = await q1.enqueue('restart', utf8('unacked'));
        await q1.receiveId('restart', unacked, { visibilityMs: 1000 }, deadline);
        await first.close();
        const second = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
        try {
          const q2 = queueClient(second.get(QueueBasic)!, namespace);
          const got = await q2.receiveAll('restart', [kept, unacked], { visibilityMs: 60_000 }, deadline);
          expect(got.get(unacked)!.deliveryCount).toBeGreaterThanOrEqual(2);
          expect(
            await q2.ack(
              'restart',
              [...got.values()].map((m) => m.receipt),
            ),
          ).toBe(2);
        } finally {
          await second.close();
        }
      });

    it('rejects invalid input with INVALID_ARGUMENT', async () => {
      for (const queue of INVALID_TOPICS) {
        await expectCode(() => q.enqueue(queue, utf8('x')), Code.InvalidArgument);
        await expectCode(() => q.receive(queue), Code.InvalidArgument);
      }
      const big = new Uint8Array(MESSAGING_CONFORMANCE_LIMITS.maxValueBytes! + 1);
      await expectCode(() => q.enqueue('v', big), Code.InvalidArgument);
      await expectCode(() => q.enqueue('v', utf8('x'), { BAD: 'x' }), Code.InvalidArgument);
      await expectCode(() => q.receive('v', { max: 101 }), Code.InvalidArgument);
      await expectCode(() => q.receive('v', { waitMs: 20_001 }), Code.InvalidArgument);
      await expectCode(() => q.receive('v', { waitMs: -1 }), Code.InvalidArgument);
      await expectCode(() => q.receive('v', { visibilityMs: -1 }), Code.InvalidArgument);
      await expectCode(() => q.ack('v', []), Code.InvalidArgument);
      await expectCode(() => q.ack('v', ['']), Code.InvalidArgument);
    });
  });
}
