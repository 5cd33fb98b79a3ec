import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  DEFAULT_DEADLINE_MS,
  expectCode,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  SAMPLE_METADATA,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { QueueBasic } from '@prism/queue-basic';
import { type QueueClient, queueClient } from '@prism/queue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { type EnqueueDelayedRequest, EnqueueDelayedRequestSchema, QueueDelayed } from './index.js';

const ctx = { signal: new AbortController().signal };

/** The queue_delayed conformance suite. The plugin must implement queue_basic too. */
export function describeQueueDelayedConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`queue_delayed conformance: ${label}`, () => {
    let handle: PluginHandle;
    let q: QueueClient;
    let later: (
      queue: string,
      payload: Uint8Array,
      when: EnqueueDelayedRequest['when'],
      metadata?: Record<string, string>,
    ) => Promise<{ id: string; deliverAtMs: number }>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const basic = handle.get(QueueBasic);
      const delayed = handle.get(QueueDelayed);
      if (!basic || !delayed) throw new Error(`${label} must implement queue_delayed and queue_basic`);
      q = queueClient(basic, namespace);
      later = async (queue, payload, when, metadata = {}) => {
        const res = await delayed.enqueueDelayed(
          create(EnqueueDelayedRequestSchema, { namespace, queue, payload, metadata, when }),
          ctx,
        );
        return { id: res.messageId ?? '', deliverAtMs: Number(res.deliverAtMs ?? 0) };
      };
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('does not deliver before delay_ms has passed, then delivers', async () => {
      const start = Date.now();
      const { id, deliverAtMs } = await later('delay', utf8('later'), { case: 'delayMs', value: 1500n });
      expect(deliverAtMs).toBeGreaterThanOrEqual(start + 1500);
      const { hit } = await q.receiveId('delay', id, { visibilityMs: 60_000 }, deadline);
      expect(Date.now()).toBeGreaterThanOrEqual(start + 1500);
      expect(text(hit.message!.payload)).toBe('later');
      expect(hit.deliveryCount).toBe(1);
      await q.ack('delay', [hit.receipt]);
    });

    it('does not deliver before deliver_at_ms, and keeps payload and metadata', async () => {
      const at = Date.now() + 1500;
      const metadata = options.metadata === false ? {} : { ...SAMPLE_METADATA };
      const { id } = await later('at', utf8('at'), { case: 'deliverAtMs', value: BigInt(at) }, metadata);
      const { hit } = await q.receiveId('at', id, { visibilityMs: 60_000 }, deadline);
      expect(Date.now()).toBeGreaterThanOrEqual(at);
      if (options.metadata !== false) expect(hit.message!.metadata).toEqual(SAMPLE_METADATA);
      await q.ack('at', [hit.receipt]);
    });

    it('delivers a deliver_at_ms in the past at once', async () => {
      const { id } = await later('past', utf8('p'), {
        case: 'deliverAtMs',
        value: BigInt(Date.now() - 60_000),
      });
      const { hit } = await q.receiveId('past', id, { visibilityMs: 60_000 }, deadline);
      await q.ack('past', [hit.receipt]);
    });

    it('does not hold back immediate messages behind a delayed one', async () => {
      const { id: delayed } = await later('mixed', utf8('d'), { case: 'delayMs', value: 600_000n });
      const now = await q.enqueue('mixed', utf8('now'));
      const { hit, seen } = await q.receiveId('mixed', now, { visibilityMs: 60_000 }, deadline);
      expect(seen.map((m) => m.message!.id)).not.toContain(delayed);
      await q.ack('mixed', [hit.receipt]);
    });

    it('rejects invalid schedules with INVALID_ARGUMENT', async () => {
      await expectCode(() => later('v', utf8('x'), { case: undefined }), Code.InvalidArgument);
      await expectCode(() => later('v', utf8('x'), { case: 'delayMs', value: 0n }), Code.InvalidArgument);
      await expectCode(() => later('v', utf8('x'), { case: 'delayMs', value: -5n }), Code.InvalidArgument);
      await expectCode(
        () => later('v', utf8('x'), { case: 'delayMs', value: 604_800_001n }),
        Code.InvalidArgument,
      );
      const tooFar = BigInt(Date.now() + 8 * 24 * 3600 * 1000);
      await expectCode(
        () => later('v', utf8('x'), { case: 'deliverAtMs', value: tooFar }),
        Code.InvalidArgument,
      );
      await expectCode(
        () => later('bad..queue', utf8('x'), { case: 'delayMs', value: 10n }),
        Code.InvalidArgument,
      );
    });
  });
}
