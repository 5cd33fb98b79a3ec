// queue_basic, queue_priority, queue_visibility, queue_delayed and queue_dead_letter on Redis: one sorted set of
// ready messages scored by (priority, sequence), one sorted set of in-flight messages scored by their visibility
// deadline, one sorted set of delayed (EnqueueDelayed) and nacked-with-delay messages scored by their due time,
// one hash with the messages' fields, and one hash with the queue's dead-letter policy. Every state change is
// one Lua script, so a message is always in exactly one of the three sets and never lost between them. Times
// are the Redis server's (TIME), so proxy replicas with skewed clocks agree.
import { randomUUID } from 'node:crypto';
import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import type { QueueBasicImpl, ReceivedMessage } from '@prism/queue-basic';
import { DEAD_LETTER_SOURCE_KEY, type QueueDeadLetterImpl } from '@prism/queue-dead-letter';
import type { QueueDelayedImpl } from '@prism/queue-delayed';
import { MAX_PRIORITY, type QueuePriorityImpl } from '@prism/queue-priority';
import type { QueueVisibilityImpl } from '@prism/queue-visibility';
import { type CallContext, internal, type Logger, notFound, sleep } from '@prism/sdk';
import { type RedisConnection, type Reply, script } from './connection.js';
import type { KeySpace } from './keys.js';
import { arg, str } from './kv.js';

/**
 * Ready score = (MAX_PRIORITY - priority) · 2^44 + sequence: ZRANGE from the lowest score gives the highest
 * priority first and enqueue order within a level. Below 2^53, so exact as a double; 2^44 enqueues per queue.
 */
const LEVEL_SPAN = 2 ** 44;

/** Longest sleep of a waiting Receive between checks (a missed wake-up costs at most this much). */
const MAX_POLL_MS = 500;

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Enqueue. KEYS: ready, data, sequence, delayed. ARGV: id, payload, metadata JSON, priority, wake channel,
 * schedule ('' now, 'd' delay ms, 'a' at epoch ms), its value. The hash holds per message `p:` payload, `m:`
 * metadata, `t:` enqueue time, `s:` ready score, `d:` deliveries and, while delivered, `r:` the delivery its
 * receipt names. A message due later goes to the delayed set at its due time. Returns the due time (ms).
 */
const ENQUEUE = script(`${NOW}
local id = ARGV[1]
local seq = redis.call('INCR', KEYS[3])
local score = (${MAX_PRIORITY} - tonumber(ARGV[4])) * ${LEVEL_SPAN} + seq
local due = now
if ARGV[6] == 'd' then due = now + tonumber(ARGV[7]) elseif ARGV[6] == 'a' then due = math.max(now, tonumber(ARGV[7])) end
redis.call('HSET', KEYS[2], 'p:' .. id, ARGV[2], 'm:' .. id, ARGV[3], 't:' .. id, now, 's:' .. id, score, 'd:' .. id, 0)
if due > now then redis.call('ZADD', KEYS[4], due, id) else redis.call('ZADD', KEYS[1], score, id) end
redis.call('PUBLISH', ARGV[5], '1')
return due`);

/**
 * Receive. KEYS: ready, in-flight, data, delayed, policy, then the dead-letter queue's ready, data, sequence.
 * ARGV: max, visibility ms, the dead-letter queue the caller believes the policy names ('' = none), the
 * JSON member `"prism-dead-letter-source":"<queue>"`, this queue's and the dead-letter queue's wake channels.
 *
 * When the stored policy names another dead-letter queue than ARGV[3], changes nothing and returns
 * {-3, dead-letter queue} (the caller retries with that queue's keys). Otherwise returns expired in-flight
 * messages (their receipts lapse) and due delayed ones to the ready set at their own score, then takes up to
 * `max` of the best-scored ready messages to in-flight; a message already delivered max_deliveries times is
 * moved to the dead-letter queue instead (same id, payload, time and priority level, metadata + source,
 * delivery count 0). Returns {wait, id, deliveries, payload, metadata, time, ...}: wait is -1 when messages
 * were taken, else the ms until the next in-flight deadline or delayed due time (-2 when none).
 */
