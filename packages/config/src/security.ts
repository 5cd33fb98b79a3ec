import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from '@prism/sdk';
import type { Path } from './path.js';
import type { Reporter } from './reporter.js';
import { bool, positiveInt } from './schemas.js';
import type {
  AccessRule,
  AuditConfig,
  AuthConfig,
  AuthProviderConfig,
  RateLimit,
  ServerTlsConfig,
} from './types.js';

const nonEmpty = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });

/** Asymmetric JWS algorithms; `none` and HS* (shared secrets) are never accepted from a JWKS. */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** Default clock-skew allowance for `exp`/`nbf`. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

const TlsServerSchema = z.strictObject(
  {
    cert_file: nonEmpty,
    key_file: nonEmpty,
    client_ca_file: nonEmpty.optional(),
    require_client_cert: bool.optional(),
  },
  { error: 'must be a map with cert_file, key_file (and client_ca_file, require_client_cert)' },
);

const JwtSchema = z.strictObject({
  name: nonEmpty,
  type: z.literal('jwt'),
  issuer: z.url({ protocol: /^https?$/, error: 'must be the issuer URL, e.g. "https://login.example.com/"' }),
  audience: z.union([nonEmpty, z.array(nonEmpty).min(1)], {
    error: 'must be the expected audience, or a list of them',
  }),
  jwks_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL of a JWKS' }).optional(),
  algorithms: z
    .array(z.enum(JWT_ALGORITHMS, { error: `must be one of ${JWT_ALGORITHMS.join(', ')}` }))
    .min(1)
    .optional(),
  groups_claim: nonEmpty.optional(),
  clock_skew_seconds: z
    .number({ error: 'must be a number of seconds from 0 to 300' })
    .min(0)
    .max(300, { error: 'must be a number of seconds from 0 to 300' })
    .optional(),
});

const MtlsSchema = z.strictObject({ name: nonEmpty, type: z.literal('mtls') });

const AuthSchema = z.strictObject(
  {
    providers: z.array(z.unknown(), { error: 'must be a list of providers' }).min(1, {
      error: 'must list at least one provider (type: jwt or mtls)',
    }),
    allow_anonymous: bool.optional(),
  },
  { error: 'must be a map with providers (and allow_anonymous)' },
);

const AuditSchema = z.strictObject(
  {
    path: nonEmpty.optional(),
    stdout: bool.optional(),
    sample_reads: z
      .number({ error: 'must be a number from 0 to 1' })
      .min(0, { error: 'must be a number from 0 to 1' })
      .max(1, { error: 'must be a number from 0 to 1' })
      .optional(),
  },
  { error: 'must be a map with path or stdout: true (and sample_reads)' },
);

const PRINCIPAL = /^(\*|anonymous|sub:.+|group:.+|spiffe:\/\/.+)$/;
const AccessSchema = z.array(
  z.strictObject(
    {
      principals: z
        .array(
          nonEmpty.regex(PRINCIPAL, {
            error: 'must be sub:NAME, group:NAME, a spiffe:// id, * (any authenticated caller) or anonymous',
          }),
        )
        .min(1, { error: 'must list at least one principal' }),
      permissions: z
        .array(z.enum(['read', 'write', 'admin'], { error: 'must be read, write or admin' }))
        .min(1, { error: 'must list at least one permission (read, write, admin)' }),
    },
    { error: 'each rule is a map with principals and permissions' },
  ),
  { error: 'must be a list of rules, e.g. [{ principals: ["group:app"], permissions: [read, write] }]' },
);

const RateSchema = z.strictObject(
  {
    requests_per_second: z
      .number({ error: 'must be a positive number' })
      .positive({ error: 'must be a positive number' }),
    burst: positiveInt('requests').optional(),
    per: z.enum(['namespace', 'principal'], { error: 'must be namespace or principal' }).optional(),
  },
  { error: 'must be a map with requests_per_second (and burst, per)' },
);

