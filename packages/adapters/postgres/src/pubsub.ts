import { randomUUID } from 'node:crypto';
import type { Message, PubSubBasicImpl } from '@prism/pubsub-basic';
import { type PubSubWildcardsImpl, topicMatches } from '@prism/pubsub-wildcards';
import {
  type CallContext,
  DroppingBuffer,
  MESSAGES_DROPPED_METRIC,
  type PluginContext,
  unavailable,
} from '@prism/sdk';
import type { PgClient } from './client.js';
import { bytesOf } from './kv-basic.js';
import { type ChannelHandler, channelName, type PgListener } from './listener.js';
import type { MessagingTables } from './queue-schema.js';

/**
 * Largest NOTIFY payload, in bytes: PostgreSQL requires it to be shorter than 8000 bytes (with the default
 * 8 kB block size) and fails the NOTIFY otherwise.
 */
export const NOTIFY_MAX_BYTES = 7999;

/** What travels in a NOTIFY: the message itself, or (`r`) a reference to its row in pubsub_messages. */
interface Envelope {
  /** Message id. */
  i: string;
  /** Namespace and topic (receivers check them: a hashed channel name could in theory be shared). */
  n: string;
  t: string;
  /** Publish time, ms since the epoch. */
  s: number;
  /** Inline only: payload as base64, and metadata when not empty. */
  p?: string;
  m?: Record<string, string>;
  /** 1 when the message is stored in pubsub_messages: fetch it by (namespace, id). */
  r?: 1;
}

/** The inline NOTIFY payload of a message (it may exceed {@link NOTIFY_MAX_BYTES}; the caller checks). */
export function inlineNotification(
  namespace: string,
  topic: string,
  id: string,
  timestampMs: number,
  payload: Uint8Array,
  metadata: Record<string, string>,
): string {
  const env: Envelope = {
    i: id,
    n: namespace,
    t: topic,
    s: timestampMs,
    p: Buffer.from(payload).toString('base64'),
  };
  if (Object.keys(metadata).length > 0) env.m = metadata;
  return JSON.stringify(env);
}

type Event = {
  event: { case: 'subscribed'; value: { subscriptionId: string } } | { case: 'message'; value: Message };
};

/** Which topics a subscription stream wants. */
type Matcher = (topic: string) => boolean;

/** The subscription streams of one channel on this instance, sharing one LISTEN. */
interface ChannelGroup {
  /** Each stream's buffer and topic filter (the pattern channel carries every topic of the namespace). */
  readonly streams: Map<DroppingBuffer<Message>, Matcher>;
  /** Resolves to the UNLISTEN function once LISTEN is active. */
  readonly ready: Promise<() => Promise<void>>;
  /** Delivery chain: keeps commit order while a stored (large) message is being fetched. */
  chain: Promise<void>;
  fetching: number;
}

/**
 * pubsub_basic and pubsub_wildcards on LISTEN/NOTIFY (at-most-once). A topic is a channel named from
 * schema, namespace and topic (hashed when longer than 63 bytes); every Publish also notifies the
 * namespace's pattern channel, which pattern subscriptions listen to and filter with the contract's
 * matcher (so wildcards cost a second NOTIFY per publish, in the same statement). The NOTIFY carries the
 * message as JSON; a message whose NOTIFY would reach 8000 bytes is stored in `pubsub_messages` and the
 * NOTIFY carries its id, in the same statement (so the row is committed when subscribers hear of it);
 * subscribers fetch it, and the sweeper deletes it after `pubsub_retention_ms`. Every stream of a channel
 * on this instance shares one LISTEN on the adapter's single LISTEN connection (UNLISTEN after the last
 * leaves); each stream has its own bounded DroppingBuffer that drops and counts when the client is slow.
 */
export class PgPubSub {
  readonly #groups = new Map<string, ChannelGroup>();
  readonly #ns: string;
  /** The namespace's pattern channel: every publish of the namespace is notified there too. */
  readonly patternChannel: string;

