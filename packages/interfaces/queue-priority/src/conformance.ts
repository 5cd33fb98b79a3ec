import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { QueueBasic, type ReceivedMessage } from '@prism/queue-basic';
import { type QueueClient, queueClient } from '@prism/queue-basic/conformance';
import { QueueVisibility } from '@prism/queue-visibility';
import { visibilityClient } from '@prism/queue-visibility/conformance';
import { Code, type Limits, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  EnqueueWithPriorityRequestSchema,
  MAX_PRIORITY,
  QueuePriority,
  type QueuePriorityImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Limits the suite runs adapters with (the same as the other messaging suites). */
export const PRIORITY_CONFORMANCE_LIMITS: Partial<Limits> = { maxKeyBytes: 512, maxValueBytes: 256 * 1024 };

/** Default deadline for a condition to become true (generous: the suites run on a loaded machine). */
const DEADLINE_MS = 15_000;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b ?? new Uint8Array());
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function pollUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = DEADLINE_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pause(1);
  }
}

/** Typed EnqueueWithPriority calls. */
export function priorityClient(impl: QueuePriorityImpl, namespace: string) {
  return {
    enqueue: async (
      queue: string,
      payload: Uint8Array,
      priority: number,
      metadata: Record<string, string> = {},
    ): Promise<string> =>
      (
        await impl.enqueueWithPriority(
          create(EnqueueWithPriorityRequestSchema, { namespace, queue, payload, metadata, priority }),
          ctx,
        )
      ).messageId ?? '',
  };
}

/**
 * Options of {@link describeQueuePriorityConformance}: which other interfaces the adapter declares, plus the
 * messaging backend traits every messaging suite takes (the fields of `MessagingSuiteOptions`).
 */
export interface QueuePrioritySuiteOptions {
  /** The adapter also declares queue_visibility: Nack must give a message back at its own level. */
  readonly visibility?: boolean;
  /** `false` ONLY for in-process backends: skips the restart test. */
  readonly durable?: boolean;
  /** Overrides the default 15 s deadline of each wait. */
  readonly deadlineMs?: number;
}

/**
 * The queue_priority conformance suite. The plugin must implement queue_basic too (receiving and acking are
 * queue_basic's). Priorities 0..9, 9 highest; strict between levels, FIFO within a level.
 */
