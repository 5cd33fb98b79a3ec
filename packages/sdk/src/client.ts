import type http2 from 'node:http2';
import net from 'node:net';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { type CallOptions, type Client, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import {
  type HealthCheckResponse,
  HealthStatus,
  PluginLifecycleInterface,
} from '@prism/proto/prism/plugin/v1/lifecycle_pb';
import type { CallContext } from './call.js';
import type { HealthReport } from './health.js';
import type { AnyImpl, InterfaceDefinition, InterfaceImpl } from './interface.js';
import type { PluginHandle } from './plugin.js';
import { PLUGIN_INSTANCE_HEADER } from './plugin-host.js';
import { fastUnary, PluginSession } from './wire/unary-client.js';

/** TLS settings of a client connecting to a plugin (PEM contents). */
export interface PluginClientTls {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Name to verify in the server certificate (and to send as SNI) instead of the URL host. */
  readonly serverName?: string;
  /** Skips certificate verification: development only. */
  readonly insecureSkipVerify?: boolean;
}

/** Where a plugin server listens: a Unix socket, or an http(s) URL. */
export interface PluginTarget {
  readonly socket?: string;
  readonly url?: string;
  readonly tls?: PluginClientTls;
  /**
   * Wire protocol: `grpc` (default; any gRPC plugin server) or `connect` (Connect binary over HTTP/2:
   * no trailers, cheaper per call; servePlugin speaks both).
   */
  readonly protocol?: 'grpc' | 'connect';
}

/** A transport to a plugin server that can be closed (its HTTP/2 connection otherwise idles for minutes). */
export interface PluginTransport extends Transport {
  /** Closes the connection; calls in flight fail with CANCELED. */
  close(): void;
  /** Set for the `connect` protocol: unary calls on a raw HTTP/2 stream (see wire/unary-client.ts). */
  readonly fastUnary?: (
    service: DescService,
    method: DescMethod,
    headers: Readonly<Record<string, string>> | undefined,
  ) => (request: unknown, ctx?: CallContext) => Promise<unknown>;
}

/** A gRPC-over-HTTP/2 transport to a plugin server (one multiplexed connection, reconnects on demand). */
export function createPluginTransport(target: PluginTarget): PluginTransport {
  let baseUrl: string;
  let nodeOptions: http2.ClientSessionOptions | http2.SecureClientSessionOptions = {};
  if (target.socket) {
    const path = target.socket;
    baseUrl = 'http://localhost';
    nodeOptions = { createConnection: () => net.connect(path) };
  } else if (target.url) {
    baseUrl = target.url;
    const tls = target.tls;
    if (tls)
      nodeOptions = {
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        ...(tls.serverName ? { servername: tls.serverName } : {}),
        rejectUnauthorized: !tls.insecureSkipVerify,
      };
  } else throw new Error('plugin target needs a socket or a url');
  const sessionManager = new Http2SessionManager(baseUrl, {}, nodeOptions);
  const fast = target.protocol === 'connect' ? new PluginSession(baseUrl, nodeOptions) : undefined;
  const transport =
    target.protocol === 'connect'
      ? createConnectTransport({ baseUrl, httpVersion: '2', sessionManager, useBinaryFormat: true })
      : createGrpcTransport({ baseUrl, sessionManager });
  return {
    unary: transport.unary.bind(transport),
    stream: transport.stream.bind(transport),
    close: () => {
      sessionManager.abort();
      fast?.close();
    },
    ...(fast ? { fastUnary: (service, method, headers) => fastUnary(fast, service, method, headers) } : {}),
  };
}

/** A typed client of the `prism.plugin.v1` lifecycle service. */
export type LifecycleClient = Client<typeof PluginLifecycleInterface>;

/** Creates a lifecycle client over a plugin transport. */
export function lifecycleClient(transport: Transport): LifecycleClient {
  return createClient(PluginLifecycleInterface, transport);
}

const STATUS: Record<HealthStatus, HealthReport['status']> = {
  [HealthStatus.UNSPECIFIED]: 'unhealthy',
  [HealthStatus.HEALTHY]: 'healthy',
  [HealthStatus.DEGRADED]: 'degraded',
  [HealthStatus.UNHEALTHY]: 'unhealthy',
};

/** Converts a lifecycle HealthCheck answer into the SDK's health report. */
export function toHealthReport(res: HealthCheckResponse): HealthReport {
  return {
    status: STATUS[res.status],
    ...(res.message ? { message: res.message } : {}),
    ...(Object.keys(res.details).length ? { details: res.details } : {}),
  };
}

/** Options for {@link connectPlugin}. */
export interface ConnectPluginOptions {
  readonly namespace: string;
  readonly plugin?: string;
  readonly version?: string;
  /** Sent as the `prism-plugin-instance` header so calls reach this instance of the plugin server. */
  readonly instanceId?: string;
  /** Health of the remote side; default: healthy. */
  readonly health?: () => Promise<HealthReport>;
  /** Called by `close()` (e.g. Stop the instance, kill the process, shut down a proxy). */
  readonly close?: () => Promise<void>;
}

type Fn = (request: unknown, options: CallOptions) => unknown;

/**
 * A {@link PluginHandle} whose interfaces are Connect clients over `transport` (unary and
 * server-streaming): a plugin server, or a Prism proxy, looks to its user exactly like an in-process
 * plugin. Cancellation and deadlines of the caller's context are propagated.
 */
export function connectPlugin(
  transport: Transport,
  interfaces: readonly InterfaceDefinition[],
  opts: ConnectPluginOptions,
): PluginHandle {
  const headers = opts.instanceId ? { [PLUGIN_INSTANCE_HEADER]: opts.instanceId } : undefined;
  // The caller's cancellation, remaining deadline and trace context go with the call.
  const callOptions = (ctx: CallContext | undefined): CallOptions => {
    const trace = ctx?.trace;
    const h = trace
      ? {
          ...headers,
          traceparent: trace.traceparent,
          ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
        }
      : headers;
    return {
      ...(ctx?.signal ? { signal: ctx.signal } : {}),
      ...(h ? { headers: h } : {}),
      ...(ctx?.deadline !== undefined
        ? { timeoutMs: Math.max(1, Math.ceil(ctx.deadline - Date.now())) }
        : {}),
    };
  };
  const map = new Map<string, AnyImpl>();
  for (const iface of interfaces) {
    const client = createClient(iface.service, transport) as unknown as Record<string, Fn>;
    const impl: Record<string, (request: never, ctx: CallContext) => unknown> = {};
    const fast = (transport as Partial<PluginTransport>).fastUnary;
    for (const method of iface.service.methods) {
      if (fast && method.methodKind === 'unary') {
        impl[method.localName] = fast(iface.service, method, headers);
        continue;
      }
      const call = client[method.localName] as Fn;
      impl[method.localName] = (request: unknown, ctx: CallContext) => call(request, callOptions(ctx));
    }
    map.set(iface.service.typeName, impl);
  }
  return {
    plugin: opts.plugin ?? 'remote',
    version: opts.version ?? '',
    namespace: opts.namespace,
    interfaces: map,
    get: <S extends DescService>(iface: InterfaceDefinition<S>) =>
      map.get(iface.service.typeName) as InterfaceImpl<S> | undefined,
    health: opts.health ?? (async () => ({ status: 'healthy' })),
    close: opts.close ?? (async () => {}),
  };
}
