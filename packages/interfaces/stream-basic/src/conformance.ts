import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  ALL_BYTES,
  DEFAULT_DEADLINE_MS,
  expectCode,
  INVALID_TOPICS,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  pollUntil,
  SAMPLE_METADATA,
  StreamCollector,
  sameBytes,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  AppendRequestSchema,
  ReadRequestSchema,
  type ReadResponse,
  ReadResponseSchema,
  StreamBasic,
  type StreamBasicImpl,
  TrimRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** What Append answered. */
export interface Appended {
  readonly offset: bigint;
  readonly id: string;
  readonly timestampMs: bigint;
}

/** Read options of {@link streamClient}. */
export interface ReadOptions {
  readonly from?: bigint;
  readonly max?: number;
}

/** Small typed client over a stream_basic implementation, used by the stream suites. */
export function streamClient(impl: StreamBasicImpl, namespace: string) {
  const open = (stream: string, o: ReadOptions & { follow?: boolean } = {}) =>
    new StreamCollector<ReadResponse>((c) =>
      (async function* () {
        const req = create(ReadRequestSchema, {
          namespace,
          stream,
          fromOffset: o.from ?? 0n,
          maxRecords: o.max ?? 0,
          follow: o.follow ?? false,
        });
        for await (const r of impl.read(req, c)) yield create(ReadResponseSchema, r);
      })(),
    );
  return {
    append: async (
      stream: string,
      payload: Uint8Array,
      metadata: Record<string, string> = {},
    ): Promise<Appended> => {
      const res = await impl.append(
        create(AppendRequestSchema, { namespace, stream, payload, metadata }),
        ctx,
      );
      return { offset: res.offset ?? 0n, id: res.messageId ?? '', timestampMs: res.timestampMs ?? 0n };
    },
    /** Reads without follow until the server ends the stream. */
    read: async (
      stream: string,
      o: ReadOptions = {},
      timeoutMs = DEFAULT_DEADLINE_MS,
    ): Promise<ReadResponse[]> => {
      const c = open(stream, o);
      await pollUntil('the end of a non-follow Read', () => c.ended, timeoutMs, 5);
      if (c.error !== undefined) throw c.error;
      return c.items;
    },
    /** Opens a following Read. */
    follow: (stream: string, o: ReadOptions = {}) => open(stream, { ...o, follow: true }),
    trim: async (stream: string, beforeOffset: bigint) => {
      await impl.trim(create(TrimRequestSchema, { namespace, stream, beforeOffset }), ctx);
    },
  };
}

/** The client type the stream suites share. */
export type StreamClient = ReturnType<typeof streamClient>;

