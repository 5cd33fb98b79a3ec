import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetRequestSchema, KeyValueBasic, SetRequestSchema } from '@prism/keyvalue-basic';
import { KeyValueScan, ScanKeysRequestSchema } from '@prism/keyvalue-scan';
import { ListBasic, PushRightRequestSchema } from '@prism/list-basic';
import { type CallContext, Code, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { AppendRequestSchema, StreamBasic } from '@prism/stream-basic';
import {
  callOutcome,
  deadlineIn,
  noDeadline,
  type RedisTestServer,
  startRedis,
  waitUntil,
} from '@prism/testing';
import plugin from './index.js';

const TIMEOUT = 500;
const bytes = (s: string) => new TextEncoder().encode(s);

async function drain(it: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of it) {
    // pages are not needed
  }
}

// Freezes its own redis-server (SIGSTOP), never the run-wide one.
describe('redis adapter: a hung (frozen) Redis', () => {
  let redis: RedisTestServer;
  let handle: PluginHandle;
  const namespace = 'hung';
  beforeAll(async () => {
    redis = await startRedis();
    handle = await instantiatePlugin(
      plugin,
      { url: redis.url, command_timeout_ms: TIMEOUT, connect_timeout_ms: 1000, reconnect_max_delay_ms: 200 },
      { namespace },
    );
  });
  afterAll(async () => {
    await redis?.thaw();
    await handle?.close();
    await redis?.dispose();
  });

  const kv = () => handle.get(KeyValueBasic)!;
  const get = (ctx: CallContext) => kv().get(create(GetRequestSchema, { namespace, key: 'k' }), ctx);

  it('bounds every call by command_timeout_ms (UNAVAILABLE) or the client deadline (DEADLINE_EXCEEDED), and recovers after thaw', async () => {
    await kv().set(create(SetRequestSchema, { namespace, key: 'k', value: bytes('v') }), noDeadline());
    await redis.freeze();
    try {
      // No client deadline: the command timeout ends the call, though the command was already sent.
      const plain = await callOutcome(() => get(noDeadline()));
      expect(plain.code).toBe(Code.Unavailable);
      expect(plain.ms).toBeGreaterThanOrEqual(TIMEOUT - 20);
      expect(plain.ms).toBeLessThan(TIMEOUT + 1000);
      expect(plain.message).toMatch(/redis backend of namespace "hung".*500 ms \(command_timeout_ms\)/);

      // A client deadline shorter than the timeout: DEADLINE_EXCEEDED at that deadline.
      const short = await callOutcome(() => get(deadlineIn(200)));
      expect([Code.DeadlineExceeded, Code.Unavailable]).toContain(short.code);
      expect(short.ms).toBeLessThan(TIMEOUT + 1000);

      // Once the wedged connection was recycled, calls fail fast while Redis stays frozen, or time out.
      for (const call of [
        () => get(deadlineIn(200)),
        () => kv().set(create(SetRequestSchema, { namespace, key: 'w', value: bytes('x') }), noDeadline()),
        () =>
          handle
            .get(ListBasic)!
            .pushRight(
              create(PushRightRequestSchema, { namespace, key: 'l', values: [bytes('x')] }),
              noDeadline(),
            ),
        () =>
          drain(
            handle.get(KeyValueScan)!.scanKeys(create(ScanKeysRequestSchema, { namespace }), noDeadline()),
          ),
        () =>
          handle
            .get(StreamBasic)!
            .append(
              create(AppendRequestSchema, { namespace, stream: 's', payload: bytes('x') }),
              noDeadline(),
            ),
      ]) {
        const r = await callOutcome(call);
        expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(r.code);
        expect(r.ms).toBeLessThan(TIMEOUT + 1000);
      }
    } finally {
      await redis.thaw();
    }
    // The same instance serves again on its own, within about 2 s.
    const t0 = Date.now();
    await waitUntil(async () => (await callOutcome(() => get(noDeadline()))).code === 'ok', {
      what: 'the redis adapter to serve again after thaw',
      timeoutMs: 3000,
      intervalMs: 50,
    });
    expect(Date.now() - t0).toBeLessThan(2500);
    expect((await handle.health()).status).toBe('healthy');
  }, 15_000);

  it('a DEADLINE_EXCEEDED comes at the client deadline when the deadline is the shorter bound', async () => {
    // A fresh freeze on a healthy connection: the first call's own deadline ends it.
    await waitUntil(async () => (await callOutcome(() => get(noDeadline()))).code === 'ok', {
      timeoutMs: 3000,
    });
    await redis.freeze();
    try {
      const r = await callOutcome(() => get(deadlineIn(200)));
      expect(r.code).toBe(Code.DeadlineExceeded);
      expect(r.ms).toBeGreaterThanOrEqual(180);
      expect(r.ms).toBeLessThan(450);
    } finally {
      await redis.thaw();
    }
  }, 15_000);
});