const RECEIVE = script(`${NOW}
local limit = tonumber(redis.call('HGET', KEYS[5], 'max'))
if limit then
  local dlq = redis.call('HGET', KEYS[5], 'dlq')
  if dlq ~= ARGV[3] then return {-3, dlq} end
end
local moved = 0
for _, set in ipairs({KEYS[2], KEYS[4]}) do
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', set, '-inf', now)) do
    redis.call('ZREM', set, id)
    redis.call('HDEL', KEYS[3], 'r:' .. id)
    local s = redis.call('HGET', KEYS[3], 's:' .. id)
    if s then
      redis.call('ZADD', KEYS[1], s, id)
      moved = moved + 1
    end
  end
end
local want = tonumber(ARGV[1])
local deadline = now + tonumber(ARGV[2])
local out = {-1}
local taken = 0
local dead = 0
while taken < want do
  local ids = redis.call('ZRANGE', KEYS[1], 0, want - taken - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    redis.call('ZREM', KEYS[1], id)
    local d = tonumber(redis.call('HGET', KEYS[3], 'd:' .. id) or '0')
    local f = redis.call('HMGET', KEYS[3], 'p:' .. id, 'm:' .. id, 't:' .. id, 's:' .. id)
    if limit and d >= limit then
      redis.call('HDEL', KEYS[3], 'p:' .. id, 'm:' .. id, 't:' .. id, 's:' .. id, 'd:' .. id, 'r:' .. id)
      local level = math.floor(tonumber(f[4]) / ${LEVEL_SPAN})
      local score = level * ${LEVEL_SPAN} + redis.call('INCR', KEYS[8])
      local m = f[2]
      if m == '{}' then m = '{' .. ARGV[4] .. '}' else m = string.sub(m, 1, -2) .. ',' .. ARGV[4] .. '}' end
      redis.call('HSET', KEYS[7], 'p:' .. id, f[1], 'm:' .. id, m, 't:' .. id, f[3], 's:' .. id, score, 'd:' .. id, 0)
      redis.call('ZADD', KEYS[6], score, id)
      dead = dead + 1
    else
      d = d + 1
      redis.call('HSET', KEYS[3], 'd:' .. id, d, 'r:' .. id, d)
      redis.call('ZADD', KEYS[2], deadline, id)
      out[#out + 1] = id
      out[#out + 1] = d
      out[#out + 1] = f[1]
      out[#out + 1] = f[2]
      out[#out + 1] = f[3]
      taken = taken + 1
    end
  end
end
if dead > 0 then redis.call('PUBLISH', ARGV[6], '1') end
if taken == 0 then
  local wait = -2
  for _, set in ipairs({KEYS[2], KEYS[4]}) do
    local next = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
    if #next > 0 then
      local w = math.max(0, tonumber(next[2]) - now)
      if wait < 0 or w < wait then wait = w end
    end
  end
  return {wait}
end
-- Messages this call made ready but could not take: let other waiting Receives have them.
if moved > 0 and redis.call('ZCARD', KEYS[1]) > 0 then redis.call('PUBLISH', ARGV[5], '1') end
return out`);

/**
 * Ack. KEYS: in-flight, ready, data. ARGV: id, delivery, id, delivery, ... Deletes each message whose current
 * delivery is the receipt's; returns how many.
 */
const ACK = script(`
local n = 0
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[3], 'r:' .. id) == ARGV[i + 1] then
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[3], 'p:' .. id, 'm:' .. id, 't:' .. id, 's:' .. id, 'd:' .. id, 'r:' .. id)
    n = n + 1
  end
end
return n`);

/**
 * Nack or ExtendVisibility of the current, unexpired delivery. KEYS: in-flight, ready, data, delayed.
 * ARGV: id, delivery, 'n' (nack) or 'x' (extend), ms, wake channel. A nack ends the delivery (its receipt
 * lapses) and puts the message back in the ready set at its own score (ms = 0, waking waiting Receives) or in
 * the delayed set until now + ms; an extend moves its visibility deadline to now + ms. Returns 1, or 0 when
 * the receipt is not the current delivery or its visibility already expired.
 */
