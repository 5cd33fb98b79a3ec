import { MESSAGING_DEFAULTS, orDefault } from '@prism/pubsub-basic';
import { type Logger, sleep } from '@prism/sdk';
import { GroupStart, type StreamConsumerGroupsImpl } from '@prism/stream-consumer-groups';
import { ErrorReply, RESP_TYPES } from 'redis';
import type { RedisConnection } from './connection.js';
import type { KeySpace } from './keys.js';
import { int, str } from './kv.js';
import { type Entry, parseEntries, readReplyEntries, record, streamKey } from './streams.js';

/** How long one XREADGROUP of a member blocks on the server. */
const GROUP_BLOCK_MS = 1000;
const BINARY = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;
const ENTRY_ID = /^\d+-\d+$/;

/** How often a member at max_in_flight checks whether acks (from any replica) or claims freed a slot. */
const FULL_POLL_MS = 50;

/**
 * Entries one member stream delivered and this instance did not see acked, to make them claimable at once
 * when the stream ends. Only a hint: how many records a member holds is always asked from Redis (XPENDING),
 * since acks may come through another replica and other members may claim the member's entries.
 */
class Delivered {
  private readonly ids = new Set<string>();
  constructor(
    readonly key: string,
    readonly group: string,
  ) {}
  add(id: string): void {
    this.ids.add(id);
  }
  release(id: string): void {
    this.ids.delete(id);
  }
  list(): string[] {
    return [...this.ids];
  }
}

/**
 * stream_consumer_groups on Redis consumer groups. A member reads new entries with XREADGROUP (BLOCK,
 * on its own connection) and takes over entries that stayed unacked longer than claim_timeout_ms
 * anywhere in the group with XAUTOCLAIM (a dead member's work, or a live member's that never acks).
 * When a member's stream ends, its unacked entries are made claimable at once (XCLAIM … IDLE), so
 * another member gets them on its next poll. Delivery counts come from XPENDING.
 */
