import type http from 'node:http';
import type http2 from 'node:http2';
import { createContextValues, type ServiceImpl } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';
import {
  CLIENT_CERTIFICATE,
  clientCertificateOf,
  clientInputErrors,
  PEER_ADDRESS,
  socketOf,
  strictJsonOptions,
} from '@prism/sdk';
import type { ConnectionLimits } from '../connection-guard.js';
import { Health, type HealthService } from '../health.js';
import { type DualHandler, DualProtocolListener, type ListenerTls } from '../listener.js';
import { mountReflection } from '../reflection.js';
import type { AdminAuth } from '../security/admin-guard.js';
import type { AuditLog } from '../security/audit.js';
import { adminInterceptors } from './guard.js';
import { AFTER_RESPONSE } from './service.js';

/** Admin requests are small; this bounds what an unauthenticated caller can make the proxy read. */
const ADMIN_READ_MAX_BYTES = 1024 * 1024;

/** Options for {@link startAdminListener}. */
export interface AdminListenerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly service: ServiceImpl<typeof AdminService>;
  /** grpc.health.v1 (the same answers as on the client port), for probes of the admin port. */
  readonly health: HealthService;
  readonly guard: AdminAuth;
  readonly audit?: AuditLog | undefined;
  /** With `proxy.tls`: the same certificates as the client port. */
  readonly tls?: ListenerTls | undefined;
  readonly limits: ConnectionLimits;
  /**
   * Served before the admin API (the web console, see console.ts): answers and returns true for the
   * requests it takes.
   */
  readonly httpRoutes?: ((req: DualRequest, res: DualResponse) => boolean) | undefined;
}

type DualRequest = Parameters<DualHandler>[0];
type DualResponse = Parameters<DualHandler>[1];

/** The admin API's own listener. */
export interface AdminListener {
  readonly listener: DualProtocolListener;
  readonly port: number;
  /** e.g. http://127.0.0.1:8981 (https with `proxy.tls`). */
  readonly url: string;
  /** Stops accepting; calls in progress (a Drain's answer) finish. */
  stopAccepting(): void;
  /**
   * Lets open connections finish what they are sending (a Drain's answer still in the socket) for up
   * to `ms`, then closes whatever is still open.
   */
  close(ms: number): Promise<void>;
}

/**
 * Serves AdminService, grpc.health.v1 and server reflection (so `buf curl` needs no local protos) on a
 * separate port, with HTTP/2 cleartext and HTTP/1.1 like the client port, or TLS when `proxy.tls` is set.
 * Admin calls do not run through the client call pipeline: they name no namespace's plugin to route to.
 */
export async function startAdminListener(opts: AdminListenerOptions): Promise<AdminListener> {
  const responses = new WeakMap<object, http.ServerResponse | http2.Http2ServerResponse>();
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.service(AdminService, opts.service);
      opts.health.mount(router);
      mountReflection(router, [AdminService, Health]);
    },
    contextValues: (req) => {
      const res = responses.get(req);
      const values = createContextValues()
        .set(PEER_ADDRESS, req.socket?.remoteAddress)
        .set(CLIENT_CERTIFICATE, clientCertificateOf(socketOf(req)));
      // 'close' fires once the response is written (or the client went away).
      if (res) values.set(AFTER_RESPONSE, (fn) => res.once('close', fn));
      return values;
    },
    readMaxBytes: ADMIN_READ_MAX_BYTES,
    interceptors: [clientInputErrors, ...adminInterceptors(opts.guard, opts.audit)],
    jsonOptions: strictJsonOptions,
  });
  const listener = new DualProtocolListener(
    (req, res) => {
      if (opts.httpRoutes?.(req, res)) return;
      responses.set(req, res);
      handler(req, res);
    },
    undefined,
    opts.tls,
    opts.limits,
  );
  let port: number;
  try {
    port = await listener.listen(opts.port, opts.host);
  } catch (err) {
    listener.tcp.close();
    throw new Error(
      `admin listener ${opts.host}:${opts.port}: ${(err as Error).message} (set proxy.admin.listen or --admin-port; 0 picks a free port)`,
      { cause: err },
    );
  }
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    listener,
    port,
    url: `${listener.secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    stopAccepting: () => listener.stopAccepting(),
    close: async (ms) => {
      listener.stopAccepting();
      for (const end = Date.now() + ms; listener.openConnections > 0 && Date.now() < end; )
        await new Promise((r) => setTimeout(r, 10));
      listener.destroyAll();
    },
  };
}
