// In-process work queues for MemStore: queue_basic, queue_visibility, queue_dead_letter, queue_delayed and
// queue_priority. Each queue holds one insertion-ordered Map of entries per priority level (0..9), scanned
// from the highest level down, so levels are strict and each level is FIFO; an entry is visible when
// `visibleAt <= now`. A receipt names one delivery (`<id>:<delivery>`), so a stale receipt never touches a
// later delivery.
import { randomUUID } from 'node:crypto';
import { MESSAGING_DEFAULTS, type Message, orDefault } from '@prism/pubsub-basic';
import type { QueueBasicImpl, ReceivedMessage } from '@prism/queue-basic';
import { DEAD_LETTER_SOURCE_KEY, type QueueDeadLetterImpl } from '@prism/queue-dead-letter';
import { deliverAtMs, type QueueDelayedImpl } from '@prism/queue-delayed';
import { PRIORITY_LEVELS, type QueuePriorityImpl } from '@prism/queue-priority';
import type { QueueVisibilityImpl } from '@prism/queue-visibility';
import { type CallContext, notFound } from '@prism/sdk';

interface Entry {
  readonly message: Message;
  /** 0..9, 9 received first; queue_basic's Enqueue is 0. */
  readonly priority: number;
  visibleAt: number;
  deliveries: number;
  /** Receipt of the current delivery; undefined while never delivered or after a Nack. */
  receipt: string | undefined;
}

interface Policy {
  readonly maxDeliveries: number;
  readonly deadLetterQueue: string;
}

/** One queue: entries by id, and per priority level in enqueue order. */
class MemQueue {
  readonly #byId = new Map<string, Entry>();
  readonly #levels: Map<string, Entry>[] = Array.from({ length: PRIORITY_LEVELS }, () => new Map());

  get size(): number {
    return this.#byId.size;
  }

  get(id: string): Entry | undefined {
    return this.#byId.get(id);
  }

  add(entry: Entry): void {
    this.#byId.set(entry.message.id, entry);
    this.#levels[entry.priority]!.set(entry.message.id, entry);
  }

  delete(id: string): boolean {
    const entry = this.#byId.get(id);
    if (!entry) return false;
    this.#byId.delete(id);
    this.#levels[entry.priority]!.delete(id);
    return true;
  }

  /** Every entry, highest priority first, FIFO within a level (safe to delete the yielded entry). */
  *ordered(): IterableIterator<Entry> {
    for (let level = PRIORITY_LEVELS - 1; level >= 0; level--) yield* this.#levels[level]!.values();
  }

  values(): IterableIterator<Entry> {
    return this.#byId.values();
  }
}

/** One namespace's queues. */
export class MemQueues {
  readonly #queues = new Map<string, MemQueue>();
  readonly #policies = new Map<string, Policy>();
  readonly #waiters = new Set<() => void>();
  #closed = false;

  /** Messages held in all queues (for health). */
  get size(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.size;
    return n;
  }

