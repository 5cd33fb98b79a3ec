// stream_consumer_groups on Kafka consumer groups (group id `<prefix>.<ns>.<stream>.<group>`, cooperative-sticky
// assignment so a joining member never takes a partition away mid-work). Each ReadGroup stream is one group
// member (one librdkafka consumer). Acks commit, per partition, the offset below which every delivered
// record is acked; a member that leaves or dies gives its partitions (from the committed offset, i.e. with
// its unacked records) to another member. The instance remembers acked offsets and delivery counts per
// group so a redelivery skips what was acked out of order and carries delivery_count >= 2. An ack for a
// partition no local member owns is relayed through the namespace's internal topic `<prefix>.<ns>..acks`
// (see AckRelay), so the instance holding the member commits it and frees its in-flight slots.
import { randomUUID } from 'node:crypto';
import type {
  KafkaConsumer,
  Message as KafkaMessage,
  LibrdKafkaError,
  TopicPartition,
  TopicPartitionOffset,
} from '@confluentinc/kafka-javascript';
import rdkafka from '@confluentinc/kafka-javascript';
import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import type { PubSubPersistentImpl } from '@prism/pubsub-persistent';
import { type CallContext, failedPrecondition, type Logger, PullBuffer } from '@prism/sdk';
import { GroupStart, type StreamConsumerGroupsImpl } from '@prism/stream-consumer-groups';
import type { StreamPartitioningImpl } from '@prism/stream-partitioning';
import { consume, type KafkaBackend, kafkaCode, mapKafkaError, recordId, toMessage } from './client.js';

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

/** A change of a member's partition set (stream_partitioning's assignment events). */
type Assigned = { assignment: number[] };

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

/** Header naming the instance that relayed an ack (it skips its own records). */
const RELAY_FROM = 'prism-from';

/**
 * Relays acks between instances (proxy replicas) of one namespace: an ack for a partition that no member of
 * this instance owns is produced to the internal topic `<prefix>.<ns>..acks` (one partition, record key =
 * group id, value = the ack ids, deleted after an hour); every instance with group members follows that
 * topic from the moment its first member starts, and applies the acks of its groups as if they had arrived
 * locally. No state is shared outside Kafka.
 */
class AckRelay {
  readonly #instance = randomUUID();
  readonly #topic: string;
  #created: Promise<void> | undefined;
  #tail: Promise<void> | undefined;

  constructor(
    private readonly backend: KafkaBackend,
    private readonly logger: Logger,
    private readonly apply: (groupId: string, ids: readonly string[]) => Promise<unknown>,
  ) {
    // Topics never start with a dot, so `<prefix>.<ns>..acks` cannot be a user topic or stream.
    this.#topic = backend.topic('.acks');
  }

  #ensure(): Promise<void> {
    this.#created ??= this.backend
      .ensureTopic(this.#topic, 1, { 'retention.ms': '3600000', 'cleanup.policy': 'delete' })
      .catch((err: unknown) => {
        this.#created = undefined;
        throw err;
      });
    return this.#created;
  }