const SETTLE = script(`${NOW}
local id = ARGV[1]
if redis.call('HGET', KEYS[3], 'r:' .. id) ~= ARGV[2] then return 0 end
local deadline = tonumber(redis.call('ZSCORE', KEYS[1], id))
if not deadline or deadline <= now then return 0 end
local ms = tonumber(ARGV[4])
if ARGV[3] == 'x' then
  redis.call('ZADD', KEYS[1], now + ms, id)
  return 1
end
redis.call('ZREM', KEYS[1], id)
redis.call('HDEL', KEYS[3], 'r:' .. id)
if ms > 0 then
  redis.call('ZADD', KEYS[4], now + ms, id)
else
  redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[3], 's:' .. id), id)
  redis.call('PUBLISH', ARGV[5], '1')
end
return 1`);

const BINARY_NUMBER = (r: Reply): number => Number(str(r));

/** A receipt is `<message id>:<delivery>`; ids are UUIDs, so the last colon separates them. */
function parseReceipt(receipt: string): [string, string] | undefined {
  const at = receipt.lastIndexOf(':');
  if (at <= 0 || at === receipt.length - 1) return undefined;
  return [receipt.slice(0, at), receipt.slice(at + 1)];
}

/**
 * The queues of one namespace. Keys (see {@link KeySpace.queue}): ready set, in-flight set, delayed set,
 * message hash, sequence counter and dead-letter policy per queue; an enqueue (also a delayed one, so waiters
 * re-plan their sleep), an immediate Nack, a dead-lettering and a Receive that made more messages ready than
 * it took PUBLISH on the queue's wake channel so that a waiting Receive on any replica retries at once (it also
 * retries at the next in-flight deadline or delayed due time, and at least every {@link MAX_POLL_MS}, so a
 * wake-up lost while the subscriber reconnects only delays it).
 */
