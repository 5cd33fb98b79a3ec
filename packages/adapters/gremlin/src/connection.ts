/// <reference path="./gremlin-driver.d.ts" />
import {
  alreadyExists,
  Code,
  ConnectError,
  deadlineExceeded,
  failedPrecondition,
  invalidArgument,
  isConnectionError,
  type Logger,
  permissionDenied,
  unauthenticated,
  unavailable,
} from '@prism/sdk';
import gremlin, {
  type ClientOptions,
  type DriverRemoteConnection,
  type GraphTraversalSource,
  type ResultSet,
} from 'gremlin';

const { driver, process: gp } = gremlin;

/** The partition property every element of a namespace carries; '.' keeps it out of user property names. */
export const PARTITION_KEY = 'prism.ns';
/** The client's id, kept as a property so graph_query's ElementIdStrategy can address elements by it. */
export const ID_KEY = 'prism.id';

/** How {@link GremlinConnection} reaches the server. */
export interface GremlinConnectionOptions {
  readonly url: string;
  /** `backend <type> of namespace "<ns>"`, the prefix of error messages. */
  readonly where: string;
  /** The namespace's partition value (see {@link PARTITION_KEY}). */
  readonly partition: string;
  readonly traversalSource: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly ca?: string;
  readonly rejectUnauthorized?: boolean;
  /**
   * Extra headers of the WebSocket handshake, computed for every new connection (Neptune signs them with
   * SigV4, and a signature is only valid for minutes).
   */
  readonly headers?: () => Promise<Record<string, string>>;
  readonly logger?: Logger;
}

/** One live WebSocket connection and the namespace's partitioned traversal source over it. */
interface Live {
  readonly drc: DriverRemoteConnection;
  readonly g: GraphTraversalSource;
  dead: boolean;
}

const timeout = <T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

// What the driver says when its socket closed under a pending request, or a send hit a closed socket.
const CLOSED = /Connection has been closed|socket hang up|WebSocket is not open|not opened|closed before/i;

/** The HTTP status of a failed WebSocket handshake (`ws`: "Unexpected server response: 403"; the gremlin driver 3.7.4: "Unexpected server response code 403 with body: ..."). */
const handshakeStatus = (message: string): number | undefined => {
  const m = /Unexpected server response(?: code)?:? (\d{3})/.exec(message);
  return m ? Number(m[1]) : undefined;
};

/**
 * The namespace's connection to a Gremlin server: opened lazily, replaced after any connection failure (the
 * next call reconnects, with freshly computed handshake headers), and every failure mapped to a Connect code.
 */
export class GremlinConnection {
  private live: Live | undefined;
  private opening: Promise<Live> | undefined;
  private closed = false;

  constructor(readonly opts: GremlinConnectionOptions) {}

