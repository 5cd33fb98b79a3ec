import type { PrismConfig } from '@prism/config';
import { deadlines, type Logger, type Middleware, requestLog, type Tracing, tracing } from '@prism/sdk';
import { streamCap } from './capacity.js';
import type { ProxyMetrics } from './metrics.js';
import type { NamespaceTable } from './namespaces.js';
import { type AccessPolicy, authorize } from './security/access.js';
import { type AuditLog, audit } from './security/audit.js';
import { type Authenticator, authenticate } from './security/authenticate.js';
import { limits } from './security/limits.js';

/** What the proxy's middleware are built from. */
export interface PipelineParts {
  readonly config: PrismConfig;
  readonly table: NamespaceTable;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly tracing?: Tracing | undefined;
  /** With `proxy.auth`: who the caller is, and what they may do. */
  readonly auth?: { readonly authenticator: Authenticator; readonly policy: AccessPolicy } | undefined;
  readonly audit?: AuditLog | undefined;
  /** Embedders' and tests' middleware, innermost (just before routing). */
  readonly extra?: readonly Middleware[];
}

/**
 * The proxy's chain, outermost first. Every call from every door (fast path, connect-node, streams)
 * runs through it, then through the router. To add a concern: write a middleware (one file) and add
 * one line here. Audit sits outside authentication so refused calls are recorded; limits sit inside
 * authorization so a stranger cannot spend a namespace's budget.
 */
export function proxyMiddleware(p: PipelineParts): Middleware[] {
  return [
    requestLog(p.logger),
    ...(p.tracing ? [tracing(p.tracing.tracer, p.tracing.sampleRatio)] : []),
    ...(p.config.proxy.metrics.enabled ? [p.metrics.middleware((ns) => p.table.get(ns) !== undefined)] : []),
    ...(p.audit ? [audit(p.audit)] : []),
    deadlines,
    ...(p.auth ? [authenticate(p.auth.authenticator), authorize(p.auth.policy, p.table)] : []),
    limits(p.table),
    streamCap(p.config.proxy.connections.maxOpenStreams),
    ...(p.extra ?? []),
  ];
}
