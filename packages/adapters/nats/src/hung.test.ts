import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PublishRequestSchema, PubSubBasic } from '@prism/pubsub-basic';
import { EnqueueRequestSchema, QueueBasic, ReceiveRequestSchema } from '@prism/queue-basic';
import { type CallContext, Code, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { AppendRequestSchema, StreamBasic } from '@prism/stream-basic';
import {
  callOutcome,
  deadlineIn,
  type NatsTestServer,
  noDeadline,
  startNats,
  waitUntil,
} from '@prism/testing';
import plugin from './index.js';

const TIMEOUT = 500;
const bytes = (s: string) => new TextEncoder().encode(s);

// Freezes its own nats-server -js (SIGSTOP), never the run-wide one.
describe('nats adapter: a hung (frozen) NATS server', () => {
  let nats: NatsTestServer;
  let handle: PluginHandle;
  const namespace = `hung${Date.now().toString(36)}`;
  beforeAll(async () => {
    nats = await startNats();
    handle = await instantiatePlugin(
      plugin,
      {
        servers: [nats.url],
        request_timeout_ms: TIMEOUT,
        connect_timeout_ms: 1000,
        reconnect: { wait_ms: 100 },
      },
      { namespace },
    );
  });
  afterAll(async () => {
    await nats?.thaw();
    await handle?.close();
    await nats?.dispose();
  });

  const append = (ctx: CallContext) =>
    handle
      .get(StreamBasic)!
      .append(create(AppendRequestSchema, { namespace, stream: 's', payload: bytes('x') }), ctx);
  const publish = (ctx: CallContext) =>
    handle
      .get(PubSubBasic)!
      .publish(create(PublishRequestSchema, { namespace, topic: 't', payload: bytes('x') }), ctx);
  const enqueue = (ctx: CallContext) =>
    handle
      .get(QueueBasic)!
      .enqueue(create(EnqueueRequestSchema, { namespace, queue: 'q', payload: bytes('x') }), ctx);
  const receive = (ctx: CallContext) =>
    handle
      .get(QueueBasic)!
      .receive(create(ReceiveRequestSchema, { namespace, queue: 'q', maxMessages: 1, waitMs: 0n }), ctx);

  it('bounds JetStream and core calls by request_timeout_ms or the client deadline, and recovers after thaw', async () => {
    // Warm up: streams and consumers exist, so the frozen calls are the plain operations.
    await append(noDeadline());
    await enqueue(noDeadline());
    await receive(noDeadline());
    await nats.freeze();
    try {
      const plain = await callOutcome(() => append(noDeadline()));
      expect(plain.code).toBe(Code.Unavailable);
      expect(plain.ms).toBeGreaterThanOrEqual(TIMEOUT - 20);
      expect(plain.ms).toBeLessThan(TIMEOUT + 1000);
      expect(plain.message).toMatch(/nats backend of namespace/);

      for (const call of [publish, enqueue, receive, append]) {
        const r = await callOutcome(() => call(deadlineIn(200)));
        expect([Code.DeadlineExceeded, Code.Unavailable]).toContain(r.code);
        expect(r.ms).toBeLessThan(TIMEOUT + 1000);
        const p = await callOutcome(() => call(noDeadline()));
        expect(p.code).toBe(Code.Unavailable);
        expect(p.ms).toBeLessThan(TIMEOUT + 1000);
      }
    } finally {
      await nats.thaw();
    }
    const t0 = Date.now();
    await waitUntil(async () => (await callOutcome(() => append(noDeadline()))).code === 'ok', {
      what: 'the nats adapter to serve again after thaw',
      timeoutMs: 3000,
      intervalMs: 50,
    });
    expect(Date.now() - t0).toBeLessThan(2500);
    expect((await callOutcome(() => publish(noDeadline()))).code).toBe('ok');
  }, 20_000);

  it('a DEADLINE_EXCEEDED comes at the client deadline when the deadline is the shorter bound', async () => {
    await waitUntil(async () => (await callOutcome(() => append(noDeadline()))).code === 'ok', {
      timeoutMs: 3000,
    });
    await nats.freeze();
    try {
      const r = await callOutcome(() => append(deadlineIn(200)));
      expect(r.code).toBe(Code.DeadlineExceeded);
      expect(r.ms).toBeGreaterThanOrEqual(180);
      expect(r.ms).toBeLessThan(450);
    } finally {
      await nats.thaw();
    }
  }, 15_000);
});
