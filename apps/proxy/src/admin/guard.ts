import { randomUUID } from 'node:crypto';
import { ConnectError, createContextKey, type Interceptor } from '@connectrpc/connect';
import { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';
import { CLIENT_CERTIFICATE, codeName, PEER_ADDRESS, type Principal } from '@prism/sdk';
import { type AdminAuth, authorizeAdmin } from '../security/admin-guard.js';
import type { AuditLog } from '../security/audit.js';

/** The admin caller once authorized (for the audit record); undefined when nothing is enforced. */
const ADMIN_CALLER = createContextKey<Principal | undefined>(undefined, { description: 'admin caller' });

const isAdminCall = (typeName: string) => typeName === AdminService.typeName;

/**
 * The admin listener's interceptors, outermost first: the audit record (when `proxy.audit` is on; it sits
 * outside authorization so refusals are recorded too), then authorization when `proxy.auth` or
 * `proxy.admin_token` is set (see `authorizeAdmin`). Only AdminService is guarded: health and reflection
 * on the admin port stay public, as on the client port.
 */
export function adminInterceptors(guard: AdminAuth, audit: AuditLog | undefined): Interceptor[] {
  const enforce = guard.auth !== undefined || guard.adminToken !== undefined;
  const authorize: Interceptor = (next) => async (req) => {
    if (enforce && isAdminCall(req.service.typeName)) {
      const caller = await authorizeAdmin(
        {
          authorization: req.header.get('authorization'),
          clientCert: req.contextValues.get(CLIENT_CERTIFICATE),
        },
        guard,
      );
      req.contextValues.set(ADMIN_CALLER, caller);
    }
    return next(req);
  };
  if (!audit) return [authorize];
  const record: Interceptor = (next) => async (req) => {
    if (!isAdminCall(req.service.typeName)) return next(req);
    const t0 = performance.now();
    let error: ConnectError | undefined;
    try {
      return await next(req);
    } catch (err) {
      error = ConnectError.from(err);
      throw err;
    } finally {
      const p = req.contextValues.get(ADMIN_CALLER);
      const target = (req as { message?: { namespace?: unknown } }).message?.namespace;
      const traceparent = req.header.get('traceparent')?.split('-')[1];
      // Admin calls are always recorded (sample_reads only samples successful namespace reads).
      audit.write({
        time: new Date().toISOString(),
        principal: p?.subject ?? null,
        provider: p?.provider ?? null,
        namespace: typeof target === 'string' ? target : '',
        method: `${req.service.typeName}.${req.method.name}`,
        outcome: codeName(error?.code),
        duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
        peer: req.contextValues.get(PEER_ADDRESS) ?? null,
        request_id: req.header.get('x-request-id') ?? randomUUID(),
        trace_id: traceparent && /^[0-9a-f]{32}$/.test(traceparent) ? traceparent : null,
      });
    }
  };
  return [record, authorize];
}