  /** Follows the relay topic from its current end (once per instance; the consumer closes with the backend). */
  follow(): Promise<void> {
    this.#tail ??= (async () => {
      await this.#ensure();
      const { highOffset } = await this.backend.watermarks(this.#topic, 0);
      const consumer = await this.backend.consumer({
        // Never joins the group (manual assignment); librdkafka just requires an id.
        'group.id': `prism-acks-${this.#instance}`,
        'auto.offset.reset': 'latest',
        'fetch.wait.max.ms': 50,
      });
      consumer.assign([{ topic: this.#topic, partition: 0, offset: highOffset }]);
      consumer.consume((err, m) => {
        // In flowing mode the callback gets one record at a time (the typings describe batch mode).
        if (!err && m) this.#receive(m as unknown as KafkaMessage);
      });
    })().catch((err: unknown) => {
      this.#tail = undefined;
      throw err;
    });
    return this.#tail;
  }

  #receive(m: KafkaMessage): void {
    const from = m.headers?.find((h) => RELAY_FROM in h)?.[RELAY_FROM];
    if (from !== undefined && String(from) === this.#instance) return;
    if (!m.key || !m.value) return;
    const ids = m.value.toString('utf8').split(',');
    this.apply(String(m.key), ids).catch((err: unknown) =>
      this.logger.debug({ err: (err as Error).message }, 'kafka relayed ack failed'),
    );
  }

  /** Produces the ack ids of `groupId` for the instance holding the member (resolves when the broker has them). */
  async publish(groupId: string, ids: readonly string[], ctx?: Pick<CallContext, 'deadline'>): Promise<void> {
    await this.backend.bounded(this.#ensure(), ctx);
    await this.backend.produce(
      this.#topic,
      0,
      Buffer.from(ids.join(','), 'utf8'),
      { [RELAY_FROM]: this.#instance },
      ctx,
      Buffer.from(groupId, 'utf8'),
    );
  }
}

/** One ReadGroup stream: a consumer in the Kafka group plus its per-partition commit bookkeeping. */
class Member {
  /** Per owned partition: offsets consumed (ascending) that the committed offset has not passed yet. */
  readonly pending = new Map<number, number[]>();
  /** Ack ids handed to the client and not yet acked (they occupy the in-flight window) → when handed. */
  readonly #handed = new Map<string, number>();
  buffer: PullBuffer<Delivery | Assigned> | undefined;
  /** Bumped whenever the owned partitions change. */
  version = 0;

  constructor(
    readonly consumer: GroupConsumer,
    readonly topic: string,
    private readonly name: string,
    private readonly state: GroupState,
    private readonly timeoutMs: number,
    /** Redeliver a handed record not acked within this many ms (undefined: only after the member leaves). */
    private readonly ackWaitMs?: number,
  ) {}

  owns(partition: number): boolean {
    return this.pending.has(partition);
  }

  assigned(parts: readonly TopicPartition[]): void {
    for (const p of parts) if (!this.pending.has(p.partition)) this.pending.set(p.partition, []);
    if (parts.length > 0) this.version++;
  }

  /** Owned partitions, ascending. */
  get partitions(): number[] {
    return [...this.pending.keys()].sort((a, b) => a - b);
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
    if (partitions.length > 0) this.version++;
    if (freed) this.buffer?.settle(freed);
  }

  /** Pulls up to `max` records, skipping those the group already acked or that are still out unexpired. */
  async fetch(max: number): Promise<Delivery[]> {
    if (this.ackWaitMs !== undefined) await this.#rewindExpired(this.ackWaitMs);
    const out: Delivery[] = [];
    for (const m of await consume(this.consumer, max)) {
      const list = this.pending.get(m.partition);
      if (!list || m.topic !== this.topic) continue;
      list.push(m.offset);
      const ackId = ackIdOf(m.partition, m.offset);
      if (this.state.ackedSet(m.partition).has(m.offset) || this.#handed.has(ackId)) continue;
      const count = (this.state.deliveries.get(ackId) ?? 0) + 1;
      this.state.deliveries.set(ackId, count);
      this.#handed.set(ackId, Date.now());
      out.push({ offset: BigInt(m.offset), message: toMessage(m, this.name), ackId, deliveryCount: count });
    }
    // Already-acked redeliveries were recorded as pending: let the commit move past them.
    if (out.length === 0) await this.commitAcked([...this.pending.keys()]);
    return out;
  }

  /**
   * Kafka has no per-record redelivery: when a handed record's ack wait has passed, seek its partition back
   * to it. Re-consumed records are delivered again only if acked by nobody and not still out unexpired.
   */
  async #rewindExpired(ackWaitMs: number): Promise<void> {
    const now = Date.now();
    let freed = 0;
    for (const [partition, list] of this.pending) {
      const i = list.findIndex((o) => now - (this.#handed.get(ackIdOf(partition, o)) ?? now) >= ackWaitMs);
      if (i < 0) continue;
      const from = list[i]!;
      for (const o of list.splice(i)) {
        const id = ackIdOf(partition, o);
        const at = this.#handed.get(id);
        if (at !== undefined && now - at >= ackWaitMs && this.#handed.delete(id)) freed++;
      }
      await new Promise<void>((resolve, reject) =>
        this.consumer.seek({ topic: this.topic, partition, offset: from }, this.timeoutMs, (err) =>
          err ? reject(mapKafkaError(err, 'seek')) : resolve(),
        ),
      );
    }
    if (freed) this.buffer?.settle(freed);
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

/** How one member joins its group. */
interface MemberSpec {
  readonly topic: string;
  /** Topic / stream name as the client knows it (message.topic). */
  readonly name: string;
  readonly groupId: string;
  /** Appended to the client id (the consumer or subscription name), for broker-side diagnostics. */
  readonly tag: string;
  /** Where a group without committed offsets starts. */
  readonly reset: 'earliest' | 'latest';
  /** Session timeout wish (clamped to the configured floor and Kafka's 30 min). */
  readonly sessionMs: number;
  readonly maxInFlight: number;
  readonly ackWaitMs?: number;
  /** Emit an {@link Assigned} event first and on every change of the member's partitions. */
  readonly assignments?: boolean;
}

/**
 * Consumer groups for stream_consumer_groups (`<prefix>.<ns>.<stream>.<group>`) and durable subscriptions of
 * pubsub_persistent (`<prefix>.<ns>.<topic>:<subscription>`): one Kafka group member per open stream.
 */
export class KafkaGroups {
  readonly #groups = new Map<string, GroupState>();
  readonly #relay: AckRelay;

  constructor(
    private readonly backend: KafkaBackend,
    private readonly logger: Logger,
  ) {
    this.#relay = new AckRelay(backend, logger, (groupId, ids) => this.#applyAcks(groupId, ids));
  }

  #state(groupId: string): GroupState {
    const s = this.#groups.get(groupId) ?? new GroupState();
    this.#groups.set(groupId, s);
    return s;
  }

  impl(): StreamConsumerGroupsImpl {
    return {
      readGroup: (req, call) => {
        const claimMs = orDefault(req.claimTimeoutMs, MESSAGING_DEFAULTS.claimTimeoutMs);
        return this.#member(
          {
            topic: this.backend.topic(req.stream),
            name: req.stream,
            groupId: this.backend.groupId(req.stream, req.group),
            tag: req.consumer,
            reset: req.start === GroupStart.EARLIEST ? 'earliest' : 'latest',
            // A dead member's partitions move after the session timeout: the claim timeout, within bounds.
            sessionMs: claimMs,
            maxInFlight: orDefault(req.maxInFlight, MESSAGING_DEFAULTS.maxInFlight),
          },
          call.signal,
          `read group "${req.group}" of stream "${req.stream}"`,
        );
      },
      ack: async (req, ctx) => {
        await this.#ack(this.backend.groupId(req.stream, req.group), req.ackIds, ctx);
        return {};
      },
      deleteGroup: async (req) => ({
        deleted: await this.#delete(
          this.backend.groupId(req.stream, req.group),
          `group "${req.group}" of stream "${req.stream}"`,
        ),
      }),
    };
  }

  persistent(): PubSubPersistentImpl {
    return {
      publishPersistent: async (req, ctx) => {
        const topic = this.backend.topic(req.topic);
        try {
          await this.backend.bounded(this.backend.ensureTopic(topic), ctx);
          const d = await this.backend.produce(topic, 0, req.payload, req.metadata, ctx);
          return { messageId: recordId(d.partition, d.offset) };
        } catch (err) {
          throw mapKafkaError(err, `publish to "${req.topic}"`);
        }
      },
      subscribeDurable: (req, call) => this.#subscribeDurable(req, call.signal),
      ack: async (req, ctx) => {
        await this.#ack(this.backend.subscriptionId(req.topic, req.subscription), req.ackIds, ctx);
        return {};
      },
      deleteSubscription: async (req) => ({
        deleted: await this.#delete(
          this.backend.subscriptionId(req.topic, req.subscription),
          `subscription "${req.subscription}" of topic "${req.topic}"`,
        ),
      }),
    };
  }

  async *#subscribeDurable(
    req: Parameters<PubSubPersistentImpl['subscribeDurable']>[0],
    signal: AbortSignal,
  ) {
    const topic = this.backend.topic(req.topic);
    const groupId = this.backend.subscriptionId(req.topic, req.subscription);
    const ackWaitMs = orDefault(req.ackWaitMs, MESSAGING_DEFAULTS.ackWaitMs);
    try {
      await this.backend.ensureTopic(topic);
      await this.#createAtEnd(groupId, topic);
    } catch (err) {
      throw mapKafkaError(err, `subscribe "${req.subscription}" to "${req.topic}"`);
    }
    // The subscription's position is committed: everything published from now on is kept for it.
    yield { event: { case: 'subscribed' as const, value: { subscriptionId: groupId } } };
    const deliveries = this.#member(
      {
        topic,
        name: req.topic,
        groupId,
        tag: req.subscription,
        reset: 'earliest',
        sessionMs: ackWaitMs,
        maxInFlight: orDefault(req.maxInFlight, MESSAGING_DEFAULTS.maxInFlight),
        ackWaitMs,
      },
      signal,
      `subscription "${req.subscription}" of "${req.topic}"`,
    );
    for await (const d of deliveries)
      yield {
        event: {
          case: 'message' as const,
          value: { message: d.message, ackId: d.ackId, deliveryCount: d.deliveryCount },
        },
      };
  }

  /**
   * Creates a durable subscription positioned at the end of the topic by committing the high watermarks for
   * its group (unless it has committed offsets already), so it keeps every later message even before a
   * member has joined.
   */
  async #createAtEnd(groupId: string, topic: string): Promise<void> {
    const partitions = (await this.backend.partitions(topic)) ?? [0];
    const committed = await this.backend.committedOffsets(groupId, topic, partitions);
    if (committed.some((o) => o >= 0)) return;
    const highs = await Promise.all(partitions.map((p) => this.backend.watermarks(topic, p)));
    const offsets = partitions.map((partition, i) => ({ topic, partition, offset: highs[i]!.highOffset }));
    const consumer = await this.backend.consumer({ 'group.id': groupId });
    try {
      // A manually assigned consumer commits without joining the group.
      consumer.assign(offsets);
      consumer.commitSync(offsets);
    } catch (err) {
      // A concurrent first subscriber may have joined (the group is no longer empty): it exists then.
      if ((await this.backend.committedOffsets(groupId, topic, partitions)).every((o) => o < 0)) throw err;
    } finally {
      await this.backend.closeConsumer(consumer);
    }
  }

  /**
   * Applies acks locally; the ids of partitions no local member owns are relayed to the instance that holds
   * the owning member (see {@link AckRelay}). Unknown ids are ignored, as the contracts say.
   */
  async #ack(groupId: string, ackIds: readonly string[], ctx?: Pick<CallContext, 'deadline'>): Promise<void> {
    const ids = ackIds.filter((id) => parseAckId(id) !== undefined);
    if (ids.length === 0) return;
    const owned = await this.#applyAcks(groupId, ids);
    const foreign = ids.filter((id) => !owned.has(parseAckId(id)!.partition));
    if (foreign.length === 0) return;
    try {
      await this.#relay.publish(groupId, foreign, ctx);
    } catch (err) {
      throw mapKafkaError(err, 'relay ack');
    }
  }

  /**
   * Records acks in this instance's group state (so a redelivery here skips them) and lets the local members
   * owning their partitions commit; resolves with the partitions a local member owns.
   */
  async #applyAcks(groupId: string, ids: readonly string[]): Promise<Set<number>> {
    const owned = new Set<number>();
    const state = this.#groups.get(groupId);
    if (!state) return owned;
    const touched = new Set<number>();
    for (const id of ids) {
      const parsed = parseAckId(id);
      if (!parsed) continue;
      state.ackedSet(parsed.partition).add(parsed.offset);
      touched.add(parsed.partition);
    }
    for (const member of state.members) {
      const mine = [...touched].filter((p) => member.owns(p));
      for (const p of mine) owned.add(p);
      if (mine.length > 0) await member.commitAcked(mine);
    }
    return owned;
  }