  private async open(): Promise<Live> {
    const headers = this.opts.headers ? await this.opts.headers() : undefined;
    const options: ClientOptions = {
      traversalSource: this.opts.traversalSource,
      // GraphBinary: the driver's GraphSON writer names strategies by JS class, which the server cannot
      // read for a generic TraversalStrategy; GraphBinary sends the Java class name.
      mimeType: 'application/vnd.graphbinary-v1.0',
      ...(headers ? { headers } : {}),
      ...(this.opts.ca ? { ca: [this.opts.ca] } : {}),
      ...(this.opts.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    };
    const drc = new driver.DriverRemoteConnection(this.opts.url, options);
    const live: Live = {
      drc,
      // Every bytecode traversal of the namespace is confined to its partition: reads see only elements
      // whose prism.ns is the partition, and addV/addE write it.
      g: gp.AnonymousTraversalSource.traversal()
        .withRemote(drc)
        .withStrategies(
          new gp.TraversalStrategy(
            'org.apache.tinkerpop.gremlin.process.traversal.strategy.decoration.PartitionStrategy',
            {
              partitionKey: PARTITION_KEY,
              writePartition: this.opts.partition,
              readPartitions: [this.opts.partition],
              includeMetaProperties: false,
            },
          ),
        ),
      dead: false,
    };
    const onDown = () => {
      live.dead = true;
    };
    drc.addListener('close', onDown);
    drc.addListener('socketError', onDown);
    try {
      await timeout(drc.open(), this.opts.connectTimeoutMs, () =>
        unavailable(
          `${this.opts.where} is unavailable: no connection within ${this.opts.connectTimeoutMs} ms`,
        ),
      );
    } catch (err) {
      drc.close().catch(() => {});
      throw this.map(err);
    }
    return live;
  }

  private async current(): Promise<Live> {
    if (this.closed) throw unavailable(`${this.opts.where} is closed`);
    if (this.live && !this.live.dead) return this.live;
    if (this.live) {
      const stale = this.live;
      this.live = undefined;
      stale.drc.close().catch(() => {});
    }
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    const live = await this.opening;
    this.live = live;
    return live;
  }

  private discard(live: Live): void {
    live.dead = true;
    if (this.live === live) this.live = undefined;
    live.drc.close().catch(() => {});
  }

  /** Runs a bytecode traversal on the namespace's partitioned source, mapping failures. */
  async traverse<T>(fn: (g: GraphTraversalSource) => Promise<T>): Promise<T> {
    const live = await this.current();
    try {
      return await timeout(fn(live.g), this.opts.requestTimeoutMs + 1000, () =>
        unavailable(`${this.opts.where} is unavailable: no answer within ${this.opts.requestTimeoutMs} ms`),
      );
    } catch (err) {
      const mapped = this.map(err);
      if (mapped.code === Code.Unavailable) this.discard(live);
      throw mapped;
    }
  }

  /** Evaluates a script with bindings; `aliases` maps script names (`g`) to server traversal sources. */
  async script(
    text: string,
    bindings: Record<string, unknown>,
    aliases: Record<string, string>,
  ): Promise<ResultSet> {
    const live = await this.current();
    try {
      return await timeout(
        live.drc._client.submit(text, bindings, { aliases, evaluationTimeout: this.opts.requestTimeoutMs }),
        this.opts.requestTimeoutMs + 1000,
        () =>
          unavailable(`${this.opts.where} is unavailable: no answer within ${this.opts.requestTimeoutMs} ms`),
      );
    } catch (err) {
      const mapped = this.map(err);
      if (mapped.code === Code.Unavailable) this.discard(live);
      throw mapped;
    }
  }

  /** Opens the connection now (plugin start); failures are UNAVAILABLE with the reason. */
  async start(): Promise<void> {
    await this.current();
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.live !== undefined && !this.live.dead;
  }

  /** Maps a driver or server failure to the Connect code a caller can act on. */
  map(err: unknown): ConnectError {
    if (err instanceof ConnectError) return err;
    const message = err instanceof Error ? err.message : String(err);
    const where = this.opts.where;
    const status = (err as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number') {
      // Gremlin Server status codes: 401/407 authentication, 498/499 malformed request, 597 script
      // evaluation, 598 server timeout, 500 server error (also what a strategy's verification raises).
      if (status === 401 || status === 407) return unauthenticated(`${where}: ${message}`);
      if (status === 598) return deadlineExceeded(`${where}: the server timed out: ${message}`);
      if (/already exists/i.test(message)) return alreadyExists(`${where}: ${message}`);
      if (/ReadOnlyStrategy|read[- ]only/i.test(message))
        return invalidArgument(`${where}: the namespace is read-only on the server: ${message}`);
      if (status === 597 || status === 499 || status === 498)
        return invalidArgument(`${where}: the server rejected the traversal: ${message}`);
      return new ConnectError(`${where} failed: ${message}`, Code.Internal, undefined, undefined, err);
    }
    const hs = handshakeStatus(message);
    if (hs === 401) return unauthenticated(`${where}: the server refused the handshake: ${message}`);
    if (hs === 403)
      return permissionDenied(
        `${where}: the server refused the handshake (credentials or IAM policy): ${message}`,
      );
    if (hs !== undefined) return unavailable(`${where} is unavailable: ${message}`);
    if (isConnectionError(err) || CLOSED.test(message))
      return unavailable(`${where} is unavailable: ${message}`);
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /CERT|ERR_TLS_|ERR_SSL_|UNABLE_TO_VERIFY|SELF_SIGNED/.test(code))
      return failedPrecondition(`${where}: TLS handshake failed: ${message}`);
    return new ConnectError(`${where} failed: ${message}`, Code.Internal, undefined, undefined, err);
  }

  async close(): Promise<void> {
    this.closed = true;
    const live = this.live;
    this.live = undefined;
    if (live) await live.drc.close().catch(() => {});
  }
}
