import { internal, invalidArgument, type Logger } from '@prism/sdk';
import type { StreamBasicImpl } from '@prism/stream-basic';
import type { StreamReplayImpl } from '@prism/stream-replay';
import { RESP_TYPES } from 'redis';
import type { RedisConnection, Reply } from './connection.js';
import type { KeySpace } from './keys.js';
import { arg, str } from './kv.js';
import { APPEND_RETAINED, retentionKey } from './stream-retention.js';

const SEQ_BITS = 20n;
const SEQ_MASK = (1n << SEQ_BITS) - 1n;
const BINARY = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;
/** How long one XREAD of a follower blocks on the server. */
const BLOCK_MS = 2000;
const BATCH = 64;

/**
 * Offset of a Redis stream entry id `<ms>-<seq>`: ms · 2^20 + seq. Strictly increasing in id order;
 * gaps are allowed by the contract. Redis would need over a million entries in one millisecond to
 * exceed 20 bits of sequence.
 */
export function idToOffset(id: string): bigint {
  const [ms, seq] = id.split('-');
  const s = BigInt(seq ?? '0');
  if (s > SEQ_MASK)
    throw internal(`stream entry id ${id} has a sequence beyond 2^20; cannot map it to an offset`);
  return (BigInt(ms ?? '0') << SEQ_BITS) | s;
}

/** The entry id of an offset (inverse of {@link idToOffset}). */
export const offsetToId = (offset: bigint): string => `${offset >> SEQ_BITS}-${offset & SEQ_MASK}`;

/** One entry as read from Redis. */
export interface Entry {
  readonly id: string;
  readonly payload: Uint8Array;
  readonly metadata: Record<string, string>;
}

/** Parses `[[id, [field, value, ...]], ...]` (fields `p` payload and optional `m` metadata JSON). */
export function parseEntries(reply: Reply): Entry[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((e) => {
    if (!Array.isArray(e) || !Array.isArray(e[1])) return []; // deleted entry (XAUTOCLAIM/XPENDING)
    const fields = e[1];
    let payload: Uint8Array = new Uint8Array();
    let metadata: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const f = str(fields[i]);
      const v = fields[i + 1];
      if (f === 'p' && Buffer.isBuffer(v)) payload = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      else if (f === 'm') metadata = JSON.parse(str(v)) as Record<string, string>;
    }
    return [{ id: str(e[0]), payload, metadata }];
  });
}

/**
 * The entries of the single stream in an XREAD / XREADGROUP reply: RESP3 answers a map
 * `{ key: entries }`, RESP2 an array `[[key, entries]]`; a timeout answers null.
 */
export function readReplyEntries(reply: unknown): Entry[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    const first = reply[0];
    return parseEntries(Array.isArray(first) ? (first[1] as Reply) : []);
  }
  if (reply instanceof Map) return parseEntries([...reply.values()][0] as Reply);
  if (typeof reply === 'object') return parseEntries(Object.values(reply)[0] as Reply);
  return [];
}

/** A delivered record as the stream interfaces return it. */
export function record(stream: string, e: Entry) {
  const offset = idToOffset(e.id);
  return {
    offset,
    message: {
      id: e.id,
      topic: stream,
      payload: e.payload,
      metadata: e.metadata,
      timestampMs: offset >> SEQ_BITS,
    },
  };
}

/** Redis key of a Prism stream. */
export const streamKey = (keys: KeySpace, stream: string): string => `${keys.prefix}\u0000s\u0000${stream}`;

/**
 * stream_basic and stream_replay on Redis Streams: Append = XADD (offset from the entry id, timestamp =
 * the id's milliseconds), Read/Replay = XRANGE pages, following with XREAD BLOCK on a dedicated
 * connection (a blocking read must not stall the shared command connection), Trim = XTRIM MINID.
 */
