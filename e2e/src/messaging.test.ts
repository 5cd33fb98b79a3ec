import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PubSubBasicInterface, type SubscribeResponse } from '@prism/pubsub-basic';
import { QueueBasicInterface } from '@prism/queue-basic';
import { testServerUrl } from '@prism/testing';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** Polls `check` until it holds or the deadline passes; returns its last value. */
async function eventually<T>(check: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await check();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await check();
  }
  return value;
}

/** Opens a subscription and resolves once the backend confirmed it (the `subscribed` event). */
async function subscribe(transport: Transport, namespace: string, topic: string, signal: AbortSignal) {
  const stream = createClient(PubSubBasicInterface, transport).subscribe({ namespace, topic }, { signal });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  expect((first.value as SubscribeResponse).event.case).toBe('subscribed');
  return {
    /** The next delivered message's payload as text. */
    async next(): Promise<string> {
      for (;;) {
        const { value, done } = await it.next();
        if (done) throw new Error('stream ended');
        if (value.event.case === 'message') return new TextDecoder().decode(value.event.value.payload);
      }
    },
  };
}

describe('messaging through the proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-e2e-msg-'));
  const config = join(dir, 'prism.yaml');
  const natsUrl = testServerUrl('nats');
  let proxy: ProxyProcess;

  beforeAll(async () => {
    writeFileSync(
      config,
      `proxy:
  listen: 127.0.0.1:0
namespaces:
  - { name: events-mem, pattern: pubsub, backend: { type: memstore } }
  - { name: events-nats, pattern: pubsub, backend: { type: nats, config: { servers: ["${natsUrl}"] } } }
  - { name: jobs-nats, pattern: queue, backend: { type: nats, config: { servers: ["${natsUrl}"], stream_prefix: E2E${process.pid} } } }
`,
    );
    proxy = await startProxyProcess(config);
  });
  afterAll(async () => {
    await proxy?.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const grpc = () => createGrpcTransport({ baseUrl: proxy.url });
  const connect = () => createConnectTransport({ baseUrl: proxy.url, httpVersion: '2' });

  it.each(['events-mem', 'events-nats'])(
    'delivers to subscribers over gRPC and Connect (%s)',
    async (namespace) => {
      const ac = new AbortController();
      try {
        const overGrpc = await subscribe(grpc(), namespace, 'orders.created', ac.signal);
        const overConnect = await subscribe(connect(), namespace, 'orders.created', ac.signal);
        const pub = createClient(PubSubBasicInterface, connect());
        await pub.publish({ namespace, topic: 'orders.created', payload: enc('order-1') });
        expect(await overGrpc.next()).toBe('order-1');
        expect(await overConnect.next()).toBe('order-1');
      } finally {
        ac.abort();
      }
    },
  );

  it('serves 100 concurrent subscribers on one proxy', async () => {
    const ac = new AbortController();
    try {
      const transport = grpc();
      const subs = await Promise.all(
        Array.from({ length: 100 }, () => subscribe(transport, 'events-nats', 'fanout', ac.signal)),
      );
      await createClient(PubSubBasicInterface, transport).publish({
        namespace: 'events-nats',
        topic: 'fanout',
        payload: enc('hello-100'),
      });
      const got = await Promise.all(subs.map((s) => s.next()));
      expect(got).toEqual(Array(100).fill('hello-100'));
    } finally {
      ac.abort();
    }
  });

  it('releases the NATS subscription when the client cancels its stream', async () => {
    const monitor = process.env.PRISM_TEST_NATS_MONITOR_URL;
    if (!monitor) throw new Error('PRISM_TEST_NATS_MONITOR_URL is not set (jest config must start nats)');
    // Subscriptions on the server whose subject is our topic (the adapter prefixes it per namespace).
    const subscriptions = async () => {
      const res = await fetch(`${monitor}/subsz?subs=1&limit=10000`);
      const body = (await res.json()) as { subscriptions_list?: { subject: string }[] };
      return (body.subscriptions_list ?? []).filter((s) => s.subject.endsWith('cancel.me')).length;
    };
    expect(await subscriptions()).toBe(0);
    const ac = new AbortController();
    await subscribe(grpc(), 'events-nats', 'cancel.me', ac.signal);
    expect(await subscriptions()).toBe(1);
    ac.abort();
    expect(await eventually(subscriptions, (n) => n === 0)).toBe(0);
  });

  it('loses no queued message when the proxy restarts between enqueue and receive', async () => {
    const queue = createClient(QueueBasicInterface, grpc());
    const sent = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    for (const payload of sent)
      await queue.enqueue({ namespace: 'jobs-nats', queue: 'work', payload: enc(payload) });

    expect(await proxy.stop('SIGTERM')).toBe(0);
    proxy = await startProxyProcess(config);

    const after = createClient(QueueBasicInterface, grpc());
    const received: string[] = [];
    const deadline = Date.now() + 20_000;
    while (received.length < sent.length && Date.now() < deadline) {
      const { messages } = await after.receive({
        namespace: 'jobs-nats',
        queue: 'work',
        maxMessages: 10,
        waitMs: 500n,
      });
      received.push(...messages.map((m) => new TextDecoder().decode(m.message?.payload)));
      if (messages.length)
        await after.ack({ namespace: 'jobs-nats', queue: 'work', receipts: messages.map((m) => m.receipt) });
    }
    expect(received.sort()).toEqual([...sent].sort());
  });
});
