import { randomUUID } from 'node:crypto';
import type { DescMethod } from '@bufbuild/protobuf';
import { Code, ConnectError, type ContextValues, createContextValues } from '@connectrpc/connect';
import type { InterfaceDefinition } from './interface.js';
import type { ClientCertificate } from './wire/client-certificate.js';

/** Who is calling, once an authentication middleware has established it. */
export interface Principal {
  /** Subject: a JWT `sub`, a certificate's SPIFFE id, DNS name or CN. */
  readonly subject: string;
  readonly groups: readonly string[];
  /** Name of the provider that authenticated the caller. */
  readonly provider: string;
}

/** Read access to request headers (lower-case names); a `Headers` object is one. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** W3C trace context (`traceparent`, `tracestate`) of the span a call runs in. */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

/**
 * What an implementation sees of its call. `signal` aborts (with a ConnectError as its reason) when the
 * client cancels, the deadline passes or the proxy shuts down. Inside Prism the context is the
 * {@link Call} itself; tests may pass a plain `{ signal }`.
 */
export interface CallContext {
  readonly signal: AbortSignal;
  /** Absolute deadline (ms since the epoch, `Date.now()` clock), when the caller set one. */
  readonly deadline?: number | undefined;
  /** Trace context to hand to the backend or the next hop. */
  readonly trace?: TraceContext | undefined;
  /** Runs `fn` when the call is aborted, without creating an AbortSignal (cheap on the hot path). */
  onAbort?(fn: (reason: ConnectError) => void): void;
}

type RawHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What a door knows of a call when it starts one. */
export interface CallInit<Req = unknown> {
  readonly namespace: string;
  readonly definition: InterfaceDefinition;
  readonly method: DescMethod;
  readonly request: Req;
  readonly deadline?: number | undefined;
  /** Incoming headers: a raw Node header object or a `Headers`. */
  readonly headers?: RawHeaders | HeaderReader | undefined;
  readonly peer?: string | undefined;
  /** The TLS client certificate of the caller's connection, if it presented one. */
  readonly clientCert?: ClientCertificate | undefined;
  /** The caller's context when the call is nested in another (its abort is forwarded). */
  readonly parent?: CallContext | undefined;
  /**
   * A signal to use as this call's own, as is (a caller's long-lived signal: nothing is attached to it
   * unless an abort listener is registered). Excludes `parent`.
   */
  readonly signal?: AbortSignal | undefined;
  readonly trace?: TraceContext | undefined;
}

const EMPTY_HEADERS: HeaderReader = { get: () => null };

/**
 * A caller that goes away this close to its deadline gave up at the deadline: its clock started before
 * the request reached us (transit, a loaded machine), so it times out a little before our timer.
 */
const GONE_AT_DEADLINE_MS = 50;

/**
 * One RPC as it travels through a pipeline: what is called (namespace, interface, method, request),
 * its deadline and cancellation, the caller (headers, peer, principal), tracing, and a typed value bag
 * for middleware. It is also the {@link CallContext} the implementation receives, so a call allocates
 * one object; the abort signal and request id are made only when something asks for them.
 */
export class Call<Req = unknown> implements CallContext {
  readonly namespace: string;
  readonly definition: InterfaceDefinition;
  readonly method: DescMethod;
  readonly request: Req;
  deadline: number | undefined;
  readonly peer: string | undefined;
  /** The TLS client certificate of the caller's connection, if it presented one. */
  readonly clientCert: ClientCertificate | undefined;
  /** Set by an authentication middleware. */
  principal: Principal | undefined;
  /** The current span's trace context (a tracing middleware replaces it with its server span's). */
  trace: TraceContext | undefined;
  private readonly rawHeaders: RawHeaders | HeaderReader | undefined;
  private reader: HeaderReader | undefined;
  private controller: AbortController | undefined;
  private readonly borrowed: AbortSignal | undefined;
  /** Detaches from `borrowed` (a long-lived signal must not collect a listener per call). */
  private unlink: (() => void) | undefined;
  private abortListeners: ((reason: ConnectError) => void)[] | undefined;
  private endListeners: ((error: ConnectError | undefined) => void)[] | undefined;
  private bag: ContextValues | undefined;
  private id: string | undefined;
  private reason: ConnectError | undefined;
  private ended = false;

  constructor(init: CallInit<Req>) {
    this.namespace = init.namespace;
    this.definition = init.definition;
    this.method = init.method;
    this.request = init.request;
    this.deadline = init.deadline ?? init.parent?.deadline;
    this.peer = init.peer;
    this.clientCert = init.clientCert;
    this.rawHeaders = init.headers;
    this.principal = undefined;
    this.trace = init.trace ?? init.parent?.trace;
    this.borrowed = init.signal;
    const parent = init.parent;
    if (parent) {
      const forward = (reason: unknown) =>
        this.abort(
          reason instanceof ConnectError && reason.code !== Code.Internal ? reason : this.goneReason(),
        );
      if (parent.signal.aborted) forward(parent.signal.reason);
      else if (parent.onAbort) parent.onAbort(forward);
      else parent.signal.addEventListener('abort', () => forward(parent.signal.reason));
    }
  }

