// The adapter's connection to Kafka: one librdkafka producer per instance (its admin client shares the
// connection), consumers created per subscription/member, topic naming, and error mapping.

import type {
  IAdminClient,
  KafkaConsumer,
  Message as KafkaMessage,
  LibrdKafkaError,
  MessageHeader,
  Producer,
} from '@confluentinc/kafka-javascript';
import rdkafka from '@confluentinc/kafka-javascript';
import {
  BackendTimeouts,
  type CallContext,
  ConnectError,
  type Logger,
  retry,
  unauthenticated,
  unavailable,
} from '@prism/sdk';
import type { KafkaConfig } from './config.js';

const { AdminClient, CODES, KafkaConsumer: Consumer, OffsetSpec, Producer: RdProducer } = rdkafka;
const E = CODES.ERRORS;

/** librdkafka / broker error codes that mean "the cluster cannot be reached right now". */
const UNAVAILABLE_CODES = new Set<number>([
  E.ERR__TRANSPORT,
  E.ERR__ALL_BROKERS_DOWN,
  E.ERR__MSG_TIMED_OUT,
  E.ERR__TIMED_OUT,
  E.ERR__RESOLVE,
  E.ERR_REQUEST_TIMED_OUT,
  E.ERR_LEADER_NOT_AVAILABLE,
  E.ERR_NOT_LEADER_FOR_PARTITION,
  E.ERR_BROKER_NOT_AVAILABLE,
  E.ERR_NETWORK_EXCEPTION,
  E.ERR_COORDINATOR_NOT_AVAILABLE,
  E.ERR_NOT_COORDINATOR,
]);

/**
 * How long after librdkafka last reported a SASL failure calls fail at once with UNAUTHENTICATED. It
 * retries the login in the background (every few seconds, up to reconnect.backoff.max.ms = 10 s) and
 * reports each failure, so the window closes soon after the broker accepts the credentials again.
 */
const AUTH_FAILURE_WINDOW_MS = 15_000;

/** librdkafka's log line (severity ≤ 3) for a login the broker refused. */
const SASL_FAILURE = /SASL authentication error|Authentication failed/i;

/** Settings of librdkafka's config map (typed loosely: the typings list only a subset of keys). */
type RdConfig = Record<string, string | number | boolean | ((...args: never[]) => void)>;

/** The numeric code of a librdkafka error, if `err` is one. */
export function kafkaCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Maps a librdkafka error to a ConnectError where the code says more than INTERNAL. */
export function mapKafkaError(err: unknown, what: string): unknown {
  if (err instanceof ConnectError) return err;
  const code = kafkaCode(err);
  if (code !== undefined && UNAVAILABLE_CODES.has(code))
    return unavailable(`kafka ${what}: ${(err as Error).message ?? String(err)}`);
  return err;
}

type NodeCall<T> = (cb: (err: LibrdKafkaError | null | undefined, v: T) => void) => void;

/** Calls a node-style async function and maps its error. */
export function call<T>(what: string, fn: NodeCall<T>): Promise<T> {
  return rawCall(fn).catch((err: unknown) => {
    throw mapKafkaError(err, what);
  });
}

function rawCall<T>(fn: NodeCall<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, v) => (err ? reject(err) : resolve(v)));
  });
}

/** Errors of a partition that is still being created or is moving to a new leader: worth a short retry. */
const TRANSIENT_CODES = new Set<number>([
  E.ERR_NOT_LEADER_FOR_PARTITION,
  E.ERR_LEADER_NOT_AVAILABLE,
  E.ERR_UNKNOWN_TOPIC_OR_PART,
  // The client's metadata cache has not seen a just-created topic yet.
  E.ERR__UNKNOWN_PARTITION,
  E.ERR__UNKNOWN_TOPIC,
]);

/** Like {@link call}, retrying for a few seconds while the partition has no leader yet (e.g. a new topic). */
export function callSettled<T>(what: string, fn: NodeCall<T>): Promise<T> {
  return retry(() => rawCall(fn), {
    retries: 12,
    minDelayMs: 25,
    maxDelayMs: 500,
    retryOn: (err) => TRANSIENT_CODES.has(kafkaCode(err) ?? 0),
  }).catch((err: unknown) => {
    throw mapKafkaError(err, what);
  });
}

/** Metadata (Kafka headers) of a consumed message as a string map; undefined header values become "". */
export function headersToMetadata(headers: readonly MessageHeader[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of headers ?? [])
    for (const [k, v] of Object.entries(h)) out[k] = v === undefined || v === null ? '' : v.toString();
  return out;
}

