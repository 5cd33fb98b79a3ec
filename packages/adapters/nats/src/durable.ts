import type { Msg, NatsConnection, Subscription } from 'nats';
import type { NatsBackend } from './connection.js';
import { isConsumerNotFound } from './connection.js';
import { type PullResult, parseAckSubject, pull, sendAck } from './pull.js';

/**
 * How long one long-poll pull request waits at the server. It is also how long a closed stream's request
 * lingers there (JetStream cannot cancel it) and may still be handed a message: see {@link HandOff}.
 */
const PULL_EXPIRES_MS = 1_000;
/** How long a held hand-off waits for a next stream after the lingering request's longest life. */
const HANDOFF_GRACE_MS = 500;
/**
 * The bound: a delivery handed to a closed stream's pull is held on this instance at most this long
 * (1.5 s) before it is nak'ed, so another replica (where the client may have reconnected) gets it then.
 */
export const HANDOFF_HOLD_MS = PULL_EXPIRES_MS + HANDOFF_GRACE_MS;
/** Safety margin before an ack-wait deadline within which a delivery is no longer given back. */
const NAK_MARGIN_MS = 250;
/**
 * How long after a delivery's ack wait its slot stays taken: the server queues the redelivery on its own
 * timer, and a pull sent the moment the wait passed could be handed a NEW record first, taking a stuck
 * member past its max_in_flight.
 */