  async #delete(groupId: string, what: string): Promise<boolean> {
    if ((this.#groups.get(groupId)?.members.size ?? 0) > 0)
      throw failedPrecondition(`${what} has open streams`);
    this.#groups.delete(groupId);
    try {
      return await this.backend.deleteGroup(groupId);
    } catch (err) {
      if (kafkaCode(err) === E.ERR_NON_EMPTY_GROUP) throw failedPrecondition(`${what} has active members`);
      throw mapKafkaError(err, `delete ${what}`);
    }
  }

  /**
   * stream_partitioning's group reading and acking: the same Kafka groups as stream_consumer_groups (group id
   * `<prefix>.<ns>.<stream>.<group>`), with the member's partition set sent as an event on every change.
   */
  partitioned(): Pick<StreamPartitioningImpl, 'readPartitionedGroup' | 'ackPartitioned'> {
    const groups = this;
    return {
      readPartitionedGroup: async function* (req, call) {
        const claimMs = orDefault(req.claimTimeoutMs, MESSAGING_DEFAULTS.claimTimeoutMs);
        const topic = groups.backend.topic(req.stream);
        const events = groups.#run(
          {
            topic,
            name: req.stream,
            groupId: groups.backend.groupId(req.stream, req.group),
            tag: req.consumer,
            reset: req.start === GroupStart.EARLIEST ? 'earliest' : 'latest',
            sessionMs: claimMs,
            maxInFlight: orDefault(req.maxInFlight, MESSAGING_DEFAULTS.maxInFlight),
            assignments: true,
          },
          call.signal,
          `read group "${req.group}" of stream "${req.stream}"`,
        );
        for await (const e of events) {
          if ('assignment' in e) {
            const count = (await groups.backend.partitions(topic).catch(() => undefined))?.length ?? 0;
            yield {
              event: {
                case: 'assignment' as const,
                value: { partitions: e.assignment, partitionCount: count },
              },
            };
          } else
            yield {
              event: {
                case: 'record' as const,
                value: { ...e, partition: parseAckId(e.ackId)?.partition ?? 0 },
              },
            };
        }
      },
      ackPartitioned: async (req, ctx) => {
        await groups.#ack(groups.backend.groupId(req.stream, req.group), req.ackIds, ctx);
        return {};
      },
    };
  }

