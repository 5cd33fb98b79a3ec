// In-memory append-only logs with consumer groups: the engine behind MemStore's streams and durable
// pub/sub. Offsets start at 1 and are contiguous (trimming only removes a prefix). A group hands each record
// to one live member at a time and keeps it pending until acked; a member's pending records become
// claimable at once when it leaves, or when its claim timeout passes.
import { randomUUID } from 'node:crypto';
import type { Message } from '@prism/pubsub-basic';

/** One stored record. */
export interface LogRecord {
  readonly offset: bigint;
  readonly message: Message;
}

/** Wakes waiting readers when anything changes; a wait also ends on timeout, abort or close. */
export class Notifier {
  readonly #waiters = new Set<() => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves on the next change, after `ms` (if given), on abort or on close. */
  wait(signal: AbortSignal, ms?: number): Promise<void> {
    if (this.#closed || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, Math.max(1, ms));
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  close(): void {
    this.#closed = true;
    this.notify();
  }
}

interface Pending {
  member: number;
  /** Epoch ms after which another member may claim it. */
  deadline: number;
  count: number;
}

/** What a member gets from {@link Group.claim}. */
export interface Claimed {
  readonly record: LogRecord;
  readonly ackId: string;
  readonly deliveryCount: number;
}

/** A consumer group (or durable subscription) over one log. */
export class Group {
  /** Distinguishes ack ids of a deleted-and-recreated group. */
  readonly epoch = randomUUID().slice(0, 8);
  readonly #pending = new Map<bigint, Pending>();
  readonly #live = new Set<number>();
  #nextMember = 1;

  constructor(
    private readonly log: MemLog,
    /** Next offset never handed out yet. */
    public position: bigint,
  ) {}

  join(): number {
    const id = this.#nextMember++;
    this.#live.add(id);
    return id;
  }

  /** A member left: its pending records may be claimed at once. */
  leave(member: number): void {
    this.#live.delete(member);
    for (const p of this.#pending.values()) if (p.member === member) p.deadline = 0;
    this.log.notifier.notify();
  }

  /**
   * Hands the next record to `member`: first an abandoned or timed-out pending one, then a new one.
   * Returns the record, or the time (epoch ms) when one may become claimable (undefined: on change only).
   */
  claim(member: number, maxInFlight: number, claimTimeoutMs: number): Claimed | number | undefined {
    const now = Date.now();
    let inFlight = 0;
    let ownExpiry: number | undefined;
    let wakeAt: number | undefined;
    for (const [offset, p] of this.#pending) {
      if (this.log.at(offset) === undefined) this.#pending.delete(offset);
      else if (p.member === member && p.deadline > now) {
        inFlight++;
        ownExpiry = ownExpiry === undefined ? p.deadline : Math.min(ownExpiry, p.deadline);
      }
    }
    // Window full: wait for an ack (a change) or for one of our own deliveries to time out.
    if (inFlight >= maxInFlight) return ownExpiry;
    for (const [offset, p] of this.#pending) {
      const abandoned = !this.#live.has(p.member) || p.deadline <= now;
      if (!abandoned) {
        wakeAt = wakeAt === undefined ? p.deadline : Math.min(wakeAt, p.deadline);
        continue;
      }
      p.member = member;
      p.deadline = now + claimTimeoutMs;
      p.count++;
      return this.#claimed(this.log.at(offset)!, p.count);
    }
    if (this.position < this.log.first) this.position = this.log.first;
    const record = this.log.at(this.position);
    if (!record) return wakeAt;
    this.position++;
    this.#pending.set(record.offset, { member, deadline: now + claimTimeoutMs, count: 1 });
    return this.#claimed(record, 1);
  }

  #claimed(record: LogRecord, deliveryCount: number): Claimed {
    return { record, ackId: `${this.epoch}.${record.offset}`, deliveryCount };
  }

  /** Marks records processed; unknown or foreign ack ids are ignored. */
  ack(ackIds: readonly string[]): void {
    for (const id of ackIds) {
      const dot = id.indexOf('.');
      if (id.slice(0, dot) !== this.epoch) continue;
      try {
        this.#pending.delete(BigInt(id.slice(dot + 1)));
      } catch {
        // Not a number: not one of ours.
      }
    }
    this.log.notifier.notify();
  }

  /** Lowest offset this group still needs (pending or not yet delivered). */
  get lowWater(): bigint {
    let low = this.position;
    for (const offset of this.#pending.keys()) if (offset < low) low = offset;
    return low;
  }
}

/** A retention policy of one log (stream_retention); 0 = unlimited. */
export interface LogRetention {
  readonly maxAgeMs: number;
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/** No retention limits. */
export const NO_RETENTION: LogRetention = Object.freeze({ maxAgeMs: 0, maxRecords: 0, maxBytes: 0 });

/** One log: records plus its groups. */
export class MemLog {
  readonly #records: LogRecord[] = [];
  readonly groups = new Map<string, Group>();
  #next = 1n;
  #lastTimestamp = 0;
  /** Payload bytes held. */
  #bytes = 0;
  /** Applied on every append (and by {@link enforce}). */
  retention: LogRetention = NO_RETENTION;

  constructor(readonly notifier: Notifier) {}

  /** Offset of the oldest retained record (== next offset when empty). */
  get first(): bigint {
    return this.#records[0]?.offset ?? this.#next;
  }

  /** Offset the next append gets. */
  get next(): bigint {
    return this.#next;
  }

  append(topic: string, payload: Uint8Array, metadata: Record<string, string>): LogRecord {
    // Timestamps never go backwards within a log, so time-based replay can binary-search.
    this.#lastTimestamp = Math.max(this.#lastTimestamp, Date.now());
    const record: LogRecord = {
      offset: this.#next++,
      message: {
        $typeName: 'prism.common.v1.Message',
        id: randomUUID(),
        topic,
        payload: payload.slice(),
        metadata: { ...metadata },
        timestampMs: BigInt(this.#lastTimestamp),
      },
    };
    this.#records.push(record);
    this.#bytes += record.message.payload.byteLength;
    this.enforce();
    this.notifier.notify();
    return record;
  }

  /** Records held. */
  get length(): number {
    return this.#records.length;
  }

  /** Applies the retention policy now (oldest records first); returns how many records it removed. */
  enforce(now = Date.now()): number {
    const { maxAgeMs, maxRecords, maxBytes } = this.retention;
    let removed = 0;
    if (maxRecords > 0 && this.#records.length > maxRecords)
      removed += this.trim(this.#next - BigInt(maxRecords));
    if (maxAgeMs > 0) removed += this.trim(this.offsetAtTime(BigInt(now - maxAgeMs)));
    if (maxBytes > 0 && this.#bytes > maxBytes) {
      let bytes = this.#bytes;
      let i = 0;
      while (bytes > maxBytes && i < this.#records.length)
        bytes -= this.#records[i++]!.message.payload.byteLength;
      if (i > 0) removed += this.trim(this.#records[i - 1]!.offset + 1n);
    }
    return removed;
  }

  /** The record at `offset`, if retained. */
  at(offset: bigint): LogRecord | undefined {
    const first = this.#records[0];
    if (!first || offset < first.offset) return undefined;
    return this.#records[Number(offset - first.offset)];
  }

  /** Offset of the first record with timestamp >= `ms` (or the next offset when none). */
  offsetAtTime(ms: bigint): bigint {
    let lo = 0;
    let hi = this.#records.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#records[mid]!.message.timestampMs < ms) lo = mid + 1;
      else hi = mid;
    }
    return this.#records[lo]?.offset ?? this.#next;
  }

  /** Removes records with offset < `before`; returns how many it removed. */
  trim(before: bigint): number {
    const first = this.first;
    if (before <= first) return 0;
    const gone = this.#records.splice(0, Number((before < this.#next ? before : this.#next) - first));
    for (const r of gone) this.#bytes -= r.message.payload.byteLength;
    if (gone.length > 0) this.notifier.notify();
    return gone.length;
  }

  group(name: string, startAtEnd: boolean): Group {
    let g = this.groups.get(name);
    if (!g) {
      g = new Group(this, startAtEnd ? this.#next : this.first);
      this.groups.set(name, g);
    }
    return g;
  }
}

/** The logs of one namespace, by name. */
export class MemLogs {
  readonly #logs = new Map<string, MemLog>();

  constructor(readonly notifier: Notifier) {}

  get(name: string): MemLog | undefined {
    return this.#logs.get(name);
  }

  ensure(name: string): MemLog {
    let log = this.#logs.get(name);
    if (!log) {
      log = new MemLog(this.notifier);
      this.#logs.set(name, log);
    }
    return log;
  }

  /** Records held in all logs (for health). */
  get size(): number {
    let n = 0;
    for (const log of this.#logs.values()) n += Number(log.next - log.first);
    return n;
  }
}
