import type { Msg, NatsConnection, Subscription } from 'nats';
import type { NatsBackend } from './connection.js';
import { isConsumerNotFound } from './connection.js';
import { pullSome, sendAck } from './pull.js';

/** How long one pull request waits at the server (also how long a closed stream's request lingers). */
const PULL_EXPIRES_MS = 1_000;
/** Safety margin before an ack-wait deadline within which a delivery is no longer given back. */
const NAK_MARGIN_MS = 250;

/**
 * Unacked deliveries of one response stream. An entry leaves when it is acked or nak'ed, through this
 * adapter instance or any other (see {@link watchAcks}), or when its ack wait passes (the server
 * redelivers it then anyway; this is the fallback when an ack was not seen, e.g. during a reconnect),
 * so the stream can never stall for good.
 */
class InFlight {
  private readonly until = new Map<string, number>();
  private wake?: () => void;

  constructor(private readonly ackWaitMs: number) {}

  add(reply: string): void {
    this.until.set(reply, Date.now() + this.ackWaitMs);
  }
  release(reply: string): void {
    if (this.until.delete(reply)) this.notify();
  }
  /** `+WPI`: the server restarted the delivery's ack wait. */
  extend(reply: string): void {
    if (this.until.has(reply)) this.until.set(reply, Date.now() + this.ackWaitMs);
  }
  notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  /** Current unacked count after dropping expired entries. */
  size(): number {
    const now = Date.now();
    for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
    return this.until.size;
  }
  /** Resolves on the next release or expiry (or abort). */
  async changed(signal: AbortSignal): Promise<void> {
    const next = Math.min(...this.until.values());
    const ms = Number.isFinite(next) ? Math.max(next - Date.now(), 1) : 1000;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
  /** Unacked deliveries with their ack-wait deadlines. */
  pending(): [string, number][] {
    return [...this.until.entries()];
  }
}

const decoder = new TextDecoder();

/**
 * Watches the ack subjects of one durable consumer (`$JS.ACK.<stream>.<consumer>.>`, core NATS): an
 * Ack may reach any proxy replica, and the one that publishes it to JetStream is not necessarily the one
 * whose stream holds the delivery, so every member learns of the acks of its group from the server
 * itself, without shared state in the proxy. JetStream treats any verb but `+WPI` (an empty body
 * included) as ending the delivery: `+ACK`, `+NXT`, `+TERM` and `-NAK` (a redelivery is a new one).
 * Subscribed before the first pull, so no ack of a delivery of this stream can precede it at the server.
 * Without the permission to subscribe there, acks through other replicas are seen only at the ack wait.
 */
function watchAcks(nc: NatsConnection, stream: string, consumer: string, inflight: InFlight): Subscription {
  return nc.subscribe(`$JS.ACK.${stream}.${consumer}.>`, {
    callback: (err, m) => {
      if (err) return;
      if (decoder.decode(m.data.subarray(0, 4)) === '+WPI') inflight.extend(m.subject);
      else inflight.release(m.subject);
    },
  });
}

/** Open durable response streams of one adapter instance, so an Ack frees room on the right stream. */
export class DurableStreams {
  private readonly open = new Set<InFlight>();

  /** Releases acked deliveries on every open stream of this instance (at once, before the server echo). */
  acked(replies: readonly string[]): void {
    for (const f of this.open) for (const r of replies) f.release(r);
  }

  /**
   * Pulls from a durable consumer and yields deliveries, keeping at most `maxInFlight` unacked ones
   * outstanding: the backpressure of at-least-once flavours is to stop pulling, never to buffer. When
   * the stream ends (client gone, cancelled), its unacked deliveries are nak'ed so another member gets
   * them at once instead of after the ack wait.
   */
  async *deliver(
    backend: NatsBackend,
    stream: string,
    consumer: string,
    maxInFlight: number,
    ackWaitMs: number,
    signal: AbortSignal,
  ): AsyncGenerator<Msg> {
    const inflight = new InFlight(ackWaitMs);
    const acks = watchAcks(backend.conn, stream, consumer, inflight);
    this.open.add(inflight);
    let lastRequest: Promise<void> = Promise.resolve();
    try {
      while (!signal.aborted) {
        const room = maxInFlight - inflight.size();
        if (room <= 0) {
          await inflight.changed(signal);
          continue;
        }
        const { messages, status, over } = await pullSome(
          backend.conn,
          stream,
          consumer,
          room,
          PULL_EXPIRES_MS,
          signal,
        );
        lastRequest = over;
        if (status === 409 && messages.length === 0) {
          // 409 = consumer deleted or a server-side limit; end the stream when the consumer is gone.
          const gone = await (await backend.jsm()).consumers.info(stream, consumer).then(
            () => false,
            (err) => isConsumerNotFound(err),
          );
          if (gone) return;
          await inflight.changed(signal);
        }
        // Counted before yielding so that a stream closed mid-batch gives back the unsent rest too.
        for (const m of messages) if (m.reply) inflight.add(m.reply);
        for (const m of messages) {
          if (signal.aborted) break;
          yield m;
        }
      }
    } finally {
      this.open.delete(inflight);
      acks.unsubscribe();
      // Give back after our abandoned pull request expired at the server (a redelivery attempt into it
      // would be rolled back and lose the delivery count). Only
      // deliveries whose ack wait has not passed: an older one may already be redelivered to someone
      // else, and JetStream applies a NAK to whatever delivery of that message is current.
      const unacked = inflight.pending();
      void lastRequest.then(() => {
        const safe = Date.now() + NAK_MARGIN_MS;
        for (const [reply, until] of unacked)
          if (until > safe && backend.connected) sendAck(backend.conn, reply, '-NAK');
      });
    }
  }
}
