import { blockingWaitMs, type ListBlockingImpl } from '@prism/list-blocking';
import {
  type CallContext,
  ConnectError,
  internal,
  type Logger,
  resourceExhausted,
  sleep,
  toConnectError,
  unavailable,
} from '@prism/sdk';
import { RESP_TYPES } from 'redis';
import { type RedisConnection, type Reply, script } from './connection.js';
import type { KeySpace } from './keys.js';
import { arg, bytes } from './kv.js';

const BINARY = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

/** Most calls of one namespace blocked at once (each holds a dedicated Redis connection). */
export const MAX_BLOCKED_CALLS = 1000;
/** Idle dedicated connections kept for the next blocking pops (the rest are closed). */
const MAX_IDLE = 8;

/**
 * LPOP (ARGV[1] = 'L') or RPOP of the first non-empty list among KEYS, atomically: {index, value} or nil.
 * Taken on the shared connection before blocking, so a pop that can be served at once needs no dedicated
 * connection. Fair: while calls are blocked on a list, Redis hands them every pushed value inside the push
 * itself, so such a list is never seen non-empty here ahead of them.
 */
const FIRST_POP = script(`
for i, k in ipairs(KEYS) do
  local v
  if ARGV[1] == 'L' then v = redis.call('LPOP', k) else v = redis.call('RPOP', k) end
  if v then return {i, v} end
end
return nil`);

type Client = ReturnType<RedisConnection['duplicate']>;

/** A dedicated connection for blocking pops and its Redis client id (for CLIENT UNBLOCK). */
interface Blocker {
  readonly client: Client;
  readonly id: string;
  /** Reconnected since its id was read (the id changed): not reused. */
  stale: boolean;
}

const NOTHING = { found: false, key: '', value: new Uint8Array() };

/** The abort reason of a call as a ConnectError (CANCELED for a plain abort). */
function abortError(signal: AbortSignal): ConnectError {
  const reason: unknown = signal.reason;
  if (reason instanceof ConnectError) return reason;
  return toConnectError(
    reason instanceof Error ? reason : Object.assign(new Error('call canceled'), { name: 'AbortError' }),
    'redis list_blocking',
  );
}

/**
 * list_blocking on BLPOP/BRPOP. A pop that can be served at once runs on the shared connection; otherwise the
 * call blocks in Redis on a dedicated connection from a small pool, so other calls are never held up. Redis
 * serves blocked clients first come, first served, each pushed value to one of them. The BLPOP timeout is
 * min(timeout_ms, the call deadline, 5 min) in seconds with decimals (Redis ≥ 6). Cancellation sends CLIENT
 * UNBLOCK for the call's connection; a value Redis handed it at that moment is pushed back to the end it was
 * popped from, so nothing is lost.
 */
