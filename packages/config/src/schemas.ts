import { z } from '@prism/sdk';
import type { Path } from './path.js';
import type { Reporter } from './reporter.js';

// References always resolve to strings, so numbers and booleans also accept their string form.
const fromString = (v: unknown) => {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  return v;
};

/** A positive integer (also from a `${env:}` string). */
export const positiveInt = (what: string) =>
  z.preprocess(
    fromString,
    z
      .number({ error: `must be a positive integer (${what})` })
      .int({ error: `must be a positive integer (${what})` })
      .min(1, { error: `must be a positive integer (${what})` }),
  );

/** A boolean (also `"true"`/`"false"` from a `${env:}` string). */
export const bool = z.preprocess(fromString, z.boolean({ error: 'must be true or false' }));

const nonEmpty = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });

const sizeLimits = {
  max_key_bytes: positiveInt('bytes').optional(),
  max_value_bytes: positiveInt('bytes').optional(),
};

/** `proxy.limits:`. */
export const LimitsSchema = z.strictObject(sizeLimits, {
  error: 'must be a map with max_key_bytes and/or max_value_bytes',
});

/** `limits:` of a namespace: sizes, plus `rate` (checked apart) and `max_concurrent`. */
export const NamespaceLimitsSchema = z.strictObject(
  { ...sizeLimits, rate: z.unknown().optional(), max_concurrent: positiveInt('calls').optional() },
  { error: 'must be a map with max_key_bytes, max_value_bytes, rate, max_concurrent' },
);

/** `proxy.cors:`. */
export const CorsSchema = z.strictObject(
  { allowed_origins: z.array(nonEmpty, { error: 'must be a list of origins, e.g. ["*"]' }).optional() },
  { error: 'must be a map with allowed_origins' },
);

/** `proxy.metrics:`. */
export const MetricsSchema = z.strictObject(
  {
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
    listen: z.union([z.string(), z.number()]).optional(),
  },
  { error: 'must be a map with enabled (and listen)' },
);

/** `proxy.admin:` (the admin API listener). */
export const AdminSchema = z.strictObject(
  { listen: z.union([z.string(), z.number()]).optional() },
  { error: 'must be a map with listen, e.g. { listen: "127.0.0.1:8981" }' },
);

/** `proxy.tracing:`. */
export const TracingSchema = z.strictObject(
  {
    otlp_endpoint: z.url({
      protocol: /^https?$/,
      error: 'must be an http(s) URL of an OTLP/HTTP traces endpoint, e.g. "http://127.0.0.1:4318/v1/traces"',
    }),
    sample_ratio: z
      .number({ error: 'must be a number from 0 to 1' })
      .min(0, { error: 'must be a number from 0 to 1' })
      .max(1, { error: 'must be a number from 0 to 1' })
      .optional(),
  },
  { error: 'must be a map with otlp_endpoint (and sample_ratio)' },
);

/** `plugin.tls:`. */
export const TlsSchema = z.strictObject(
  {
    ca: nonEmpty.optional(),
    cert: nonEmpty.optional(),
    key: nonEmpty.optional(),
    server_name: nonEmpty.optional(),
    insecure_skip_verify: bool.optional(),
  },
  { error: 'must be a map with ca, cert, key, server_name, insecure_skip_verify' },
);

/** Namespace names: DNS-label style so they work as prefixes, subjects and schema names. */
export const NameSchema = z
  .string({ error: 'must be a string (quote names that look like numbers, e.g. "2024")' })
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    error: 'must be 1-63 characters of a-z, 0-9 and "-", starting and ending with a letter or digit',
  });

export const PatternSchema = nonEmpty;
export const AdminTokenSchema = nonEmpty;
export const PackageSchema = nonEmpty;
export const EndpointSchema = nonEmpty;
export const BackendTypeSchema = z
  .string({ error: 'must be a string' })
  .regex(/^[a-z][a-z0-9_-]*$/, { error: 'must be a backend type name such as "memstore" or "redis"' });
export const ModeSchema = z.enum(['in_process', 'sidecar', 'remote'], {
  error: 'must be one of in_process, sidecar, remote',
});
export const ListenSchema = z.union([z.string(), z.number()], {
  error: 'must be "host:port" (e.g. "0.0.0.0:8980") or a port number',
});
export const NeedsListSchema = z.array(nonEmpty.regex(/^\S+$/, { error: 'must be a flavour name' }));
export const ConfigMapSchema = z.record(z.string(), z.unknown(), { error: 'must be a map' });

/**
 * Checks that `raw` is a map, reports keys outside `allowed` (with suggestions) and returns it;
 * undefined (reported) when it is not a map. `null`/absent count as an empty map when `emptyOk`.
 */
export function mapAt(
  raw: unknown,
  path: Path,
  allowed: readonly string[],
  r: Reporter,
  what: string,
  emptyOk = true,
): Record<string, unknown> | undefined {
  if ((raw === undefined || raw === null) && emptyOk) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    r.add(path, `must be a map (${what})`);
    return undefined;
  }
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) r.unknownKey([...path, k], allowed);
  return obj;
}