export class RedisGroups {
  private readonly delivered = new Set<Delivered>();

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: KeySpace,
    private readonly logger: Logger,
  ) {}

  impl(): StreamConsumerGroupsImpl {
    return {
      readGroup: (req, ctx) => this.readGroup(req, ctx.signal),
      ack: async (req, ctx) => {
        const ids = [...new Set(req.ackIds.filter((id) => ENTRY_ID.test(id)))];
        const key = streamKey(this.keys, req.stream);
        if (ids.length > 0) await this.conn.call(['XACK', key, req.group, ...ids], false, ctx);
        // Entry ids repeat across groups of a stream (and across streams): only this group's deliveries.
        for (const d of this.delivered)
          if (d.key === key && d.group === req.group) for (const id of ids) d.release(id);
        return {};
      },
      deleteGroup: async (req, ctx) => {
        try {
          const n = int(
            await this.conn.call(
              ['XGROUP', 'DESTROY', streamKey(this.keys, req.stream), req.group],
              false,
              ctx,
            ),
          );
          return { deleted: n === 1 };
        } catch (err) {
          if (/no such key/i.test(String((err as Error).message))) return { deleted: false };
          throw err;
        }
      },
    };
  }

  private async *readGroup(
    req: {
      stream: string;
      group: string;
      consumer: string;
      start: GroupStart;
      maxInFlight: number;
      claimTimeoutMs: bigint;
    },
    signal: AbortSignal,
  ) {
    const key = streamKey(this.keys, req.stream);
    const claimMs = orDefault(req.claimTimeoutMs, MESSAGING_DEFAULTS.claimTimeoutMs);
    const maxInFlight = orDefault(req.maxInFlight, MESSAGING_DEFAULTS.maxInFlight);
    const startId = req.start === GroupStart.EARLIEST ? '0' : '$';
    try {
      await this.conn.call(['XGROUP', 'CREATE', key, req.group, startId, 'MKSTREAM']);
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    const delivered = new Delivered(key, req.group);
    this.delivered.add(delivered);
    const client = this.conn.duplicate();
    client.on('error', (err: Error) =>
      this.logger.debug({ err: err.message }, 'redis group reader connection problem'),
    );
    const stop = () => {
      if (client.isOpen) client.destroy();
    };
    signal.addEventListener('abort', stop, { once: true });
    try {
      await this.conn.connectDedicated(client);
      // A member coming back first takes its own pending entries (left by its previous stream).
      let entries = await this.ownPending(key, req.group, req.consumer, maxInFlight);
      while (!signal.aborted) {
        for (const e of entries) {
          delivered.add(e.entry.id);
          yield { ...record(req.stream, e.entry), ackId: e.entry.id, deliveryCount: e.count };
          if (signal.aborted) return;
        }
        // At most max_in_flight records pending with this member (in Redis, whoever acked or claimed them).
        const room = maxInFlight - (await this.pendingCount(key, req.group, req.consumer, maxInFlight));
        if (room <= 0) {
          await sleep(FULL_POLL_MS, signal).catch(() => {});
          entries = [];
          continue;
        }
        // Entries idle beyond the claim timeout anywhere in the group (dead or stuck members).
        const auto = await this.conn.call(
          ['XAUTOCLAIM', key, req.group, req.consumer, String(claimMs), '0-0', 'COUNT', String(room)],
          true,
        );
        const claimed = parseEntries(Array.isArray(auto) ? auto[1] : []);
        if (claimed.length > 0) {
          entries = await this.withCounts(key, req.group, claimed);
          continue;
        }
        let reply: unknown;
        try {
          // Bounded by the BLOCK time plus command_timeout_ms: a frozen Redis ends the stream (UNAVAILABLE).
          reply = await this.conn.bound(
            client.sendCommand(
              [
                'XREADGROUP',
                'GROUP',
                req.group,
                req.consumer,
                'COUNT',
                String(room),
                'BLOCK',
                String(GROUP_BLOCK_MS),
                'STREAMS',
                key,
                '>',
              ],
              { typeMapping: BINARY },
            ),
            undefined,
            GROUP_BLOCK_MS,
          );
        } catch (err) {
          if (signal.aborted) return;
          if (err instanceof ErrorReply && err.message.startsWith('NOGROUP')) return; // group deleted
          throw this.conn.mapError(err);
        }
        entries = readReplyEntries(reply).map((entry) => ({ entry, count: 1 }));
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
      this.delivered.delete(delivered);
      // Make this member's unacked entries claimable by the others now instead of after the timeout.
      const ids = delivered.list();
      if (ids.length > 0)
        await this.conn
          .call(['XCLAIM', key, req.group, req.consumer, '0', ...ids, 'IDLE', String(claimMs), 'JUSTID'])
          .catch(() => {});
    }
  }

  /** How many entries are pending with `consumer` in the group, counted up to `max` (XPENDING … consumer). */
  private async pendingCount(key: string, group: string, consumer: string, max: number): Promise<number> {
    const pending = await this.conn.call(['XPENDING', key, group, '-', '+', String(max), consumer]);
    return Array.isArray(pending) ? pending.length : 0;
  }

  /** Re-claims (XCLAIM, counting a delivery) the member's own pending entries, up to `max`. */
  private async ownPending(key: string, group: string, consumer: string, max: number) {
    const pending = await this.conn.call(['XPENDING', key, group, '-', '+', String(max), consumer]);
    const ids = Array.isArray(pending)
      ? pending.map((p) => (Array.isArray(p) ? str(p[0]) : '')).filter(Boolean)
      : [];
    if (ids.length === 0) return [];
    const entries = parseEntries(await this.conn.call(['XCLAIM', key, group, consumer, '0', ...ids], true));
    return this.withCounts(key, group, entries);
  }

  /** Delivery counts of entries from XPENDING (one range query). */
  private async withCounts(
    key: string,
    group: string,
    entries: Entry[],
  ): Promise<{ entry: Entry; count: number }[]> {
    if (entries.length === 0) return [];
    const ids = entries.map((e) => e.id);
    const pending = await this.conn.call([
      'XPENDING',
      key,
      group,
      ids[0] ?? '-',
      ids[ids.length - 1] ?? '+',
      '1000',
    ]);
    const counts = new Map<string, number>();
    if (Array.isArray(pending))
      for (const p of pending) if (Array.isArray(p)) counts.set(str(p[0]), int(p[3]));
    return entries.map((entry) => ({ entry, count: counts.get(entry.id) ?? 1 }));
  }
}
