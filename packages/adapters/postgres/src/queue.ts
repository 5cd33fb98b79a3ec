import { randomUUID } from 'node:crypto';
import { MESSAGING_DEFAULTS, type Message, orDefault } from '@prism/pubsub-basic';
import type { QueueBasicImpl, ReceivedMessage } from '@prism/queue-basic';
import { DEAD_LETTER_SOURCE_KEY, type QueueDeadLetterImpl } from '@prism/queue-dead-letter';
import type { QueueDelayedImpl } from '@prism/queue-delayed';
import type { QueueVisibilityImpl } from '@prism/queue-visibility';
import { Code, ConnectError, invalidArgument, notFound } from '@prism/sdk';
import type { PgClient } from './client.js';
import { bytesOf } from './kv-basic.js';
import type { MessagingTables } from './queue-schema.js';
import type { QueueWakeups } from './queue-wakeups.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const RECEIPT_RE = new RegExp(`^(${UUID})\\.(${UUID})$`);

/** A receipt names one delivery: `<message id>.<delivery token>`; a new delivery gets a new token. */
export function parseReceipt(receipt: string): { id: string; token: string } {
  const m = RECEIPT_RE.exec(receipt);
  if (!m)
    throw invalidArgument(`receipt "${receipt.slice(0, 100)}" is malformed: pass a receipt from Receive`);
  return { id: m[1] as string, token: m[2] as string };
}

interface Row {
  id: string;
  payload: Buffer;
  metadata: Record<string, string>;
  enqueued_at: Date;
  delivery_count: number;
  receipt: string;
}

/**
 * The PostgreSQL work queues of one namespace (queue_basic, queue_visibility, queue_dead_letter,
 * queue_delayed), on one table: a message is receivable when `visible_at <= now()` (the server's clock, so
 * every proxy agrees). Receive claims rows with `FOR UPDATE SKIP LOCKED` (competing receivers never block
 * each other nor get the same message), pushes `visible_at` out by the visibility timeout and issues a new
 * receipt token; Ack, Nack and ExtendVisibility act only while that token is current.
 */
export class PgQueues {
  readonly #ns: string;
  #closed = false;

  constructor(
    private readonly client: PgClient,
    private readonly tables: MessagingTables,
    private readonly wakeups: QueueWakeups,
    private readonly pollIntervalMs: number,
  ) {
    this.#ns = client.namespace;
  }

  /** Inserts a message receivable from now (`delayMs` undefined) or later; returns id and visibility time. */
  async enqueue(
    queue: string,
    payload: Uint8Array,
    metadata: Record<string, string>,
    when: { delayMs: number } | { atMs: number } | undefined,
    signal: AbortSignal,
  ): Promise<{ id: string; visibleAtMs: number }> {
    const { sql } = this.client;
    const t = sql(this.tables.messages);
    const id = randomUUID();
    const visibleAt =
      when === undefined
        ? sql`now()`
        : 'delayMs' in when
          ? sql`now() + ${when.delayMs}::float8 * interval '1 millisecond'`
          : sql`greatest(now(), to_timestamp(${when.atMs}::float8 / 1000))`;
    // Only an immediately receivable message wakes waiting Receives (delayed ones are found by polling).
    const notify = when === undefined ? sql`, pg_notify(${this.wakeups.channel}, ${queue})` : sql``;
    const [row] = await this.client.run(
      sql<{ visible_ms: string }[]>`
        WITH ins AS (
          INSERT INTO ${t} (namespace, queue, id, payload, metadata, visible_at)
          VALUES (${this.#ns}, ${queue}, ${id}, ${payload}, ${sql.json(metadata)}::jsonb, ${visibleAt})
          RETURNING visible_at)
        SELECT ceil(extract(epoch FROM visible_at) * 1000)::int8 AS visible_ms ${notify} FROM ins`,
      signal,
    );
    return { id, visibleAtMs: Number(row?.visible_ms) };
  }

