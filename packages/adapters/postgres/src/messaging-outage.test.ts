import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PubSubBasic, SubscribeRequestSchema, type SubscribeResponse } from '@prism/pubsub-basic';
import { expectCode, pollUntil, pubsubBasic, text, utf8 } from '@prism/pubsub-basic/conformance';
import { QueueBasic } from '@prism/queue-basic';
import { queueClient } from '@prism/queue-basic/conformance';
import { Code, ConnectError, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { createDatabase, type PostgresTestServer, startPostgres } from '@prism/testing';
import plugin from './index.js';

// A server of this file's own: it is stopped and restarted.
let server: PostgresTestServer;
let url = '';
let handle: PluginHandle;
beforeAll(async () => {
  server = await startPostgres();
  url = await createDatabase(server.url);
}, 120_000);
afterAll(async () => {
  await handle?.close();
  await server?.dispose();
});

/** Settles `p` or fails after `ms`, so a hanging call shows up as a clear failure. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`call did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a Subscribe stream and waits for its Subscribed event; returns the iterator and its abort. */
async function subscribe(h: PluginHandle, topic: string) {
  const abort = new AbortController();
  const it = h
    .get(PubSubBasic)!
    .subscribe(create(SubscribeRequestSchema, { namespace: 'mq-outage', topic }), { signal: abort.signal })
    [Symbol.asyncIterator]() as AsyncIterator<SubscribeResponse>;
  const first = await it.next();
  if (first.value?.event.case !== 'subscribed') throw new Error('expected the subscribed event first');
  return { it, abort };
}

describe('postgres messaging outage', () => {
  it('fails queue and pub/sub calls and streams with UNAVAILABLE while down, keeps queued messages, recovers', async () => {
    const config = { url, connect_timeout_ms: 1000, query_timeout_ms: 3000, queue_poll_interval_ms: 100 };
    handle = await instantiatePlugin(plugin, config, { namespace: 'mq-outage' });
    const q = queueClient(handle.get(QueueBasic)!, 'mq-outage');
    const kept = await q.enqueue('jobs', utf8('survives the restart'));
    const sub = await subscribe(handle, 'news');
    const streamEnd = sub.it.next();
    const waiting = q.receive('empty', { waitMs: 20_000 });

    await server.stop();
    // The stream and the long-poll fail instead of hanging; new calls fail fast.
    const streamErr = await within(
      10_000,
      streamEnd.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(ConnectError.from(streamErr).code).toBe(Code.Unavailable);
    expect(ConnectError.from(streamErr).rawMessage).toContain('LISTEN connection');
    const waitErr = await within(
      10_000,
      waiting.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(ConnectError.from(waitErr).code).toBe(Code.Unavailable);
    await within(
      10_000,
      expectCode(() => q.enqueue('jobs', utf8('x')), Code.Unavailable),
    );
    await within(
      10_000,
      expectCode(() => q.receive('jobs'), Code.Unavailable),
    );
    await within(
      10_000,
      expectCode(() => subscribe(handle, 'news'), Code.Unavailable),
    );

    await server.restart();
    // Calls work again without a new adapter, and nothing enqueued before the outage was lost.
    const back = await pollUntil(
      'the message enqueued before the outage',
      async () =>
        (await q.receive('jobs', { visibilityMs: 60_000, waitMs: 100 }).catch(() => [])).find(
          (m) => m.message?.id === kept,
        ),
      20_000,
    );
    expect(text(back.message!.payload)).toBe('survives the restart');
    expect(await q.ack('jobs', [back.receipt])).toBe(1);
    const ps = pubsubBasic(handle.get(PubSubBasic)!, 'mq-outage');
    const s = await ps.subscribe('news');
    const id = await ps.publish('news', utf8('back'));
    await s.waitForId(id);
    await s.cancel();
    sub.abort.abort();
  }, 90_000);
});
