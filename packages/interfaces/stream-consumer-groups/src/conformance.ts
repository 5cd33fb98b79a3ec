import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  DEFAULT_DEADLINE_MS,
  expectCode,
  MESSAGING_CONFORMANCE_LIMITS,
  type MessagingSuiteOptions,
  pause,
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
  AckRequestSchema,
  DeleteGroupRequestSchema,
  GroupStart,
  ReadGroupRequestSchema,
  type ReadGroupResponse,
  ReadGroupResponseSchema,
  StreamConsumerGroups,
  type StreamConsumerGroupsImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Options of one group member. */
export interface MemberOptions {
  readonly start?: GroupStart;
  readonly maxInFlight?: number;
  readonly claimTimeoutMs?: number;
}

/** One group member: its ReadGroup stream plus ack bookkeeping. */
export class GroupMember {
  readonly stream: StreamCollector<ReadGroupResponse>;
  #acked = 0;

  constructor(
    open: (c: { signal: AbortSignal }) => AsyncIterable<ReadGroupResponse>,
    private readonly ackIds: (ids: string[]) => Promise<void>,
  ) {
    this.stream = new StreamCollector(open);
  }

  get records(): ReadGroupResponse[] {
    return this.stream.items;
  }

  /** Acks every record received since the last call. */
  async ackNew(): Promise<void> {
    const fresh = this.stream.items.slice(this.#acked);
    this.#acked += fresh.length;
    if (fresh.length) await this.ackIds(fresh.map((r) => r.ackId));
  }

  /** Cancels the member's stream and waits (up to `timeoutMs`) for the implementation to end it. */
  cancel(timeoutMs?: number): Promise<void> {
    return this.stream.cancel(timeoutMs);
  }
}

/** Typed client over a stream_consumer_groups implementation. */
export function groupClient(impl: StreamConsumerGroupsImpl, namespace: string) {
  const ack = async (stream: string, group: string, ackIds: string[]) => {
    await impl.ack(create(AckRequestSchema, { namespace, stream, group, ackIds }), ctx);
  };
  return {
    ack,
    member: (stream: string, group: string, consumer: string, o: MemberOptions = {}) =>
      new GroupMember(
        (c) =>
          (async function* () {
            const req = create(ReadGroupRequestSchema, {
              namespace,
              stream,
              group,
              consumer,
              start: o.start ?? GroupStart.EARLIEST,
              maxInFlight: o.maxInFlight ?? 0,
              claimTimeoutMs: BigInt(o.claimTimeoutMs ?? 0),
            });
            for await (const r of impl.readGroup(req, c)) yield create(ReadGroupResponseSchema, r);
          })(),
        (ids) => ack(stream, group, ids),
      ),
    deleteGroup: async (stream: string, group: string) =>
      (await impl.deleteGroup(create(DeleteGroupRequestSchema, { namespace, stream, group }), ctx)).deleted ??
      false,
  };
}

/**
 * The stream_consumer_groups conformance suite. The plugin must implement stream_basic too (Append).
 * Members are started with start=EARLIEST unless a test says otherwise, so group creation never races
 * the appends.
 */
export function describeStreamConsumerGroupsConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`stream_consumer_groups conformance: ${label}`, () => {
    let handle: PluginHandle;
    let s: StreamClient;
    let g: ReturnType<typeof groupClient>;
    const namespace = uniqueNamespace(label);
    const members: GroupMember[] = [];
    const member = (stream: string, group: string, consumer: string, o: MemberOptions = {}) => {
      const m = g.member(stream, group, consumer, o);
      members.push(m);
      return m;
    };
    const appendAll = async (stream: string, n: number, prefix = 'r') => {
      const out: Appended[] = [];
      for (let i = 0; i < n; i++) out.push(await s.append(stream, utf8(`${prefix}${i}`)));
      return out;
    };
    const offsets = (rs: readonly { offset: bigint }[]) => rs.map((r) => r.offset);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const basic = handle.get(StreamBasic);
      const groups = handle.get(StreamConsumerGroups);
      if (!basic || !groups)
        throw new Error(`${label} must implement stream_consumer_groups and stream_basic`);
      s = streamClient(basic, namespace);
      g = groupClient(groups, namespace);
    });
    afterAll(async () => {
      await Promise.all(members.map((m) => m.cancel(deadline).catch(() => {})));
      await handle?.close();
    });

    it('delivers existing records to a single member in order, with ack ids', async () => {
      const a = await appendAll('solo', 5);
      const m = member('solo', 'g1', 'c1');
      await m.stream.atLeast(5, '5 records', deadline);
      expect(offsets(m.records)).toEqual(offsets(a));
      expect(m.records.map((r) => r.message!.id)).toEqual(a.map((x) => x.id));
      expect(m.records.map((r) => text(r.message!.payload))).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
      for (const r of m.records) {
        expect(r.ackId.length).toBeGreaterThan(0);
        expect(r.deliveryCount).toBe(1);
        expect(r.message!.topic).toBe('solo');
      }
      await m.ackNew();
      await m.cancel(deadline);
    });

    it('shares 30 records among 3 members: each record to exactly one, all received', async () => {
      const a = await appendAll('shared', 30);
      const trio = ['c1', 'c2', 'c3'].map((c) => member('shared', 'workers', c, { maxInFlight: 10 }));
      const union = () => trio.flatMap((m) => m.records);
      await pollUntil(
        'all 30 records across the group',
        async () => {
          for (const m of trio) await m.ackNew();
          return union().length >= 30;
        },
        deadline,
      );
      const got = offsets(union()).sort((x, y) => (x < y ? -1 : 1));
      expect(got).toEqual(offsets(a));
      await Promise.all(trio.map((m) => m.cancel(deadline)));
    });

    it('redelivers the unacked records of a member that dies to another member, never the acked ones', async () => {
      const a = await appendAll('failover', 6);
      const dying = member('failover', 'fo', 'dying', { maxInFlight: 100, claimTimeoutMs: 1000 });
      await dying.stream.atLeast(6, 'the dying member to receive everything', deadline);
      // Ack the first half, then die with the rest unacked.
      await g.ack(
        'failover',
        'fo',
        dying.records.slice(0, 3).map((r) => r.ackId),
      );
      await dying.cancel(deadline);
      const survivor = member('failover', 'fo', 'survivor', { maxInFlight: 100, claimTimeoutMs: 1000 });
      await survivor.stream.until(
        'the unacked records to reach the survivor',
        (rs) => a.slice(3).every((x) => rs.some((r) => r.offset === x.offset)),
        deadline,
      );
      await survivor.ackNew();
      const acked = new Set(offsets(a.slice(0, 3)));
      expect(survivor.records.filter((r) => acked.has(r.offset))).toEqual([]);
      for (const r of survivor.records) expect(r.deliveryCount === 0 || r.deliveryCount >= 2).toBe(true);
      await survivor.cancel(deadline);
    });

    // How long a member must stay at its max_in_flight records to show that no more are coming.
    const SETTLE_MS = 1500;

    it('holds a member to max_in_flight unacked records until it acks, then sends more', async () => {
      const a = await appendAll('window', 7);
      const m = member('window', 'wg', 'c1', { maxInFlight: 2 });
      await m.stream.atLeast(2, 'the first 2 records', deadline);
      await pause(SETTLE_MS);
      expect(offsets(m.records)).toEqual(offsets(a.slice(0, 2)));
      // One ack frees one slot: exactly one more record.
      await g.ack('window', 'wg', [m.records[0]!.ackId]);
      await m.stream.atLeast(3, 'a third record after one ack', deadline);
      await pause(SETTLE_MS);
      expect(offsets(m.records)).toEqual(offsets(a.slice(0, 3)));
      // Acking both outstanding records frees two slots.
      await g.ack(
        'window',
        'wg',
        m.records.slice(1).map((r) => r.ackId),
      );
      await m.stream.atLeast(5, 'two more records after two acks', deadline);
      await pause(SETTLE_MS);
      expect(offsets(m.records)).toEqual(offsets(a.slice(0, 5)));
      await g.ack(
        'window',
        'wg',
        m.records.slice(3).map((r) => r.ackId),
      );
      await m.stream.atLeast(7, 'the rest', deadline);
      expect(offsets(m.records)).toEqual(offsets(a));
      await g.ack(
        'window',
        'wg',
        m.records.slice(5).map((r) => r.ackId),
      );
      await m.cancel(deadline);
    });

    it('counts max_in_flight per member: acks of another group or an unknown id free no slot', async () => {
      const a = await appendAll('window-groups', 4);
      const limited = member('window-groups', 'limited', 'c1', { maxInFlight: 1 });
      const other = member('window-groups', 'free', 'c1', { maxInFlight: 10 });
      await other.stream.atLeast(4, 'all records in the other group', deadline);
      await limited.stream.atLeast(1, 'one record in the limited group', deadline);
      // The other group acks the very records (same ack ids on most backends) the limited member holds.
      await other.ackNew();
      await g.ack('window-groups', 'limited', ['no-such-ack-id']);
      await pause(SETTLE_MS);
      expect(offsets(limited.records)).toEqual(offsets(a.slice(0, 1)));
      await limited.ackNew();
      await limited.stream.atLeast(2, 'a second record after its own ack', deadline);
      await pause(SETTLE_MS);
      expect(offsets(limited.records)).toEqual(offsets(a.slice(0, 2)));
      await limited.ackNew();
      await Promise.all([limited.cancel(deadline), other.cancel(deadline)]);
    });

    it('keeps max_in_flight past the claim timeout: a stuck member gets no new records, at most its own again', async () => {
      const a = await appendAll('window-claim', 6);
      const m = member('window-claim', 'wc', 'c1', { maxInFlight: 2, claimTimeoutMs: 1000 });
      await m.stream.atLeast(2, 'the first 2 records', deadline);
      // Well past the claim timeout without acking: the member still holds (at most) those two.
      await pause(1000 + 2 * SETTLE_MS);
      const held = new Set(offsets(a.slice(0, 2)));
      expect(offsets(m.records).filter((o) => !held.has(o))).toEqual([]);
      // Acking every delivery (redeliveries included) frees the slots again.
      await g.ack(
        'window-claim',
        'wc',
        m.records.map((r) => r.ackId),
      );
      const before = m.records.length;
      await m.stream.until('new records after the acks', (rs) => rs.length >= before + 2, deadline);
      expect(offsets(m.records.slice(before, before + 2))).toEqual(offsets(a.slice(2, 4)));
      await m.ackNew();
      await m.cancel(deadline);
    });

    if (options.durable !== false)
      it('frees a slot when the ack comes through another instance (proxy replica)', async () => {
        const a = await appendAll('window-replica', 3);
        const m = member('window-replica', 'wr', 'c1', { maxInFlight: 1 });
        await m.stream.atLeast(1, 'the first record', deadline);
        const replica = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
        try {
          const r = groupClient(replica.get(StreamConsumerGroups)!, namespace);
          await r.ack('window-replica', 'wr', [m.records[0]!.ackId]);
          // Well before the 30 s default claim timeout.
          await m.stream.atLeast(2, 'the second record after an ack through the replica', deadline);
          await pause(SETTLE_MS);
          expect(offsets(m.records)).toEqual(offsets(a.slice(0, 2)));
          await r.ack('window-replica', 'wr', [m.records[1]!.ackId]);
          await m.stream.atLeast(3, 'the third record', deadline);
          await r.ack('window-replica', 'wr', [m.records[2]!.ackId]);
        } finally {
          await replica.close();
        }
        await m.cancel(deadline);
      });

    it('gives every group all records, independently', async () => {
      const a = await appendAll('multi', 4);
      const x = member('multi', 'ga', 'c1');
      const y = member('multi', 'gb', 'c1');
      for (const m of [x, y]) {
        await m.stream.atLeast(4, '4 records per group', deadline);
        expect(offsets(m.records)).toEqual(offsets(a));
        await m.ackNew();
        await m.cancel(deadline);
      }
    });

    it('start=LATEST skips records appended before the group existed', async () => {
      await appendAll('latest', 3, 'old');
      const m = member('latest', 'late', 'c1', { start: GroupStart.LATEST });
      // Group creation is asynchronous: append fresh records until one arrives.
      let i = 0;
      await pollUntil(
        'a record appended after the group started',
        async () => {
          await s.append('latest', utf8(`new${i++}`));
          return m.records.length > 0;
        },
        deadline,
        200,
      );
      expect(m.records.every((r) => text(r.message!.payload).startsWith('new'))).toBe(true);
      await m.ackNew();
      await m.cancel(deadline);
    });

    it('DeleteGroup forgets the group position', async () => {
      const a = await appendAll('reset', 2);
      const first = member('reset', 'once', 'c1');
      await first.stream.atLeast(2, 'both records', deadline);
      await first.ackNew();
      await first.cancel(deadline);
      expect(await g.deleteGroup('reset', 'once')).toBe(true);
      expect(await g.deleteGroup('reset', 'once')).toBe(false);
      const again = member('reset', 'once', 'c1');
      await again.stream.atLeast(2, 'both records again after DeleteGroup', deadline);
      expect(offsets(again.records)).toEqual(offsets(a));
      await again.ackNew();
      await again.cancel(deadline);
    });

    if (options.durable !== false)
      it('redelivers records a member received but did not ack when its instance is killed', async () => {
        const a = await appendAll('killed', 3);
        const first = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
        const victim = groupClient(first.get(StreamConsumerGroups)!, namespace).member(
          'killed',
          'kg',
          'victim',
          {
            claimTimeoutMs: 1000,
          },
        );
        await victim.stream.atLeast(3, 'the victim to receive all records', deadline);
        // Kill the instance (proxy restart) without acking or cancelling the stream first.
        await first.close();
        await victim.cancel(deadline).catch(() => {});
        const heir = member('killed', 'kg', 'heir', { claimTimeoutMs: 1000 });
        await heir.stream.until(
          "the killed member's records to be redelivered",
          (rs) => a.every((x) => rs.some((r) => r.offset === x.offset)),
          deadline,
        );
        await heir.ackNew();
        await heir.cancel(deadline);
      });

    it('rejects invalid input with INVALID_ARGUMENT', async () => {
      const open = (stream: string, group: string, consumer: string, o: MemberOptions = {}) =>
        expectCode(async () => {
          const m = g.member(stream, group, consumer, o);
          await m.stream.atLeast(1, 'an error', deadline);
        }, Code.InvalidArgument);
      await open('bad..stream', 'g', 'c');
      await open('s', '', 'c');
      await open('s', 'g', 'has.dot');
      await open('s', 'g', 'c', { maxInFlight: 1001 });
      await open('s', 'g', 'c', { claimTimeoutMs: -1 });
      await expectCode(() => g.ack('s', 'g', []), Code.InvalidArgument);
      await expectCode(() => g.deleteGroup('s', 'bad group'), Code.InvalidArgument);
    });
  });
}
