import { randomUUID } from 'node:crypto';
import type { PubSubBasicImpl } from '@prism/pubsub-basic';
import { type PubSubWildcardsImpl, patternToGlob, topicMatches } from '@prism/pubsub-wildcards';
import { type CallContext, DroppingBuffer, type Logger, type PluginMetrics } from '@prism/sdk';
import type { RedisConnection } from './connection.js';
import { escapeGlob, type KeySpace } from './keys.js';

const MAGIC = Buffer.from('PRISM1\u0000');

/** What travels in one PUBLISH: id, time and metadata in a small JSON header, then the raw payload. */
interface Envelope {
  readonly id: string;
  readonly ts: number;
  readonly md?: Record<string, string>;
}

/** `MAGIC | u32 header length | header JSON | payload`. */
export function encodeEnvelope(env: Envelope, payload: Uint8Array): Buffer {
  const header = Buffer.from(JSON.stringify(env));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  return Buffer.concat([MAGIC, len, header, payload]);
}

/** Decodes a message; one published by a non-Prism client becomes a payload-only message. */
export function decodeEnvelope(buf: Buffer): { env: Envelope; payload: Uint8Array } {
  if (buf.length >= MAGIC.length + 4 && buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    const n = buf.readUInt32BE(MAGIC.length);
    const start = MAGIC.length + 4;
    try {
      const env = JSON.parse(buf.subarray(start, start + n).toString('utf8')) as Envelope;
      return { env, payload: new Uint8Array(buf.subarray(start + n)) };
    } catch {
      // not ours after all: fall through
    }
  }
  return { env: { id: randomUUID(), ts: Date.now() }, payload: new Uint8Array(buf) };
}

type Listener = (message: Buffer, channel: Buffer) => void;

/**
 * pubsub_basic and pubsub_wildcards on Redis Pub/Sub (at-most-once). Channels are
 * `<prefix>\0t\0<topic>`; patterns become a PSUBSCRIBE glob (a superset, since `*` also crosses dots)
 * narrowed with the contract's matcher. All subscriptions of an instance share one subscriber
 * connection (node-redis resubscribes after a reconnect); each feeds its own bounded buffer that drops
 * and counts when the client reads too slowly.
 */
export class RedisPubSub {
  private sub?: Promise<ReturnType<RedisConnection['duplicate']>>;
  private readonly channelPrefix: string;

  constructor(
    private readonly conn: RedisConnection,
    keys: KeySpace,
    private readonly metrics: PluginMetrics,
    private readonly logger: Logger,
    private readonly capacity = 1024,
  ) {
    this.channelPrefix = `${keys.prefix}\u0000t\u0000`;
  }

  private subscriber() {
    this.sub ??= (async () => {
      const client = this.conn.duplicate();
      client.on('error', (err: Error) =>
        this.logger.debug({ err: err.message }, 'redis subscriber connection problem'),
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

  private async *stream(
    label: string,
    subscribe: (l: Listener) => Promise<void>,
    unsubscribe: (l: Listener) => Promise<void>,
    accept: (topic: string) => boolean,
    signal: AbortSignal,
  ) {
    const buffer = new DroppingBuffer<{ topic: string; data: Buffer }>({
      capacity: this.capacity,
      signal,
      metrics: this.metrics,
      labels: { interface: label },
    });
    const listener: Listener = (message, channel) => {
      const topic = channel.toString('utf8').slice(this.channelPrefix.length);
      if (accept(topic)) buffer.push({ topic, data: message });
    };
    try {
      // Bounded: a SUBSCRIBE that Redis never confirms ends the stream with UNAVAILABLE.
      await this.conn.bound(subscribe(listener));
      yield { event: { case: 'subscribed' as const, value: { subscriptionId: randomUUID() } } };
      for await (const { topic, data } of buffer) {
        const { env, payload } = decodeEnvelope(data);
        yield {
          event: {
            case: 'message' as const,
            value: { id: env.id, topic, payload, metadata: env.md ?? {}, timestampMs: BigInt(env.ts) },
          },
        };
      }
    } finally {
      await buffer.release();
      await this.conn.bound(unsubscribe(listener)).catch(() => {});
    }
  }

  basic(): PubSubBasicImpl {
    return {
      publish: async (req, ctx) => {
        const id = randomUUID();
        const env: Envelope = {
          id,
          ts: Date.now(),
          ...(Object.keys(req.metadata).length ? { md: req.metadata } : {}),
        };
        await this.conn.call(
          ['PUBLISH', this.channelPrefix + req.topic, encodeEnvelope(env, req.payload)],
          false,
          ctx,
        );
        return { messageId: id };
      },
      subscribe: (req, ctx: CallContext) => {
        const channel = this.channelPrefix + req.topic;
        return this.stream(
          'pubsub_basic',
          async (l) => (await this.subscriber()).subscribe(channel, l, true),
          async (l) => (await this.subscriber()).unsubscribe(channel, l, true),
          () => true,
          ctx.signal,
        );
      },
    };
  }

  wildcards(): PubSubWildcardsImpl {
    return {
      subscribePattern: (req, ctx: CallContext) => {
        const glob = patternToGlob(req.pattern, this.channelPrefix);
        const exact = escapeGlob(this.channelPrefix + req.pattern) === glob;
        const subscribe = exact
          ? async (l: Listener) =>
              (await this.subscriber()).subscribe(this.channelPrefix + req.pattern, l, true)
          : async (l: Listener) => (await this.subscriber()).pSubscribe(glob, l, true);
        const unsubscribe = exact
          ? async (l: Listener) =>
              (await this.subscriber()).unsubscribe(this.channelPrefix + req.pattern, l, true)
          : async (l: Listener) => (await this.subscriber()).pUnsubscribe(glob, l, true);
        return this.stream(
          'pubsub_wildcards',
          subscribe,
          unsubscribe,
          (t) => topicMatches(req.pattern, t),
          ctx.signal,
        );
      },
    };
  }

  async close(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    if (!sub) return;
    const client = await sub.catch(() => undefined);
    if (client?.isOpen) client.destroy();
  }
}
