import { createHash } from 'node:crypto';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { type CallContext, Code, ConnectError, type Logger } from '@prism/sdk';
import type { ClickHouseConfig } from './config.js';
import { mapClickHouseError } from './errors.js';
import { qualified, type Sql, sql } from './sql.js';

/** Where the namespace's data lives: its database and the two tables. */
export interface NamespaceTables {
  readonly database: string;
  /** Points: one row per write of a point. */
  readonly points: string;
  /** Settings of the namespace (retention). */
  readonly meta: string;
}

/**
 * Table names of a namespace: `<prefix>points_<slug>_<hash>`, where slug is the namespace with everything but
 * [a-z0-9_] replaced by `_` (cut to 40) and hash the first 16 hex digits of its SHA-256. The slug keeps names
 * readable, the hash keeps namespaces that slug alike ("a.b", "a-b") apart.
 */
export function namespaceTables(
  config: Pick<ClickHouseConfig, 'database' | 'table_prefix'>,
  namespace: string,
) {
  const slug = namespace
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  const hash = createHash('sha256').update(namespace, 'utf8').digest('hex').slice(0, 16);
  return {
    database: config.database,
    points: `${config.table_prefix}points_${slug}_${hash}`,
    meta: `${config.table_prefix}meta_${slug}_${hash}`,
  } satisfies NamespaceTables;
}

/** The connection target for messages: `http://host:port` without credentials. */
function targetOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** One @clickhouse/client per namespace, with the adapter's error mapping around every request. */
export class ChClient {
  /** The health probe. */
  static readonly ping: Sql = sql`SELECT 1 AS ok`;
  readonly client: ClickHouseClient;
  readonly tables: NamespaceTables;
  readonly target: string;
  private readonly where: string;
  private readonly secrets: string[];

  constructor(
    readonly config: ClickHouseConfig,
    readonly namespace: string,
    readonly logger: Logger,
  ) {
    const url = new URL(config.url);
    const username = config.username ?? (decodeURIComponent(url.username) || 'default');
    const password = config.password ?? decodeURIComponent(url.password);
    this.secrets = password ? [password, encodeURIComponent(password)] : [];
    this.target = targetOf(url);
    this.where = `clickhouse backend (${this.target}) of namespace "${namespace}"`;
    this.tables = namespaceTables(config, namespace);
    this.client = createClient({
      url: this.target,
      username,
      password,
      request_timeout: config.request_timeout_ms,
      // Compressed responses need `enable_http_compression`, which a readonly user may not set.
      compression: { request: false, response: false },
      // The adapter reports failures itself (mapped, scrubbed); the client's console logging would repeat them.
      log: { level: ClickHouseLogLevel.OFF },
      clickhouse_settings: {
        // Selectors of 32 tags of 1 KiB escape to more than the default 256 KiB of query text.
        max_query_size: '4194304',
      },
    });
  }

  /** `database`.`points`. */
  get pointsTable(): Sql {
    return qualified(this.tables.database, this.tables.points);
  }

  /** `database`.`meta`. */
  get metaTable(): Sql {
    return qualified(this.tables.database, this.tables.meta);
  }

  /** Removes secrets from a message. */
  scrub = (s: string): string => this.secrets.reduce((acc, secret) => acc.split(secret).join('***'), s);

  /** The mapped error of a failed request (CANCELED / DEADLINE_EXCEEDED when the call itself was aborted). */
  fail(err: unknown, ctx?: CallContext): Error {
    if (ctx?.signal.aborted) {
      // The SDK aborts a call's signal with the ConnectError that ended it (deadline, cancel).
      const reason: unknown = ctx.signal.reason;
      return reason instanceof ConnectError
        ? reason
        : new ConnectError(`${this.where}: call canceled`, Code.Canceled);
    }
    return mapClickHouseError(err, this.where, this.scrub);
  }

  /** Runs a statement without a result (DDL, ALTER). */
  async command(statement: Sql, ctx?: CallContext): Promise<void> {
    try {
      await this.client.command({ query: statement.text, abort_signal: ctx?.signal });
    } catch (err) {
      throw this.fail(err, ctx);
    }
  }

  /** Runs a query and returns its rows (JSONEachRow; 64-bit integers come as strings). */
  async rows<T>(statement: Sql, ctx?: CallContext): Promise<T[]> {
    try {
      const rs = await this.client.query({
        query: statement.text,
        format: 'JSONEachRow',
        abort_signal: ctx?.signal,
      });
      return await rs.json<T>();
    } catch (err) {
      throw this.fail(err, ctx);
    }
  }

  /** Runs a query and yields its rows as they arrive. */
  async *stream<T>(statement: Sql, ctx?: CallContext): AsyncGenerator<T> {
    let rs: Awaited<ReturnType<ClickHouseClient['query']>>;
    try {
      rs = await this.client.query({
        query: statement.text,
        format: 'JSONEachRow',
        abort_signal: ctx?.signal,
      });
    } catch (err) {
      throw this.fail(err, ctx);
    }
    const stream = rs.stream<T>();
    try {
      for await (const batch of stream) for (const row of batch) yield row.json<T>();
    } catch (err) {
      throw this.fail(err, ctx);
    } finally {
      // Ends the response when the consumer stops early (a limit, a canceled call).
      if (!stream.destroyed) stream.destroy();
    }
  }

  /** Inserts rows (JSONEachRow) into `table` (a name of {@link tables}). */
  async insert(table: Sql, values: readonly Record<string, unknown>[], ctx?: CallContext): Promise<void> {
    try {
      await this.client.insert({
        table: table.text,
        values: values as Record<string, unknown>[],
        format: 'JSONEachRow',
        abort_signal: ctx?.signal,
      });
    } catch (err) {
      throw this.fail(err, ctx);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