  constructor(
    private readonly client: PgClient,
    private readonly tables: MessagingTables,
    private readonly listener: PgListener,
    private readonly ctx: PluginContext,
    private readonly bufferSize: number,
  ) {
    this.#ns = client.namespace;
    this.patternChannel = channelName(client.config.schema, 'ps*', this.#ns);
  }

  /** The channel of a topic of this namespace. */
  channel(topic: string): string {
    return channelName(this.client.config.schema, 'ps', this.#ns, topic);
  }

  async publish(
    topic: string,
    payload: Uint8Array,
    metadata: Record<string, string>,
    signal: AbortSignal,
  ): Promise<string> {
    const { sql } = this.client;
    const id = randomUUID();
    const ts = Date.now();
    const [exact, all] = [this.channel(topic), this.patternChannel];
    const inline = inlineNotification(this.#ns, topic, id, ts, payload, metadata);
    if (Buffer.byteLength(inline) <= NOTIFY_MAX_BYTES) {
      await this.client.run(sql`SELECT pg_notify(${exact}, ${inline}), pg_notify(${all}, ${inline})`, signal);
      return id;
    }
    const ref = JSON.stringify({ i: id, n: this.#ns, t: topic, s: ts, r: 1 } satisfies Envelope);
    await this.client.run(
      sql`WITH ins AS (
            INSERT INTO ${sql(this.tables.published)} (namespace, id, topic, payload, metadata)
            VALUES (${this.#ns}, ${id}, ${topic}, ${payload}, ${sql.json(metadata)}::jsonb)
            RETURNING id)
          SELECT pg_notify(${exact}, ${ref}), pg_notify(${all}, ${ref}) FROM ins`,
      signal,
    );
    return id;
  }

  /** Streams a Subscribed event once LISTEN is active, then the matching messages until cancelled. */
  async *subscribe(
    channel: string,
    matches: Matcher,
    iface: string,
    signal: AbortSignal,
  ): AsyncGenerator<Event> {
    const buffer = new DroppingBuffer<Message>({
      capacity: this.bufferSize,
      signal,
      metrics: this.ctx.metrics,
      labels: { backend: 'postgres', interface: iface },
    });
    try {
      await this.#join(channel, matches, buffer);
      yield { event: { case: 'subscribed', value: { subscriptionId: randomUUID() } } };
      for await (const message of buffer) yield { event: { case: 'message', value: message } };
    } finally {
      await buffer.release();
      if (buffer.dropped > 0)
        this.ctx.logger.warn({ channel, dropped: buffer.dropped }, 'slow subscriber: messages dropped');
    }
  }

  /** Adds a stream to its channel group (LISTEN for the first one); leaving is tied to the buffer's release. */
  async #join(channel: string, matches: Matcher, buffer: DroppingBuffer<Message>): Promise<void> {
    let group = this.#groups.get(channel);
    if (!group) {
      const streams = new Map<DroppingBuffer<Message>, Matcher>();
      const handler: ChannelHandler = {
        notify: (payload) => this.#onNotify(created, payload),
        lost: (err) => {
          if (this.#groups.get(channel) === created) this.#groups.delete(channel);
          for (const b of streams.keys()) b.fail(err);
        },
      };
      const created: ChannelGroup = {
        streams,
        // Not tied to this caller's signal: later subscribers of the channel share the LISTEN.
        ready: this.listener.listen(channel, handler),
        chain: Promise.resolve(),
        fetching: 0,
      };
      created.ready.catch(() => {
        if (this.#groups.get(channel) === created) this.#groups.delete(channel);
      });
      this.#groups.set(channel, created);
      group = created;
    }
    const g = group;
    g.streams.set(buffer, matches);
    buffer.onRelease(async () => {
      g.streams.delete(buffer);
      if (g.streams.size > 0 || this.#groups.get(channel) !== g) return;
      this.#groups.delete(channel);
      const unlisten = await g.ready.catch(() => undefined);
      await unlisten?.();
    });
    await g.ready;
  }

  #onNotify(group: ChannelGroup, payload: string): void {
    let env: Envelope;
    try {
      env = JSON.parse(payload) as Envelope;
    } catch {
      this.ctx.logger.warn('postgres: ignored a notification that is not a Prism message');
      return;
    }
    // A hashed channel name could in theory be shared: only this namespace's messages, to matching streams.
    if (env.n !== this.#ns || ![...group.streams.values()].some((m) => m(env.t))) return;
    const inline = () => toMessage(env, Buffer.from(env.p ?? '', 'base64'), env.m ?? {});
    if (env.r !== 1 && group.fetching === 0) {
      deliver(group, inline());
      return;
    }
    group.fetching++;
    group.chain = group.chain
      .then(async () => {
        const message = env.r === 1 ? await this.#fetch(env) : inline();
        if (message) deliver(group, message);
      })
      .finally(() => {
        group.fetching--;
      });
  }

  /** Fetches a stored message; undefined (dropped and counted) when it is gone or PostgreSQL fails. */
  async #fetch(env: Envelope): Promise<Message | undefined> {
    const { sql } = this.client;
    try {
      const [row] = await this.client.run(
        sql<{ payload: Buffer; metadata: Record<string, string> }[]>`
          SELECT payload, metadata FROM ${sql(this.tables.published)} WHERE namespace = ${this.#ns} AND id = ${env.i}`,
      );
      if (row) return toMessage(env, row.payload, row.metadata);
      this.ctx.logger.warn({ topic: env.t, id: env.i }, 'postgres: stored message already swept; dropped');
    } catch (err) {
      this.ctx.logger.warn(
        { topic: env.t, id: env.i, err: this.client.scrub(String(err)) },
        'postgres: cannot fetch stored message; dropped',
      );
    }
    this.ctx.metrics.increment(MESSAGES_DROPPED_METRIC, { backend: 'postgres', reason: 'fetch_failed' });
    return undefined;
  }

  /** Deletes stored messages older than `retentionMs` (subscribers fetch them within moments). */
  sweep(retentionMs: number): Promise<unknown> {
    const { sql } = this.client;
    return this.client.run(
      sql`DELETE FROM ${sql(this.tables.published)}
          WHERE namespace = ${this.#ns} AND published_at < now() - ${retentionMs}::float8 * interval '1 millisecond'`,
    );
  }

  /** Ends every subscription stream with UNAVAILABLE (instance closing). */
  close(): void {
    const err = unavailable(`postgres backend of namespace "${this.#ns}" is closing; subscribe again`);
    for (const g of this.#groups.values()) for (const b of g.streams.keys()) b.fail(err);
    this.#groups.clear();
  }

  /** Active subscription streams on this instance. */
  get subscriptions(): number {
    let n = 0;
    for (const g of this.#groups.values()) n += g.streams.size;
    return n;
  }

  basic(): PubSubBasicImpl {
    return {
      publish: async (req, ctx: CallContext) => ({
        messageId: await this.publish(req.topic, req.payload, req.metadata, ctx.signal),
      }),
      subscribe: (req, ctx: CallContext) =>
        this.subscribe(this.channel(req.topic), (t) => t === req.topic, 'pubsub_basic', ctx.signal),
    };
  }

  wildcards(): PubSubWildcardsImpl {
    return {
      subscribePattern: (req, ctx: CallContext) =>
        this.subscribe(
          this.patternChannel,
          (t) => topicMatches(req.pattern, t),
          'pubsub_wildcards',
          ctx.signal,
        ),
    };
  }
}

function deliver(group: ChannelGroup, message: Message): void {
  for (const [b, matches] of group.streams) if (matches(message.topic)) b.push(message);
}
function toMessage(env: Envelope, payload: Buffer, metadata: Record<string, string>): Message {
  return {
    $typeName: 'prism.common.v1.Message',
    id: env.i,
    topic: env.t,
    payload: bytesOf(payload),
    metadata,
    timestampMs: BigInt(env.s),
  };
}
