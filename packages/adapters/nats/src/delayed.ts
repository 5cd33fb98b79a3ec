import type { QueueDelayedImpl } from '@prism/queue-delayed';
import { backoffDelay, type Logger, sleep } from '@prism/sdk';
import { AckPolicy, nanos, RetentionPolicy } from 'nats';
import { isStreamNotFound, type NatsBackend } from './connection.js';
import { H_DELIVER_AT, H_ID, metadataOf, newId, reservedOf, toHeaders } from './message.js';
import { decodeToken, type Names } from './names.js';
import { nakWithDelay, parseAckSubject, pullSome, sendAck } from './pull.js';
import type { Queues } from './queues.js';

const SCHEDULER = 'scheduler';

/**
 * queue_delayed on JetStream (the server has no scheduled delivery before 2.12): a delayed message waits
 * in a per-namespace work-queue stream; a scheduler in every adapter instance pulls from one shared
 * durable consumer, nak-delays each message until it is due (the server then redelivers it on time), and
 * when due republishes it to its queue (de-duplicated by the delayed message's sequence, so a scheduler
 * dying between publish and ack cannot enqueue it twice) and acks it. Nothing is ever published to the
 * queue before its time, and nothing is lost while no scheduler runs: due messages go out at the next start.
 */
export class DelayedQueues {
  private running?: Promise<void>;
  private readonly stop = new AbortController();

  constructor(
    private readonly backend: NatsBackend,
    private readonly names: Names,
    private readonly queues: Queues,
    private readonly logger: Logger,
  ) {}

  private async ensure(): Promise<void> {
    const stream = this.names.delayedStream;
    await this.backend.ensureStream({
      name: stream,
      subjects: [`${this.names.root}delayed.>`],
      retention: RetentionPolicy.Workqueue,
    });
    await this.backend.ensureConsumer(stream, {
      durable_name: SCHEDULER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      // Every waiting message is pending (nak-delayed): no cap, or due messages would queue behind them.
      max_ack_pending: -1,
    });
  }

  /** Starts the scheduler when this namespace already has delayed messages (e.g. after a restart). */
  async resume(): Promise<void> {
    try {
      await (await this.backend.jsm()).streams.info(this.names.delayedStream);
      this.startScheduler();
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
    }
  }

  private startScheduler(): void {
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    const signal = this.stop.signal;
    for (let failures = 0; !signal.aborted; ) {
      try {
        await this.ensure();
        const { messages } = await pullSome(
          this.backend.conn,
          this.names.delayedStream,
          SCHEDULER,
          100,
          5_000,
          signal,
        );
        for (const m of messages) {
          const token = parseAckSubject(m.reply ?? '');
          const due = Number(reservedOf(m.headers, H_DELIVER_AT) ?? 0);
          const wait = due - Date.now();
          if (!token || signal.aborted) continue;
          if (wait > 0) {
            sendAck(this.backend.conn, m.reply ?? '', nakWithDelay(wait));
            continue;
          }
          const queue = decodeToken(m.subject.slice(`${this.names.root}delayed.`.length));
          await this.queues.publish(
            queue,
            m.data,
            metadataOf(m.headers),
            { [H_ID]: reservedOf(m.headers, H_ID) ?? newId() },
            `delayed.${token.streamSeq}`,
          );
          sendAck(this.backend.conn, m.reply ?? '', '+ACK');
        }
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        this.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'delayed scheduler retrying',
        );
        await sleep(backoffDelay(failures++, { minDelayMs: 100, maxDelayMs: 5_000 }), signal).catch(() => {});
      }
    }
  }

  impl(): QueueDelayedImpl {
    const b = this.backend;
    return {
      enqueueDelayed: (req, ctx) =>
        b.call(async () => {
          const now = Date.now();
          const at =
            req.when.case === 'delayMs' ? now + Number(req.when.value) : Number(req.when.value ?? 0n);
          const id = newId();
          if (at <= now) {
            await this.queues.publish(req.queue, req.payload, req.metadata, { [H_ID]: id });
            return { messageId: id, deliverAtMs: BigInt(now) };
          }
          const headers = toHeaders(req.metadata, { [H_ID]: id, [H_DELIVER_AT]: String(at) });
          b.checkMessage(req.payload, headers);
          await this.ensure();
          await b.js.publish(this.names.delayedSubject(req.queue), req.payload, { headers });
          this.startScheduler();
          return { messageId: id, deliverAtMs: BigInt(at) };
        }, ctx),
    };
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }
}