export class RedisListBlocking {
  private readonly idle: Blocker[] = [];
  private readonly busy = new Set<Blocker>();
  private closed = false;

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: KeySpace,
    private readonly logger: Logger,
  ) {}

  impl(): ListBlockingImpl {
    return {
      blockingPopLeft: (req, ctx) => this.pop(req.keys, req.timeoutMs, true, ctx),
      blockingPopRight: (req, ctx) => this.pop(req.keys, req.timeoutMs, false, ctx),
    };
  }

  /** Closes every dedicated connection; blocked calls end UNAVAILABLE. */
  close(): void {
    this.closed = true;
    for (const b of [...this.idle, ...this.busy]) if (b.client.isOpen) b.client.destroy();
    this.idle.length = 0;
    this.busy.clear();
  }

  private async pop(userKeys: readonly string[], timeoutMs: bigint, left: boolean, ctx: CallContext) {
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    const redisKeys = userKeys.map((k) => this.keys.list(k));
    const now = await this.conn.eval(FIRST_POP, redisKeys, [left ? 'L' : 'R'], true, ctx);
    if (Array.isArray(now)) {
      const key = userKeys[Number(now[0]) - 1];
      if (key === undefined) throw internal(`unexpected Redis reply from a list pop: ${JSON.stringify(now)}`);
      return this.handOver(key, now[1], left, ctx);
    }
    const wait = blockingWaitMs(timeoutMs, ctx.deadline);
    if (wait <= 0) return NOTHING;
    if (this.busy.size >= MAX_BLOCKED_CALLS)
      throw resourceExhausted(
        `${this.conn.where}: ${MAX_BLOCKED_CALLS} blocking pops are already waiting in this namespace; retry later`,
      );
    const b = await this.acquire();
    if (ctx.signal.aborted) {
      this.release(b, true);
      throw abortError(ctx.signal);
    }
    let settled = false;
    const onAbort = () => {
      void this.unblock(b, () => settled);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let reply: Reply;
    try {
      reply = (await this.conn.bound(
        b.client.sendCommand(
          [left ? 'BLPOP' : 'BRPOP', ...redisKeys, (Math.max(wait, 1) / 1000).toFixed(3)],
          {
            typeMapping: BINARY,
          },
        ),
        undefined,
        wait,
      )) as Reply;
    } catch (err) {
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      this.release(b, false);
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      if (this.closed) throw unavailable(`${this.conn.where} closed while the call was waiting`);
      throw this.conn.mapError(err);
    }
    settled = true;
    ctx.signal.removeEventListener('abort', onAbort);
    this.release(b, true);
    if (!Array.isArray(reply)) {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      return NOTHING;
    }
    const popped = String(reply[0]);
    const index = redisKeys.indexOf(popped);
    const key = userKeys[index];
    if (key === undefined)
      throw internal(`unexpected Redis reply from ${left ? 'BLPOP' : 'BRPOP'}: ${popped}`);
    return this.handOver(key, reply[1], left, ctx);
  }

  /** The answer for a popped value; when the call was cancelled meanwhile, the value goes back instead. */
  private async handOver(key: string, value: Reply, left: boolean, ctx: CallContext) {
    const v = bytes(value);
    if (ctx.signal.aborted) {
      await this.conn.call([left ? 'LPUSH' : 'RPUSH', this.keys.list(key), arg(v)]);
      throw abortError(ctx.signal);
    }
    return { found: true, key, value: v };
  }

  /**
   * Ends the BLPOP of a cancelled call: CLIENT UNBLOCK (its reply is then nil, or the value Redis handed it
   * just before, which the caller puts back). UNBLOCK finds nothing when the BLPOP has not reached Redis yet,
   * so it is retried; a connection that still does not end is closed.
   */
  private async unblock(b: Blocker, settled: () => boolean): Promise<void> {
    for (let attempt = 0; attempt < 50 && !settled(); attempt++) {
      try {
        const n = await this.conn.call(['CLIENT', 'UNBLOCK', b.id]);
        if (n === 1 || settled()) return;
      } catch (err) {
        this.logger.debug({ err: (err as Error).message }, 'redis CLIENT UNBLOCK failed');
      }
      await sleep(10);
    }
    if (!settled() && b.client.isOpen) b.client.destroy();
  }

  private async acquire(): Promise<Blocker> {
    for (let b = this.idle.pop(); b; b = this.idle.pop()) {
      if (!b.stale && b.client.isReady) {
        this.busy.add(b);
        return b;
      }
      if (b.client.isOpen) b.client.destroy();
    }
    const client = this.conn.duplicate();
    client.on('error', (err: Error) =>
      this.logger.debug({ err: err.message }, 'redis blocking-pop connection problem'),
    );
    try {
      await this.conn.connectDedicated(client);
      const id = String(await this.conn.bound(client.sendCommand(['CLIENT', 'ID'])));
      const b: Blocker = { client, id, stale: false };
      client.on('ready', () => {
        b.stale = true;
      });
      if (this.closed) throw unavailable(`${this.conn.where} is closed`);
      this.busy.add(b);
      return b;
    } catch (err) {
      if (client.isOpen) client.destroy();
      throw this.conn.mapError(err);
    }
  }

  private release(b: Blocker, reusable: boolean): void {
    this.busy.delete(b);
    if (reusable && !this.closed && !b.stale && b.client.isReady && this.idle.length < MAX_IDLE)
      this.idle.push(b);
    else if (b.client.isOpen) b.client.destroy();
  }
}