  /** `unary` or `server_streaming`. */
  get kind(): DescMethod['methodKind'] {
    return this.method.methodKind;
  }

  /** Fully qualified service name, e.g. `prism.keyvalue.v1.KeyValueBasicInterface`. */
  get service(): string {
    return this.definition.service.typeName;
  }

  /** `Service/Method` for logs and metrics. */
  get procedure(): string {
    return `${this.definition.service.name}/${this.method.name}`;
  }

  get headers(): HeaderReader {
    if (this.reader) return this.reader;
    const h = this.rawHeaders;
    if (!h) return EMPTY_HEADERS;
    if (typeof (h as HeaderReader).get === 'function') return h as HeaderReader;
    const raw = h as RawHeaders;
    this.reader = {
      get(name) {
        const v = raw[name];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    };
    return this.reader;
  }

  /** One request header (lower-case name), read without building {@link headers}' reader (hot path). */
  header(name: string): string | null {
    const h = this.rawHeaders;
    if (!h) return null;
    if (typeof (h as HeaderReader).get === 'function') return (h as HeaderReader).get(name);
    const v = (h as RawHeaders)[name];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }

  /** The caller's `x-request-id`, or a new UUID. */
  get requestId(): string {
    this.id ??= this.headers.get('x-request-id') ?? randomUUID();
    return this.id;
  }

  /** Typed values middleware attach to the call (see `createContextKey` of connect-es). */
  get values(): ContextValues {
    this.bag ??= createContextValues();
    return this.bag;
  }

  get signal(): AbortSignal {
    if (this.borrowed) return this.borrowed;
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  /** Why the call was aborted, if it was. */
  get abortReason(): ConnectError | undefined {
    if (!this.reason && this.borrowed?.aborted) this.reason = reasonOf(this.borrowed.reason, this);
    return this.reason;
  }

  /** Milliseconds left before the deadline (undefined without one; ≤ 0 when passed). */
  timeoutMs(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - Date.now();
  }

  /**
   * Why a call whose caller went away ended: DEADLINE_EXCEEDED when its deadline has (about) passed, since
   * a client usually gives up at its own deadline a moment before ours fires (see GONE_AT_DEADLINE_MS);
   * CANCELED otherwise.
   */
  goneReason(): ConnectError {
    if (this.deadline !== undefined && Date.now() >= this.deadline - GONE_AT_DEADLINE_MS)
      return new ConnectError(
        `deadline exceeded: ${this.procedure} on namespace "${this.namespace}" did not finish in time`,
        Code.DeadlineExceeded,
      );
    return new ConnectError('the client cancelled the call', Code.Canceled);
  }

  onAbort(fn: (reason: ConnectError) => void): void {
    const borrowed = this.borrowed;
    if (borrowed && !this.reason) {
      if (borrowed.aborted) this.abort(reasonOf(borrowed.reason, this));
      else if (!this.unlink) {
        const forward = () => this.abort(reasonOf(borrowed.reason, this));
        borrowed.addEventListener('abort', forward, { once: true });
        this.unlink = () => borrowed.removeEventListener('abort', forward);
      }
    }
    if (this.reason) fn(this.reason);
    else if (this.abortListeners) this.abortListeners.push(fn);
    else this.abortListeners = [fn];
  }

  /** Aborts the call: the implementation's signal fires and abort listeners run (once). */
  abort(reason: ConnectError): void {
    if (this.reason || this.ended) return;
    this.reason = reason;
    this.controller?.abort(reason);
    const listeners = this.abortListeners;
    this.abortListeners = undefined;
    if (listeners) for (const fn of listeners) fn(reason);
  }

  /** Runs `fn` once when the call ends (a unary answer or error, or a stream's last message). */
  onEnd(fn: (error: ConnectError | undefined) => void): void {
    if (this.endListeners) this.endListeners.push(fn);
    else this.endListeners = [fn];
  }

  get done(): boolean {
    return this.ended;
  }

  /** Ends the call (pipelines call this once): end listeners run in registration order. */
  end(error: ConnectError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.abortListeners = undefined;
    this.unlink?.();
    const listeners = this.endListeners;
    this.endListeners = undefined;
    if (listeners) for (const fn of listeners) fn(error);
  }
}

/** A caller's abort reason as a ConnectError (an unexplained abort means the caller went away). */
function reasonOf(reason: unknown, call: Call): ConnectError {
  return reason instanceof ConnectError && reason.code !== Code.Internal ? reason : call.goneReason();
}
