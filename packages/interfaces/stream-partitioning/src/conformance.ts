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
  StreamCollector,
  sameBytes,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { streamClient } from '@prism/stream-basic/conformance';
import {
  AckPartitionedRequestSchema,
  AppendPartitionedRequestSchema,
  CreatePartitionedStreamRequestSchema,
  DescribePartitionedStreamRequestSchema,
  GroupStart,
  type PartitionedRecord,
  partitionForKey,
  ReadPartitionedGroupRequestSchema,
  type ReadPartitionedGroupResponse,
  ReadPartitionedGroupResponseSchema,
  ReadPartitionRequestSchema,
  type ReadPartitionResponse,
  ReadPartitionResponseSchema,
  StreamPartitioning,
  type StreamPartitioningImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** What AppendPartitioned answered. */
export interface PartitionedAppended {
  readonly partition: number;
  readonly offset: bigint;
  readonly id: string;
  readonly timestampMs: bigint;
}

/** Options of one group member. */
export interface PartitionedMemberOptions {
  readonly start?: GroupStart;
  readonly maxInFlight?: number;
  readonly claimTimeoutMs?: number;
}

/** One ReadPartitionedGroup stream: its assignment events, records and ack bookkeeping. */
export class PartitionedMember {
  readonly stream: StreamCollector<ReadPartitionedGroupResponse>;
  #acked = 0;

  constructor(
    open: (c: { signal: AbortSignal }) => AsyncIterable<ReadPartitionedGroupResponse>,
    private readonly ackIds: (ids: string[]) => Promise<void>,
  ) {
    this.stream = new StreamCollector(open);
  }

  /** Every assignment event so far. */
  get assignments(): number[][] {
    return this.stream.items.flatMap((e) =>
      e.event.case === 'assignment' ? [e.event.value.partitions] : [],
    );
  }

  /** The latest assignment (undefined before the first event). */
  get assignment(): number[] | undefined {
    const all = this.assignments;
    return all[all.length - 1];
  }

  get records(): PartitionedRecord[] {
    return this.stream.items.flatMap((e) => (e.event.case === 'record' ? [e.event.value] : []));
  }

  /** Acks every record received since the last call. */
  async ackNew(): Promise<void> {
    const all = this.records;
    const fresh = all.slice(this.#acked);
    this.#acked = all.length;
    if (fresh.length) await this.ackIds(fresh.map((r) => r.ackId));
  }

  cancel(timeoutMs?: number): Promise<void> {
    return this.stream.cancel(timeoutMs);
  }
}

/** Typed client over a stream_partitioning implementation. */
export function partitionClient(impl: StreamPartitioningImpl, namespace: string) {
  const ack = async (stream: string, group: string, ackIds: string[]) => {
    await impl.ackPartitioned(create(AckPartitionedRequestSchema, { namespace, stream, group, ackIds }), ctx);
  };
  const appendTo = async (
    stream: string,
    route: { case: 'key'; value: Uint8Array } | { case: 'partition'; value: number } | { case: undefined },
    payload: Uint8Array,
    metadata: Record<string, string> = {},
  ): Promise<PartitionedAppended> => {
    const res = await impl.appendPartitioned(
      create(AppendPartitionedRequestSchema, { namespace, stream, route, payload, metadata }),
      ctx,
    );
    return {
      partition: res.partition ?? 0,
      offset: res.offset ?? 0n,
      id: res.messageId ?? '',
      timestampMs: res.timestampMs ?? 0n,
    };
  };
  const open = (
    stream: string,
    partition: number,
    o: { from?: bigint; max?: number; follow?: boolean } = {},
  ) =>
    new StreamCollector<ReadPartitionResponse>((c) =>
      (async function* () {
        const req = create(ReadPartitionRequestSchema, {
          namespace,
          stream,
          partition,
          fromOffset: o.from ?? 0n,
          maxRecords: o.max ?? 0,
          follow: o.follow ?? false,
        });
        for await (const r of impl.readPartition(req, c)) yield create(ReadPartitionResponseSchema, r);
      })(),
    );
  return {
    ack,
    create: async (stream: string, partitions: number) => {
      const res = await impl.createPartitionedStream(
        create(CreatePartitionedStreamRequestSchema, { namespace, stream, partitions }),
        ctx,
      );
      return { created: res.created ?? false, partitionCount: res.partitionCount ?? 0 };
    },
    describe: async (stream: string) => {
      const res = await impl.describePartitionedStream(
        create(DescribePartitionedStreamRequestSchema, { namespace, stream }),
        ctx,
      );
      return {
        exists: res.exists ?? false,
        partitionCount: res.partitionCount ?? 0,
        partitions: (res.partitions ?? []).map((p) => ({
          partition: p.partition ?? 0,
          firstOffset: p.firstOffset ?? 0n,
          nextOffset: p.nextOffset ?? 0n,
        })),
      };
    },
    appendKey: (
      stream: string,
      key: Uint8Array | string,
      payload: Uint8Array,
      metadata?: Record<string, string>,
    ) =>
      appendTo(stream, { case: 'key', value: typeof key === 'string' ? utf8(key) : key }, payload, metadata),
    appendTo: (stream: string, partition: number, payload: Uint8Array) =>
      appendTo(stream, { case: 'partition', value: partition }, payload),
    appendUnrouted: (stream: string, payload: Uint8Array) => appendTo(stream, { case: undefined }, payload),
    /** Reads one partition without follow until the server ends the stream. */
    read: async (
      stream: string,
      partition: number,
      o: { from?: bigint; max?: number } = {},
      timeoutMs = DEFAULT_DEADLINE_MS,
    ) => {
      const c = open(stream, partition, o);
      await pollUntil('the end of a non-follow ReadPartition', () => c.ended, timeoutMs, 5);
      if (c.error !== undefined) throw c.error;
      return c.items;
    },
    follow: (stream: string, partition: number, from = 0n) => open(stream, partition, { from, follow: true }),
    member: (stream: string, group: string, consumer: string, o: PartitionedMemberOptions = {}) =>
      new PartitionedMember(
        (c) =>
          (async function* () {
            const req = create(ReadPartitionedGroupRequestSchema, {
              namespace,
              stream,
              group,
              consumer,
              start: o.start ?? GroupStart.EARLIEST,
              maxInFlight: o.maxInFlight ?? 0,
              claimTimeoutMs: BigInt(o.claimTimeoutMs ?? 0),
            });
            for await (const r of impl.readPartitionedGroup(req, c))
              yield create(ReadPartitionedGroupResponseSchema, r);
          })(),
        (ids) => ack(stream, group, ids),
      ),
  };
}

/**
 * True when the members' latest assignments are pairwise disjoint, together cover 0..count-1, and (when there
 * are no more members than partitions) every member owns at least one partition.
 */
export function settled(members: readonly PartitionedMember[], count: number): boolean {
  const seen = new Set<number>();
  for (const m of members) {
    const a = m.assignment;
    if (a === undefined || (a.length === 0 && members.length <= count)) return false;
    for (const p of a) {
      if (seen.has(p) || p < 0 || p >= count) return false;
      seen.add(p);
    }
  }
  return seen.size === count;
}

/**
 * The stream_partitioning conformance suite. Keys must route with Kafka's default (murmur2) partitioner
 * ({@link partitionForKey}); group members must get disjoint, covering partition sets. When the plugin also
 * implements stream_basic, partition 0 must be the stream_basic log.
 */
export function describeStreamPartitioningConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  jest.setTimeout(6 * deadline);
  describe(`stream_partitioning conformance: ${label}`, () => {
    let handle: PluginHandle;
    let p: ReturnType<typeof partitionClient>;
    const namespace = uniqueNamespace(label);
    const members: PartitionedMember[] = [];
    const followers: StreamCollector<ReadPartitionResponse>[] = [];
    const member = (stream: string, group: string, consumer: string, o: PartitionedMemberOptions = {}) => {
      const m = p.member(stream, group, consumer, o);
      members.push(m);
      return m;
    };
    const waitSettled = (ms: readonly PartitionedMember[], count: number, what: string) =>
      pollUntil(
        what,
        async () => {
          for (const m of ms) {
            if (m.stream.error !== undefined) throw m.stream.error;
            await m.ackNew();
          }
          return settled(ms, count);
        },
        deadline,
        50,
      );

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const impl = handle.get(StreamPartitioning);
      if (!impl) throw new Error(`${label} does not implement stream_partitioning`);
      p = partitionClient(impl, namespace);
    });
    afterAll(async () => {
      await Promise.all([...members, ...followers].map((m) => m.cancel(deadline).catch(() => {})));
      await handle?.close();
    });

    it('creates a stream with N partitions and reports them', async () => {
      expect(await p.create('made', 8)).toEqual({ created: true, partitionCount: 8 });
      expect(await p.create('made', 8)).toEqual({ created: false, partitionCount: 8 });
      const err = await expectCode(() => p.create('made', 4), Code.AlreadyExists);
      expect(err.rawMessage).toMatch(/8/);
      const d = await p.describe('made');
      expect(d.exists).toBe(true);
      expect(d.partitionCount).toBe(8);
      expect(d.partitions.map((x) => x.partition)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      for (const x of d.partitions) expect(x.nextOffset).toBe(x.firstOffset);
      expect(await p.describe('missing')).toEqual({ exists: false, partitionCount: 0, partitions: [] });
    });

    it('routes a key to a stable partition: murmur2(key) mod N, as Kafka clients do', async () => {
      await p.create('keyed', 8);
      const byPartition = new Map<number, PartitionedAppended[]>();
      for (let round = 0; round < 3; round++)
        for (let k = 0; k < 24; k++) {
          const key = `user-${k}`;
          const a = await p.appendKey('keyed', key, utf8(`${key}#${round}`));
          expect(a.partition).toBe(partitionForKey(utf8(key), 8));
          byPartition.set(a.partition, [...(byPartition.get(a.partition) ?? []), a]);
        }
      // 24 keys spread over several partitions.
      expect(byPartition.size).toBeGreaterThanOrEqual(4);
      const d = await p.describe('keyed');
      for (let part = 0; part < 8; part++) {
        const appended = byPartition.get(part) ?? [];
        const got = await p.read('keyed', part, {}, deadline);
        // Each partition holds exactly its records, in append order, with increasing offsets.
        expect(got.map((r) => r.message!.id)).toEqual(appended.map((a) => a.id));
        expect(got.map((r) => r.offset)).toEqual(appended.map((a) => a.offset));
        for (const r of got) {
          expect(r.partition).toBe(part);
          expect(r.message!.topic).toBe('keyed');
          const key = text(r.message!.payload).split('#')[0]!;
          expect(partitionForKey(utf8(key), 8)).toBe(part);
        }
        for (let i = 1; i < got.length; i++) expect(got[i]!.offset).toBeGreaterThan(got[i - 1]!.offset);
        const info = d.partitions[part]!;
        if (appended.length > 0) {
          expect(info.firstOffset).toBe(appended[0]!.offset);
          expect(info.nextOffset).toBe(appended[appended.length - 1]!.offset + 1n);
        } else expect(info.nextOffset).toBe(info.firstOffset);
      }
    });

    it('routes binary, empty and unicode keys like the reference partitioner', async () => {
      await p.create('odd-keys', 5);
      const keys = [
        ALL_BYTES,
        new Uint8Array(),
        utf8('grüße ✓ 鍵'),
        Uint8Array.of(0),
        Uint8Array.of(0xff, 0xfe, 0xfd),
      ];
      for (const key of keys) {
        const a = await p.appendKey('odd-keys', key, key);
        expect(a.partition).toBe(partitionForKey(key, 5));
        const [r] = await p.read('odd-keys', a.partition, { from: a.offset, max: 1 }, deadline);
        expect(sameBytes(r!.message!.payload, key)).toBe(true);
      }
    });

    it('appends to an explicit partition and rejects partitions the stream does not have', async () => {
      await p.create('explicit', 3);
      const a = [
        await p.appendTo('explicit', 2, utf8('two-a')),
        await p.appendTo('explicit', 2, utf8('two-b')),
      ];
      expect(a.map((x) => x.partition)).toEqual([2, 2]);
      expect(a[1]!.offset).toBeGreaterThan(a[0]!.offset);
      expect((await p.read('explicit', 2, {}, deadline)).map((r) => text(r.message!.payload))).toEqual([
        'two-a',
        'two-b',
      ]);
      expect(await p.read('explicit', 1, {}, deadline)).toEqual([]);
      expect((await p.read('explicit', 2, { from: a[1]!.offset }, deadline)).map((r) => r.offset)).toEqual([
        a[1]!.offset,
      ]);
      expect((await p.read('explicit', 2, { max: 1 }, deadline)).map((r) => r.offset)).toEqual([
        a[0]!.offset,
      ]);
      for (const call of [
        () => p.appendTo('explicit', 3, utf8('x')),
        () => p.read('explicit', 7, {}, deadline),
      ]) {
        const err = await expectCode(call, Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/partition/);
      }
    });

    it('creates a stream with the default partition count on its first keyed append', async () => {
      const a = await p.appendKey('implicit', 'k', utf8('first'));
      const d = await p.describe('implicit');
      expect(d.exists).toBe(true);
      expect(d.partitionCount).toBeGreaterThanOrEqual(1);
      expect(a.partition).toBe(partitionForKey(utf8('k'), d.partitionCount));
      expect((await p.read('implicit', a.partition, {}, deadline)).map((r) => r.message!.id)).toEqual([a.id]);
      expect(await p.read('never-appended', 0, {}, deadline)).toEqual([]);
    });

    it('partition 0 is the stream_basic log', async () => {
      const basicImpl = handle.get(StreamBasic);
      if (!basicImpl) return;
      const basic = streamClient(basicImpl, namespace);
      await p.create('shared-log', 4);
      const viaPartition = await p.appendTo('shared-log', 0, utf8('partitioned'));
      const viaBasic = await basic.append('shared-log', utf8('basic'));
      expect(viaBasic.offset).toBeGreaterThan(viaPartition.offset);
      expect((await basic.read('shared-log', {}, deadline)).map((r) => r.message!.id)).toEqual([
        viaPartition.id,
        viaBasic.id,
      ]);
      expect((await p.read('shared-log', 0, {}, deadline)).map((r) => r.message!.id)).toEqual([
        viaPartition.id,
        viaBasic.id,
      ]);
      expect((await p.describe('shared-log')).partitionCount).toBe(4);
    });

    it('follows one partition: records appended later to it, and only to it', async () => {
      await p.create('tail', 2);
      const f = p.follow('tail', 1);
      followers.push(f);
      await p.appendTo('tail', 0, utf8('other'));
      const mine = [await p.appendTo('tail', 1, utf8('one')), await p.appendTo('tail', 1, utf8('two'))];
      await f.atLeast(2, 'the followed records', deadline);
      expect(f.items.map((r) => r.message!.id)).toEqual(mine.map((x) => x.id));
      await f.cancel(deadline);
    });

    it('keeps metadata per record', async () => {
      const a = await p.appendKey('meta', 'k', utf8('m'), { kind: 'keyed', note: 'grüße' });
      const [r] = await p.read('meta', a.partition, { from: a.offset, max: 1 }, deadline);
      if (options.metadata !== false) expect(r!.message!.metadata).toEqual({ kind: 'keyed', note: 'grüße' });
    });

    it('gives a single group member every partition, then its records', async () => {
      await p.create('solo', 4);
      const a: PartitionedAppended[] = [];
      for (let part = 0; part < 4; part++) a.push(await p.appendTo('solo', part, utf8(`p${part}`)));
      const m = member('solo', 'g1', 'c1');
      await m.stream.until('the first event', (items) => items.length > 0, deadline);
      expect(m.stream.items[0]!.event.case).toBe('assignment');
      await waitSettled([m], 4, 'all 4 partitions assigned to the only member');
      expect(m.assignment).toEqual([0, 1, 2, 3]);
      await m.stream.until('4 records', () => m.records.length >= 4, deadline);
      expect(m.records.map((r) => r.message!.id).sort()).toEqual(a.map((x) => x.id).sort());
      for (const r of m.records) {
        expect(r.ackId.length).toBeGreaterThan(0);
        expect(r.deliveryCount).toBe(1);
        expect(a.find((x) => x.id === r.message!.id)!.partition).toBe(r.partition);
      }
      await m.ackNew();
      await m.cancel(deadline);
    });

    it('splits partitions among members: disjoint, covering, each record to exactly one member', async () => {
      await p.create('shared', 6);
      const trio = ['c1', 'c2', 'c3'].map((c) =>
        member('shared', 'workers', c, { claimTimeoutMs: 1000, maxInFlight: 100 }),
      );
      await waitSettled(trio, 6, 'the 3 members to own disjoint partition sets covering all 6');
      const a: PartitionedAppended[] = [];
      for (let i = 0; i < 60; i++) a.push(await p.appendKey('shared', `order-${i}`, utf8(`o${i}`)));
      const union = () => trio.flatMap((m) => m.records);
      await pollUntil(
        'all 60 records across the group',
        async () => {
          for (const m of trio) await m.ackNew();
          return new Set(union().map((r) => r.message!.id)).size >= 60;
        },
        deadline,
        50,
      );
      // Every record once (no member got another member's partition while assignments were stable).
      expect(
        union()
          .map((r) => r.message!.id)
          .sort(),
      ).toEqual(a.map((x) => x.id).sort());
      for (const m of trio) {
        const owned = new Set(m.assignments.flat());
        for (const r of m.records) expect(owned.has(r.partition)).toBe(true);
        expect(m.assignment!.length).toBeGreaterThanOrEqual(1);
      }
      await Promise.all(trio.map((m) => m.cancel(deadline)));
    });

    it('hands the partitions and unacked records of a member that leaves to the others', async () => {
      await p.create('handover', 4);
      const stay = member('handover', 'ho', 'stay', { claimTimeoutMs: 1000, maxInFlight: 100 });
      const leave = member('handover', 'ho', 'leave', { claimTimeoutMs: 1000, maxInFlight: 100 });
      await waitSettled([stay, leave], 4, 'two members sharing 4 partitions');
      const leaving = new Set(leave.assignment);
      expect(leaving.size).toBeGreaterThan(0);
      const a: PartitionedAppended[] = [];
      for (let part = 0; part < 4; part++)
        for (let i = 0; i < 3; i++) a.push(await p.appendTo('handover', part, utf8(`p${part}-${i}`)));
      const onLeaving = a.filter((x) => leaving.has(x.partition));
      await leave.stream.until(
        'the leaving member to receive its partitions records',
        () => onLeaving.every((x) => leave.records.some((r) => r.message!.id === x.id)),
        deadline,
      );
      // Ack one record, leave with the rest unacked.
      const ackedId = leave.records[0]!.message!.id;
      await p.ack('handover', 'ho', [leave.records[0]!.ackId]);
      await leave.cancel(deadline);
      await waitSettled([stay], 4, 'the remaining member to own all 4 partitions');
      const unacked = onLeaving.filter((x) => x.id !== ackedId);
      await stay.stream.until(
        "the leaving member's unacked records to reach the remaining member",
        () => unacked.every((x) => stay.records.some((r) => r.message!.id === x.id)),
        deadline,
      );
      await stay.ackNew();
      expect(stay.records.some((r) => r.message!.id === ackedId)).toBe(false);
      for (const r of stay.records.filter((x) => leaving.has(x.partition)))
        expect(r.deliveryCount === 0 || r.deliveryCount >= 2).toBe(true);
      // Records of the remaining member's own partitions reached it exactly once.
      const own = a.filter((x) => !leaving.has(x.partition)).map((x) => x.id);
      expect(
        stay.records
          .filter((r) => own.includes(r.message!.id))
          .map((r) => r.message!.id)
          .sort(),
      ).toEqual(own.sort());
      await stay.cancel(deadline);
    });

    it('keeps streams and namespaces apart', async () => {
      await p.create('iso', 2);
      const mine = await p.appendTo('iso', 1, utf8('mine'));
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: MESSAGING_CONFORMANCE_LIMITS });
      try {
        const op = partitionClient(other.get(StreamPartitioning)!, otherNs);
        expect((await op.describe('iso')).exists).toBe(false);
        expect(await op.create('iso', 3)).toEqual({ created: true, partitionCount: 3 });
        await op.appendTo('iso', 1, utf8('theirs'));
        expect((await p.read('iso', 1, {}, deadline)).map((r) => r.message!.id)).toEqual([mine.id]);
        expect((await p.describe('iso')).partitionCount).toBe(2);
      } finally {
        await other.close();
      }
    });

    it('rejects invalid input with INVALID_ARGUMENT', async () => {
      for (const stream of INVALID_TOPICS) {
        await expectCode(() => p.create(stream, 2), Code.InvalidArgument);
        await expectCode(() => p.describe(stream), Code.InvalidArgument);
        await expectCode(() => p.appendKey(stream, 'k', utf8('x')), Code.InvalidArgument);
        await expectCode(() => p.read(stream, 0, {}, deadline), Code.InvalidArgument);
      }
      for (const n of [0, 1025])
        expect((await expectCode(() => p.create('v', n), Code.InvalidArgument)).rawMessage).toMatch(
          /partitions/,
        );
      expect(
        (await expectCode(() => p.appendUnrouted('v', utf8('x')), Code.InvalidArgument)).rawMessage,
      ).toMatch(/route/);
      const bigKey = new Uint8Array(MESSAGING_CONFORMANCE_LIMITS.maxKeyBytes! + 1);
      expect(
        (await expectCode(() => p.appendKey('v', bigKey, utf8('x')), Code.InvalidArgument)).rawMessage,
      ).toMatch(/key/);
      const big = new Uint8Array(MESSAGING_CONFORMANCE_LIMITS.maxValueBytes! + 1);
      await expectCode(() => p.appendKey('v', 'k', big), Code.InvalidArgument);
      await expectCode(() => p.appendKey('v', 'k', utf8('x'), { 'prism-x': '1' }), Code.InvalidArgument);
      const open = (group: string, consumer: string, o: PartitionedMemberOptions = {}) =>
        expectCode(async () => {
          const m = p.member('v', group, consumer, o);
          await m.stream.atLeast(1, 'an error', deadline);
        }, Code.InvalidArgument);
      await open('', 'c');
      await open('g', 'has.dot');
      await open('g', 'c', { maxInFlight: 1001 });
      await open('g', 'c', { claimTimeoutMs: -1 });
      await expectCode(() => p.ack('v', 'g', []), Code.InvalidArgument);
      expect((await p.describe('v')).exists).toBe(false);
    });
  });
}
