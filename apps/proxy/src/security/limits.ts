import { Code, ConnectError } from '@connectrpc/connect';
import type { NamespaceConfig, RateLimit } from '@prism/config';
import type { Call, Middleware } from '@prism/sdk';
import type { NamespaceTable } from '../namespaces.js';

/** A token bucket: `burst` tokens, refilled at `rate` per second. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = performance.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes a token: 0 when granted, else the milliseconds until one is available. */
  take(now = performance.now()): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }

  /** True when the bucket is full (an idle per-principal bucket can be forgotten). */
  full(now = performance.now()): boolean {
    return this.tokens + ((now - this.last) * this.rate) / 1000 >= this.burst;
  }
}

/** Per-principal buckets kept per namespace before idle (full) ones are dropped. */
const MAX_PRINCIPAL_BUCKETS = 10_000;

/** State of one namespace config's limits; a reload (new config) starts fresh. */
interface State {
  bucket?: TokenBucket;
  perPrincipal?: Map<string, TokenBucket>;
  running: number;
}

/**
 * Rate limits (`limits.rate`, a token bucket per namespace or per principal) and `limits.max_concurrent`.
 * Over a limit → RESOURCE_EXHAUSTED with a retry hint (`retry-after` in seconds and
 * `prism-retry-after-ms`). The counts live in this replica: N replicas admit N times the rate.
 */
export function limits(table: NamespaceTable): Middleware {
  const states = new WeakMap<NamespaceConfig, State>();
  const stateOf = (ns: NamespaceConfig) => {
    let s = states.get(ns);
    if (!s) {
      s = { running: 0 };
      states.set(ns, s);
    }
    return s;
  };
  return (next) => (call) => {
    const ns = table.get(call.namespace)?.config;
    if (!ns || (ns.rate === undefined && ns.maxConcurrent === undefined)) return next(call);
    const state = stateOf(ns);
    if (ns.rate) {
      const wait = bucketFor(state, ns.rate, call).take();
      if (wait > 0)
        throw exhausted(
          `rate limit of ${ns.rate.requestsPerSecond} requests/s${ns.rate.per === 'principal' ? ' per principal' : ''} on namespace "${ns.name}" exceeded; retry in ${wait} ms`,
          wait,
        );
    }
    if (ns.maxConcurrent !== undefined) {
      if (state.running >= ns.maxConcurrent)
        throw exhausted(
          `namespace "${ns.name}" is running its limit of ${ns.maxConcurrent} concurrent calls (limits.max_concurrent); retry shortly`,
          100,
        );
      state.running++;
      call.onEnd(() => state.running--);
    }
    return next(call);
  };
}

function bucketFor(state: State, rate: RateLimit, call: Call): TokenBucket {
  if (rate.per === 'namespace') {
    state.bucket ??= new TokenBucket(rate.requestsPerSecond, rate.burst);
    return state.bucket;
  }
  state.perPrincipal ??= new Map();
  const map = state.perPrincipal;
  const key = call.principal ? `${call.principal.provider}\u0000${call.principal.subject}` : '';
  let bucket = map.get(key);
  if (!bucket) {
    if (map.size >= MAX_PRINCIPAL_BUCKETS) for (const [k, b] of map) if (b.full()) map.delete(k);
    bucket = new TokenBucket(rate.requestsPerSecond, rate.burst);
    map.set(key, bucket);
  }
  return bucket;
}

function exhausted(message: string, retryMs: number): ConnectError {
  return new ConnectError(message, Code.ResourceExhausted, {
    'retry-after': String(Math.max(1, Math.ceil(retryMs / 1000))),
    'prism-retry-after-ms': String(retryMs),
  });
}
