// stream_consumer_groups on Kafka consumer groups (group id `<prefix>.<ns>.<stream>.<group>`, cooperative-sticky
// assignment so a joining member never takes a partition away mid-work). Each ReadGroup stream is one group
// member (one librdkafka consumer). Acks commit, per partition, the offset below which every delivered
// record is acked; a member that leaves or dies gives its partitions (from the committed offset, i.e. with
// its unacked records) to another member. The instance remembers acked offsets and delivery counts per
// group so a redelivery skips what was acked out of order and carries delivery_count >= 2.
import type {
  KafkaConsumer,
  LibrdKafkaError,
  TopicPartition,
  TopicPartitionOffset,
} from '@confluentinc/kafka-javascript';
import rdkafka from '@confluentinc/kafka-javascript';
import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import { failedPrecondition, type Logger, PullBuffer } from '@prism/sdk';
import { GroupStart, type StreamConsumerGroupsImpl } from '@prism/stream-consumer-groups';
import { consume, type KafkaBackend, kafkaCode, mapKafkaError, toMessage } from './client.js';

const E = rdkafka.CODES.ERRORS;

/** Methods the library has (lib/kafka-consumer.js) but its typings omit. */
type GroupConsumer = KafkaConsumer & {
  commitCb(offsets: TopicPartitionOffset[], cb: (err: LibrdKafkaError | null) => void): void;
  incrementalAssign(assignment: TopicPartition[]): void;
  incrementalUnassign(assignment: TopicPartition[]): void;
};

type Delivery = {
  offset: bigint;
  message: ReturnType<typeof toMessage>;
  ackId: string;
  deliveryCount: number;
};

/** `<partition>:<offset>`: an ack id is valid on any replica (it names the record, not the member). */
const ackIdOf = (partition: number, offset: number) => `${partition}:${offset}`;

function parseAckId(id: string): { partition: number; offset: number } | undefined {
  const m = /^(\d{1,9}):(\d{1,18})$/.exec(id);
  return m ? { partition: Number(m[1]), offset: Number(m[2]) } : undefined;
}

/** What this instance knows about one group: acked offsets, delivery counts and the local members. */
class GroupState {
  readonly acked = new Map<number, Set<number>>();
  readonly deliveries = new Map<string, number>();
  readonly members = new Set<Member>();

  ackedSet(partition: number): Set<number> {
    const s = this.acked.get(partition) ?? new Set<number>();
    this.acked.set(partition, s);
    return s;
  }

  /** Forgets offsets below a committed position: they are never delivered to the group again. */
  prune(partition: number, committed: number): void {
    const s = this.acked.get(partition);
    if (s) for (const o of s) if (o < committed) s.delete(o);
    for (const key of this.deliveries.keys()) {
      const id = parseAckId(key);
      if (id && id.partition === partition && id.offset < committed) this.deliveries.delete(key);
    }
  }
}

/** One ReadGroup stream: a consumer in the Kafka group plus its per-partition commit bookkeeping. */
class Member {
  /** Per owned partition: offsets consumed (ascending) that the committed offset has not passed yet. */
  readonly pending = new Map<number, number[]>();
  /** Ack ids handed to the client and not yet acked (they occupy the in-flight window). */
  readonly #handed = new Set<string>();
  buffer: PullBuffer<Delivery> | undefined;

  constructor(
    readonly consumer: GroupConsumer,
    readonly topic: string,
    private readonly name: string,
    private readonly state: GroupState,
    private readonly timeoutMs: number,
  ) {}

  owns(partition: number): boolean {
    return this.pending.has(partition);
  }

  assigned(parts: readonly TopicPartition[]): void {
    for (const p of parts) if (!this.pending.has(p.partition)) this.pending.set(p.partition, []);
  }

