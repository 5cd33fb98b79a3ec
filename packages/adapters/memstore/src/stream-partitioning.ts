// MemStore stream_partitioning: partition 0 of a stream is its stream_basic log, partition k > 0 is a hidden
// log of the same MemLogs (a name with a NUL, which no stream name can contain). Partitioned consumer groups
// assign partition p to member (p mod n) of the n live members in join order; each partition keeps its own
// MemStore group (position + pending), and a member losing a partition "leaves" that partition's group, so
// its unacked records there are claimable by the new owner at once.
import { MESSAGING_DEFAULTS, type Message, orDefault } from '@prism/pubsub-basic';
import { alreadyExists, type CallContext } from '@prism/sdk';
import {
  GroupStart,
  partitionForKey,
  partitionOutOfRange,
  type StreamPartitioningImpl,
} from '@prism/stream-partitioning';
import type { Group, MemLog, MemLogs } from './log.js';

/** How long an idle reader sleeps at most between checks (it is woken on every change anyway). */
const IDLE_CHECK_MS = 30_000;

/** Partition count of streams that were not created by CreatePartitionedStream. */
const DEFAULT_PARTITIONS = 1;

const partitionLogName = (stream: string, partition: number) =>
  partition === 0 ? stream : `${stream}\u0000${partition}`;

/** One live member of a partitioned group. */
interface PartMember {
  readonly id: number;
  /** Partition → this member's id in that partition's MemStore group. */
  readonly owned: Map<number, number>;
  /** Ack ids handed out and not acked yet (the in-flight window). */
  readonly handed: Set<string>;
  /** Bumped on every change of `owned`. */
  version: number;
}

/** The members of one group of one partitioned stream, and the partition assignment among them. */
class PartitionedGroup {
  readonly members: PartMember[] = [];
  #nextId = 1;

  constructor(
    private readonly parts: MemPartitions,
    private readonly stream: string,
    private readonly name: string,
    private readonly startAtEnd: boolean,
  ) {}

  /** The MemStore group of partition `p` (created at its start position on first use). */
  partitionGroup(p: number): Group {
    return this.parts.log(this.stream, p).group(this.name, this.startAtEnd);
  }

  join(): PartMember {
    const m: PartMember = { id: this.#nextId++, owned: new Map(), handed: new Set(), version: 0 };
    this.members.push(m);
    this.rebalance();
    return m;
  }

  leave(m: PartMember): void {
    const i = this.members.indexOf(m);
    if (i >= 0) this.members.splice(i, 1);
    for (const [p, inner] of m.owned) this.partitionGroup(p).leave(inner);
    m.owned.clear();
    this.rebalance();
  }

  /** Partition p → members[p mod n]: revoke first (handing pending records over), then assign. */
  rebalance(): void {
    const count = this.parts.count(this.stream);
    const n = this.members.length;
    const want = (p: number) => (n === 0 ? undefined : this.members[p % n]);
    for (const m of this.members)
      for (const [p, inner] of [...m.owned])
        if (p >= count || want(p) !== m) {
          this.partitionGroup(p).leave(inner);
          m.owned.delete(p);
          for (const id of [...m.handed]) if (id.startsWith(`${p}:`)) m.handed.delete(id);
          m.version++;
        }
    for (let p = 0; p < count; p++) {
      const m = want(p);
      if (m && !m.owned.has(p)) {
        m.owned.set(p, this.partitionGroup(p).join());
        m.version++;
      }
    }
    this.parts.logs.notifier.notify();
  }

  ack(ackIds: readonly string[]): void {
    for (const id of ackIds) {
      const colon = id.indexOf(':');
      const p = Number(id.slice(0, colon));
      if (colon < 1 || !Number.isInteger(p) || p < 0 || p >= this.parts.count(this.stream)) continue;
      this.partitionGroup(p).ack([id.slice(colon + 1)]);
      for (const m of this.members) m.handed.delete(id);
    }
    this.parts.logs.notifier.notify();
  }
}

/** Partition counts and partitioned groups of one namespace's streams. */
export class MemPartitions {
  readonly #counts = new Map<string, number>();
  readonly #groups = new Map<string, PartitionedGroup>();

  constructor(readonly logs: MemLogs) {}

  exists(stream: string): boolean {
    return this.#counts.has(stream) || this.logs.get(stream) !== undefined;
  }

  /** Partition count (the default for streams that only stream_basic has created; 0 when missing). */
  count(stream: string): number {
    return this.#counts.get(stream) ?? (this.logs.get(stream) ? DEFAULT_PARTITIONS : 0);
  }

  /** Creates the stream with `n` partitions; false when it exists with `n` already. */
  create(stream: string, n: number): boolean {
    if (this.exists(stream)) {
      const have = this.count(stream);
      if (have !== n)
        throw alreadyExists(
          `stream "${stream}" already exists with ${have} partition${have === 1 ? '' : 's'}`,
        );
      return false;
    }
    this.#counts.set(stream, n);
    this.logs.ensure(stream);
    return true;
  }

  /** Creates the stream with the default count unless it exists; returns its count. */
  ensure(stream: string): number {
    if (!this.exists(stream)) this.create(stream, DEFAULT_PARTITIONS);
    return this.count(stream);
  }

  log(stream: string, partition: number): MemLog {
    return this.logs.ensure(partitionLogName(stream, partition));
  }

