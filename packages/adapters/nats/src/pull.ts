import { createInbox, type Msg, type NatsConnection, nanos } from 'nats';

/** Where one JetStream delivery came from, parsed from its ack subject. */
export interface AckToken {
  readonly stream: string;
  readonly consumer: string;
  readonly deliveryCount: number;
  readonly streamSeq: number;
  /** The consumer's delivery sequence: the order in which the server handed deliveries out. */
  readonly consumerSeq: number;
  readonly timestampMs: number;
}

/**
 * Parses a JetStream ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`
 * (or the newer form with domain and account hash after `$JS.ACK`).
 */
export function parseAckSubject(reply: string): AckToken | undefined {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  const base = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (base < 0) return undefined;
  const [stream, consumer, dc, sseq, cseq, ts] = t.slice(base, base + 6);
  const token = {
    stream: stream ?? '',
    consumer: consumer ?? '',
    deliveryCount: Number(dc),
    streamSeq: Number(sseq),
    consumerSeq: Number(cseq),
    timestampMs: Math.floor(Number(BigInt(ts ?? '0') / 1_000_000n)),
  };
  return Number.isSafeInteger(token.streamSeq) && token.streamSeq > 0 ? token : undefined;
}

/** What one pull request returned: the messages and the terminating status code (0 when the batch filled). */
export interface PullResult {
  readonly messages: Msg[];
  readonly status: number;
  /** Resolves when the server-side request is over (it may outlive an abort by up to `expiresMs`; see `late`). */
  readonly over: Promise<void>;
}

/** Options of one pull request. */
export interface PullOptions {
  readonly batch: number;
  /** Wait up to this long for the batch; omitted → answer with what is available now (no_wait). */
  readonly expiresMs?: number;
  /**
   * Takes a delivery that reached the request after `signal` aborted (the request lives on at the server
   * until it expires). Omitted → such deliveries are nak'ed at once.
   */
  readonly late?: (m: Msg) => void;
}

/**
 * One pull request on a durable pull consumer, over the JetStream wire API: it works the same on every
 * server version and supports `no_wait` (the client's consumer API does not go below one second).
 * Resolves with the delivered messages (up to `batch`) once the batch is full, the server reports no
 * (more) messages, the request expired, or `signal` aborted.
 *
 * On abort the request still lives at the server until it expires (JetStream cannot cancel it), and a
 * message published meanwhile may be handed to it. Dropping the inbox would lose such a delivery until its
 * ack wait passes (then it returns late, as a redelivery, after newer messages). So the inbox stays until
 * the request is over, and whatever arrives after the abort goes to `opts.late` (durable streams hold it
 * for the next stream of the same consumer, see durable.ts), else is nak'ed at once: the consumer then
 * redelivers it immediately, before newer messages, to the next request.
 */
export async function pull(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  opts: PullOptions,
  signal?: AbortSignal,
): Promise<PullResult> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox);
  const req =
    opts.expiresMs === undefined
      ? { batch: opts.batch, no_wait: true }
      : { batch: opts.batch, expires: nanos(Math.max(opts.expiresMs, 1)) };
  const serverDeadline = Date.now() + (opts.expiresMs ?? 0) + 100;
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(req), { reply: inbox });
  // The server ends the request itself; this timer only guards against a lost connection.
  const guard = setTimeout(() => sub.unsubscribe(), (opts.expiresMs ?? 0) + 5_000);
  const out: Msg[] = [];
  let status = 0;
  /** The caller is gone: deliveries from now on are given back. */
  let abandoned = false;
  const over = (async () => {
    try {
      for await (const m of sub) {
        const code = m.headers?.code ?? 0;
        if (code === 100) continue; // idle heartbeat
        if (code >= 400 || (!m.reply && m.data.length === 0)) {
          status = code; // 404 no messages, 408 expired, 409 consumer deleted / limits
          break;
        }
        if (abandoned) {
          if (opts.late) opts.late(m);
          else if (m.reply && !nc.isClosed()) sendAck(nc, m.reply, '-NAK');
          continue;
        }
        out.push(m);
        if (out.length >= opts.batch) break;
      }
    } finally {
      clearTimeout(guard);
      sub.unsubscribe();
    }
  })();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => {
      abandoned = true;
      // Still bounded: a request the server forgot (connection trouble) must not keep the inbox forever.
      setTimeout(() => sub.unsubscribe(), Math.max(0, serverDeadline - Date.now()) + 1_000).unref();
      resolve();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  await Promise.race([over, aborted]);
  if (onAbort) signal?.removeEventListener('abort', onAbort);
  // Messages taken before the abort go to the caller (which gives back what it does not deliver).
  return { messages: abandoned ? out.splice(0) : out, status, over: over.catch(() => {}) };
}

const encoder = new TextEncoder();

/** Sends an ack verb (`+ACK`, `-NAK`, `+WPI`, `+TERM`) for a delivery. */
export function sendAck(nc: NatsConnection, reply: string, verb: string): void {
  nc.publish(reply, encoder.encode(verb));
}

/** `-NAK` with a redelivery delay: the delivery stays pending and is redelivered after `delayMs`. */
export const nakWithDelay = (delayMs: number): string =>
  delayMs > 0 ? `-NAK ${JSON.stringify({ delay: nanos(delayMs) })}` : '-NAK';

/**
 * Up to `max` messages with low latency: what is available now, else a long-poll for ONE message (a
 * pull request for a larger batch would hold early messages back until the batch fills or expires).
 */
export async function pullSome(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  max: number,
  expiresMs: number,
  signal?: AbortSignal,
): Promise<PullResult> {
  const now = await pull(nc, stream, consumer, { batch: max }, signal);
  if (now.messages.length > 0 || now.status === 409 || signal?.aborted) return now;
  return pull(nc, stream, consumer, { batch: 1, expiresMs }, signal);
}