/** `proxy.tls`; files must exist (they are read at start and on SIGHUP). */
export function checkServerTls(
  raw: unknown,
  path: Path,
  baseDir: string,
  r: Reporter,
): ServerTlsConfig | undefined {
  const v = r.validate(TlsServerSchema, raw, path);
  if (!v) return undefined;
  const file = (key: 'cert_file' | 'key_file' | 'client_ca_file') => {
    const p = v[key];
    if (p === undefined) return undefined;
    const full = resolve(baseDir, p);
    if (!existsSync(full)) r.add([...path, key], `file not found: ${full}`);
    return full;
  };
  const out: ServerTlsConfig = {
    certFile: file('cert_file') as string,
    keyFile: file('key_file') as string,
    requireClientCert: v.require_client_cert ?? false,
  };
  const ca = file('client_ca_file');
  if (ca) out.clientCaFile = ca;
  else if (out.requireClientCert)
    r.add([...path, 'require_client_cert'], 'needs client_ca_file (the CA that signs client certificates)');
  return out;
}

/** `proxy.auth`: provider names are unique; mtls needs TLS with a client CA. */
export function checkAuth(
  raw: unknown,
  path: Path,
  tls: ServerTlsConfig | undefined,
  r: Reporter,
): AuthConfig | undefined {
  const v = r.validate(AuthSchema, raw, path);
  if (!v) return undefined;
  const providers: AuthProviderConfig[] = [];
  const names = new Set<string>();
  v.providers.forEach((p, i) => {
    const at = [...path, 'providers', i];
    const type = (p as { type?: unknown } | null)?.type;
    if (type !== 'jwt' && type !== 'mtls') {
      r.add([...at, 'type'], 'must be jwt or mtls');
      return;
    }
    const name = (p as { name?: unknown }).name;
    if (typeof name === 'string' && names.has(name))
      r.add([...at, 'name'], `duplicate provider name "${name}"`);
    if (typeof name === 'string') names.add(name);
    if (type === 'mtls') {
      const m = r.validate(MtlsSchema, p, at);
      if (!m) return;
      if (!tls?.clientCaFile)
        r.add(at, 'an mtls provider needs proxy.tls with client_ca_file (to verify client certificates)');
      providers.push({ name: m.name, type: 'mtls' });
      return;
    }
    const j = r.validate(JwtSchema, p, at);
    if (!j) return;
    providers.push({
      name: j.name,
      type: 'jwt',
      issuer: j.issuer,
      audience: typeof j.audience === 'string' ? [j.audience] : j.audience,
      ...(j.jwks_url !== undefined && { jwksUrl: j.jwks_url }),
      algorithms: j.algorithms ?? [...JWT_ALGORITHMS],
      groupsClaim: j.groups_claim ?? 'groups',
      clockSkewSeconds: j.clock_skew_seconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
    });
  });
  return { providers, allowAnonymous: v.allow_anonymous ?? false };
}

/** `proxy.audit`: exactly one of `path` and `stdout: true`. */
export function checkAudit(raw: unknown, path: Path, baseDir: string, r: Reporter): AuditConfig | undefined {
  const v = r.validate(AuditSchema, raw, path);
  if (!v) return undefined;
  if ((v.path !== undefined) === (v.stdout === true)) {
    r.add(path, 'set either path (a file, JSON lines) or stdout: true');
    return undefined;
  }
  return {
    ...(v.path !== undefined && { path: resolve(baseDir, v.path) }),
    sampleReads: v.sample_reads ?? 1,
  };
}

/** `access:` of the proxy or a namespace. */
export function checkAccess(raw: unknown, path: Path, r: Reporter): AccessRule[] {
  if (raw === undefined || raw === null) return [];
  const v = r.validate(AccessSchema, raw, path);
  return v?.map((rule) => ({ principals: [...rule.principals], permissions: [...rule.permissions] })) ?? [];
}

/** `limits.rate`; `burst` defaults to one second's worth (at least 1). */
export function checkRate(raw: unknown, path: Path, r: Reporter): RateLimit | undefined {
  const v = r.validate(RateSchema, raw, path);
  if (!v) return undefined;
  return {
    requestsPerSecond: v.requests_per_second,
    burst: v.burst ?? Math.max(1, Math.ceil(v.requests_per_second)),
    per: v.per ?? 'namespace',
  };
}