  #queue(name: string): MemQueue {
    let q = this.#queues.get(name);
    if (!q) {
      q = new MemQueue();
      this.#queues.set(name, q);
    }
    return q;
  }

  /** Adds a message at `priority` (0..9, validated), visible from `visibleAt`. */
  enqueue(
    queue: string,
    payload: Uint8Array,
    metadata: Record<string, string>,
    visibleAt = Date.now(),
    priority = 0,
  ): Message {
    const message = {
      $typeName: 'prism.common.v1.Message',
      id: randomUUID(),
      topic: queue,
      payload: payload.slice(),
      metadata: { ...metadata },
      timestampMs: BigInt(Date.now()),
    } satisfies Message;
    this.#queue(queue).add({ message, priority, visibleAt, deliveries: 0, receipt: undefined });
    this.#notify();
    return message;
  }

  /** Takes up to `max` visible messages, dead-lettering those past their policy first. */
  take(queue: string, max: number, visibilityMs: number): ReceivedMessage[] {
    const q = this.#queues.get(queue);
    if (!q) return [];
    const now = Date.now();
    const policy = this.#policies.get(queue);
    const out: ReceivedMessage[] = [];
    for (const entry of q.ordered()) {
      if (out.length >= max) break;
      if (entry.visibleAt > now) continue;
      if (policy && entry.deliveries >= policy.maxDeliveries) {
        this.#deadLetter(q, entry, queue, policy.deadLetterQueue);
        continue;
      }
      entry.deliveries++;
      entry.visibleAt = now + visibilityMs;
      entry.receipt = `${entry.message.id}:${entry.deliveries}`;
      out.push({
        $typeName: 'prism.queue.v1.ReceivedMessage',
        message: { ...entry.message, payload: entry.message.payload.slice() },
        receipt: entry.receipt,
        deliveryCount: entry.deliveries,
      });
    }
    return out;
  }

  #deadLetter(q: MemQueue, entry: Entry, source: string, target: string): void {
    q.delete(entry.message.id);
    const message = {
      ...entry.message,
      topic: target,
      metadata: { ...entry.message.metadata, [DEAD_LETTER_SOURCE_KEY]: source },
    };
    this.#queue(target).add({
      message,
      priority: entry.priority,
      visibleAt: Date.now(),
      deliveries: 0,
      receipt: undefined,
    });
    this.#notify();
  }

  /** Finds the entry of a current (unexpired or not yet redelivered) receipt. */
  #byReceipt(queue: string, receipt: string): Entry | undefined {
    const id = receipt.slice(0, receipt.lastIndexOf(':'));
    const entry = this.#queues.get(queue)?.get(id);
    return entry?.receipt === receipt ? entry : undefined;
  }

  /** Deletes the messages of current receipts; returns how many. */
  ack(queue: string, receipts: readonly string[]): number {
    let n = 0;
    for (const r of receipts) {
      const entry = this.#byReceipt(queue, r);
      if (entry && this.#queues.get(queue)?.delete(entry.message.id)) n++;
    }
    return n;
  }

  /** Makes a delivered message visible after `delayMs`; throws NOT_FOUND for a stale receipt. */
  nack(queue: string, receipt: string, delayMs: number): void {
    const entry = this.#live(queue, receipt);
    entry.receipt = undefined;
    entry.visibleAt = Date.now() + delayMs;
    this.#notify();
  }

  /** Keeps a delivered message invisible for `visibilityMs` from now. */
  extend(queue: string, receipt: string, visibilityMs: number): void {
    this.#live(queue, receipt).visibleAt = Date.now() + visibilityMs;
  }

  #live(queue: string, receipt: string): Entry {
    const entry = this.#byReceipt(queue, receipt);
    if (!entry || entry.visibleAt <= Date.now())
      throw notFound(`receipt "${receipt}" of queue "${queue}" is unknown, acked or expired`);
    return entry;
  }

  /** Sets (maxDeliveries > 0) or removes the dead-letter policy of a queue. */
  configure(queue: string, maxDeliveries: number, deadLetterQueue: string): void {
    if (maxDeliveries === 0) this.#policies.delete(queue);
    else this.#policies.set(queue, { maxDeliveries, deadLetterQueue });
  }

  /** Earliest future visibility time in a queue (to wake a long-poll), or undefined. */
  #nextVisible(queue: string): number | undefined {
    let next: number | undefined;
    const now = Date.now();
    for (const e of this.#queues.get(queue)?.values() ?? [])
      if (e.visibleAt > now && (next === undefined || e.visibleAt < next)) next = e.visibleAt;
    return next;
  }

  /** Long-poll: takes messages, waiting up to `waitMs` for the first one (abortable). */
  async receive(queue: string, max: number, waitMs: number, visibilityMs: number, signal: AbortSignal) {
    const until = Date.now() + waitMs;
    for (;;) {
      const got = this.take(queue, max, visibilityMs);
      const now = Date.now();
      if (got.length > 0 || now >= until || signal.aborted || this.#closed) return got;
      const wakeAt = Math.min(until, this.#nextVisible(queue) ?? until);
      await this.#wait(Math.max(1, wakeAt - now), signal);
    }
  }

  /** Resolves on any queue change, after `ms`, or on abort. */
  #wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Drops everything and wakes pending long-polls. */
  close(): void {
    this.#closed = true;
    this.#queues.clear();
    this.#notify();
  }
}

const visibility = (ms: bigint) => orDefault(ms, MESSAGING_DEFAULTS.visibilityTimeoutMs);

/** queue_basic over MemQueues. */
export function memQueue(queues: MemQueues): QueueBasicImpl {
  return {
    enqueue: (req) => ({ messageId: queues.enqueue(req.queue, req.payload, req.metadata).id }),
    receive: async (req, ctx: CallContext) => ({
      messages: await queues.receive(
        req.queue,
        req.maxMessages || 1,
        Number(req.waitMs),
        visibility(req.visibilityTimeoutMs),
        ctx.signal,
      ),
    }),
    ack: (req) => ({ ackedCount: queues.ack(req.queue, req.receipts) }),
  };
}

/** queue_visibility over MemQueues. */
export function memQueueVisibility(queues: MemQueues): QueueVisibilityImpl {
  return {
    nack: (req) => {
      queues.nack(req.queue, req.receipt, Number(req.delayMs));
      return {};
    },
    extendVisibility: (req) => {
      queues.extend(req.queue, req.receipt, Number(req.visibilityTimeoutMs));
      return {};
    },
  };
}

/** queue_dead_letter over MemQueues. */
export function memQueueDeadLetter(queues: MemQueues): QueueDeadLetterImpl {
  return {
    configureDeadLetter: (req) => {
      queues.configure(req.queue, req.maxDeliveries, req.deadLetterQueue);
      return {};
    },
  };
}

/** queue_delayed over MemQueues. */
export function memQueueDelayed(queues: MemQueues): QueueDelayedImpl {
  return {
    enqueueDelayed: (req) => {
      const at = deliverAtMs(req.when);
      return {
        messageId: queues.enqueue(req.queue, req.payload, req.metadata, at).id,
        deliverAtMs: BigInt(at),
      };
    },
  };
}

/** queue_priority over MemQueues (received and acked through queue_basic). */
export function memQueuePriority(queues: MemQueues): QueuePriorityImpl {
  return {
    enqueueWithPriority: (req) => ({
      messageId: queues.enqueue(req.queue, req.payload, req.metadata, Date.now(), req.priority).id,
    }),
  };
}
