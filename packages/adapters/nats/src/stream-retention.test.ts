// stream_retention on JetStream, checked in NATS itself with an independent client: the policy is the
// stream's own config (max_age, max_msgs, max_bytes), and trims are purges visible in the stream state.

import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectCode, pollUntil, uniqueNamespace, utf8 } from '@prism/pubsub-basic/conformance';
import { type CallContext, Code, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { AppendRequestSchema, StreamBasic } from '@prism/stream-basic';
import { StreamRetention } from '@prism/stream-retention';
import { retentionClient } from '@prism/stream-retention/conformance';
import { testServerUrl } from '@prism/testing';
import { connect, type JetStreamManager, type NatsConnection, nanos } from 'nats';
import plugin from './index.js';
import { Names } from './names.js';

const ctx: CallContext = { signal: new AbortController().signal };

describe('nats stream_retention on JetStream', () => {
  let handle: PluginHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let r: ReturnType<typeof retentionClient>;
  const namespace = uniqueNamespace('natsret');
  const names = new Names(namespace, 'PRISM');
  const append = async (stream: string, n: number) => {
    const s = handle.get(StreamBasic)!;
    const out: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const req = create(AppendRequestSchema, { namespace, stream, payload: utf8(`r${i}`), metadata: {} });
      out.push((await s.append(req, ctx)).offset ?? 0n);
    }
    return out;
  };

  beforeAll(async () => {
    handle = await instantiatePlugin(
      plugin,
      { servers: [testServerUrl('nats')], ack_wait_ms: 3_000 },
      { namespace },
    );
    r = retentionClient(handle.get(StreamRetention)!, namespace);
    nc = await connect({ servers: testServerUrl('nats') });
    jsm = await nc.jetstreamManager();
  });
  afterAll(async () => {
    await handle?.close();
    await nc?.close();
  });

  it('stores the policy as the JetStream stream limits and applies it to the stored records', async () => {
    const offsets = await append('limits', 6);
    await r.set('limits', { maxAgeMs: 3_600_000, maxRecords: 3, maxBytes: 1 << 20 });
    const si = await jsm.streams.info(names.stream('limits'));
    expect(si.config.max_age).toBe(nanos(3_600_000));
    expect(si.config.max_msgs).toBe(3);
    expect(si.config.max_bytes).toBe(1 << 20);
    expect(si.config.subjects).toEqual([names.streamSubject('limits')]);
    // The server removed the oldest records when the update returned; sequences (offsets) are unchanged.
    expect(si.state.messages).toBe(3);
    expect(si.state.first_seq).toBe(Number(offsets[3]));
    // An empty policy clears every limit in the server.
    await r.set('limits', {});
    const cleared = await jsm.streams.info(names.stream('limits'));
    expect(cleared.config.max_age).toBe(0);
    expect(cleared.config.max_msgs).toBe(-1);
    expect(cleared.config.max_bytes).toBe(-1);
  });

  it('reads the policy from the server: limits set on the stream by another client are reported', async () => {
    await append('external', 1);
    await jsm.streams.update(names.stream('external'), { max_msgs: 7, max_bytes: 4096 });
    expect((await r.get('external')).policy).toEqual({ maxAgeMs: 0, maxRecords: 7, maxBytes: 4096 });
  });

  it('shrinks the duplicate window with a short max_age (JetStream requires window ≤ age)', async () => {
    await r.set('short-age', { maxAgeMs: 500 });
    const si = await jsm.streams.info(names.stream('short-age'));
    expect(si.config.max_age).toBe(nanos(500));
    expect(si.config.duplicate_window).toBe(nanos(500));
    await r.set('short-age', {});
    expect((await jsm.streams.info(names.stream('short-age'))).config.duplicate_window).toBe(nanos(120_000));
  });

  it('trims with purges that show in the stream state and leave no consumer behind', async () => {
    const offsets = await append('trim', 7);
    // The last record a millisecond apart from the others, so the trim by its timestamp keeps only it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    offsets.push(...(await append('trim', 1)));
    const res = await r.trim('trim', { keepLast: 5 });
    expect(res).toMatchObject({ removed: 3n, remaining: 5n, firstOffset: offsets[3] });
    let si = await jsm.streams.info(names.stream('trim'));
    expect(si.state.messages).toBe(5);
    expect(si.state.first_seq).toBe(Number(offsets[3]));
    const latest = await jsm.streams.getMessage(names.stream('trim'), { seq: si.state.last_seq });
    await r.trim('trim', { beforeTimestampMs: BigInt(latest.time.getTime()) });
    si = await jsm.streams.info(names.stream('trim'));
    expect(si.state.messages).toBe(1);
    expect(si.state.first_seq).toBe(Number(offsets[7]));
    // The consumer that resolved the timestamp to a sequence is deleted.
    await pollUntil(
      'the trim consumer to be deleted',
      async () => (await jsm.streams.info(names.stream('trim'))).state.consumer_count === 0,
    );
    // Trimming a stream that does not exist does not create it.
    await r.trim('no-such', { keepLast: 1 });
    await expect(jsm.streams.info(names.stream('no-such'))).rejects.toThrow(/stream not found/);
  });

  it('rejects limits JetStream cannot take with INVALID_ARGUMENT naming the field', async () => {
    const age = await expectCode(() => r.set('bad', { maxAgeMs: 50 }), Code.InvalidArgument);
    expect(age.rawMessage).toMatch(/max_age_ms.*100 ms/);
    const count = await expectCode(
      () => r.set('bad', { maxRecords: Number.MAX_SAFE_INTEGER + 2 }),
      Code.InvalidArgument,
    );
    expect(count.rawMessage).toContain('max_records');
    // More storage than the server has: the server's refusal, named after the field.
    const bytes = await expectCode(() => r.set('bad', { maxBytes: 2 ** 52 }), Code.InvalidArgument);
    expect(bytes.rawMessage).toContain('max_bytes');
    expect((await r.get('bad')).policy).toEqual({ maxAgeMs: 0, maxRecords: 0, maxBytes: 0 });
  });
});
