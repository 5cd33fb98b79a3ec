import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import type { QueueBasicImpl } from '@prism/queue-basic';
import type { QueueDeadLetterImpl } from '@prism/queue-dead-letter';
import type { QueueVisibilityImpl } from '@prism/queue-visibility';
import { type Logger, notFound, sleep } from '@prism/sdk';
import { AckPolicy, type Msg, nanos, RetentionPolicy } from 'nats';
import { isNoMessage, isStreamNotFound, type NatsBackend } from './connection.js';
import { H_DLQ_SOURCE, H_ID, metadataOf, newId, reservedOf, toHeaders } from './message.js';
import { encodeToken, type Names, QUEUE_CONSUMER } from './names.js';
import { jsMessage } from './persistent.js';
import { type AckToken, nakWithDelay, parseAckSubject, pull, sendAck } from './pull.js';

/** Dead-letter policy of a queue, stored as JSON in the description of its JetStream consumer. */
interface DeadLetterPolicy {
  readonly max: number;
  readonly queue: string;
}

/** Who holds a delivery and until when; the latest lease of a message decides whether a receipt is current. */
interface Lease {
  readonly dc: number;
  readonly until: number;
}

const POLICY_TTL_MS = 1_000;
const LEASE_MAX_AGE_MS = 12 * 3600_000 + 10 * 60_000;

/**
 * queue_basic, queue_visibility and queue_dead_letter on JetStream. A queue is a work-queue stream with
 * one durable pull consumer shared by every receiver (each message to one receiver at a time). The
 * visibility timeout is the pending deadline of the delivery: `-NAK {delay}` moves that deadline to
 * now + delay without losing the delivery, which gives per-Receive visibility timeouts, Nack with delay
 * and ExtendVisibility. A receipt is the delivery's ack subject; a lease record (last value per subject
 * in a small stream) remembers the current delivery so stale receipts are recognised. Dead-lettering
 * happens when a delivery beyond the policy's max is received: the message is republished (with
 * de-duplication) to the dead-letter queue and then acked.
 */
export class Queues {
  private readonly policies = new Map<string, { policy?: DeadLetterPolicy; at: number }>();

  constructor(
    private readonly backend: NatsBackend,
    private readonly names: Names,
    private readonly logger: Logger,
  ) {}

