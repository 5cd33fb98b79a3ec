import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  DEFAULT_DEADLINE_MS,
  expectCode,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  pollUntil,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { QueueBasic, type ReceivedMessage } from '@prism/queue-basic';
import { type QueueClient, queueClient } from '@prism/queue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { ConfigureDeadLetterRequestSchema, DEAD_LETTER_SOURCE_KEY, QueueDeadLetter } from './index.js';

const ctx = { signal: new AbortController().signal };

/** The queue_dead_letter conformance suite. The plugin must implement queue_basic too. */
export function describeQueueDeadLetterConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`queue_dead_letter conformance: ${label}`, () => {
    let handle: PluginHandle;
    let q: QueueClient;
    let configure: (queue: string, maxDeliveries: number, deadLetterQueue?: string) => Promise<void>;
    const namespace = uniqueNamespace(label);

    /**
     * Keeps receiving from `queue` with a short visibility (never acking, except `ackOn`) while polling the
     * dead-letter queue, until `id` shows up there. Returns the deliveries seen on both queues.
     */
    const churnUntilDead = async (
      queue: string,
      dlq: string,
      id: string,
      ackOn?: (m: ReceivedMessage) => boolean,
    ) => {
      const fromQueue: ReceivedMessage[] = [];
      const fromDlq: ReceivedMessage[] = [];
      await pollUntil(
        `message ${id} in dead-letter queue ${dlq}`,
        async () => {
          const got = await q.receive(queue, { max: 10, waitMs: 100, visibilityMs: 300 });
          fromQueue.push(...got);
          const acks = got.filter((m) => ackOn?.(m)).map((m) => m.receipt);
          if (acks.length) await q.ack(queue, acks);
          fromDlq.push(...(await q.receive(dlq, { max: 10, waitMs: 0, visibilityMs: 60_000 })));
          return fromDlq.some((m) => m.message!.id === id);
        },
        deadline,
      );
      return { fromQueue, fromDlq };
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const basic = handle.get(QueueBasic);
      const dl = handle.get(QueueDeadLetter);
      if (!basic || !dl) throw new Error(`${label} must implement queue_dead_letter and queue_basic`);
      q = queueClient(basic, namespace);
      configure = async (queue, maxDeliveries, deadLetterQueue = '') => {
        await dl.configureDeadLetter(
          create(ConfigureDeadLetterRequestSchema, { namespace, queue, maxDeliveries, deadLetterQueue }),
          ctx,
        );
      };
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('moves a message to the dead-letter queue after max_deliveries, intact and readable', async () => {
      await configure('work', 2, 'work-dlq');
      const metadata: Record<string, string> = options.metadata === false ? {} : { kind: 'poison' };
      const poison = await q.enqueue('work', utf8('poison'), metadata);
      const healthy = await q.enqueue('work', utf8('healthy'));
      const { fromQueue, fromDlq } = await churnUntilDead(
        'work',
        'work-dlq',
        poison,
        (m) => m.message!.id === healthy && m.deliveryCount === 2,
      );
      // Delivered exactly max_deliveries times from the original queue, never a third time.
      expect(fromQueue.filter((m) => m.message!.id === poison).map((m) => m.deliveryCount)).toEqual([1, 2]);
      const dead = fromDlq.find((m) => m.message!.id === poison)!;
      expect(text(dead.message!.payload)).toBe('poison');
      expect(dead.message!.topic).toBe('work-dlq');
      expect(dead.deliveryCount).toBe(1);
      if (options.metadata !== false)
        expect(dead.message!.metadata).toEqual({ ...metadata, [DEAD_LETTER_SOURCE_KEY]: 'work' });
      // The message acked on its second delivery is never dead-lettered.
      expect(fromDlq.map((m) => m.message!.id)).not.toContain(healthy);
      expect(await q.ack('work-dlq', [dead.receipt])).toBe(1);
    });

    it('max_deliveries = 0 removes the policy: messages keep being redelivered', async () => {
      await configure('nopolicy', 1, 'nopolicy-dlq');
      await configure('nopolicy', 0);
      const id = await q.enqueue('nopolicy', utf8('x'));
      const counts: number[] = [];
      await pollUntil(
        'a third delivery',
        async () => {
          const got = await q.receive('nopolicy', { max: 1, waitMs: 100, visibilityMs: 300 });
          counts.push(...got.filter((m) => m.message!.id === id).map((m) => m.deliveryCount));
          return counts.length >= 3;
        },
        deadline,
      );
      expect(counts).toEqual([1, 2, 3]);
      expect(await q.receive('nopolicy-dlq', { waitMs: 0 })).toEqual([]);
    });

    it('rejects invalid policies with INVALID_ARGUMENT', async () => {
      await expectCode(() => configure('same', 3, 'same'), Code.InvalidArgument);
      await expectCode(() => configure('nodlq', 3, ''), Code.InvalidArgument);
      await expectCode(() => configure('toomany', 1001, 'dlq'), Code.InvalidArgument);
      await expectCode(() => configure('bad queue', 3, 'dlq'), Code.InvalidArgument);
      await expectCode(() => configure('q', 3, 'bad..dlq'), Code.InvalidArgument);
    });
  });
}