export class RedisQueues {
  private sub?: Promise<ReturnType<RedisConnection['duplicate']>>;
  /** Wake channel → callbacks of the Receives waiting on that queue. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;
  /** Queue → the dead-letter queue its policy named when last seen (the policy itself lives in Redis). */
  private readonly deadLetterQueues = new Map<string, string>();

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: KeySpace,
    private readonly logger: Logger,
  ) {}

  private channel(queue: string): string {
    return this.keys.queue(queue, 'w');
  }

  /** Enqueues now, or later when `when` is given; returns the id and the due time (Redis server clock, ms). */
  private async enqueue(
    queue: string,
    payload: Uint8Array,
    metadata: Record<string, string>,
    priority: number,
    ctx: CallContext,
    when?: { case: 'delayMs' | 'deliverAtMs'; value: bigint },
  ): Promise<{ id: string; dueMs: number }> {
    const id = randomUUID();
    const schedule = when?.case === 'delayMs' ? 'd' : when?.case === 'deliverAtMs' ? 'a' : '';
    const dueMs = await this.conn.eval(
      ENQUEUE,
      [
        this.keys.queue(queue, 'r'),
        this.keys.queue(queue, 'd'),
        this.keys.queue(queue, 's'),
        this.keys.queue(queue, 't'),
      ],
      [
        id,
        arg(payload),
        JSON.stringify(metadata),
        String(priority),
        this.channel(queue),
        schedule,
        String(when?.value ?? 0n),
      ],
      false,
      ctx,
    );
    return { id, dueMs: Number(dueMs) };
  }

  private async take(queue: string, max: number, visibilityMs: number, ctx: CallContext) {
    let parts: Reply[] = [];
    // The dead-letter queue's keys must be named up front: use the one last seen for this queue's policy,
    // and retry with the stored one when the script says it changed (at most a few times in a row).
    for (let attempt = 0; ; attempt++) {
      const dlq = this.deadLetterQueues.get(queue) ?? '';
      const reply = await this.conn.eval(
        RECEIVE,
        [
          this.keys.queue(queue, 'r'),
          this.keys.queue(queue, 'f'),
          this.keys.queue(queue, 'd'),
          this.keys.queue(queue, 't'),
          this.keys.queue(queue, 'p'),
          this.keys.queue(dlq, 'r'),
          this.keys.queue(dlq, 'd'),
          this.keys.queue(dlq, 's'),
        ],
        [
          String(max),
          String(visibilityMs),
          dlq,
          `${JSON.stringify(DEAD_LETTER_SOURCE_KEY)}:${JSON.stringify(queue)}`,
          this.channel(queue),
          this.channel(dlq),
        ],
        true,
        ctx,
      );
      parts = Array.isArray(reply) ? reply : [];
      if (Number(parts[0]) !== -3) break;
      this.deadLetterQueues.set(queue, str(parts[1]));
      if (attempt >= 4) throw internal(`redis queue ${queue}: its dead-letter policy keeps changing`);
    }
    const wait = Number(parts[0] ?? -2);
    const messages: ReceivedMessage[] = [];
    for (let i = 1; i + 4 < parts.length; i += 5) {
      const id = str(parts[i]);
      const deliveries = BINARY_NUMBER(parts[i + 1]);
      const p = parts[i + 2];
      messages.push({
        $typeName: 'prism.queue.v1.ReceivedMessage',
        message: {
          $typeName: 'prism.common.v1.Message',
          id,
          topic: queue,
          payload: Buffer.isBuffer(p)
            ? new Uint8Array(p.buffer, p.byteOffset, p.byteLength)
            : new Uint8Array(),
          metadata: JSON.parse(str(parts[i + 3]) || '{}') as Record<string, string>,
          timestampMs: BigInt(BINARY_NUMBER(parts[i + 4])),
        },
        receipt: `${id}:${deliveries}`,
        deliveryCount: deliveries,
      });
    }
    return { messages, wait };
  }

  /** Long-poll: takes messages, waiting up to `waitMs` for the first (woken by enqueues, abortable). */
  private async receive(
    queue: string,
    max: number,
    waitMs: number,
    visibilityMs: number,
    ctx: CallContext,
  ): Promise<ReceivedMessage[]> {
    const until = Date.now() + waitMs;
    let wake: (() => void) | undefined;
    let woken = false;
    // Listen before looking, so an enqueue between a look and the following sleep is not missed.
    const remove =
      waitMs > 0
        ? await this.listen(queue, () => {
            woken = true;
            wake?.();
          })
        : undefined;
    try {
      for (;;) {
        woken = false;
        const { messages, wait } = await this.take(queue, max, visibilityMs, ctx);
        const now = Date.now();
        if (messages.length > 0 || now >= until || ctx.signal.aborted || this.closed) return messages;
        if (woken) continue;
        // Until the deadline, the next in-flight deadline (a redelivery), or the poll fallback.
        const napMs = Math.max(1, Math.min(until - now, wait >= 0 ? wait + 1 : MAX_POLL_MS, MAX_POLL_MS));
        await new Promise<void>((resolve) => {
          wake = resolve;
          sleep(napMs, ctx.signal).then(resolve, resolve);
        });
        wake = undefined;
      }
    } finally {
      remove?.();
    }
  }

  /** Registers a wake-up for `queue`'s channel; returns its removal. Falls back to polling if it fails. */
  private async listen(queue: string, onWake: () => void): Promise<() => void> {
    const channel = this.channel(queue);
    let set = this.waiters.get(channel);
    if (!set) {
      set = new Set();
      this.waiters.set(channel, set);
      try {
        const sub = await this.subscriber();
        await this.conn.bound(sub.subscribe(channel, () => this.wakeAll(channel)));
      } catch (err) {
        this.logger.debug({ err: String(err) }, `redis queue ${queue}: wake-up channel unavailable; polling`);
      }
    }
    set.add(onWake);
    const mine = set;
    return () => {
      mine.delete(onWake);
      if (mine.size === 0 && this.waiters.get(channel) === mine) {
        this.waiters.delete(channel);
        this.sub
          ?.then((sub) => (this.waiters.has(channel) ? undefined : sub.unsubscribe(channel)))
          .catch(() => {});
      }
    };
  }

  private wakeAll(channel: string): void {
    for (const w of [...(this.waiters.get(channel) ?? [])]) w();
  }

  private subscriber() {
    this.sub ??= (async () => {
      const client = this.conn.duplicate();
      client.on('error', (err: Error) =>
        this.logger.debug({ err: err.message }, 'redis queue wake-up connection problem'),
      );
      try {
        await this.conn.connectDedicated(client);
      } catch (err) {
        this.sub = undefined;
        if (client.isOpen) client.destroy();
        throw this.conn.mapError(err);
      }
      return client;
    })();
    return this.sub;
  }

  private async ack(queue: string, receipts: readonly string[], ctx: CallContext): Promise<number> {
    const args: string[] = [];
    for (const r of receipts) {
      const parsed = parseReceipt(r);
      if (parsed) args.push(...parsed);
    }
    if (args.length === 0) return 0;
    return BINARY_NUMBER(
      await this.conn.eval(
        ACK,
        [this.keys.queue(queue, 'f'), this.keys.queue(queue, 'r'), this.keys.queue(queue, 'd')],
        args,
        false,
        ctx,
      ),
    );
  }

  /** queue_basic: Enqueue (at priority 0), Receive, Ack. */
  basic(): QueueBasicImpl {
    return {
      enqueue: async (req, ctx) => ({
        messageId: (await this.enqueue(req.queue, req.payload, req.metadata, 0, ctx)).id,
      }),
      receive: async (req, ctx) => ({
        messages: await this.receive(
          req.queue,
          req.maxMessages || 1,
          Number(req.waitMs),
          orDefault(req.visibilityTimeoutMs, MESSAGING_DEFAULTS.visibilityTimeoutMs),
          ctx,
        ),
      }),
      ack: async (req, ctx) => ({ ackedCount: await this.ack(req.queue, req.receipts, ctx) }),
    };
  }

  /** queue_priority: EnqueueWithPriority into the same sets. */
  priority(): QueuePriorityImpl {
    return {
      enqueueWithPriority: async (req, ctx) => ({
        messageId: (await this.enqueue(req.queue, req.payload, req.metadata, req.priority, ctx)).id,
      }),
    };
  }

  /** Nack ('n') or ExtendVisibility ('x') of the current delivery; NOT_FOUND for any other receipt. */
  private async settle(queue: string, receipt: string, op: 'n' | 'x', ms: number, ctx: CallContext) {
    const parsed = parseReceipt(receipt);
    const done =
      parsed !== undefined &&
      BINARY_NUMBER(
        await this.conn.eval(
          SETTLE,
          [
            this.keys.queue(queue, 'f'),
            this.keys.queue(queue, 'r'),
            this.keys.queue(queue, 'd'),
            this.keys.queue(queue, 't'),
          ],
          [...parsed, op, String(ms), this.channel(queue)],
          false,
          ctx,
        ),
      ) === 1;
    if (!done) throw notFound(`receipt "${receipt}" of queue "${queue}" is unknown, acked or expired`);
  }

  /** queue_visibility: Nack (back to the ready set, or the delayed set for a delay) and ExtendVisibility. */
  visibility(): QueueVisibilityImpl {
    return {
      nack: async (req, ctx) => {
        await this.settle(req.queue, req.receipt, 'n', Number(req.delayMs), ctx);
        return {};
      },
      extendVisibility: async (req, ctx) => {
        await this.settle(req.queue, req.receipt, 'x', Number(req.visibilityTimeoutMs), ctx);
        return {};
      },
    };
  }

  /** queue_delayed: EnqueueDelayed into the delayed set (at priority 0), due by the Redis server's clock. */
  delayed(): QueueDelayedImpl {
    return {
      enqueueDelayed: async (req, ctx) => {
        if (req.when.case === undefined) throw internal('EnqueueDelayed reached the adapter unvalidated');
        const { id, dueMs } = await this.enqueue(req.queue, req.payload, req.metadata, 0, ctx, req.when);
        return { messageId: id, deliverAtMs: BigInt(dueMs) };
      },
    };
  }

  /**
   * queue_dead_letter: the policy is a hash in Redis (`max`, `dlq`), read by every Receive script, so all
   * replicas apply the same policy at once.
   */
  deadLetter(): QueueDeadLetterImpl {
    return {
      configureDeadLetter: async (req, ctx) => {
        const key = this.keys.queue(req.queue, 'p');
        if (req.maxDeliveries === 0) {
          await this.conn.call(['DEL', key], false, ctx);
          this.deadLetterQueues.delete(req.queue);
        } else {
          await this.conn.call(
            ['HSET', key, 'max', String(req.maxDeliveries), 'dlq', req.deadLetterQueue],
            false,
            ctx,
          );
          this.deadLetterQueues.set(req.queue, req.deadLetterQueue);
        }
        return {};
      },
    };
  }

  /** Ends waiting Receives and drops the wake-up connection. */
  async close(): Promise<void> {
    this.closed = true;
    for (const channel of [...this.waiters.keys()]) this.wakeAll(channel);
    const sub = this.sub;
    this.sub = undefined;
    if (!sub) return;
    const client = await sub.catch(() => undefined);
    if (client?.isOpen) client.destroy();
  }
}