  /** Creates the queue's stream and consumer if needed. */
  async ensureQueue(queue: string): Promise<void> {
    const stream = this.names.queue(queue);
    await this.backend.ensureStream({
      name: stream,
      subjects: [this.names.queueSubject(queue)],
      retention: RetentionPolicy.Workqueue,
    });
    await this.backend.ensureConsumer(stream, {
      durable_name: QUEUE_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.backend.config.ack_wait_ms),
      max_deliver: -1,
      max_ack_pending: -1,
    });
  }

  private leaseStream(): Promise<void> {
    return this.backend.ensureStream({
      name: `${this.names.streamPrefix}LEASES`,
      subjects: [`${this.names.root}lease.>`],
      retention: RetentionPolicy.Limits,
      max_msgs_per_subject: 1,
      max_age: nanos(LEASE_MAX_AGE_MS),
    });
  }

  private leaseSubject(queue: string, seq: number): string {
    return `${this.names.root}lease.${encodeToken(queue)}.${seq}`;
  }

  private async writeLease(queue: string, seq: number, lease: Lease): Promise<void> {
    await this.backend.js.publish(this.leaseSubject(queue, seq), JSON.stringify(lease));
  }

  private async dropLease(queue: string, seq: number): Promise<void> {
    await (await this.backend.jsm()).streams.purge(`${this.names.streamPrefix}LEASES`, {
      filter: this.leaseSubject(queue, seq),
    });
  }

  /** Publishes a message to a queue (used by Enqueue, the delayed scheduler and redrives). */
  async publish(
    queue: string,
    payload: Uint8Array,
    metadata: Record<string, string>,
    reserved: Record<string, string>,
    msgID?: string,
  ): Promise<void> {
    const headers = toHeaders(metadata, reserved);
    this.backend.checkMessage(payload, headers);
    await this.ensureQueue(queue);
    await this.backend.js.publish(this.names.queueSubject(queue), payload, {
      headers,
      ...(msgID ? { msgID } : {}),
    });
  }

  /** The current dead-letter policy (cached briefly; other replicas see changes within a second). */
  private async policy(queue: string): Promise<DeadLetterPolicy | undefined> {
    const cached = this.policies.get(queue);
    if (cached && Date.now() - cached.at < POLICY_TTL_MS) return cached.policy;
    const info = await (await this.backend.jsm()).consumers.info(this.names.queue(queue), QUEUE_CONSUMER);
    const policy = parsePolicy(info.config.description);
    this.policies.set(queue, { policy, at: Date.now() });
    return policy;
  }

  /** Whether the queue's stream exists; waits up to `waitMs` for it to appear. */
  private async exists(queue: string, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await this.ensureIfPresent(queue);
        return true;
      } catch (err) {
        if (!isStreamNotFound(err)) throw err;
      }
      if (Date.now() + 250 > deadline) return false;
      await sleep(250);
    }
  }

  private async ensureIfPresent(queue: string): Promise<void> {
    await (await this.backend.jsm()).streams.info(this.names.queue(queue));
    await this.ensureQueue(queue);
  }

  /** Receives up to `max` deliveries, waiting up to `waitMs` for the first; dead-letters exhausted ones. */
  private async receive(queue: string, max: number, waitMs: number, visibilityMs: number): Promise<Msg[]> {
    const started = Date.now();
    if (!(await this.exists(queue, waitMs))) return [];
    const nc = this.backend.conn;
    const stream = this.names.queue(queue);
    const policy = await this.policy(queue);
    const out: Msg[] = [];
    for (;;) {
      const left = waitMs - (Date.now() - started);
      let got = (await pull(nc, stream, QUEUE_CONSUMER, { batch: max - out.length })).messages;
      if (got.length === 0 && out.length === 0 && left > 0) {
        // Long-poll for ONE message, so no pull request stays open after we answer.
        got = (await pull(nc, stream, QUEUE_CONSUMER, { batch: 1, expiresMs: left })).messages;
        if (got.length > 0 && max > 1)
          got.push(...(await pull(nc, stream, QUEUE_CONSUMER, { batch: max - 1 })).messages);
      }
      for (const m of got) {
        const token = m.reply ? parseAckSubject(m.reply) : undefined;
        if (!token) continue;
        if (policy && token.deliveryCount > policy.max) await this.deadLetter(queue, policy, m, token);
        else out.push(m);
      }
      // Only dead-lettered messages came back: look again for live ones while time remains.
      if (out.length > 0 || got.length === 0 || waitMs - (Date.now() - started) <= 0) break;
    }
    const until = Date.now() + visibilityMs;
    if (visibilityMs !== this.backend.config.ack_wait_ms)
      for (const m of out) sendAck(nc, m.reply ?? '', nakWithDelay(visibilityMs));
    await this.leaseStream();
    await Promise.all(
      out.map((m) => {
        const t = parseAckSubject(m.reply ?? '') as AckToken;
        return this.writeLease(queue, t.streamSeq, { dc: t.deliveryCount, until });
      }),
    );
    await this.backend.flush();
    return out;
  }

  /** Moves an exhausted delivery to the dead-letter queue: republish (de-duplicated), then ack. */
  private async deadLetter(queue: string, policy: DeadLetterPolicy, m: Msg, token: AckToken): Promise<void> {
    await this.publish(
      policy.queue,
      m.data,
      metadataOf(m.headers),
      { [H_ID]: reservedOf(m.headers, H_ID) ?? newId(), [H_DLQ_SOURCE]: queue },
      `dlq.${token.stream}.${token.streamSeq}`,
    );
    sendAck(this.backend.conn, m.reply ?? '', '+ACK');
    await this.dropLease(queue, token.streamSeq).catch(() => {});
    this.logger.info({ queue, seq: token.streamSeq, to: policy.queue }, 'message dead-lettered');
  }

  /**
   * Whether a receipt is the current, unexpired delivery of a message still in the queue. Receipts of
   * other queues or namespaces are never current.
   */
  private async current(queue: string, receipt: string): Promise<AckToken | undefined> {
    const token = parseAckSubject(receipt);
    if (!token || token.stream !== this.names.queue(queue) || token.consumer !== QUEUE_CONSUMER)
      return undefined;
    const jsm = await this.backend.jsm();
    try {
      await jsm.streams.getMessage(token.stream, { seq: token.streamSeq });
    } catch (err) {
      if (isNoMessage(err) || isStreamNotFound(err)) return undefined; // acked (work queues delete on ack)
      throw err;
    }
    try {
      await this.leaseStream();
      const stored = await jsm.streams.getMessage(`${this.names.streamPrefix}LEASES`, {
        last_by_subj: this.leaseSubject(queue, token.streamSeq),
      });
      const lease = JSON.parse(new TextDecoder().decode(stored.data)) as Lease;
      if (lease.dc !== token.deliveryCount || lease.until <= Date.now()) return undefined;
    } catch (err) {
      if (!isNoMessage(err)) throw err; // no lease: the receiver died before writing it; trust the server
    }
    return token;
  }

  basic(): QueueBasicImpl {
    const b = this.backend;
    return {
      enqueue: (req, ctx) =>
        b.call(async () => {
          const id = newId();
          await this.publish(req.queue, req.payload, req.metadata, { [H_ID]: id });
          return { messageId: id };
        }, ctx),
      receive: (req, ctx) =>
        b.call(
          async () => {
            const msgs = await this.receive(
              req.queue,
              Math.max(1, req.maxMessages),
              Number(req.waitMs),
              orDefault(req.visibilityTimeoutMs, MESSAGING_DEFAULTS.visibilityTimeoutMs),
            );
            return {
              messages: msgs.map((m) => ({
                message: jsMessage(req.queue, m),
                receipt: m.reply ?? '',
                deliveryCount: parseAckSubject(m.reply ?? '')?.deliveryCount ?? 1,
              })),
            };
          },
          ctx,
          Number(req.waitMs),
        ),
      ack: (req, ctx) =>
        b.call(async () => {
          const nc = b.conn;
          const receipts = [...new Set(req.receipts)];
          const tokens = await Promise.all(receipts.map((r) => this.current(req.queue, r)));
          const live = receipts.flatMap((r, i) => (tokens[i] ? [{ receipt: r, token: tokens[i] }] : []));
          for (const { receipt } of live) sendAck(nc, receipt, '+ACK');
          await this.backend.flush();
          await Promise.all(
            live.map(({ token }) => this.dropLease(req.queue, token.streamSeq).catch(() => {})),
          );
          return { ackedCount: live.length };
        }, ctx),
    };
  }

  visibility(): QueueVisibilityImpl {
    const b = this.backend;
    const requireCurrent = async (queue: string, receipt: string) => {
      const token = await this.current(queue, receipt);
      if (!token)
        throw notFound(
          `receipt of queue "${queue}" is not current: the message was acked, its visibility expired, or it was redelivered`,
        );
      return token;
    };
    return {
      nack: (req, ctx) =>
        b.call(async () => {
          const token = await requireCurrent(req.queue, req.receipt);
          const delay = Number(req.delayMs);
          sendAck(b.conn, req.receipt, nakWithDelay(delay));
          // The receipt is given back: later Ack/Nack/Extend with it are stale.
          await this.writeLease(req.queue, token.streamSeq, { dc: token.deliveryCount, until: 0 });
          await b.flush();
          return {};
        }, ctx),
      extendVisibility: (req, ctx) =>
        b.call(async () => {
          const token = await requireCurrent(req.queue, req.receipt);
          const ms = Number(req.visibilityTimeoutMs);
          sendAck(b.conn, req.receipt, nakWithDelay(ms));
          await this.writeLease(req.queue, token.streamSeq, {
            dc: token.deliveryCount,
            until: Date.now() + ms,
          });
          await b.flush();
          return {};
        }, ctx),
    };
  }

  deadLetters(): QueueDeadLetterImpl {
    const b = this.backend;
    return {
      configureDeadLetter: (req, ctx) =>
        b.call(async () => {
          await this.ensureQueue(req.queue);
          const policy: DeadLetterPolicy | undefined =
            req.maxDeliveries > 0 ? { max: req.maxDeliveries, queue: req.deadLetterQueue } : undefined;
          if (policy) await this.ensureQueue(policy.queue);
          await (await b.jsm()).consumers.update(this.names.queue(req.queue), QUEUE_CONSUMER, {
            description: policy ? JSON.stringify({ dead_letter: policy }) : '',
          });
          this.policies.set(req.queue, { policy, at: Date.now() });
          return {};
        }, ctx),
    };
  }
}

function parsePolicy(description: string | undefined): DeadLetterPolicy | undefined {
  if (!description) return undefined;
  try {
    const p = (JSON.parse(description) as { dead_letter?: DeadLetterPolicy }).dead_letter;
    return p && p.max > 0 && p.queue ? p : undefined;
  } catch {
    return undefined;
  }
}