  /** Partitions taken away: commit what is acked (synchronously, before unassigning), free their slots. */
  revoked(parts: readonly TopicPartition[]): void {
    const partitions = parts.map((p) => p.partition);
    const commits = this.#ackedPrefix(partitions);
    if (commits.length > 0) {
      try {
        this.consumer.commitSync(commits);
        for (const c of commits) this.state.prune(c.partition, c.offset);
      } catch {
        // The new owner starts from the previous commit: records are redelivered (at-least-once).
      }
    }
    let freed = 0;
    for (const partition of partitions) {
      for (const o of this.pending.get(partition) ?? [])
        if (this.#handed.delete(ackIdOf(partition, o))) freed++;
      this.pending.delete(partition);
    }
    if (freed) this.buffer?.settle(freed);
  }

  /** Pulls up to `max` records, skipping those the group already acked. */
  async fetch(max: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (const m of await consume(this.consumer, max)) {
      const list = this.pending.get(m.partition);
      if (!list || m.topic !== this.topic) continue;
      list.push(m.offset);
      if (this.state.ackedSet(m.partition).has(m.offset)) continue;
      const ackId = ackIdOf(m.partition, m.offset);
      const count = (this.state.deliveries.get(ackId) ?? 0) + 1;
      this.state.deliveries.set(ackId, count);
      this.#handed.add(ackId);
      out.push({ offset: BigInt(m.offset), message: toMessage(m, this.name), ackId, deliveryCount: count });
    }
    // Already-acked redeliveries were recorded as pending: let the commit move past them.
    if (out.length === 0) await this.commitAcked([...this.pending.keys()]);
    return out;
  }

  /** Per partition: pops the acked prefix of pending offsets and returns the offsets to commit. */
  #ackedPrefix(partitions: readonly number[]): { topic: string; partition: number; offset: number }[] {
    const commits: { topic: string; partition: number; offset: number }[] = [];
    let freed = 0;
    for (const partition of partitions) {
      const list = this.pending.get(partition);
      const acked = this.state.acked.get(partition);
      if (!list || !acked) continue;
      let n = 0;
      while (n < list.length && acked.has(list[n]!)) n++;
      if (n === 0) continue;
      const popped = list.splice(0, n);
      for (const o of popped) if (this.#handed.delete(ackIdOf(partition, o))) freed++;
      // Kafka commits the NEXT offset to read.
      commits.push({ topic: this.topic, partition, offset: popped[popped.length - 1]! + 1 });
    }
    if (freed) this.buffer?.settle(freed);
    return commits;
  }

  /** Commits, per partition, the offset below which every consumed record is acked. */
  async commitAcked(partitions: readonly number[]): Promise<void> {
    const commits = this.#ackedPrefix(partitions);
    if (commits.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('offset commit timed out')), this.timeoutMs);
      this.consumer.commitCb(commits, (err: LibrdKafkaError | null) => {
        clearTimeout(timer);
        if (err) reject(mapKafkaError(err, 'commit'));
        else resolve();
      });
    });
    for (const c of commits) this.state.prune(c.partition, c.offset);
  }
}

/** stream_consumer_groups over Kafka consumer groups. */
export class KafkaGroups {
  readonly #groups = new Map<string, GroupState>();

  constructor(
    private readonly backend: KafkaBackend,
    private readonly logger: Logger,
  ) {}

