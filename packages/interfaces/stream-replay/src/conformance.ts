import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  DEFAULT_DEADLINE_MS,
  expectCode,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  pollUntil,
  StreamCollector,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { type Appended, type StreamClient, streamClient } from '@prism/stream-basic/conformance';
import {
  type ReplayRequest,
  ReplayRequestSchema,
  type ReplayResponse,
  ReplayResponseSchema,
  StreamReplay,
  type StreamReplayImpl,
} from './index.js';

/** Typed Replay calls. */
export function replayClient(impl: StreamReplayImpl, namespace: string) {
  const open = (stream: string, start: ReplayRequest['start'], max = 0, follow = false) =>
    new StreamCollector<ReplayResponse>((c) =>
      (async function* () {
        const req = create(ReplayRequestSchema, { namespace, stream, start, maxRecords: max, follow });
        for await (const r of impl.replay(req, c)) yield create(ReplayResponseSchema, r);
      })(),
    );
  return {
    open,
    /** Replays without follow until the server ends the stream. */
    replay: async (
      stream: string,
      start: ReplayRequest['start'],
      max = 0,
      timeoutMs = DEFAULT_DEADLINE_MS,
    ) => {
      const c = open(stream, start, max);
      await pollUntil('the end of a non-follow Replay', () => c.ended, timeoutMs, 5);
      if (c.error !== undefined) throw c.error;
      return c.items;
    },
  };
}

const fromOffset = (value: bigint): ReplayRequest['start'] => ({ case: 'fromOffset', value });
const fromTime = (value: bigint | number): ReplayRequest['start'] => ({
  case: 'fromTimestampMs',
  value: BigInt(value),
});

/** The stream_replay conformance suite. The plugin must implement stream_basic too (Append). */
export function describeStreamReplayConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`stream_replay conformance: ${label}`, () => {
    let handle: PluginHandle;
    let s: StreamClient;
    let r: ReturnType<typeof replayClient>;
    const namespace = uniqueNamespace(label);
    const appendAll = async (stream: string, n: number, prefix: string) => {
      const out: Appended[] = [];
      for (let i = 0; i < n; i++) out.push(await s.append(stream, utf8(`${prefix}${i}`)));
      return out;
    };
    /** Waits (polling the clock) until the wall clock is past `ms`, so later appends get later timestamps. */
    const clockPast = (ms: bigint) =>
      pollUntil('the clock to advance', () => Date.now() > Number(ms) + 5, 5000, 5);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const basic = handle.get(StreamBasic);
      const replay = handle.get(StreamReplay);
      if (!basic || !replay) throw new Error(`${label} must implement stream_replay and stream_basic`);
      s = streamClient(basic, namespace);
      r = replayClient(replay, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('replays from an offset (inclusive), with max_records', async () => {
      const a = await appendAll('by-offset', 5, 'o');
      const got = await r.replay('by-offset', fromOffset(a[2]!.offset), 0, deadline);
      expect(got.map((x) => x.offset)).toEqual(a.slice(2).map((x) => x.offset));
      expect(got.map((x) => x.message!.id)).toEqual(a.slice(2).map((x) => x.id));
      const two = await r.replay('by-offset', fromOffset(0n), 2, deadline);
      expect(two.map((x) => text(x.message!.payload))).toEqual(['o0', 'o1']);
    });

    it('replays from a time: exactly the records appended at or after it', async () => {
      const early = await appendAll('by-time', 3, 'early');
      await clockPast(early[2]!.timestampMs);
      const late = await appendAll('by-time', 3, 'late');
      expect(late[0]!.timestampMs).toBeGreaterThan(early[2]!.timestampMs);
      const got = await r.replay('by-time', fromTime(late[0]!.timestampMs), 0, deadline);
      expect(got.map((x) => x.offset)).toEqual(late.map((x) => x.offset));
      expect(got.map((x) => text(x.message!.payload))).toEqual(['late0', 'late1', 'late2']);
      for (const x of got) expect(x.message!.timestampMs).toBeGreaterThanOrEqual(late[0]!.timestampMs);
      // From the epoch: everything; from the future: nothing.
      expect(await r.replay('by-time', fromTime(0), 0, deadline)).toHaveLength(6);
      expect(await r.replay('by-time', fromTime(Date.now() + 3_600_000), 0, deadline)).toEqual([]);
    });

    it('follows after replaying from a time', async () => {
      const before = await appendAll('follow-time', 2, 'before');
      await clockPast(before[1]!.timestampMs);
      const start = Date.now();
      const f = r.open('follow-time', fromTime(start), 0, true);
      try {
        const after = await appendAll('follow-time', 2, 'after');
        await f.atLeast(2, 'the records appended after the start time', deadline);
        expect(f.items.map((x) => x.offset)).toEqual(after.map((x) => x.offset));
      } finally {
        await f.cancel(deadline);
      }
    });

    it('rejects a missing start or a negative time with INVALID_ARGUMENT', async () => {
      await expectCode(() => r.replay('v', { case: undefined }, 0, deadline), Code.InvalidArgument);
      await expectCode(() => r.replay('v', fromTime(-1), 0, deadline), Code.InvalidArgument);
      await expectCode(() => r.replay('bad..stream', fromOffset(0n), 0, deadline), Code.InvalidArgument);
    });
  });
}
