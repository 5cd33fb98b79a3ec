import { createHash } from 'node:crypto';
import { type ConnectError, unavailable } from '@prism/sdk';
import postgres from 'postgres';
import type { PgClient, Sql } from './client.js';
import { clientOptions } from './config.js';

/** PostgreSQL truncates identifiers, and rejects pg_notify channels, beyond NAMEDATALEN - 1 bytes. */
export const MAX_CHANNEL_BYTES = 63;

/**
 * The LISTEN/NOTIFY channel of `parts` (schema, kind, namespace, topic...): the parts joined with ':' when
 * that fits in 63 bytes, otherwise a readable prefix and a SHA-256 of all parts, so distinct inputs never
 * share a channel in practice. Notifications still carry namespace and topic, and receivers check them.
 */
export function channelName(...parts: string[]): string {
  const plain = parts.join(':');
  if (Buffer.byteLength(plain) <= MAX_CHANNEL_BYTES) return plain;
  const hash = createHash('sha256').update(parts.join('\0')).digest('base64url').slice(0, 32);
  const prefix = `${parts.slice(0, 2).join(':')}:#`.slice(0, MAX_CHANNEL_BYTES - hash.length);
  return `${prefix}${hash}`;
}

/** Receives the notifications of one channel. */
export interface ChannelHandler {
  /** One notification's payload, in commit order. */
  notify(payload: string): void;
  /** The LISTEN connection was lost: notifications may have been missed and this handler is dropped. */
  lost(err: ConnectError): void;
}

interface ChannelState {
  readonly handlers: Set<ChannelHandler>;
  readonly ready: Promise<unknown>;
}

/**
 * One dedicated LISTEN connection per adapter instance, multiplexed over every channel its subscriptions
 * and waiting Receives need (LISTEN on the first handler of a channel, UNLISTEN after the last). It is
 * separate from the query pool, so waiting never takes a pool connection. When the connection drops, every
 * handler is told (`lost`) and dropped; the next `listen` opens a new connection.
 */
export class PgListener {
  #sql: Sql | undefined;
  readonly #channels = new Map<string, ChannelState>();
  #closed = false;

  constructor(private readonly client: PgClient) {}

  /** Channels currently listened to (for health and tests). */
  get channels(): string[] {
    return [...this.#channels.keys()];
  }

  #conn(): Sql {
    if (!this.#sql) {
      const { config, namespace } = this.client;
      const options = {
        ...clientOptions(config, `prism-listen:${namespace}`.slice(0, 63)),
        max: 1,
        // The connection must stay open while it listens, however quiet the channels are.
        idle_timeout: undefined,
        max_lifetime: null,
        onnotify: (channel: string, payload: string) => this.#dispatch(channel, payload),
        onclose: () => this.#lost(),
      };
      this.#sql = config.url ? postgres(config.url, options) : postgres(options);
    }
    return this.#sql;
  }

  #dispatch(channel: string, payload: string): void {
    for (const h of this.#channels.get(channel)?.handlers ?? []) h.notify(payload);
  }

  #lost(): void {
    if (this.#closed) return;
    const err = unavailable(
      `the LISTEN connection of postgres backend of namespace "${this.client.namespace}" was lost; notifications may have been missed`,
    );
    const states = [...this.#channels.values()];
    this.#channels.clear();
    for (const st of states) for (const h of st.handlers) h.lost(err);
  }

  /**
   * Delivers the notifications of `channel` to `handler` from the moment this resolves (LISTEN is active)
   * and returns the function that stops it. Fails with UNAVAILABLE when PostgreSQL cannot be reached.
   */
  async listen(channel: string, handler: ChannelHandler, signal?: AbortSignal): Promise<() => Promise<void>> {
    if (this.#closed) throw unavailable(`postgres backend of namespace "${this.client.namespace}" is closed`);
    let st = this.#channels.get(channel);
    if (!st) {
      const created: ChannelState = {
        handlers: new Set(),
        ready: this.client.run(this.#conn().unsafe(`LISTEN ${quote(channel)}`), signal),
      };
      created.ready.catch(() => {
        if (this.#channels.get(channel) === created) this.#channels.delete(channel);
      });
      this.#channels.set(channel, created);
      st = created;
    }
    const state = st;
    state.handlers.add(handler);
    try {
      await state.ready;
    } catch (err) {
      state.handlers.delete(handler);
      throw err;
    }
    return async () => {
      state.handlers.delete(handler);
      if (state.handlers.size > 0 || this.#channels.get(channel) !== state) return;
      this.#channels.delete(channel);
      // A later listen() of this channel creates a new state whose LISTEN is sent after this UNLISTEN on
      // the same single connection, so it takes effect last.
      await this.client.run(this.#conn().unsafe(`UNLISTEN ${quote(channel)}`)).catch(() => {});
    };
  }

  /** Closes the LISTEN connection; handlers are not told (the instance is going away). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    await this.#sql?.end({ timeout: 1 });
  }
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;