/** The stream_basic conformance suite (append-only log, offsets, follow, trim). */
export function describeStreamBasicConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`stream_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let s: StreamClient;
    const namespace = uniqueNamespace(label);
    const followers: StreamCollector<ReadResponse>[] = [];
    const appendAll = async (stream: string, n: number, prefix = 'r') => {
      const out: Appended[] = [];
      for (let i = 0; i < n; i++) out.push(await s.append(stream, utf8(`${prefix}${i}`)));
      return out;
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const impl = handle.get(StreamBasic);
      if (!impl) throw new Error(`${label} does not implement stream_basic`);
      s = streamClient(impl, namespace);
    });
    afterAll(async () => {
      await Promise.all(followers.map((f) => f.cancel().catch(() => {})));
      await handle?.close();
    });

    it('assigns strictly increasing offsets and reads every record back in order', async () => {
      const metadata: Record<string, string> = options.metadata === false ? {} : { kind: 'log' };
      const appended: Appended[] = [];
      for (let i = 0; i < 5; i++) appended.push(await s.append('log', utf8(`e${i}`), metadata));
      for (let i = 1; i < 5; i++) expect(appended[i]!.offset).toBeGreaterThan(appended[i - 1]!.offset);
      const got = await s.read('log', {}, deadline);
      expect(got.map((r) => r.offset)).toEqual(appended.map((a) => a.offset));
      expect(got.map((r) => r.message!.id)).toEqual(appended.map((a) => a.id));
      expect(got.map((r) => text(r.message!.payload))).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
      for (const [i, r] of got.entries()) {
        expect(r.message!.topic).toBe('log');
        expect(r.message!.timestampMs).toBe(appended[i]!.timestampMs);
        if (options.metadata !== false) expect(r.message!.metadata).toEqual(metadata);
        if (i > 0) expect(r.message!.timestampMs).toBeGreaterThanOrEqual(got[i - 1]!.message!.timestampMs);
      }
      expect(Math.abs(Number(appended[0]!.timestampMs) - Date.now())).toBeLessThan(60_000);
    });

    it('reads from an offset (inclusive) and honours max_records', async () => {
      const a = await appendAll('range', 6);
      const from3 = await s.read('range', { from: a[3]!.offset }, deadline);
      expect(from3.map((r) => r.offset)).toEqual(a.slice(3).map((x) => x.offset));
      const two = await s.read('range', { from: a[1]!.offset, max: 2 }, deadline);
      expect(two.map((r) => text(r.message!.payload))).toEqual(['r1', 'r2']);
      expect(await s.read('range', { from: a[5]!.offset + 1n }, deadline)).toEqual([]);
    });

    it('reads nothing from a stream that does not exist, and ends', async () => {
      expect(await s.read('never-appended', {}, deadline)).toEqual([]);
    });

    it('follow delivers records appended later, in order, until cancelled', async () => {
      const old = await appendAll('tail', 2, 'old');
      const f = s.follow('tail', { from: old[1]!.offset + 1n });
      followers.push(f);
      const fresh = await appendAll('tail', 3, 'new');
      await f.atLeast(3, '3 followed records', deadline);
      expect(f.items.map((r) => r.offset)).toEqual(fresh.map((x) => x.offset));
      await f.cancel(deadline);
      expect(f.ended).toBe(true);
    });

    it('follow waits for the first record of a stream that does not exist yet', async () => {
      const f = s.follow('born-later');
      followers.push(f);
      const first = await s.append('born-later', utf8('first'));
      await f.atLeast(1, 'the first record', deadline);
      expect(f.items[0]!.offset).toBe(first.offset);
      await f.cancel(deadline);
    });

    it('trims records below an offset; reads never return trimmed records', async () => {
      const a = await appendAll('trim', 6);
      await s.trim('trim', 0n);
      expect(await s.read('trim', {}, deadline)).toHaveLength(6);
      await s.trim('trim', a[3]!.offset);
      const left = await s.read('trim', {}, deadline);
      expect(left.map((r) => r.offset)).toEqual(a.slice(3).map((x) => x.offset));
      // Reading from a trimmed offset starts at the oldest retained record.
      const fromTrimmed = await s.read('trim', { from: a[1]!.offset }, deadline);
      expect(fromTrimmed.map((r) => text(r.message!.payload))).toEqual(['r3', 'r4', 'r5']);
      const later = await s.append('trim', utf8('after-trim'));
      expect(later.offset).toBeGreaterThan(a[5]!.offset);
    });

    it('keeps binary payloads intact (all 256 byte values, empty)', async () => {
      const a = await s.append('binary', ALL_BYTES);
      const b = await s.append('binary', new Uint8Array());
      const got = await s.read('binary', { from: a.offset }, deadline);
      expect(sameBytes(got[0]!.message!.payload, ALL_BYTES)).toBe(true);
      expect(got[1]!.offset).toBe(b.offset);
      expect(got[1]!.message!.payload.byteLength).toBe(0);
    });

    if (options.metadata !== false)
      it('round-trips metadata', async () => {
        const a = await s.append('meta', utf8('m'), { ...SAMPLE_METADATA });
        const [r] = await s.read('meta', { from: a.offset, max: 1 }, deadline);
        expect(r!.message!.metadata).toEqual(SAMPLE_METADATA);
      });

    it('gives 50 concurrent appends distinct offsets and keeps all of them', async () => {
      const a = await Promise.all(
        Array.from({ length: 50 }, (_, i) => s.append('concurrent', utf8(`c${i}`))),
      );
      expect(new Set(a.map((x) => x.offset)).size).toBe(50);
      const got = await s.read('concurrent', {}, deadline);
      expect(got).toHaveLength(50);
      const sorted = [...a].sort((x, y) => (x.offset < y.offset ? -1 : 1));
      expect(got.map((r) => r.message!.id)).toEqual(sorted.map((x) => x.id));
    });

    it('keeps streams and namespaces apart', async () => {
      await s.append('iso-a', utf8('a'));
      await s.append('iso-b', utf8('b'));
      expect((await s.read('iso-a', {}, deadline)).map((r) => text(r.message!.payload))).toEqual(['a']);
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: MESSAGING_CONFORMANCE_LIMITS });
      try {
        const os = streamClient(other.get(StreamBasic)!, otherNs);
        expect(await os.read('iso-a', {}, deadline)).toEqual([]);
        await os.append('iso-a', utf8('theirs'));
        expect((await s.read('iso-a', {}, deadline)).map((r) => text(r.message!.payload))).toEqual(['a']);
      } finally {
        await other.close();
      }
    });

    if (options.durable !== false)
      it('keeps records when the instance restarts', async () => {
        const first = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
        const s1 = streamClient(first.get(StreamBasic)!, namespace);
        const a = [await s1.append('restart', utf8('one')), await s1.append('restart', utf8('two'))];
        await first.close();
        const second = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
        try {
          const got = await streamClient(second.get(StreamBasic)!, namespace).read('restart', {}, deadline);
          expect(got.map((r) => r.offset)).toEqual(a.map((x) => x.offset));
        } finally {
          await second.close();
        }
      });

    it('rejects invalid input with INVALID_ARGUMENT', async () => {
      for (const stream of INVALID_TOPICS) {
        await expectCode(() => s.append(stream, utf8('x')), Code.InvalidArgument);
        await expectCode(() => s.read(stream, {}, deadline), Code.InvalidArgument);
        await expectCode(() => s.trim(stream, 1n), Code.InvalidArgument);
      }
      const big = new Uint8Array(MESSAGING_CONFORMANCE_LIMITS.maxValueBytes! + 1);
      await expectCode(() => s.append('v', big), Code.InvalidArgument);
      await expectCode(() => s.append('v', utf8('x'), { 'prism-x': '1' }), Code.InvalidArgument);
    });
  });
}
