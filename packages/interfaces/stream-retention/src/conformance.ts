import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  DEFAULT_DEADLINE_MS,
  expectCode,
  INVALID_TOPICS,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  pause,
  pollUntil,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { type Appended, type StreamClient, streamClient } from '@prism/stream-basic/conformance';
import {
  GetRetentionRequestSchema,
  GetRetentionResponseSchema,
  RetentionEnforcement,
  type RetentionPolicy,
  RetentionPolicySchema,
  type RetentionSupport,
  SetRetentionRequestSchema,
  SetRetentionResponseSchema,
  StreamRetention,
  type StreamRetentionImpl,
  TrimStreamRequestSchema,
  type TrimStreamResponse,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** A policy as plain numbers (0 = unlimited). */
export interface Policy {
  readonly maxAgeMs?: number;
  readonly maxRecords?: number;
  readonly maxBytes?: number;
}

/** Trim criteria of {@link retentionClient}.trim (0/absent = no criterion). */
export interface TrimCriteria {
  readonly beforeOffset?: bigint;
  readonly keepLast?: number;
  readonly beforeTimestampMs?: bigint;
}

const toPolicy = (p: Policy | undefined): RetentionPolicy | undefined =>
  p === undefined
    ? undefined
    : create(RetentionPolicySchema, {
        maxAgeMs: BigInt(p.maxAgeMs ?? 0),
        maxRecords: BigInt(p.maxRecords ?? 0),
        maxBytes: BigInt(p.maxBytes ?? 0),
      });
const fromPolicy = (p: RetentionPolicy | undefined) => ({
  maxAgeMs: Number(p?.maxAgeMs ?? 0n),
  maxRecords: Number(p?.maxRecords ?? 0n),
  maxBytes: Number(p?.maxBytes ?? 0n),
});

/** Typed client over a stream_retention implementation. */
export function retentionClient(impl: StreamRetentionImpl, namespace: string) {
  return {
    /** Sets a policy (`undefined` sends none, which must be rejected). Returns the policy in force. */
    set: async (stream: string, policy: Policy | undefined) =>
      fromPolicy(
        create(
          SetRetentionResponseSchema,
          await impl.setRetention(
            create(SetRetentionRequestSchema, { namespace, stream, policy: toPolicy(policy) }),
            ctx,
          ),
        ).policy,
      ),
    get: async (stream: string) => {
      const res = create(
        GetRetentionResponseSchema,
        await impl.getRetention(create(GetRetentionRequestSchema, { namespace, stream }), ctx),
      );
      return { policy: fromPolicy(res.policy), supported: res.supported };
    },
    trim: async (stream: string, c: TrimCriteria = {}): Promise<TrimStreamResponse> => {
      const res = await impl.trimStream(
        create(TrimStreamRequestSchema, {
          namespace,
          stream,
          beforeOffset: c.beforeOffset ?? 0n,
          keepLast: BigInt(c.keepLast ?? 0),
          beforeTimestampMs: c.beforeTimestampMs ?? 0n,
        }),
        ctx,
      );
      return {
        $typeName: 'prism.stream.v1.TrimStreamResponse',
        removed: res.removed ?? 0n,
        remaining: res.remaining ?? 0n,
        firstOffset: res.firstOffset ?? 0n,
        firstMessageId: res.firstMessageId ?? '',
      };
    },
  };
}

const ZERO = { maxAgeMs: 0, maxRecords: 0, maxBytes: 0 };

/**
 * The stream_retention conformance suite. The plugin must implement stream_basic too (Append, Read). Which
 * limits are tested, and how strictly their enforcement is, follows what GetRetention reports (`supported`):
 * ON_WRITE backends must have removed what exceeds a limit when the exceeding write returns; BACKGROUND
 * backends must never remove records within the limits. TrimStream is synchronous everywhere.
 */
export function describeStreamRetentionConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  jest.setTimeout(4 * deadline);
  describe(`stream_retention conformance: ${label}`, () => {
    let handle: PluginHandle;
    let s: StreamClient;
    let r: ReturnType<typeof retentionClient>;
    let supported: RetentionSupport;
    let onWrite = false;
    const namespace = uniqueNamespace(label);
    const appendAll = async (stream: string, n: number, prefix = 'r', size = 0) => {
      const out: Appended[] = [];
      for (let i = 0; i < n; i++) {
        const body = `${prefix}${i}`;
        out.push(await s.append(stream, utf8(size > 0 ? body.padEnd(size, '.') : body)));
      }
      return out;
    };
    const ids = (rs: readonly { message?: { id: string } }[]) => rs.map((x) => x.message!.id);
    /** The records left must be the newest `kept` of `appended`, in order. */
    const expectSuffix = async (stream: string, appended: readonly Appended[]) => {
      const got = await s.read(stream, {}, deadline);
      expect(got.length).toBeGreaterThan(0);
      expect(ids(got)).toEqual(appended.slice(appended.length - got.length).map((a) => a.id));
      return got;
    };
    const ifSupported = (what: keyof Omit<RetentionSupport, '$typeName' | 'enforcement'>) => () =>
      supported[what];

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const basic = handle.get(StreamBasic);
      const retention = handle.get(StreamRetention);
      if (!basic || !retention) throw new Error(`${label} must implement stream_retention and stream_basic`);
      s = streamClient(basic, namespace);
      r = retentionClient(retention, namespace);
      const got = await r.get('capabilities');
      supported = got.supported!;
      onWrite = supported.enforcement === RetentionEnforcement.ON_WRITE;
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('reports an empty policy, the supported limits and the enforcement for a stream without one', async () => {
      expect(supported).toBeDefined();
      expect(supported.maxAgeMs || supported.maxRecords || supported.maxBytes).toBe(true);
      expect([RetentionEnforcement.ON_WRITE, RetentionEnforcement.BACKGROUND]).toContain(
        supported.enforcement,
      );
      expect((await r.get('never-touched')).policy).toEqual(ZERO);
      await s.append('no-policy', utf8('x'));
      expect((await r.get('no-policy')).policy).toEqual(ZERO);
    });

    it('stores the policy per stream: Set returns it, Get reads it back, an empty policy clears it', async () => {
      const policy = {
        maxAgeMs: supported.maxAgeMs ? 3_600_000 : 0,
        maxRecords: supported.maxRecords ? 1000 : 0,
        maxBytes: supported.maxBytes ? 1 << 20 : 0,
      };
      await s.append('policy', utf8('x'));
      expect(await r.set('policy', policy)).toEqual(policy);
      expect((await r.get('policy')).policy).toEqual(policy);
      expect((await r.get('policy-other')).policy).toEqual(ZERO);
      // Setting a policy on a stream that does not exist yet creates it with the policy.
      expect(await r.set('policy-new', policy)).toEqual(policy);
      expect((await r.get('policy-new')).policy).toEqual(policy);
      expect(await r.set('policy', {})).toEqual(ZERO);
      expect((await r.get('policy')).policy).toEqual(ZERO);
      const got = await s.read('policy', {}, deadline);
      expect(got.map((x) => text(x.message!.payload))).toEqual(['x']);
    });

    it('rejects the limits the backend does not support with INVALID_ARGUMENT naming the field', async () => {
      const fields = [
        ['maxAgeMs', 'max_age_ms', { maxAgeMs: 60_000 }],
        ['maxRecords', 'max_records', { maxRecords: 10 }],
        ['maxBytes', 'max_bytes', { maxBytes: 1 << 20 }],
      ] as const;
      for (const [key, field, policy] of fields) {
        if (supported[key]) continue;
        const err = await expectCode(() => r.set('unsupported', policy), Code.InvalidArgument);
        expect(err.rawMessage).toContain(field);
      }
      expect((await r.get('unsupported')).policy).toEqual(ZERO);
    });

    it('max_records keeps the newest records', async () => {
      if (!ifSupported('maxRecords')()) return;
      const a = await appendAll('count', 10);
      await r.set('count', { maxRecords: 3 });
      const left = await expectSuffix('count', a);
      if (onWrite) expect(left).toHaveLength(3);
      else expect(left.length).toBeGreaterThanOrEqual(3);
      const b = [...a, ...(await appendAll('count', 2, 'more'))];
      const after = await expectSuffix('count', b);
      if (onWrite) expect(after.map((x) => text(x.message!.payload))).toEqual(['r9', 'more0', 'more1']);
      // Offsets of the remaining records never change, and new appends continue after them.
      expect(after.map((x) => x.offset)).toEqual(b.slice(b.length - after.length).map((x) => x.offset));
    });

    it('a policy set before the stream exists applies to its appends', async () => {
      if (!ifSupported('maxRecords')()) return;
      await r.set('count-first', { maxRecords: 2 });
      const a = await appendAll('count-first', 5);
      const left = await expectSuffix('count-first', a);
      if (onWrite) expect(left).toHaveLength(2);
    });

    it('max_bytes keeps the newest records within the byte budget', async () => {
      if (!ifSupported('maxBytes')()) return;
      const a = await appendAll('bytes', 10, 'b', 1000);
      await r.set('bytes', { maxBytes: 5000 });
      const left = await expectSuffix('bytes', a);
      if (onWrite) {
        // At most 5 payloads of 1000 bytes fit (backends may count their own overhead too).
        expect(left.length).toBeLessThanOrEqual(5);
        expect(left.length).toBeLessThan(10);
      }
      const b = [...a, ...(await appendAll('bytes', 3, 'c', 1000))];
      const after = await expectSuffix('bytes', b);
      if (onWrite) expect(after.length).toBeLessThanOrEqual(5);
      expect(text(after[after.length - 1]!.message!.payload)).toMatch(/^c2\./);
    });

    it('max_age_ms removes records older than the age, never younger ones', async () => {
      if (!ifSupported('maxAgeMs')()) return;
      await r.set('age', { maxAgeMs: 1500 });
      const old = await appendAll('age', 2, 'old');
      // Within the age: everything is still there.
      expect(ids(await s.read('age', {}, deadline))).toEqual(old.map((x) => x.id));
      await pause(2000);
      const fresh = await appendAll('age', 2, 'fresh');
      if (onWrite) {
        // The next write (or the backend's own timer) removed the expired records.
        const left = await s.read('age', {}, deadline);
        expect(ids(left)).toEqual(fresh.map((x) => x.id));
      } else await expectSuffix('age', [...old, ...fresh]);
      const now = await s.read('age', {}, deadline);
      expect(ids(now).slice(-2)).toEqual(fresh.map((x) => x.id));
    });

    it('combines limits: a record goes as soon as any limit says so', async () => {
      if (!supported.maxRecords || !(supported.maxAgeMs || supported.maxBytes)) return;
      const policy = supported.maxAgeMs
        ? { maxAgeMs: 3_600_000, maxRecords: 4 }
        : { maxBytes: 1 << 20, maxRecords: 4 };
      await r.set('combined', policy);
      const a = await appendAll('combined', 6);
      const left = await expectSuffix('combined', a);
      if (onWrite) expect(left).toHaveLength(4);
      expect((await r.get('combined')).policy).toEqual({ ...ZERO, ...policy });
    });

    it('TrimStream removes the oldest records and reports the count and the new start', async () => {
      const a = await appendAll('trim', 10);
      const none = await r.trim('trim');
      expect(none).toMatchObject({
        removed: 0n,
        remaining: 10n,
        firstOffset: a[0]!.offset,
        firstMessageId: a[0]!.id,
      });
      const kept = await r.trim('trim', { keepLast: 7 });
      expect(kept).toMatchObject({
        removed: 3n,
        remaining: 7n,
        firstOffset: a[3]!.offset,
        firstMessageId: a[3]!.id,
      });
      const below = await r.trim('trim', { beforeOffset: a[5]!.offset });
      expect(below).toMatchObject({
        removed: 2n,
        remaining: 5n,
        firstOffset: a[5]!.offset,
        firstMessageId: a[5]!.id,
      });
      // Criteria combine: whichever removes more wins.
      const both = await r.trim('trim', { beforeOffset: a[6]!.offset, keepLast: 2 });
      expect(both).toMatchObject({
        removed: 3n,
        remaining: 2n,
        firstOffset: a[8]!.offset,
        firstMessageId: a[8]!.id,
      });
      // keep_last larger than the stream and an offset below its start remove nothing.
      expect(await r.trim('trim', { keepLast: 50, beforeOffset: a[2]!.offset })).toMatchObject({
        removed: 0n,
        remaining: 2n,
      });
      expect(ids(await s.read('trim', {}, deadline))).toEqual(a.slice(8).map((x) => x.id));
      // An offset past the end removes everything; appends continue with higher offsets.
      expect(await r.trim('trim', { beforeOffset: a[9]!.offset + 1000n })).toMatchObject({
        removed: 2n,
        remaining: 0n,
        firstOffset: 0n,
        firstMessageId: '',
      });
      expect(await s.read('trim', {}, deadline)).toEqual([]);
      const later = await s.append('trim', utf8('later'));
      expect(later.offset).toBeGreaterThan(a[9]!.offset);
      expect(await r.trim('trim')).toMatchObject({
        removed: 0n,
        remaining: 1n,
        firstOffset: later.offset,
        firstMessageId: later.id,
      });
    });

    it('TrimStream by timestamp removes the records appended before it', async () => {
      const old = await appendAll('trim-time', 3, 'old');
      await pause(50);
      const fresh = await appendAll('trim-time', 2, 'fresh');
      expect(fresh[0]!.timestampMs).toBeGreaterThan(old[2]!.timestampMs);
      const res = await r.trim('trim-time', { beforeTimestampMs: fresh[0]!.timestampMs });
      expect(res).toMatchObject({
        removed: 3n,
        remaining: 2n,
        firstOffset: fresh[0]!.offset,
        firstMessageId: fresh[0]!.id,
      });
      expect(ids(await s.read('trim-time', {}, deadline))).toEqual(fresh.map((x) => x.id));
      expect(await r.trim('trim-time', { beforeTimestampMs: 1n })).toMatchObject({
        removed: 0n,
        remaining: 2n,
      });
    });

    it('TrimStream of a stream that does not exist removes nothing', async () => {
      expect(await r.trim('never-appended', { keepLast: 1 })).toMatchObject({
        removed: 0n,
        remaining: 0n,
        firstOffset: 0n,
        firstMessageId: '',
      });
      expect(await s.read('never-appended', {}, deadline)).toEqual([]);
    });

    it('keeps policies of streams and namespaces apart', async () => {
      const policy = supported.maxRecords
        ? { maxRecords: 2 }
        : supported.maxAgeMs
          ? { maxAgeMs: 3_600_000 }
          : { maxBytes: 1 << 20 };
      await r.set('iso-a', policy);
      const b = await appendAll('iso-b', 4);
      expect(ids(await s.read('iso-b', {}, deadline))).toEqual(b.map((x) => x.id));
      expect((await r.get('iso-b')).policy).toEqual(ZERO);
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: MESSAGING_CONFORMANCE_LIMITS });
      try {
        const or = retentionClient(other.get(StreamRetention)!, otherNs);
        expect((await or.get('iso-a')).policy).toEqual(ZERO);
        const os = streamClient(other.get(StreamBasic)!, otherNs);
        const theirs = [];
        for (let i = 0; i < 4; i++) theirs.push(await os.append('iso-a', utf8(`t${i}`)));
        expect((await os.read('iso-a', {}, deadline)).map((x) => x.message!.id)).toEqual(
          theirs.map((x) => x.id),
        );
        expect((await or.trim('iso-a', { keepLast: 1 })).removed).toBe(3n);
        expect((await r.get('iso-a')).policy).toEqual({ ...ZERO, ...policy });
      } finally {
        await other.close();
      }
    });

    if (options.durable !== false)
      it('keeps the policy when the instance restarts', async () => {
        const policy = supported.maxRecords
          ? { maxRecords: 5 }
          : supported.maxAgeMs
            ? { maxAgeMs: 3_600_000 }
            : { maxBytes: 1 << 20 };
        const first = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
        await retentionClient(first.get(StreamRetention)!, namespace).set('restart', policy);
        await first.close();
        const second = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
        try {
          await pollUntil(
            'the policy after a restart',
            async () =>
              JSON.stringify(
                (await retentionClient(second.get(StreamRetention)!, namespace).get('restart')).policy,
              ) === JSON.stringify({ ...ZERO, ...policy }),
            deadline,
          );
        } finally {
          await second.close();
        }
      });

    it('rejects invalid input with INVALID_ARGUMENT', async () => {
      for (const stream of INVALID_TOPICS) {
        await expectCode(() => r.set(stream, {}), Code.InvalidArgument);
        await expectCode(() => r.get(stream), Code.InvalidArgument);
        await expectCode(() => r.trim(stream, { keepLast: 1 }), Code.InvalidArgument);
      }
      expect((await expectCode(() => r.set('v', undefined), Code.InvalidArgument)).rawMessage).toMatch(
        /policy/,
      );
      expect((await expectCode(() => r.set('v', { maxAgeMs: -1 }), Code.InvalidArgument)).rawMessage).toMatch(
        /max_age_ms/,
      );
      expect(
        (await expectCode(() => r.set('v', { maxAgeMs: 11 * 365 * 24 * 3600 * 1000 }), Code.InvalidArgument))
          .rawMessage,
      ).toMatch(/max_age_ms/);
      expect(
        (await expectCode(() => r.trim('v', { beforeTimestampMs: -5n }), Code.InvalidArgument)).rawMessage,
      ).toMatch(/before_timestamp_ms/);
      expect((await r.get('v')).policy).toEqual(ZERO);
    });
  });
}