export class RedisStreams {
  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: KeySpace,
    private readonly logger: Logger,
  ) {}

  basic(): StreamBasicImpl {
    return {
      append: async (req, ctx) => {
        const fields: (string | Buffer)[] = ['p', arg(req.payload)];
        if (Object.keys(req.metadata).length) fields.push('m', JSON.stringify(req.metadata));
        // XADD plus the stream's retention policy, if any (stream_retention), in one atomic script.
        const id = str(
          await this.conn.eval(
            APPEND_RETAINED,
            [streamKey(this.keys, req.stream), retentionKey(this.keys, req.stream)],
            fields,
            false,
            ctx,
          ),
        );
        const offset = idToOffset(id);
        return { offset, messageId: id, timestampMs: offset >> SEQ_BITS };
      },
      read: (req, ctx) => this.read(req.stream, req.fromOffset, req.maxRecords, req.follow, ctx.signal),
      trim: async (req, ctx) => {
        if (req.beforeOffset > 0n)
          await this.conn.call(
            ['XTRIM', streamKey(this.keys, req.stream), 'MINID', offsetToId(req.beforeOffset)],
            false,
            ctx,
          );
        return {};
      },
    };
  }

  replay(): StreamReplayImpl {
    return {
      replay: (req, ctx) => {
        const from =
          req.start.case === 'fromTimestampMs'
            ? BigInt(req.start.value) << SEQ_BITS
            : req.start.case === 'fromOffset'
              ? req.start.value
              : undefined;
        if (from === undefined) throw invalidArgument('start is required: from_offset or from_timestamp_ms');
        return this.read(req.stream, from, req.maxRecords, req.follow, ctx.signal);
      },
    };
  }

  private async *read(
    stream: string,
    from: bigint,
    maxRecords: number,
    follow: boolean,
    signal: AbortSignal,
  ) {
    const key = streamKey(this.keys, stream);
    // Exclusive lower bound: the offset just below `from` (ids of one ms never reach 2^20 - 1).
    let after = from > 0n ? offsetToId(from - 1n) : '0-0';
    let end = '+';
    if (!follow) {
      const last = parseEntries(await this.conn.call(['XREVRANGE', key, '+', '-', 'COUNT', '1'], true));
      if (last.length === 0) return;
      end = last[0]?.id ?? '+';
    }
    let count = 0;
    const room = () => (maxRecords > 0 ? Math.min(BATCH, maxRecords - count) : BATCH);
    // Catch up with what is stored.
    for (;;) {
      if (signal.aborted) return;
      const page = parseEntries(
        await this.conn.call(['XRANGE', key, `(${after}`, end, 'COUNT', String(room())], true),
      );
      for (const e of page) {
        yield record(stream, e);
        after = e.id;
        if (maxRecords > 0 && ++count >= maxRecords) return;
      }
      if (page.length < room()) break;
    }
    if (!follow) return;
    const client = this.conn.duplicate();
    client.on('error', (err: Error) =>
      this.logger.debug({ err: err.message }, 'redis follower connection problem'),
    );
    const stop = () => {
      if (client.isOpen) client.destroy();
    };
    signal.addEventListener('abort', stop, { once: true });
    try {
      await this.conn.connectDedicated(client);
      while (!signal.aborted) {
        let reply: unknown;
        try {
          // Bounded by the BLOCK time plus command_timeout_ms: a frozen Redis ends the stream (UNAVAILABLE).
          reply = await this.conn.bound(
            client.sendCommand(
              ['XREAD', 'COUNT', String(room()), 'BLOCK', String(BLOCK_MS), 'STREAMS', key, after],
              {
                typeMapping: BINARY,
              },
            ),
            undefined,
            BLOCK_MS,
          );
        } catch (err) {
          if (signal.aborted) return;
          throw this.conn.mapError(err);
        }
        for (const e of readReplyEntries(reply)) {
          yield record(stream, e);
          after = e.id;
          if (maxRecords > 0 && ++count >= maxRecords) return;
        }
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  }
}