  /**
   * Claims up to `max` receivable messages for `visibilityMs`. In the same statement, messages of a queue
   * with a dead-letter policy that were delivered max_deliveries times and whose last delivery expired
   * move to the dead-letter queue (same id, payload, metadata + source, delivery count 0).
   */
  async take(
    queue: string,
    max: number,
    visibilityMs: number,
    signal: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const { sql } = this.client;
    const t = sql(this.tables.messages);
    const p = sql(this.tables.policies);
    const ns = this.#ns;
    const rows = await this.client.run(
      sql<Row[]>`
        WITH policy AS (
          SELECT max_deliveries, dead_letter_queue FROM ${p} WHERE namespace = ${ns} AND queue = ${queue}
        ), dead AS (
          DELETE FROM ${t} m WHERE m.namespace = ${ns} AND m.queue = ${queue} AND m.id IN (
            SELECT d.id FROM ${t} d, policy
            WHERE d.namespace = ${ns} AND d.queue = ${queue} AND d.visible_at <= now()
              AND d.delivery_count >= policy.max_deliveries
            ORDER BY d.visible_at, d.seq LIMIT 100
            FOR UPDATE OF d SKIP LOCKED)
          RETURNING m.*
        ), moved AS (
          INSERT INTO ${t} (namespace, queue, id, payload, metadata, enqueued_at, visible_at, delivery_count)
          SELECT dead.namespace, policy.dead_letter_queue, dead.id, dead.payload,
                 dead.metadata || jsonb_build_object(${DEAD_LETTER_SOURCE_KEY}::text, dead.queue),
                 dead.enqueued_at, now(), 0
          FROM dead, policy
          RETURNING 1
        ), picked AS (
          SELECT c.id FROM ${t} c
          WHERE c.namespace = ${ns} AND c.queue = ${queue} AND c.visible_at <= now()
            AND c.delivery_count < coalesce((SELECT max_deliveries FROM policy), 2147483647)
          ORDER BY c.visible_at, c.seq LIMIT ${max}
          FOR UPDATE OF c SKIP LOCKED
        )
        UPDATE ${t} m
        SET visible_at = now() + ${visibilityMs}::float8 * interval '1 millisecond',
            delivery_count = m.delivery_count + 1,
            receipt = gen_random_uuid()
        FROM picked
        WHERE m.namespace = ${ns} AND m.queue = ${queue} AND m.id = picked.id
        RETURNING m.id, m.payload, m.metadata, m.enqueued_at, m.delivery_count, m.receipt`,
      signal,
    );
    return rows.map((r) => toReceived(queue, r));
  }

