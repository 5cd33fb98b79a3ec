import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PublishRequestSchema, PubSubBasic } from '@prism/pubsub-basic';
import { type CallContext, Code, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { AppendRequestSchema, StreamBasic } from '@prism/stream-basic';
import {
  callOutcome,
  deadlineIn,
  type KafkaTestServer,
  noDeadline,
  startKafka,
  waitUntil,
} from '@prism/testing';
import plugin from './index.js';

const TIMEOUT = 1000;
const bytes = (s: string) => new TextEncoder().encode(s);

// Freezes its own broker (SIGSTOP to the JVM): the run-wide one serves the other files at the same time.
describe('kafka adapter: a hung (frozen) broker', () => {
  let kafka: KafkaTestServer;
  let handle: PluginHandle;
  const namespace = `hung-${Date.now().toString(36)}`;
  beforeAll(async () => {
    kafka = await startKafka({ heapMb: 384 });
    handle = await instantiatePlugin(
      plugin,
      { brokers: [kafka.bootstrap], request_timeout_ms: TIMEOUT },
      { namespace },
    );
  }, 150_000);
  afterAll(async () => {
    await kafka?.thaw();
    await handle?.close();
    await kafka?.dispose();
  });

  const append = (ctx: CallContext) =>
    handle
      .get(StreamBasic)!
      .append(create(AppendRequestSchema, { namespace, stream: 's', payload: bytes('x') }), ctx);
  const publish = (ctx: CallContext) =>
    handle
      .get(PubSubBasic)!
      .publish(create(PublishRequestSchema, { namespace, topic: 't', payload: bytes('x') }), ctx);

  it('bounds produce by request_timeout_ms or the client deadline, and recovers after thaw', async () => {
    await append(noDeadline());
    await publish(noDeadline());
    await kafka.freeze();
    try {
      const plain = await callOutcome(() => append(noDeadline()));
      expect(plain.code).toBe(Code.Unavailable);
      expect(plain.ms).toBeLessThan(TIMEOUT + 1500);

      const short = await callOutcome(() => publish(deadlineIn(200)));
      expect(short.code).toBe(Code.DeadlineExceeded);
      expect(short.ms).toBeGreaterThanOrEqual(180);
      expect(short.ms).toBeLessThan(600);
    } finally {
      await kafka.thaw();
    }
    const t0 = Date.now();
    await waitUntil(async () => (await callOutcome(() => append(noDeadline()))).code === 'ok', {
      what: 'the kafka adapter to serve again after thaw',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    // librdkafka reconnects on its own; allow for its backoff on a busy machine.
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);
});
