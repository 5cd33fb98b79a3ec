// Outage behaviour against a private nats-server -js (never the run-wide one): calls fail with
// UNAVAILABLE while the server is down, and the same instance works again once it is back.

import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PublishRequestSchema, PubSubBasic } from '@prism/pubsub-basic';
import { pollUntil, uniqueNamespace, utf8 } from '@prism/pubsub-basic/conformance';
import { EnqueueRequestSchema, QueueBasic } from '@prism/queue-basic';
import { Code, ConnectError, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { AppendRequestSchema, StreamBasic } from '@prism/stream-basic';
import { type NatsTestServer, startNats } from '@prism/testing';
import plugin from './index.js';

const ctx = { signal: new AbortController().signal };

/** The Connect code a call fails with, or 'ok'. */
async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    return Code[ConnectError.from(err).code] ?? 'unknown';
  }
}

describe('nats adapter outage', () => {
  let server: NatsTestServer;
  let handle: PluginHandle;
  const namespace = uniqueNamespace('natsdown');

  beforeAll(async () => {
    server = await startNats();
    handle = await instantiatePlugin(
      plugin,
      { servers: [server.url], reconnect: { wait_ms: 100 }, request_timeout_ms: 2_000 },
      { namespace },
    );
  });
  afterAll(async () => {
    await handle?.close();
    await server?.dispose();
  });

  const publish = () =>
    handle
      .get(PubSubBasic)!
      .publish(create(PublishRequestSchema, { namespace, topic: 't', payload: utf8('x') }), ctx);
  const append = () =>
    handle
      .get(StreamBasic)!
      .append(create(AppendRequestSchema, { namespace, stream: 's', payload: utf8('x') }), ctx);
  const enqueue = () =>
    handle
      .get(QueueBasic)!
      .enqueue(create(EnqueueRequestSchema, { namespace, queue: 'q', payload: utf8('x') }), ctx);

  it('answers UNAVAILABLE while NATS is down and recovers when it returns', async () => {
    expect(await outcome(append)).toBe('ok');
    await server.stop();
    await pollUntil(
      'publish to fail with UNAVAILABLE',
      async () => (await outcome(publish)) === 'Unavailable',
    );
    expect(await outcome(append)).toBe('Unavailable');
    expect(await outcome(enqueue)).toBe('Unavailable');
    expect((await handle.health()).status).toBe('unhealthy');
    await server.restart();
    await pollUntil('publish to work again', async () => (await outcome(publish)) === 'ok', 30_000);
    expect(await outcome(append)).toBe('ok');
    expect(await outcome(enqueue)).toBe('ok');
    expect((await handle.health()).status).toBe('healthy');
  });

  it('fails to start with UNAVAILABLE when no server answers', async () => {
    await server.stop();
    try {
      const down = await instantiatePlugin(
        plugin,
        { servers: [server.url], connect_timeout_ms: 500 },
        { namespace },
      ).then(
        async (h) => {
          await h.close();
          return 'ok';
        },
        (e: unknown) => Code[ConnectError.from(e).code],
      );
      expect(down).toBe('Unavailable');
    } finally {
      await server.restart();
    }
  });
});
