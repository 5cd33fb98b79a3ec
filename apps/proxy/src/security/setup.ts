import type http from 'node:http';
import type http2 from 'node:http2';
import type { PrismConfig } from '@prism/config';
import type { Logger } from '@prism/sdk';
import type { DualProtocolListener, ListenerTls } from '../listener.js';
import { AccessPolicy } from './access.js';
import { allowAdmin } from './admin-guard.js';
import { AuditLog } from './audit.js';
import { Authenticator } from './authenticate.js';
import { loadListenerTls } from './tls.js';

/** The proxy's security settings, made live: what the pipeline, the listener and `/metrics` need. */
export interface Security {
  /** With `proxy.auth`: who callers are and what they may do. */
  readonly auth?: { readonly authenticator: Authenticator; readonly policy: AccessPolicy } | undefined;
  readonly audit?: AuditLog | undefined;
  /** With `proxy.tls`: the client port's certificates. */
  readonly tls?: ListenerTls | undefined;
  /** Runs `serve` when the caller may see the proxy's own surface (always without auth); else answers 401/403. */
  guard(
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
    serve: () => void,
  ): void;
  /** SIGHUP: new certificates for new handshakes (on every TLS listener given), the audit file reopened. */
  reload(...listeners: DualProtocolListener[]): void;
  close(): Promise<void>;
}

/** Builds the security parts from `proxy.tls`, `proxy.auth`, `proxy.access` and `proxy.audit`; warns about weak setups. */
export function createSecurity(config: PrismConfig, logger: Logger): Security {
  const { auth: authConfig, tls: tlsConfig, audit: auditConfig, access, adminToken } = config.proxy;
  const auth = authConfig && {
    authenticator: new Authenticator(authConfig),
    policy: new AccessPolicy(access),
  };
  if (auth) {
    if (!tlsConfig) logger.warn('proxy.auth is on without proxy.tls: bearer tokens travel in clear text');
    for (const ns of config.namespaces)
      if (!ns.access.length && !access.length)
        logger.warn({ namespace: ns.name }, 'namespace has no access rules: every call to it is denied');
    void auth.authenticator.warm();
  }
  const audit = auditConfig && new AuditLog(auditConfig);
  return {
    auth,
    audit,
    tls: tlsConfig && loadListenerTls(tlsConfig),
    guard(req, res, serve) {
      if (!auth) serve();
      else
        void allowAdmin(req, res, auth.authenticator, auth.policy, adminToken).then((ok) => {
          if (ok) serve();
        });
    },
    reload(...listeners) {
      if (tlsConfig)
        try {
          const tls = loadListenerTls(tlsConfig);
          for (const listener of listeners) listener.reloadTls(tls);
          logger.info('TLS certificates reloaded');
        } catch (err) {
          logger.error({ error: (err as Error).message }, 'TLS certificates not reloaded; the old ones stay');
        }
      audit?.reopen();
    },
    close: async () => audit?.close(),
  };
}