/** A delivered record as the adapter uses it. */
export interface Delivered {
  readonly partition: number;
  readonly offset: number;
  readonly timestampMs: number;
}

/** Stable message id of a Kafka record: `<partition>-<offset>` (redeliveries keep it). */
export const recordId = (partition: number, offset: number): string => `${partition}-${offset}`;

/** A consumed record converted to the fields of prism.common.v1.Message. */
export function toMessage(m: KafkaMessage, name: string) {
  return {
    id: recordId(m.partition, m.offset),
    topic: name,
    payload: m.value
      ? new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.byteLength)
      : new Uint8Array(),
    metadata: headersToMetadata(m.headers),
    timestampMs: BigInt(m.timestamp ?? 0),
  };
}

/** Connection, producer, admin and consumer factory of one adapter instance. */
export class KafkaBackend {
  readonly #config: KafkaConfig;
  /** Bounds produce by min(client deadline, request_timeout_ms) (librdkafka's message.timeout.ms is the same). */
  readonly #bounds: BackendTimeouts;
  readonly #prefix: string;
  readonly #logger: Logger;
  #producer: Producer | undefined;
  #admin: IAdminClient | undefined;
  readonly #topics = new Map<string, Promise<void>>();
  readonly #consumers = new Set<KafkaConsumer>();
  readonly #where: string;
  /** When and why the broker last refused our SASL login (see {@link AUTH_FAILURE_WINDOW_MS}). */
  #authFailure: { at: number; reason: string } | undefined;
  /** Settles the start when the login is refused, so a wrong password fails it at once. */
  #onAuthFailure: ((err: ConnectError) => void) | undefined;

