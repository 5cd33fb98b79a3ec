import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  DEFAULT_DEADLINE_MS,
  expectCode,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { QueueBasic } from '@prism/queue-basic';
import { type QueueClient, queueClient } from '@prism/queue-basic/conformance';
import { Code, ConnectError, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  ExtendVisibilityRequestSchema,
  NackRequestSchema,
  QueueVisibility,
  type QueueVisibilityImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Typed Nack / ExtendVisibility calls. */
export function visibilityClient(impl: QueueVisibilityImpl, namespace: string) {
  return {
    nack: async (queue: string, receipt: string, delayMs = 0) => {
      await impl.nack(
        create(NackRequestSchema, { namespace, queue, receipt, delayMs: BigInt(delayMs) }),
        ctx,
      );
    },
    extend: async (queue: string, receipt: string, visibilityMs: number) => {
      await impl.extendVisibility(
        create(ExtendVisibilityRequestSchema, {
          namespace,
          queue,
          receipt,
          visibilityTimeoutMs: BigInt(visibilityMs),
        }),
        ctx,
      );
    },
  };
}

/** The queue_visibility conformance suite. The plugin must implement queue_basic too. */
export function describeQueueVisibilityConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`queue_visibility conformance: ${label}`, () => {
    let handle: PluginHandle;
    let q: QueueClient;
    let v: ReturnType<typeof visibilityClient>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const basic = handle.get(QueueBasic);
      const vis = handle.get(QueueVisibility);
      if (!basic || !vis) throw new Error(`${label} must implement queue_visibility and queue_basic`);
      q = queueClient(basic, namespace);
      v = visibilityClient(vis, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('Nack with no delay makes the message visible again at once, keeping its delivery count', async () => {
      const id = await q.enqueue('nack', utf8('n'));
      const first = await q.receiveId('nack', id, { visibilityMs: 60_000 }, deadline);
      await v.nack('nack', first.hit.receipt);
      const second = await q.receiveId('nack', id, { visibilityMs: 60_000 }, deadline);
      expect(second.hit.deliveryCount).toBe(2);
      expect(await q.ack('nack', [second.hit.receipt])).toBe(1);
    });

    it('Nack with a delay does not redeliver before the delay', async () => {
      const id = await q.enqueue('nack-delay', utf8('d'));
      const first = await q.receiveId('nack-delay', id, { visibilityMs: 60_000 }, deadline);
      const nackedAt = Date.now();
      await v.nack('nack-delay', first.hit.receipt, 1500);
      const second = await q.receiveId('nack-delay', id, { visibilityMs: 60_000 }, deadline);
      // "Not before", measured from before the Nack call: no upper bound is asserted.
      expect(Date.now()).toBeGreaterThanOrEqual(nackedAt + 1500);
      await q.ack('nack-delay', [second.hit.receipt]);
    });

    it('ExtendVisibility keeps a message invisible past its original timeout', async () => {
      const kept = await q.enqueue('extend', utf8('kept'));
      const first = await q.receiveId('extend', kept, { visibilityMs: 1000 }, deadline);
      await v.extend('extend', first.hit.receipt, 60_000);
      // A sentinel with the same short timeout: once it is redelivered, the un-extended message would be too.
      const sentinel = await q.enqueue('extend', utf8('sentinel'));
      await q.receiveId('extend', sentinel, { visibilityMs: 1000 }, deadline);
      const again = await q.receiveId('extend', sentinel, { visibilityMs: 60_000 }, deadline);
      expect(again.hit.deliveryCount).toBe(2);
      expect(again.seen.map((m) => m.message!.id)).not.toContain(kept);
      expect(await q.ack('extend', [first.hit.receipt, again.hit.receipt])).toBe(2);
    });

    it('answers NOT_FOUND or INVALID_ARGUMENT for a receipt that was never issued', async () => {
      for (const call of [
        () => v.nack('ghost', 'no-such-receipt'),
        () => v.extend('ghost', 'no-such-receipt', 1000),
      ]) {
        try {
          await call();
          throw new Error('an unknown receipt was accepted');
        } catch (err) {
          expect([Code.NotFound, Code.InvalidArgument]).toContain(ConnectError.from(err).code);
        }
      }
    });

    it('rejects invalid input with INVALID_ARGUMENT', async () => {
      await expectCode(() => v.nack('bad queue', 'r'), Code.InvalidArgument);
      await expectCode(() => v.nack('q', ''), Code.InvalidArgument);
      await expectCode(() => v.nack('q', 'r', -1), Code.InvalidArgument);
      await expectCode(() => v.extend('q', 'r', 0), Code.InvalidArgument);
      await expectCode(() => v.extend('q', 'r', 43_200_001), Code.InvalidArgument);
    });
  });
}
