import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetRequestSchema, KeyValueBasic, SetRequestSchema } from '@prism/keyvalue-basic';
import { KeyValueScan, ScanKeysRequestSchema } from '@prism/keyvalue-scan';
import { type CallContext, Code, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import {
  callOutcome,
  createDatabase,
  deadlineIn,
  noDeadline,
  type PostgresTestServer,
  startPostgres,
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

// Freezes its own PostgreSQL (SIGSTOP to the postmaster and every backend), never the run-wide one.
describe('postgres adapter: a hung (frozen) PostgreSQL', () => {
  let pg: PostgresTestServer;
  let handle: PluginHandle;
  const namespace = 'hung';
  beforeAll(async () => {
    pg = await startPostgres();
    const url = await createDatabase(pg.url);
    handle = await instantiatePlugin(
      plugin,
      { url, query_timeout_ms: TIMEOUT, connect_timeout_ms: 1000, pool_size: 4 },
      { namespace },
    );
  }, 120_000);
  afterAll(async () => {
    await pg?.thaw();
    await handle?.close();
    await pg?.dispose();
  });

  const kv = () => handle.get(KeyValueBasic)!;
  const get = (ctx: CallContext) => kv().get(create(GetRequestSchema, { namespace, key: 'k' }), ctx);

  it('bounds every call by query_timeout_ms (UNAVAILABLE) or the client deadline (DEADLINE_EXCEEDED), and recovers after thaw', async () => {
    await kv().set(create(SetRequestSchema, { namespace, key: 'k', value: bytes('v') }), noDeadline());
    await pg.freeze();
    try {
      // No client deadline: the command timeout ends the call, though the command was already sent.
      const plain = await callOutcome(() => get(noDeadline()));
      expect(plain.code).toBe(Code.Unavailable);
      expect(plain.ms).toBeGreaterThanOrEqual(TIMEOUT - 20);
      expect(plain.ms).toBeLessThan(TIMEOUT + 1000);
      expect(plain.message).toMatch(/postgres backend of namespace "hung".*500 ms \(query_timeout_ms\)/);

      // A client deadline shorter than the timeout: DEADLINE_EXCEEDED at that deadline.
      const short = await callOutcome(() => get(deadlineIn(200)));
      expect([Code.DeadlineExceeded, Code.Unavailable]).toContain(short.code);
      expect(short.ms).toBeLessThan(TIMEOUT + 1000);

      // Once the wedged connection was recycled, calls fail fast while PostgreSQL stays frozen, or time out.
      for (const call of [
        () => get(deadlineIn(200)),
        () => kv().set(create(SetRequestSchema, { namespace, key: 'w', value: bytes('x') }), noDeadline()),
        () =>
          drain(
            handle.get(KeyValueScan)!.scanKeys(create(ScanKeysRequestSchema, { namespace }), noDeadline()),
          ),
      ]) {
        const r = await callOutcome(call);
        expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(r.code);
        expect(r.ms).toBeLessThan(TIMEOUT + 1000);
      }
    } finally {
      await pg.thaw();
    }
    // The same instance serves again on its own, within about 2 s.
    const t0 = Date.now();
    await waitUntil(async () => (await callOutcome(() => get(noDeadline()))).code === 'ok', {
      what: 'the postgres adapter to serve again after thaw',
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
    await pg.freeze();
    try {
      const r = await callOutcome(() => get(deadlineIn(200)));
      expect(r.code).toBe(Code.DeadlineExceeded);
      expect(r.ms).toBeGreaterThanOrEqual(180);
      expect(r.ms).toBeLessThan(450);
    } finally {
      await pg.thaw();
    }
  }, 15_000);
});