  async *#member(spec: MemberSpec, signal: AbortSignal, what: string): AsyncGenerator<Delivery> {
    for await (const e of this.#run(spec, signal, what)) if (!('assignment' in e)) yield e;
  }

  async *#run(spec: MemberSpec, signal: AbortSignal, what: string): AsyncGenerator<Delivery | Assigned> {
    const cfg = this.backend.config;
    const session = Math.min(Math.max(spec.sessionMs, cfg.min_session_timeout_ms), 1_800_000);
    const state = this.#state(spec.groupId);
    let member: Member | undefined;
    try {
      await this.backend.ensureTopic(spec.topic);
      // Acks for this member that reach other instances arrive through the relay from now on.
      await this.#relay.follow();
      const consumer = await this.backend.consumer({
        'group.id': spec.groupId,
        'client.id': `${cfg.client_id}-${spec.tag}`,
        'auto.offset.reset': spec.reset,
        'partition.assignment.strategy': 'cooperative-sticky',
        'session.timeout.ms': session,
        'heartbeat.interval.ms': Math.max(50, Math.min(cfg.heartbeat_interval_ms, Math.floor(session / 3))),
        'max.poll.interval.ms': Math.max(session, 300_000),
        'fetch.wait.max.ms': 100,
        rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) =>
          this.#rebalance(member, err, assignment),
      });
      consumer.setDefaultConsumeTimeout(250);
      member = new Member(
        consumer as GroupConsumer,
        spec.topic,
        spec.name,
        state,
        cfg.request_timeout_ms,
        spec.ackWaitMs,
      );
      state.members.add(member);
      consumer.subscribe([spec.topic]);
      const m = member;
      let sent = -1;
      const buffer = new PullBuffer<Delivery | Assigned>({
        fetch: async (max) => {
          if (spec.assignments && m.version !== sent) {
            sent = m.version;
            return [{ assignment: m.partitions }];
          }
          return m.fetch(max);
        },
        batchSize: Math.min(64, spec.maxInFlight),
        maxInFlight: spec.maxInFlight,
        signal,
      });
      member.buffer = buffer;
      for await (const e of buffer) {
        // Assignment events do not occupy the in-flight window.
        if ('assignment' in e) buffer.settle(1);
        yield e;
      }
    } catch (err) {
      throw mapKafkaError(err, what);
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
    const c = member?.consumer;
    // A callback can still arrive after the stream ended and its consumer was disconnected.
    if (!member || !c?.isConnected()) return;
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
      // Closing races the callback (the member is leaving anyway): not worth a warning.
      const closing = !c.isConnected() || /disconnected/i.test((e as Error).message);
      this.logger[closing ? 'debug' : 'warn'](
        { err: (e as Error).message, code: err.code },
        'kafka rebalance failed',
      );
    }
  }

  /** Forgets local group state (instance close). Members end with their streams. */
  close(): void {
    this.#groups.clear();
  }
}