  peek(stream: string, partition: number): MemLog | undefined {
    return this.logs.get(partitionLogName(stream, partition));
  }

  group(stream: string, name: string, startAtEnd: boolean): PartitionedGroup {
    const key = `${stream}\u0000${name}`;
    let g = this.#groups.get(key);
    if (!g) {
      g = new PartitionedGroup(this, stream, name, startAtEnd);
      this.#groups.set(key, g);
    }
    return g;
  }

  existingGroup(stream: string, name: string): PartitionedGroup | undefined {
    return this.#groups.get(`${stream}\u0000${name}`);
  }
}

const copy = (m: Message): Message => ({ ...m, payload: m.payload.slice() });

async function* readPartition(
  parts: MemPartitions,
  stream: string,
  partition: number,
  from: bigint,
  max: number,
  follow: boolean,
  ctx: CallContext,
) {
  const count = parts.count(stream);
  if (count > 0 && partition >= count) throw partitionOutOfRange(stream, partition, count);
  const end = parts.peek(stream, partition)?.next ?? 1n;
  let pos = from;
  let n = 0;
  const notifier = parts.logs.notifier;
  while (!ctx.signal.aborted && !notifier.closed && (max === 0 || n < max)) {
    const log = parts.peek(stream, partition);
    if (log) {
      if (pos < log.first) pos = log.first;
      const record = log.at(pos);
      if (record && (follow || record.offset < end)) {
        pos = record.offset + 1n;
        n++;
        yield { partition, offset: record.offset, message: copy(record.message) };
        continue;
      }
    }
    if (!follow) return;
    await notifier.wait(ctx.signal, IDLE_CHECK_MS);
  }
}

/** stream_partitioning over MemLogs. */
export function memStreamPartitioning(parts: MemPartitions): StreamPartitioningImpl {
  return {
    createPartitionedStream: (req) => ({
      created: parts.create(req.stream, req.partitions),
      partitionCount: req.partitions,
    }),
    describePartitionedStream: (req) => {
      const count = parts.count(req.stream);
      return {
        exists: parts.exists(req.stream),
        partitionCount: count,
        partitions: Array.from({ length: count }, (_, partition) => {
          const log = parts.peek(req.stream, partition);
          return { partition, firstOffset: log?.first ?? 1n, nextOffset: log?.next ?? 1n };
        }),
      };
    },
    appendPartitioned: (req) => {
      const count = parts.ensure(req.stream);
      const route = req.route;
      const partition = route.case === 'key' ? partitionForKey(route.value, count) : (route.value ?? 0);
      if (partition >= count) throw partitionOutOfRange(req.stream, partition, count);
      const r = parts.log(req.stream, partition).append(req.stream, req.payload, req.metadata);
      return { partition, offset: r.offset, messageId: r.message.id, timestampMs: r.message.timestampMs };
    },
    readPartition: (req, ctx) =>
      readPartition(parts, req.stream, req.partition, req.fromOffset, req.maxRecords, req.follow, ctx),
    readPartitionedGroup: async function* (req, ctx) {
      parts.ensure(req.stream);
      const group = parts.group(req.stream, req.group, req.start !== GroupStart.EARLIEST);
      const maxInFlight = req.maxInFlight || MESSAGING_DEFAULTS.maxInFlight;
      const claimMs = orDefault(req.claimTimeoutMs, MESSAGING_DEFAULTS.claimTimeoutMs);
      const notifier = parts.logs.notifier;
      const member = group.join();
      let sent = -1;
      let cursor = 0;
      try {
        while (!ctx.signal.aborted && !notifier.closed) {
          if (member.version !== sent) {
            sent = member.version;
            yield {
              event: {
                case: 'assignment' as const,
                value: {
                  partitions: [...member.owned.keys()].sort((a, b) => a - b),
                  partitionCount: parts.count(req.stream),
                },
              },
            };
            continue;
          }
          let wake: number | undefined;
          let got:
            | { partition: number; claimed: Exclude<ReturnType<Group['claim']>, number | undefined> }
            | undefined;
          if (member.handed.size < maxInFlight) {
            const owned = [...member.owned];
            for (let i = 0; i < owned.length && !got; i++) {
              const [partition, inner] = owned[(cursor + i) % owned.length]!;
              const r = group.partitionGroup(partition).claim(inner, Number.POSITIVE_INFINITY, claimMs);
              if (typeof r === 'object') got = { partition, claimed: r };
              else if (r !== undefined) wake = wake === undefined ? r : Math.min(wake, r);
            }
            cursor++;
          }
          if (got) {
            const ackId = `${got.partition}:${got.claimed.ackId}`;
            member.handed.add(ackId);
            yield {
              event: {
                case: 'record' as const,
                value: {
                  partition: got.partition,
                  offset: got.claimed.record.offset,
                  message: copy(got.claimed.record.message),
                  ackId,
                  deliveryCount: got.claimed.deliveryCount,
                },
              },
            };
            continue;
          }
          await notifier.wait(ctx.signal, wake === undefined ? IDLE_CHECK_MS : wake - Date.now());
        }
      } finally {
        group.leave(member);
      }
    },
    ackPartitioned: (req) => {
      parts.existingGroup(req.stream, req.group)?.ack(req.ackIds);
      return {};
    },
  };
}