  constructor(config: KafkaConfig, namespace: string, logger: Logger) {
    this.#config = config;
    this.#prefix = `${config.topic_prefix}.${namespace}.`;
    this.#logger = logger;
    this.#where = `kafka backend of namespace "${namespace}"`;
    this.#bounds = new BackendTimeouts({
      where: this.#where,
      timeoutMs: config.request_timeout_ms,
      setting: 'request_timeout_ms',
    });
  }

  /** Records a refused login reported by any client of this instance (producer, admin, consumers). */
  #noteAuthFailure(reason: string): void {
    this.#authFailure = { at: Date.now(), reason };
    this.#onAuthFailure?.(this.#authError(reason));
  }

  #authError(reason: string): ConnectError {
    const sasl = this.#config.sasl;
    const who = sasl
      ? `SASL user "${sasl.username}" (${sasl.mechanism})`
      : 'the connection (no sasl configured)';
    // librdkafka's text names the mechanism and the cause, never the password.
    return unauthenticated(`${this.#where}: the brokers rejected ${who}: ${reason}`);
  }

  /** UNAUTHENTICATED while the brokers recently refused our credentials (rotated or wrong secret). */
  #authGuard(): void {
    const f = this.#authFailure;
    if (f && Date.now() - f.at < AUTH_FAILURE_WINDOW_MS) throw this.#authError(f.reason);
  }

  /** Listens for refused logins on a librdkafka client (needs `event_cb`, set by {@link base}). */
  #watchAuth(client: Producer | KafkaConsumer): void {
    // Both client kinds emit these two events; their typings' `on` overloads just do not unify.
    const events = client as unknown as {
      on(event: 'event.log', fn: (log: { severity: number; message: string }) => void): void;
      on(event: 'event.error', fn: (err: LibrdKafkaError) => void): void;
    };
    events.on('event.log', (log) => {
      if (log.severity <= 3 && SASL_FAILURE.test(log.message)) this.#noteAuthFailure(saslReason(log.message));
    });
    events.on('event.error', (err) => {
      if (err.code === E.ERR__AUTHENTICATION) this.#noteAuthFailure(err.message);
    });
  }

  get config(): KafkaConfig {
    return this.#config;
  }

  /** Kafka topic of a topic/stream name: `<topic_prefix>.<namespace>.<name>`. */
  topic(name: string): string {
    return `${this.#prefix}${name}`;
  }

  /** Kafka group id of a durable subscription: `:` never occurs in topic names, so it cannot clash with groups. */
  subscriptionId(topic: string, subscription: string): string {
    return `${this.#prefix}${topic}:${subscription}`;
  }

  /** Kafka group id of a stream's consumer group (group names contain no dots, so this is unambiguous). */
  groupId(stream: string, group: string): string {
    return `${this.#prefix}${stream}.${group}`;
  }

  /** Connection settings shared by every client. */
  base(): RdConfig {
    const c = this.#config;
    const conf: RdConfig = {
      'bootstrap.servers': c.brokers.join(','),
      'client.id': c.client_id,
      'socket.connection.setup.timeout.ms': Math.min(c.request_timeout_ms, 30_000),
      'topic.metadata.refresh.interval.ms': 30_000,
      'log.connection.close': false,
      // Topics are created by the adapter (with log-append timestamps), never implicitly by a metadata lookup.
      'allow.auto.create.topics': false,
      // Log events carry the reason a SASL login failed (event.error does not fire before connect).
      event_cb: true,
    };
    const ssl = c.ssl !== false;
    if (c.sasl) {
      conf['security.protocol'] = ssl ? 'sasl_ssl' : 'sasl_plaintext';
      conf['sasl.mechanisms'] = c.sasl.mechanism.toUpperCase();
      conf['sasl.username'] = c.sasl.username;
      conf['sasl.password'] = c.sasl.password;
    } else if (ssl) conf['security.protocol'] = 'ssl';
    if (typeof c.ssl === 'object') {
      if (c.ssl.ca_file) conf['ssl.ca.location'] = c.ssl.ca_file;
      if (c.ssl.cert_file) conf['ssl.certificate.location'] = c.ssl.cert_file;
      if (c.ssl.key_file) conf['ssl.key.location'] = c.ssl.key_file;
      if (c.ssl.key_password) conf['ssl.key.password'] = c.ssl.key_password;
    }
    return conf;
  }

  /** Connects the producer (and its admin client); rejects with UNAVAILABLE when no broker answers. */
  async start(): Promise<void> {
    const producer = new RdProducer({
      ...this.base(),
      dr_cb: true,
      // Idempotence keeps per-partition order across internal retries.
      'enable.idempotence': true,
      'linger.ms': 1,
      'message.timeout.ms': this.#config.request_timeout_ms,
    } as never);
    producer.on('delivery-report', (err, report) => {
      const waiter = report.opaque as { resolve(d: Delivered): void; reject(e: unknown): void } | undefined;
      if (!waiter) return;
      const f = this.#authFailure;
      if (err && f && Date.now() - f.at < AUTH_FAILURE_WINDOW_MS) waiter.reject(this.#authError(f.reason));
      else if (err) waiter.reject(mapKafkaError(err, 'produce'));
      else
        waiter.resolve({
          partition: report.partition,
          offset: report.offset,
          timestampMs: report.timestamp ?? 0,
        });
    });
    // librdkafka reports every failed reconnect: log each distinct error once per 30 s.
    const lastLogged = new Map<string, number>();
    producer.on('event.error', (err) => {
      const now = Date.now();
      if (now - (lastLogged.get(err.message) ?? 0) < 30_000) return;
      lastLogged.set(err.message, now);
      this.#logger.warn({ err: err.message }, 'kafka producer error');
    });
    this.#watchAuth(producer);
    producer.setPollInterval(5);
    const refused = new Promise<never>((_, reject) => {
      this.#onAuthFailure = reject;
    });
    await Promise.race([
      call<unknown>('connect', (cb) =>
        producer.connect({ timeout: this.#config.request_timeout_ms }, (err, data) => cb(err, data)),
      ),
      refused,
    ])
      .catch((err) => {
        try {
          producer.disconnect();
        } catch {
          // never connected: nothing to close
        }
        // A refused login shows as a transport failure once connect gives up: report the real cause.
        if (this.#authFailure) throw this.#authError(this.#authFailure.reason);
        throw err instanceof ConnectError ? err : unavailable(`kafka connect: ${(err as Error).message}`);
      })
      .finally(() => {
        this.#onAuthFailure = undefined;
      });
    refused.catch(() => {}); // settled after the race, or never
    this.#producer = producer;
    this.#admin = AdminClient.createFrom(producer);
  }

  get producer(): Producer {
    if (!this.#producer) throw unavailable('kafka producer is not connected');
    this.#authGuard();
    return this.#producer;
  }

  get admin(): IAdminClient {
    if (!this.#admin) throw unavailable('kafka admin client is not connected');
    this.#authGuard();
    return this.#admin;
  }

  /**
   * Produces one record and resolves with its partition, offset and (log-append) timestamp, bounded by
   * min(`ctx.deadline`, request_timeout_ms): DEADLINE_EXCEEDED at the caller's deadline, UNAVAILABLE at
   * the timeout (librdkafka's own delivery timeout, message.timeout.ms, is request_timeout_ms too).
   * librdkafka reconnects wedged broker connections itself (socket.timeout.ms).
   */
  produce(
    topic: string,
    partition: number,
    value: Uint8Array,
    metadata: Readonly<Record<string, string>>,
    ctx?: Pick<CallContext, 'deadline'>,
    /** Record key (stream_partitioning, pubsub_ordering); the partition is always chosen by the caller. */
    key?: Uint8Array,
  ) {
    const headers: MessageHeader[] = Object.entries(metadata).map(([k, v]) => ({
      [k]: Buffer.from(v, 'utf8'),
    }));
    const delivered = new Promise<Delivered>((resolve, reject) => {
      try {
        this.producer.produce(
          topic,
          partition,
          Buffer.from(value),
          key === undefined ? null : Buffer.from(key),
          null,
          { resolve, reject },
          headers,
        );
      } catch (err) {
        reject(mapKafkaError(err, 'produce'));
      }
    });
    return this.#bounds.run(delivered, ctx);
  }

  /** Bounds another backend operation (e.g. ensureTopic) by min(`ctx.deadline`, request_timeout_ms). */
  bounded<T>(work: Promise<T>, ctx?: Pick<CallContext, 'deadline'>): Promise<T> {
    return this.#bounds.run(work, ctx);
  }

  /** Topic configs of every topic the adapter creates. */
  #topicConfig(): Record<string, string> {
    const c = this.#config;
    return {
      'message.timestamp.type': 'LogAppendTime',
      ...(c.retention_ms === undefined ? {} : { 'retention.ms': String(c.retention_ms) }),
      ...(c.retention_bytes === undefined ? {} : { 'retention.bytes': String(c.retention_bytes) }),
    };
  }

  /**
   * Creates `topic` unless it exists (once per instance), with log-append timestamps so record times are
   * the broker's and never decrease along the log (replay by time relies on it).
   */
  ensureTopic(
    topic: string,
    partitions = this.#config.partitions,
    /** Topic configs overriding the adapter's (e.g. a short retention for an internal topic). */
    overrides: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    let pending = this.#topics.get(topic);
    if (!pending) {
      pending = call<void>('create topic', (cb) =>
        this.admin.createTopic(
          {
            topic,
            num_partitions: partitions,
            replication_factor: this.#config.replication_factor,
            config: { ...this.#topicConfig(), ...overrides } as never,
          },
          this.#config.request_timeout_ms,
          (err) => cb(kafkaCode(err) === E.ERR_TOPIC_ALREADY_EXISTS ? null : err, undefined),
        ),
      );
      this.#topics.set(topic, pending);
      pending.catch(() => this.#topics.delete(topic));
    }
    return pending;
  }

  /** Creates `topic` with `partitions` partitions; resolves false when it exists already. */
  createTopic(topic: string, partitions: number): Promise<boolean> {
    return call<boolean>('create topic', (cb) =>
      this.admin.createTopic(
        {
          topic,
          num_partitions: partitions,
          replication_factor: this.#config.replication_factor,
          config: this.#topicConfig() as never,
        },
        this.#config.request_timeout_ms,
        (err) => (kafkaCode(err) === E.ERR_TOPIC_ALREADY_EXISTS ? cb(null, false) : cb(err, !err)),
      ),
    );
  }

  /** Partition numbers of `topic`, or undefined when it does not exist. */
  async partitions(topic: string): Promise<number[] | undefined> {
    const meta = await call<{ topics: { name: string; partitions: { id: number }[] }[] }>('metadata', (cb) =>
      this.producer.getMetadata({ topic, timeout: this.#config.request_timeout_ms }, cb),
    );
    const t = meta.topics.find((x) => x.name === topic);
    return t && t.partitions.length > 0 ? t.partitions.map((p) => p.id).sort((a, b) => a - b) : undefined;
  }

  /** Low (oldest retained) and high (next to be written) offsets of one partition. */
  watermarks(topic: string, partition: number): Promise<{ lowOffset: number; highOffset: number }> {
    return callSettled('watermarks', (cb) =>
      this.producer.queryWatermarkOffsets(topic, partition, this.#config.request_timeout_ms, cb),
    );
  }

  /** First offset of `partition` whose timestamp is >= `timestampMs` (the high watermark when none is). */
  async offsetForTime(topic: string, partition: number, timestampMs: number): Promise<number> {
    const [res] = await callSettled<{ offset: number }[]>('list offsets', (cb) =>
      this.admin.listOffsets(
        [{ topic, partition, offset: new OffsetSpec(timestampMs) }],
        { timeout: this.#config.request_timeout_ms },
        cb,
      ),
    );
    if (res === undefined || res.offset < 0) return (await this.watermarks(topic, partition)).highOffset;
    return res.offset;
  }

  /** Deletes the records of `partition` below `offset` (Kafka DeleteRecords). */
  async deleteRecords(topic: string, partition: number, offset: number): Promise<void> {
    await callSettled('delete records', (cb) =>
      this.admin.deleteRecords(
        [{ topic, partition, offset }],
        { timeout: this.#config.request_timeout_ms },
        cb,
      ),
    );
  }

  /** Committed offsets of a group for `partitions` of `topic` (-1 where none is committed). */
  async committedOffsets(groupId: string, topic: string, partitions: readonly number[]): Promise<number[]> {
    const [res] = await call<{ partitions: { partition: number; offset: number }[] }[]>(
      'committed offsets',
      (cb) =>
        this.admin.listConsumerGroupOffsets(
          [{ groupId, partitions: partitions.map((partition) => ({ topic, partition })) }],
          { timeout: this.#config.request_timeout_ms },
          cb,
        ),
    );
    return partitions.map((p) => res?.partitions.find((x) => x.partition === p)?.offset ?? -1);
  }

  /** Deletes a consumer group; resolves false when it did not exist. */
  async deleteGroup(groupId: string): Promise<boolean> {
    type Result = { groupId: string; errorCode?: number; error?: LibrdKafkaError };
    const results = await call<Result[]>('delete group', (cb) =>
      this.admin.deleteGroups([groupId], { timeout: this.#config.request_timeout_ms }, cb),
    ).catch((err: unknown): Result[] => {
      if (kafkaCode(err) === E.ERR_GROUP_ID_NOT_FOUND)
        return [{ groupId, errorCode: E.ERR_GROUP_ID_NOT_FOUND }];
      throw err;
    });
    const code = results[0]?.errorCode ?? kafkaCode(results[0]?.error);
    if (code === E.ERR_GROUP_ID_NOT_FOUND) return false;
    if (code) throw mapKafkaError(results[0]?.error ?? { code, message: `error ${code}` }, 'delete group');
    return true;
  }

  /** Creates and connects a consumer; it is disconnected by {@link closeConsumer} or {@link close}. */
  async consumer(conf: RdConfig): Promise<KafkaConsumer> {
    this.#authGuard();
    const consumer = new Consumer(
      {
        ...this.base(),
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'enable.partition.eof': false,
        ...conf,
      } as never,
      // No topic config object: an empty one would replace topic-level settings given above (auto.offset.reset).
      undefined,
    );
    consumer.on('event.error', (err) => this.#logger.debug({ err: err.message }, 'kafka consumer error'));
    this.#watchAuth(consumer);
    this.#consumers.add(consumer);
    try {
      await call('connect consumer', (cb) =>
        consumer.connect({ timeout: this.#config.request_timeout_ms }, (err, data) => cb(err, data)),
      );
    } catch (err) {
      this.#consumers.delete(consumer);
      const f = this.#authFailure;
      if (f && Date.now() - f.at < AUTH_FAILURE_WINDOW_MS) throw this.#authError(f.reason);
      throw err instanceof ConnectError
        ? err
        : unavailable(`kafka consumer connect: ${(err as Error).message}`);
    }
    return consumer;
  }

  /** Disconnects a consumer (leaving its group, if any). Never throws. */
  closeConsumer(consumer: KafkaConsumer): Promise<void> {
    if (!this.#consumers.delete(consumer)) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        consumer.disconnect(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  /** Cluster reachability for health checks. */
  async ping(): Promise<number> {
    const meta = await call<{ brokers: unknown[] }>('metadata', (cb) =>
      this.producer.getMetadata({ timeout: Math.min(this.#config.request_timeout_ms, 5000) }, cb),
    );
    return meta.brokers.length;
  }

  /** Disconnects every consumer, the admin client and the producer. */
  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => this.closeConsumer(c)));
    this.#admin?.disconnect();
    this.#admin = undefined;
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer) {
      await new Promise<void>((resolve) => producer.flush(2000, () => resolve()));
      await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
    }
  }
}

/** The broker's reason from a librdkafka SASL failure log line, without the broker thread prefix. */
function saslReason(message: string): string {
  const at = message.search(SASL_FAILURE);
  return (at >= 0 ? message.slice(at) : message).replace(/\s*\(_AUTHENTICATION\).*$/, '');
}

/** Consumes up to `max` records (waiting at most `timeoutMs` for the first one). */
export function consume(consumer: KafkaConsumer, max: number): Promise<KafkaMessage[]> {
  return new Promise((resolve, reject) => {
    consumer.consume(max, (err, messages) =>
      err ? reject(mapKafkaError(err, 'consume')) : resolve(messages),
    );
  });
}