  /** Long-poll: claims messages, waiting up to `waitMs` for the first (woken by NOTIFY, else polling). */
  async receive(
    queue: string,
    max: number,
    waitMs: number,
    visibilityMs: number,
    signal: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const until = Date.now() + waitMs;
    for (;;) {
      const got = await this.take(queue, max, visibilityMs, signal);
      const left = until - Date.now();
      if (got.length > 0 || left <= 0) return got;
      await this.wakeups.wait(queue, Math.min(left, this.pollIntervalMs), signal);
      if (signal.aborted) throw new ConnectError('receive canceled', Code.Canceled);
      if (this.#closed) return [];
    }
  }

  /** Deletes the messages whose current delivery the receipts name; returns how many. */
  async ack(queue: string, receipts: readonly string[], signal: AbortSignal): Promise<number> {
    const pairs = receipts.map(parseReceipt);
    const { sql } = this.client;
    const t = sql(this.tables.messages);
    const res = await this.client.run(
      sql`DELETE FROM ${t} m USING jsonb_to_recordset(${sql.json(pairs)}::jsonb) AS r(id uuid, token uuid)
          WHERE m.namespace = ${this.#ns} AND m.queue = ${queue} AND m.id = r.id AND m.receipt = r.token`,
      signal,
    );
    return res.count;
  }

  /** Ends the current delivery: receivable again after `delayMs`, delivery count kept. */
  async nack(queue: string, receipt: string, delayMs: number, signal: AbortSignal): Promise<void> {
    const { id, token } = parseReceipt(receipt);
    const { sql } = this.client;
    const t = sql(this.tables.messages);
    const notify = delayMs === 0 ? sql`pg_notify(${this.wakeups.channel}, ${queue})` : sql`1`;
    const res = await this.client.run(
      sql`WITH u AS (
            UPDATE ${t} SET visible_at = now() + ${delayMs}::float8 * interval '1 millisecond', receipt = NULL
            WHERE namespace = ${this.#ns} AND queue = ${queue} AND id = ${id} AND receipt = ${token}
              AND visible_at > now()
            RETURNING id)
          SELECT ${notify} FROM u`,
      signal,
    );
    if (res.count === 0) throw stale(queue, receipt);
  }

  /** Keeps the current delivery invisible for `visibilityMs` from now. */
  async extend(queue: string, receipt: string, visibilityMs: number, signal: AbortSignal): Promise<void> {
    const { id, token } = parseReceipt(receipt);
    const { sql } = this.client;
    const t = sql(this.tables.messages);
    const res = await this.client.run(
      sql`UPDATE ${t} SET visible_at = now() + ${visibilityMs}::float8 * interval '1 millisecond'
          WHERE namespace = ${this.#ns} AND queue = ${queue} AND id = ${id} AND receipt = ${token}
            AND visible_at > now()`,
      signal,
    );
    if (res.count === 0) throw stale(queue, receipt);
  }

  /** Ends pending long-polls (they answer with what they have: nothing). */
  close(): void {
    this.#closed = true;
    this.wakeups.close();
  }

  /** Stores (or, with maxDeliveries 0, removes) the dead-letter policy of `queue`. */
  async configure(queue: string, maxDeliveries: number, deadLetterQueue: string, signal: AbortSignal) {
    const { sql } = this.client;
    const p = sql(this.tables.policies);
    if (maxDeliveries === 0)
      await this.client.run(sql`DELETE FROM ${p} WHERE namespace = ${this.#ns} AND queue = ${queue}`, signal);
    else
      await this.client.run(
        sql`INSERT INTO ${p} (namespace, queue, max_deliveries, dead_letter_queue)
            VALUES (${this.#ns}, ${queue}, ${maxDeliveries}, ${deadLetterQueue})
            ON CONFLICT (namespace, queue) DO UPDATE
            SET max_deliveries = excluded.max_deliveries, dead_letter_queue = excluded.dead_letter_queue`,
        signal,
      );
  }
}

const stale = (queue: string, receipt: string) =>
  notFound(
    `receipt "${receipt}" of queue "${queue}" is not a current delivery (acked, nacked, expired or redelivered)`,
  );

function toReceived(queue: string, r: Row): ReceivedMessage {
  const message: Message = {
    $typeName: 'prism.common.v1.Message',
    id: r.id,
    topic: queue,
    payload: bytesOf(r.payload),
    metadata: r.metadata,
    timestampMs: BigInt(r.enqueued_at.getTime()),
  };
  return {
    $typeName: 'prism.queue.v1.ReceivedMessage',
    message,
    receipt: `${r.id}.${r.receipt}`,
    deliveryCount: r.delivery_count,
  };
}

const visibility = (ms: bigint) => orDefault(ms, MESSAGING_DEFAULTS.visibilityTimeoutMs);

/** queue_basic on {@link PgQueues}. */
export function pgQueueBasic(queues: PgQueues): QueueBasicImpl {
  return {
    async enqueue(req, ctx) {
      const { id } = await queues.enqueue(req.queue, req.payload, req.metadata, undefined, ctx.signal);
      return { messageId: id };
    },
    async receive(req, ctx) {
      const max = req.maxMessages || 1;
      const ms = visibility(req.visibilityTimeoutMs);
      return { messages: await queues.receive(req.queue, max, Number(req.waitMs), ms, ctx.signal) };
    },
    async ack(req, ctx) {
      return { ackedCount: await queues.ack(req.queue, req.receipts, ctx.signal) };
    },
  };
}

/** queue_visibility on {@link PgQueues}. */
export function pgQueueVisibility(queues: PgQueues): QueueVisibilityImpl {
  return {
    async nack(req, ctx) {
      await queues.nack(req.queue, req.receipt, Number(req.delayMs), ctx.signal);
      return {};
    },
    async extendVisibility(req, ctx) {
      await queues.extend(req.queue, req.receipt, Number(req.visibilityTimeoutMs), ctx.signal);
      return {};
    },
  };
}

/** queue_dead_letter on {@link PgQueues} (policies live in the queue_policies table). */
export function pgQueueDeadLetter(queues: PgQueues): QueueDeadLetterImpl {
  return {
    async configureDeadLetter(req, ctx) {
      await queues.configure(req.queue, req.maxDeliveries, req.deadLetterQueue, ctx.signal);
      return {};
    },
  };
}

/** queue_delayed on {@link PgQueues}: `visible_at` in the future. */
export function pgQueueDelayed(queues: PgQueues): QueueDelayedImpl {
  return {
    async enqueueDelayed(req, ctx) {
      const when =
        req.when.case === 'delayMs'
          ? { delayMs: Number(req.when.value) }
          : { atMs: Number(req.when.value ?? 0) };
      const res = await queues.enqueue(req.queue, req.payload, req.metadata, when, ctx.signal);
      return { messageId: res.id, deliverAtMs: BigInt(res.visibleAtMs) };
    },
  };
}