export function describeQueuePriorityConformance(
  label: string,
  factory: PluginFactory,
  options: QueuePrioritySuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEADLINE_MS;
  jest.setTimeout(4 * deadline);
  describe(`queue_priority conformance: ${label}`, () => {
    let handle: PluginHandle;
    let q: QueueClient;
    let p: ReturnType<typeof priorityClient>;
    const namespace = uniqueNamespace(label);

    const clients = (h: PluginHandle, ns: string) => {
      const basic = h.get(QueueBasic);
      const prio = h.get(QueuePriority);
      if (!basic || !prio) throw new Error(`${label} must implement queue_priority and queue_basic`);
      return { q: queueClient(basic, ns), p: priorityClient(prio, ns) };
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: PRIORITY_CONFORMANCE_LIMITS });
      ({ q, p } = clients(handle, namespace));
    });
    afterAll(async () => {
      await handle?.close();
    });

    /**
     * Receives (`max` per call, waiting for the first) and acks until `count` messages arrived; returns them
     * in the order received, then checks that nothing else is visible.
     */
    const drain = async (queue: string, count: number, max = 1, client: QueueClient = q) => {
      const got: ReceivedMessage[] = [];
      await pollUntil(
        `${count} messages from queue ${queue} (got ${got.length})`,
        async () => {
          const batch = await client.receive(queue, { max, waitMs: 200, visibilityMs: 60_000 });
          expect(batch.length).toBeLessThanOrEqual(max);
          got.push(...batch);
          if (batch.length)
            expect(
              await client.ack(
                queue,
                batch.map((m) => m.receipt),
              ),
            ).toBe(batch.length);
          return got.length >= count;
        },
        deadline,
      );
      expect(got).toHaveLength(count);
      expect(await client.receive(queue, { max: 10, waitMs: 0 })).toEqual([]);
      return got;
    };
    const labels = (ms: readonly ReceivedMessage[]) => ms.map((m) => text(m.message?.payload));

    /** Enqueues `[label, priority]` pairs one after the other. */
    const fill = async (queue: string, items: readonly (readonly [string, number])[]) => {
      const ids: string[] = [];
      for (const [l, prio] of items) ids.push(await p.enqueue(queue, utf8(l), prio));
      return ids;
    };

    const MIXED = [
      ['a0', 0],
      ['a5', 5],
      ['a9', 9],
      ['b5', 5],
      ['b0', 0],
      ['b9', 9],
      ['a3', 3],
      ['c0', 0],
      ['a1', 1],
      ['c9', 9],
    ] as const;
    const MIXED_ORDER = ['a9', 'b9', 'c9', 'a5', 'b5', 'a3', 'a1', 'a0', 'b0', 'c0'];

    it('receives highest priority first (9 is highest), FIFO within a level, one at a time', async () => {
      const ids = await fill('order', MIXED);
      expect(new Set(ids).size).toBe(MIXED.length);
      expect(ids.every((id) => id.length > 0)).toBe(true);
      expect(labels(await drain('order', MIXED.length, 1))).toEqual(MIXED_ORDER);
    });

    it('keeps the same order across batched receives (highest first within each response)', async () => {
      await fill('order-batch', MIXED);
      expect(labels(await drain('order-batch', MIXED.length, 4))).toEqual(MIXED_ORDER);
      await fill('order-batch-all', MIXED);
      expect(labels(await drain('order-batch-all', MIXED.length, 100))).toEqual(MIXED_ORDER);
    });

    it('delivers every level 0..9 in order, the extremes included', async () => {
      const items = Array.from({ length: MAX_PRIORITY + 1 }, (_, i) => [`l${i}`, i] as const);
      await fill('levels', items);
      expect(labels(await drain('levels', items.length, 3))).toEqual(items.map(([l]) => l).reverse());
    });

    it('a later higher-priority message overtakes lower ones that were waiting', async () => {
      const lows = Array.from({ length: 20 }, (_, i) => [`low${i}`, 2] as const);
      await fill('overtake', lows);
      const first = await q.receive('overtake', { max: 1, waitMs: 0, visibilityMs: 60_000 });
      expect(labels(first)).toEqual(['low0']);
      await q.ack(
        'overtake',
        first.map((m) => m.receipt),
      );
      const urgent = await p.enqueue('overtake', utf8('urgent'), 7);
      const next = await q.receive('overtake', { max: 1, waitMs: 0, visibilityMs: 60_000 });
      expect(next[0]?.message?.id).toBe(urgent);
      await q.ack(
        'overtake',
        next.map((m) => m.receipt),
      );
      expect(labels(await drain('overtake', 19, 10))).toEqual(lows.slice(1).map(([l]) => l));
    });

    it('queue_basic Enqueue is priority 0: after every higher level, FIFO with explicit priority 0', async () => {
      await p.enqueue('plain', utf8('p0-first'), 0);
      await q.enqueue('plain', utf8('basic'));
      await p.enqueue('plain', utf8('p1'), 1);
      await p.enqueue('plain', utf8('p0-last'), 0);
      expect(labels(await drain('plain', 4, 1))).toEqual(['p1', 'p0-first', 'basic', 'p0-last']);
    });

    it('an invisible (received, unacked) higher-priority message does not block lower ones', async () => {
      const high = await p.enqueue('inflight', utf8('high'), 9);
      const got = await q.receive('inflight', { max: 1, waitMs: 0, visibilityMs: 60_000 });
      expect(got.map((m) => m.message?.id)).toEqual([high]);
      await p.enqueue('inflight', utf8('low'), 1);
      const next = await q.receive('inflight', { max: 5, waitMs: 1000, visibilityMs: 60_000 });
      expect(labels(next)).toEqual(['low']);
      expect(
        await q.ack(
          'inflight',
          [...got, ...next].map((m) => m.receipt),
        ),
      ).toBe(2);
      expect(await q.receive('inflight', { max: 5, waitMs: 0 })).toEqual([]);
    });

    it('a redelivered message keeps its priority (visibility expired)', async () => {
      const high = await p.enqueue('redeliver', utf8('high'), 8);
      const first = await q.receive('redeliver', { max: 1, waitMs: 0, visibilityMs: 1000 });
      expect(first.map((m) => m.message?.id)).toEqual([high]);
      await fill('redeliver', [
        ['low-a', 0],
        ['mid', 4],
        ['low-b', 0],
      ]);
      // Let the visibility timeout pass without receiving, so the redelivery competes with all three.
      await pause(1500);
      const got = await drain('redeliver', 4, 1);
      expect(labels(got)).toEqual(['high', 'mid', 'low-a', 'low-b']);
      expect(got[0]!.deliveryCount).toBe(2);
      expect(got.slice(1).map((m) => m.deliveryCount)).toEqual([1, 1, 1]);
    });

    if (options.visibility)
      it('Nack gives a message back at its own level, ahead of lower ones', async () => {
        const v = visibilityClient(handle.get(QueueVisibility)!, namespace);
        const high = await p.enqueue('nack', utf8('high'), 6);
        const first = await q.receive('nack', { max: 1, waitMs: 0, visibilityMs: 60_000 });
        expect(first.map((m) => m.message?.id)).toEqual([high]);
        await fill('nack', [
          ['low', 1],
          ['higher', 9],
        ]);
        await v.nack('nack', first[0]!.receipt);
        const got = await drain('nack', 3, 1);
        expect(labels(got)).toEqual(['higher', 'high', 'low']);
        expect(got[1]!.deliveryCount).toBe(2);
        // While a nacked message waits out its delay, lower levels are served.
        const again = await p.enqueue('nack', utf8('again'), 9);
        const r = await q.receive('nack', { max: 1, waitMs: 0, visibilityMs: 60_000 });
        expect(r.map((m) => m.message?.id)).toEqual([again]);
        await v.nack('nack', r[0]!.receipt, 60_000);
        await p.enqueue('nack', utf8('meanwhile'), 0);
        const mean = await q.receive('nack', { max: 5, waitMs: 1000, visibilityMs: 60_000 });
        expect(labels(mean)).toEqual(['meanwhile']);
        await q.ack(
          'nack',
          mean.map((m) => m.receipt),
        );
      });

    it('concurrent producers: levels stay strict and each producer keeps FIFO within a level', async () => {
      const producers = 4;
      const perProducer = 12;
      await Promise.all(
        Array.from({ length: producers }, async (_, prod) => {
          for (let i = 0; i < perProducer; i++)
            await p.enqueue(
              'concurrent',
              utf8(`${prod}:${i}:${(prod * 7 + i * 3) % 10}`),
              (prod * 7 + i * 3) % 10,
            );
        }),
      );
      const got = labels(await drain('concurrent', producers * perProducer, 7)).map((l) =>
        l.split(':').map(Number),
      );
      const prios = got.map(([, , prio]) => prio!);
      expect(prios).toEqual([...prios].sort((a, b) => b - a));
      const last = new Map<string, number>();
      for (const [prod, i, prio] of got) {
        const key = `${prod}/${prio}`;
        expect(i).toBeGreaterThan(last.get(key) ?? -1);
        last.set(key, i!);
      }
      expect(new Set(got.map((g) => g.join(':'))).size).toBe(producers * perProducer);
    });

    it('round-trips id, queue, binary and empty payloads, unicode metadata; delivery count 1', async () => {
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const meta = { note: 'grüße ✓ 優先', 'content-type': 'application/octet-stream', empty: '' };
      const a = await p.enqueue('roundtrip', bytes, 3, meta);
      const b = await p.enqueue('roundtrip', new Uint8Array(), 5);
      const c = await p.enqueue('roundtrip', utf8('✓ ünïcødé 優先'), 3);
      const got = await drain('roundtrip', 3, 10);
      expect(got.map((m) => m.message?.id)).toEqual([b, a, c]);
      expect(got.map((m) => m.message?.topic)).toEqual(['roundtrip', 'roundtrip', 'roundtrip']);
      expect(got.map((m) => m.deliveryCount)).toEqual([1, 1, 1]);
      expect(got[0]!.message!.payload.byteLength).toBe(0);
      expect(Buffer.from(got[1]!.message!.payload).equals(Buffer.from(bytes))).toBe(true);
      expect(got[1]!.message!.metadata).toEqual(meta);
      expect(text(got[2]!.message!.payload)).toBe('✓ ünïcødé 優先');
      expect(Number(got[0]!.message!.timestampMs)).toBeGreaterThan(Date.now() - 600_000);
    });

    it('accepts a payload of exactly the limit', async () => {
      const max = PRIORITY_CONFORMANCE_LIMITS.maxValueBytes!;
      const payload = Uint8Array.from({ length: max }, (_, i) => (i * 7) & 0xff);
      const id = await p.enqueue('large', payload, 9);
      const [m] = await drain('large', 1, 1);
      expect(m!.message!.id).toBe(id);
      expect(Buffer.from(m!.message!.payload).equals(Buffer.from(payload))).toBe(true);
    });

    it('keeps priorities per queue and per namespace', async () => {
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: PRIORITY_CONFORMANCE_LIMITS });
      try {
        const o = clients(other, otherNs);
        await p.enqueue('iso', utf8('mine-low'), 1);
        await o.p.enqueue('iso', utf8('theirs-high'), 9);
        await p.enqueue('iso-other-queue', utf8('other-queue-high'), 9);
        await p.enqueue('iso', utf8('mine-mid'), 4);
        expect(labels(await drain('iso', 2, 10))).toEqual(['mine-mid', 'mine-low']);
        expect(labels(await drain('iso', 1, 10, o.q))).toEqual(['theirs-high']);
        expect(labels(await drain('iso-other-queue', 1, 10))).toEqual(['other-queue-high']);
      } finally {
        await other.close();
      }
    });

    it('rejects invalid input with INVALID_ARGUMENT naming the field, and stores nothing', async () => {
      for (const bad of [10, 255, 4_294_967_295]) {
        const err = await expectCode(() => p.enqueue('invalid', utf8('x'), bad), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/priority/);
      }
      for (const queue of ['', 'a..b', '.a', 'has space', 'wild.*', 'tail.>', 'x'.repeat(129)]) {
        const err = await expectCode(() => p.enqueue(queue, utf8('x'), 5), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/queue/);
      }
      const big = new Uint8Array(PRIORITY_CONFORMANCE_LIMITS.maxValueBytes! + 1);
      expect((await expectCode(() => p.enqueue('invalid', big, 5), Code.InvalidArgument)).rawMessage).toMatch(
        /payload/,
      );
      for (const metadata of [{ 'Upper-Case': 'x' }, { 'prism-reserved': 'x' }, { ok: 'a\nb' }] as Record<
        string,
        string
      >[])
        expect(
          (await expectCode(() => p.enqueue('invalid', utf8('x'), 5, metadata), Code.InvalidArgument))
            .rawMessage,
        ).toMatch(/metadata/);
      expect(await q.receive('invalid', { max: 10, waitMs: 0 })).toEqual([]);
    });

    if (options.durable !== false)
      it('keeps every message and the priority order across an instance restart', async () => {
        const first = await factory({ namespace, limits: PRIORITY_CONFORMANCE_LIMITS });
        const c1 = clients(first, namespace);
        for (const [l, prio] of MIXED) await c1.p.enqueue('restart', utf8(l), prio);
        await first.close();
        const second = await factory({ namespace, limits: PRIORITY_CONFORMANCE_LIMITS });
        try {
          const c2 = clients(second, namespace);
          expect(labels(await drain('restart', MIXED.length, 3, c2.q))).toEqual(MIXED_ORDER);
        } finally {
          await second.close();
        }
      });
  });
}
