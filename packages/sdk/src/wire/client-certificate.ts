import type http from 'node:http';
import type http2 from 'node:http2';
import type { PeerCertificate, TLSSocket } from 'node:tls';

/** The certificate a TLS client presented. */
export interface ClientCertificate {
  /** SAN URI (SPIFFE-style) first, then DNS SAN, then the subject's CN. */
  readonly identity: string;
  /** True when it chains to the configured client CA. */
  readonly verified: boolean;
  /** Why verification failed (e.g. `SELF_SIGNED_CERT_IN_CHAIN`), when it did. */
  readonly error?: string | undefined;
}

// One lookup per connection, not per call: a connection's certificate never changes.
const seen = new WeakMap<object, ClientCertificate | null>();

/** The client certificate of a connection (undefined: plaintext, or no certificate presented). */
export function clientCertificateOf(socket: unknown): ClientCertificate | undefined {
  const tls = socket as TLSSocket | undefined;
  if (!tls?.encrypted || typeof tls.getPeerCertificate !== 'function') return undefined;
  let found = seen.get(tls);
  if (found === undefined) {
    const cert = tls.getPeerCertificate();
    found =
      cert && Object.keys(cert).length > 0
        ? {
            identity: certificateIdentity(cert),
            verified: tls.authorized,
            error: tls.authorizationError ? String(tls.authorizationError) : undefined,
          }
        : null;
    seen.set(tls, found);
  }
  return found ?? undefined;
}

/** The connection socket of a request (for HTTP/2, the session's, shared by its streams). */
export function socketOf(req: http.IncomingMessage | http2.Http2ServerRequest): unknown {
  return 'stream' in req ? req.stream.session?.socket : req.socket;
}

/**
 * The identity a certificate names: its first URI SAN (SPIFFE ids are URIs), else its first DNS
 * SAN, else its subject CN ('' when it names none).
 */
export function certificateIdentity(cert: Pick<PeerCertificate, 'subject' | 'subjectaltname'>): string {
  const entries = splitAltNames(cert.subjectaltname ?? '');
  const pick = (kind: string) => entries.find((e) => e.kind === kind)?.value;
  const cn = cert.subject?.CN;
  return pick('URI') ?? pick('DNS') ?? (Array.isArray(cn) ? cn[0] : cn) ?? '';
}

/** Parses Node's `subjectaltname` (`URI:a, DNS:b`; values with special characters are JSON-quoted). */
function splitAltNames(text: string): { kind: string; value: string }[] {
  const out: { kind: string; value: string }[] = [];
  const re = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/gy;
  for (let m = re.exec(text); m && m[0] !== ''; m = re.exec(text)) {
    const raw = m[2] ?? '';
    let value = raw;
    if (raw.startsWith('"'))
      try {
        value = JSON.parse(raw) as string;
      } catch {
        value = raw.slice(1, -1);
      }
    out.push({ kind: (m[1] ?? '').trim(), value });
  }
  return out;
}
