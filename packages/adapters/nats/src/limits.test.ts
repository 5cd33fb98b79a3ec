// Defect: the namespace's default max_value_bytes (4 MiB) is above a stock nats-server's max_payload (1 MiB),
// so a 1 MiB payload used to fail with INTERNAL "MAX_PAYLOAD_EXCEEDED". Every publishing call now checks the
// message (payload + headers) against the max_payload the server announced and answers INVALID_ARGUMENT
// naming both the server limit and the namespace setting; what fits is still delivered.
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PublishRequestSchema, PubSubBasic } from '@prism/pubsub-basic';
import { expectCode, uniqueNamespace } from '@prism/pubsub-basic/conformance';
import { PublishOrderedRequestSchema, PubSubOrdering } from '@prism/pubsub-ordering';
import { PublishPersistentRequestSchema, PubSubPersistent } from '@prism/pubsub-persistent';
import { EnqueueRequestSchema, QueueBasic } from '@prism/queue-basic';
import { EnqueueDelayedRequestSchema, QueueDelayed } from '@prism/queue-delayed';
import { type CallContext, Code, DEFAULT_LIMITS, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { AppendRequestSchema, StreamBasic } from '@prism/stream-basic';
import { testServerUrl } from '@prism/testing';
import { connect, type NatsConnection } from 'nats';
import plugin from './index.js';

const ctx: CallContext = { signal: new AbortController().signal };

describe('nats: payloads above the server max_payload', () => {
  const namespace = uniqueNamespace('natslimits');
  let handle: PluginHandle;
  let nc: NatsConnection;
  let serverMax: number;

  beforeAll(async () => {
    // Default namespace limits: max_value_bytes 4 MiB.
    handle = await instantiatePlugin(plugin, { servers: [testServerUrl('nats')] }, { namespace });
    nc = await connect({ servers: testServerUrl('nats') });
    serverMax = nc.info!.max_payload;
  });
  afterAll(async () => {
    await handle?.close();
    await nc?.close();
  });

  it('runs against a server whose max_payload is below the namespace limit', () => {
    expect(serverMax).toBeLessThan(DEFAULT_LIMITS.maxValueBytes);
  });

  const calls = (payload: Uint8Array): [string, () => Promise<unknown>][] => [
    [
      'pubsub_basic',
      async () =>
        handle.get(PubSubBasic)!.publish(create(PublishRequestSchema, { topic: 'big', payload }), ctx),
    ],
    [
      'pubsub_ordering',
      async () =>
        handle
          .get(PubSubOrdering)!
          .publishOrdered(
            create(PublishOrderedRequestSchema, { topic: 'big', orderingKey: 'k', payload }),
            ctx,
          ),
    ],
    [
      'pubsub_persistent',
      async () =>
        handle
          .get(PubSubPersistent)!
          .publishPersistent(create(PublishPersistentRequestSchema, { topic: 'big', payload }), ctx),
    ],
    [
      'stream_basic',
      async () =>
        handle.get(StreamBasic)!.append(create(AppendRequestSchema, { stream: 'big', payload }), ctx),
    ],
    [
      'queue_basic',
      async () =>
        handle.get(QueueBasic)!.enqueue(create(EnqueueRequestSchema, { queue: 'big', payload }), ctx),
    ],
    [
      'queue_delayed',
      async () =>
        handle.get(QueueDelayed)!.enqueueDelayed(
          create(EnqueueDelayedRequestSchema, {
            queue: 'big',
            payload,
            when: { case: 'delayMs', value: 60_000n },
          }),
          ctx,
        ),
    ],
  ];

  it('rejects a 1 MiB payload with INVALID_ARGUMENT naming max_payload and max_value_bytes, on every publishing call', async () => {
    for (const [name, call] of calls(new Uint8Array(1024 * 1024))) {
      const err = await expectCode(call, Code.InvalidArgument);
      expect({ name, message: err.rawMessage }).toEqual({
        name,
        message: expect.stringMatching(/max_payload/),
      });
      expect(err.rawMessage).toMatch(new RegExp(`${serverMax}`));
      expect(err.rawMessage).toMatch(/max_value_bytes/);
      expect(err.rawMessage).toMatch(/payload/);
    }
  });

  it('still accepts a payload that fits the server limit with its headers', async () => {
    for (const [name, call] of calls(new Uint8Array(serverMax - 4096).fill(7))) {
      await expect(call().then(() => name)).resolves.toBe(name);
    }
  });

  it('counts the headers: metadata that pushes a message over max_payload is rejected too', async () => {
    const metadata = { note: 'x'.repeat(2000), other: 'y'.repeat(2000) };
    const payload = new Uint8Array(serverMax - 1000);
    const err = await expectCode(
      () =>
        handle
          .get(PubSubBasic)!
          .publish(create(PublishRequestSchema, { topic: 'big', payload, metadata }), ctx),
      Code.InvalidArgument,
    );
    expect(err.rawMessage).toMatch(/headers/);
  });
});