const REDELIVERY_MARGIN_MS = 500;

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

  add(reply: string, until = Date.now() + this.ackWaitMs): void {
    this.until.set(reply, until);
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
  /** Current unacked count after dropping entries whose ack wait (and the redelivery margin) passed. */
  size(): number {
    const now = Date.now() - REDELIVERY_MARGIN_MS;
    for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
    return this.until.size;
  }
  /** Resolves on the next release or expiry (or abort). */
  async changed(signal: AbortSignal): Promise<void> {
    const next = Math.min(...this.until.values()) + REDELIVERY_MARGIN_MS;
    const ms = Number.isFinite(next) ? Math.max(next - Date.now(), 1) : 1000;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
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

/** A delivery held by a {@link HandOff}. */
interface Held {
  readonly m: Msg;
  /** Delivery order at the server (consumer sequence). */
  readonly seq: number;
  /** Its ack-wait deadline: past it the server redelivers it anyway, so it is dropped, not delivered. */
  readonly ackBy: number;
  /** Nak'ed then unless a stream took it. */
  readonly nakAt: number;
}

/**
 * The hand-off buffer of one durable consumer on this adapter instance (no state shared between proxy
 * replicas). A stream that closes leaves its pull request pending at the server until it expires, and a
 * message published meanwhile is handed to it: the request keeps its inbox and the delivery lands here,
 * neither acked nor nak'ed, so the next stream of the same subscription (or group) opened on this instance
 * gets it first, in delivery order and as a first delivery. What no stream takes within
 * {@link HANDOFF_HOLD_MS} is nak'ed, so the server redelivers it at once to whoever pulls (another
 * replica). Every delivery of an open stream passes through here too (sorted by consumer sequence), so
 * held ones and newly pulled ones come out in the order the server handed them out.
 */
class HandOff {
  private readonly held: Held[] = [];
  private readonly waiters = new Set<() => void>();
  private timer?: ReturnType<typeof setTimeout>;
  private lingering = 0;
  /** Open streams on this consumer. */
  open = 0;
  /** The consumer incarnation (its creation time) the held deliveries belong to. */
  generation?: string;

  constructor(
    private readonly backend: NatsBackend,
    private readonly onIdle: () => void,
  ) {}

  hold(m: Msg, ackWaitMs: number): void {
    if (!m.reply) return;
    const now = Date.now();
    const seq = parseAckSubject(m.reply)?.consumerSeq ?? Number.MAX_SAFE_INTEGER;
    const entry = { m, seq, ackBy: now + ackWaitMs, nakAt: now + HANDOFF_HOLD_MS };
    let i = this.held.length;
    while (i > 0 && (this.held[i - 1]?.seq ?? 0) > seq) i--;
    this.held.splice(i, 0, entry);
    this.schedule();
    for (const w of [...this.waiters]) w();
  }

  /** Forgets every held delivery (its consumer was deleted: acking or nak-ing it means nothing now). */
  drop(): void {
    this.held.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.release();
  }

  /** Gives back entries taken but not delivered (a stream closed mid-batch). */
  putBack(entries: readonly Held[]): void {
    for (const e of entries) {
      let i = this.held.length;
      while (i > 0 && (this.held[i - 1]?.seq ?? 0) > e.seq) i--;
      this.held.splice(i, 0, e);
    }
    if (entries.length > 0) this.schedule();
  }

  /** Up to `max` held deliveries, oldest first, skipping those whose ack wait (nearly) passed. */
  take(max: number): Held[] {
    const safe = Date.now() + NAK_MARGIN_MS;
    const out: Held[] = [];
    while (out.length < max && this.held.length > 0) {
      const e = this.held.shift() as Held;
      if (e.ackBy > safe) out.push(e);
    }
    return out;
  }

  /** Resolves on the next hold (or abort); call `cancel` when no longer waiting. */
  arrival(signal: AbortSignal): { next: Promise<undefined>; cancel: () => void } {
    let cancel = () => {};
    const next = new Promise<undefined>((resolve) => {
      cancel = () => {
        this.waiters.delete(cancel);
        signal.removeEventListener('abort', cancel);
        resolve(undefined);
      };
      this.waiters.add(cancel);
      if (signal.aborted) cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    });
    return { next, cancel };
  }

  /** A pull request that may still hand deliveries here until `over`. */
  track(over: Promise<void>): void {
    this.lingering++;
    void over.then(() => {
      this.lingering--;
      this.release();
    });
  }

  /** Drops this buffer from its owner once nothing is held, no stream is open and no request lingers. */
  release(): void {
    if (this.open === 0 && this.lingering === 0 && this.held.length === 0) this.onIdle();
  }

  private schedule(): void {
    if (this.timer || this.held.length === 0) return;
    const next = Math.min(...this.held.map((e) => e.nakAt));
    this.timer = setTimeout(() => this.expire(), Math.max(next - Date.now(), 1));
    this.timer.unref?.();
  }

  /** Nak's what waited too long (unless its ack wait passed: it may be redelivered elsewhere already). */
  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    const safe = now + NAK_MARGIN_MS;
    for (let i = this.held.length - 1; i >= 0; i--) {
      const e = this.held[i] as Held;
      if (e.nakAt > now) continue;
      this.held.splice(i, 1);
      if (e.ackBy > safe && e.m.reply && this.backend.connected) {
        try {
          sendAck(this.backend.conn, e.m.reply, '-NAK');
        } catch {
          // Connection closing: the ack wait returns it.
        }
      }
    }
    this.schedule();
    this.release();
  }
}

/** Open durable response streams of one adapter instance, so an Ack frees room on the right stream. */
export class DurableStreams {
  private readonly open = new Set<InFlight>();
  private readonly handoffs = new Map<string, HandOff>();

  /** The consumer is being deleted: drops what this instance holds for it. */
  forget(stream: string, consumer: string): void {
    this.handoffs.get(`${stream}\u0000${consumer}`)?.drop();
  }

  private handoff(backend: NatsBackend, stream: string, consumer: string): HandOff {
    const key = `${stream}\u0000${consumer}`;
    let h = this.handoffs.get(key);
    if (!h) {
      const created = new HandOff(backend, () => {
        if (this.handoffs.get(key) === created) this.handoffs.delete(key);
      });
      h = created;
      this.handoffs.set(key, h);
    }
    return h;
  }

  /** Releases acked deliveries on every open stream of this instance (at once, before the server echo). */
  acked(replies: readonly string[]): void {
    for (const f of this.open) for (const r of replies) f.release(r);
  }

  /**
   * Pulls from a durable consumer and yields deliveries, keeping at most `maxInFlight` unacked ones
   * outstanding: the backpressure of at-least-once flavours is to stop pulling, never to buffer. Deliveries
   * held in the consumer's {@link HandOff} (left by a stream that closed) come first. When the stream ends
   * (client gone, cancelled), deliveries pulled but not sent stay in the hand-off for the next stream, and
   * its unacked deliveries are nak'ed so another member gets them at once instead of after the ack wait.
   */
  async *deliver(
    backend: NatsBackend,
    stream: string,
    consumer: string,
    maxInFlight: number,
    ackWaitMs: number,
    signal: AbortSignal,
    /** The consumer's creation time: deliveries held for an earlier consumer of that name are dropped. */
    generation?: string,
  ): AsyncGenerator<Msg> {
    const inflight = new InFlight(ackWaitMs);
    const acks = watchAcks(backend.conn, stream, consumer, inflight);
    const box = this.handoff(backend, stream, consumer);
    box.open++;
    if (generation !== undefined && box.generation !== generation) {
      if (box.generation !== undefined) box.drop();
      box.generation = generation;
    }
    this.open.add(inflight);
    // Aborted when the client goes away or the consumer of this generator stops it.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    if (signal.aborted) stop.abort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const late = (m: Msg) => box.hold(m, ackWaitMs);
    let lastRequest: Promise<void> = Promise.resolve();
    /** The long-poll request in progress (batch 1), kept across deliveries of held messages. */
    let longPoll: Promise<PullResult> | undefined;
    /** Handles a finished request; true when the consumer is gone (the stream ends). */
    const settle = async (r: PullResult): Promise<boolean> => {
      for (const m of r.messages) box.hold(m, ackWaitMs);
      if (r.status !== 409 || r.messages.length > 0) return false;
      // 409 = consumer deleted or a server-side limit; end the stream when the consumer is gone.
      const gone = await (await backend.jsm()).consumers.info(stream, consumer).then(
        () => false,
        (err) => isConsumerNotFound(err),
      );
      if (!gone) await inflight.changed(stop.signal);
      return gone;
    };
    try {
      while (!stop.signal.aborted) {
        const room = maxInFlight - inflight.size() - (longPoll ? 1 : 0);
        const batch = room > 0 ? box.take(room) : [];
        if (batch.length === 0) {
          if (longPoll) {
            const arrival = box.arrival(stop.signal);
            const waits: Promise<PullResult | undefined>[] = [longPoll, arrival.next];
            if (room <= 0) waits.push(inflight.changed(stop.signal).then(() => undefined));
            const r = await Promise.race(waits);
            arrival.cancel();
            if (!r) continue; // handed off, acked (or aborted): look again
            longPoll = undefined;
            lastRequest = r.over;
            if (await settle(r)) return;
            continue;
          }
          if (room <= 0) {
            await inflight.changed(stop.signal);
            continue;
          }
          // What is available now, else a long-poll for ONE message (a larger batch would hold early
          // messages back until it fills or expires).
          const now = await pull(backend.conn, stream, consumer, { batch: room, late }, stop.signal);
          lastRequest = now.over;
          box.track(now.over);
          if (await settle(now)) return;
          if (now.messages.length === 0 && now.status !== 409 && !stop.signal.aborted) {
            longPoll = pull(
              backend.conn,
              stream,
              consumer,
              { batch: 1, expiresMs: PULL_EXPIRES_MS, late },
              stop.signal,
            );
            // Tracked from the start: it may be handed deliveries until it is over.
            box.track(
              longPoll.then(
                (r) => r.over,
                () => {},
              ),
            );
          }
          continue;
        }
        // Counted before yielding; a stream closed mid-batch hands the unsent rest to the next stream.
        for (const e of batch) if (e.m.reply) inflight.add(e.m.reply, e.ackBy);
        for (let i = 0; i < batch.length; i++) {
          if (stop.signal.aborted) {
            const rest = batch.slice(i);
            for (const e of rest) if (e.m.reply) inflight.release(e.m.reply);
            box.putBack(rest);
            break;
          }
          yield (batch[i] as Held).m;
        }
      }
    } finally {
      stop.abort();
      signal.removeEventListener('abort', onAbort);
      this.open.delete(inflight);
      acks.unsubscribe();
      box.open--;
      // The abandoned request returns at once; what it got (and gets until it expires) is held.
      if (longPoll) {
        const r = await longPoll;
        lastRequest = r.over;
        for (const m of r.messages) box.hold(m, ackWaitMs);
      }
      box.release();
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
