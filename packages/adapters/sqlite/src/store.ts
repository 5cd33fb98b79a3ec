import { type Logger, resourceExhausted, unavailable } from '@prism/sdk';
import Database from 'better-sqlite3';
import type { SqliteConfig } from './config.js';

/** Rows of every namespace live in one table; `namespace` leads the primary key, so namespaces never mix. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS prism_kv (
  namespace  TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  value      BLOB    NOT NULL,
  expires_at INTEGER,            -- unix epoch ms; NULL = no TTL
  version    INTEGER NOT NULL,   -- random per write: the CAS etag
  PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS prism_kv_expiry ON prism_kv (namespace, expires_at) WHERE expires_at IS NOT NULL;
`;

/** SQL condition: the row has not expired at `?` (bound to now). */
export const LIVE = '(expires_at IS NULL OR expires_at > ?)';

/**
 * One namespace's connection to a SQLite database: opens the file (WAL), creates the schema, sweeps
 * expired keys in the background and caches prepared statements. better-sqlite3 is synchronous, so every
 * call runs to completion on the event loop; that is what makes it the fast embedded default.
 */
export class SqliteStore {
  private db: Database.Database | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly config: SqliteConfig,
    readonly namespace: string,
    private readonly logger: Logger,
  ) {}

  /** Opens the database and creates the schema; throws with the path in the message on failure. */
  open(): void {
    const { path, busy_timeout_ms } = this.config;
    try {
      const db = new Database(path, { timeout: busy_timeout_ms });
      this.db = db;
      if (path !== ':memory:') {
        // WAL lets readers run alongside a writer; NORMAL sync is durable across app crashes in WAL mode.
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.exec(SCHEMA);
    } catch (err) {
      this.close();
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`cannot open SQLite database "${path}": ${message}`, { cause: err });
    }
    this.sweeper = setInterval(() => this.sweep(), this.config.sweep_interval_ms);
    this.sweeper.unref(); // the sweeper never keeps the process alive
  }

  /** A cached prepared statement. */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.connection().prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * Runs `fn` in one SQLite transaction: IMMEDIATE (the default, for writes) takes the write lock up front
   * so concurrent writers queue on the busy timeout instead of failing on lock upgrade.
   */
  transaction<T>(fn: () => T, mode: 'immediate' | 'deferred' = 'immediate'): T {
    return this.guard(() => this.connection().transaction(fn)[mode]());
  }

  /** Runs `fn`, turning SQLite failures into the Connect codes callers can act on. */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw mapSqliteError(err, this.config.path);
    }
  }

  /** Deletes this namespace's expired rows. */
  sweep(): number {
    try {
      return this.stmt('DELETE FROM prism_kv WHERE namespace = ? AND expires_at <= ?').run(
        this.namespace,
        Date.now(),
      ).changes;
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'sqlite: sweeping expired keys failed; retrying next interval');
      return 0;
    }
  }

  /** Probes the database with a trivial query. */
  ping(): void {
    this.stmt('SELECT 1').get();
  }

  /** Stops the sweeper and closes the connection; idempotent. */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.statements.clear();
    if (this.db?.open) this.db.close();
    this.db = undefined;
  }

  private connection(): Database.Database {
    if (!this.db?.open) throw unavailable(`SQLite database "${this.config.path}" is closed`);
    return this.db;
  }
}

function mapSqliteError(err: unknown, path: string): unknown {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')
    return unavailable(`SQLite database "${path}" is locked by another writer; retry later`);
  if (code === 'SQLITE_FULL')
    return resourceExhausted(`SQLite database "${path}" is full (disk or size limit)`);
  if (code === 'SQLITE_READONLY') return unavailable(`SQLite database "${path}" is read-only`);
  return err;
}