  #state(groupId: string): GroupState {
    const s = this.#groups.get(groupId) ?? new GroupState();
    this.#groups.set(groupId, s);
    return s;
  }

  impl(): StreamConsumerGroupsImpl {
    return {
      readGroup: (req, call) => this.#readGroup(req, call.signal),
      ack: async (req) => {
        const state = this.#groups.get(this.backend.groupId(req.stream, req.group));
        if (!state) return {};
        const touched = new Set<number>();
        for (const id of req.ackIds) {
          const parsed = parseAckId(id);
          if (!parsed) continue; // unknown ids are ignored, as the contract says
          state.ackedSet(parsed.partition).add(parsed.offset);
          touched.add(parsed.partition);
        }
        // The local member owning a partition commits for it; without one the ack stays local and the
        // record may be redelivered elsewhere (at-least-once).
        for (const member of state.members) {
          const mine = [...touched].filter((p) => member.owns(p));
          if (mine.length === 0) continue;
          await member.commitAcked(mine);
        }
        return {};
      },
      deleteGroup: async (req) => {
        const groupId = this.backend.groupId(req.stream, req.group);
        if ((this.#groups.get(groupId)?.members.size ?? 0) > 0)
          throw failedPrecondition(`group "${req.group}" of stream "${req.stream}" has active members`);
        this.#groups.delete(groupId);
        try {
          return { deleted: await this.backend.deleteGroup(groupId) };
        } catch (err) {
          if (kafkaCode(err) === E.ERR_NON_EMPTY_GROUP)
            throw failedPrecondition(`group "${req.group}" of stream "${req.stream}" has active members`);
          throw mapKafkaError(err, `delete group "${req.group}"`);
        }
      },
    };
  }

  async *#readGroup(
    req: Parameters<StreamConsumerGroupsImpl['readGroup']>[0],
    signal: AbortSignal,
  ): AsyncGenerator<Delivery> {
    const topic = this.backend.topic(req.stream);
    const groupId = this.backend.groupId(req.stream, req.group);
    const cfg = this.backend.config;
    const claimMs = orDefault(req.claimTimeoutMs, MESSAGING_DEFAULTS.claimTimeoutMs);
    const maxInFlight = orDefault(req.maxInFlight, MESSAGING_DEFAULTS.maxInFlight);
    // A dead member's partitions move after the session timeout: the claim timeout, within Kafka's bounds.
    const session = Math.min(Math.max(claimMs, cfg.min_session_timeout_ms), 1_800_000);
    const state = this.#state(groupId);
    let member: Member | undefined;
    try {
      await this.backend.ensureTopic(topic);
      const consumer = await this.backend.consumer({
        'group.id': groupId,
        'client.id': `${cfg.client_id}-${req.consumer}`,
        'auto.offset.reset': req.start === GroupStart.EARLIEST ? 'earliest' : 'latest',
        'partition.assignment.strategy': 'cooperative-sticky',
        'session.timeout.ms': session,
        'heartbeat.interval.ms': Math.max(50, Math.min(cfg.heartbeat_interval_ms, Math.floor(session / 3))),
        'max.poll.interval.ms': Math.max(session, 300_000),
        'fetch.wait.max.ms': 100,
        rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) =>
          this.#rebalance(member, err, assignment),
      });
      consumer.setDefaultConsumeTimeout(250);
      member = new Member(consumer as GroupConsumer, topic, req.stream, state, cfg.request_timeout_ms);
      state.members.add(member);
      consumer.subscribe([topic]);
      const m = member;
      const buffer = new PullBuffer<Delivery>({
        fetch: (max) => m.fetch(max),
        batchSize: Math.min(64, maxInFlight),
        maxInFlight,
        signal,
      });
      member.buffer = buffer;
      yield* buffer;
    } catch (err) {
      throw mapKafkaError(err, `read group "${req.group}" of stream "${req.stream}"`);
    } finally {
      if (member) {
        await member.buffer?.release();
        await member.commitAcked([...member.pending.keys()]).catch(() => {});
        state.members.delete(member);
        // Leaving the group hands this member's partitions (and its unacked records) to the others.
        await this.backend.closeConsumer(member.consumer);
      }
    }
  }

  #rebalance(member: Member | undefined, err: LibrdKafkaError, assignment: TopicPartition[]): void {
    if (!member) return;
    const c = member.consumer;
    // The strategy is cooperative-sticky, so assignment changes are always incremental (rebalanceProtocol()
    // may say NONE while the consumer closes, and a full unassign() would then fail and stall the close).
    try {
      if (err.code === E.ERR__ASSIGN_PARTITIONS) {
        member.assigned(assignment);
        c.incrementalAssign(assignment);
      } else if (err.code === E.ERR__REVOKE_PARTITIONS) {
        member.revoked(assignment);
        c.incrementalUnassign(assignment);
      }
    } catch (e) {
      this.logger.warn({ err: (e as Error).message, code: err.code }, 'kafka rebalance failed');
    }
  }

  /** Forgets local group state (instance close). Members end with their streams. */
  close(): void {
    this.#groups.clear();
  }
}
