// Secrets travel to sidecar and remote plugins apart from the config blob (lifecycle.proto Initialize
// `credentials`), so the blob can be logged, stored or shown without leaking them. The proxy moves every
// value that came from a `${env:}`/`${file:}` reference out of the config, keyed by its path; the plugin
// host puts each one back before the config is parsed.

/** Where a value sits inside a backend config: object keys and array indexes, from the root. */
export type ConfigPath = readonly (string | number)[];

/** A config split for Initialize: the blob without secrets, and the secrets keyed by {@link credentialKey}. */
export interface SplitConfig {
  readonly config: Record<string, unknown>;
  readonly credentials: Record<string, string>;
}

const escapeSegment = (segment: string | number) =>
  String(segment).replaceAll('~', '~0').replaceAll('.', '~1');
const unescapeSegment = (segment: string) => segment.replaceAll('~1', '.').replaceAll('~0', '~');

/**
 * The credentials-map key of a config path: segments joined by `.` (`password`, `sasl.password`,
 * `servers.0`), with `~` written `~0` and `.` inside a key written `~1` (as JSON Pointer escapes `/`).
 */
export function credentialKey(path: ConfigPath): string {
  return path.map(escapeSegment).join('.');
}

/** The segments of a {@link credentialKey} (array indexes stay strings; the target decides). */
export function parseCredentialKey(key: string): string[] {
  return key.split('.').map(unescapeSegment);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  return value;
}

/**
 * Moves the string values at `paths` out of a copy of `config` into a credentials map. An object key is
 * removed; an array item becomes `null` so the other items keep their indexes. Paths that do not lead to
 * a string are ignored (references only ever produce strings).
 */
export function splitCredentials(config: Record<string, unknown>, paths: readonly ConfigPath[]): SplitConfig {
  const out = clone(config) as Record<string, unknown>;
  const credentials: Record<string, string> = {};
  for (const path of paths) {
    if (path.length === 0) continue;
    let parent: unknown = out;
    for (const segment of path.slice(0, -1))
      parent = (parent as Record<string, unknown> | undefined)?.[segment];
    const last = path[path.length - 1] as string | number;
    if (Array.isArray(parent) && typeof last === 'number' && typeof parent[last] === 'string') {
      credentials[credentialKey(path)] = parent[last];
      parent[last] = null;
    } else if (isRecord(parent) && typeof parent[last] === 'string') {
      credentials[credentialKey(path)] = parent[last] as string;
      delete parent[last];
    }
  }
  return { config: out, credentials };
}

/**
 * Puts every credential back at its path in a copy of `config` (the inverse of {@link splitCredentials}).
 * Missing objects on the way are created; a segment indexes an array when the target is one. A key without
 * dots is a top-level key, so plain `{ password: … }` maps keep working.
 */
export function mergeCredentials(
  config: Record<string, unknown>,
  credentials: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const out = clone(config) as Record<string, unknown>;
  for (const [key, value] of Object.entries(credentials)) {
    const path = parseCredentialKey(key);
    // A `__proto__` segment would reach Object.prototype instead of a config key.
    if (path.includes('__proto__')) continue;
    let node: Record<string, unknown> | unknown[] = out;
    path.forEach((segment, i) => {
      const at: string | number = Array.isArray(node) && /^\d+$/.test(segment) ? Number(segment) : segment;
      const container = node as Record<string | number, unknown>;
      if (i === path.length - 1) {
        container[at] = value;
        return;
      }
      const next = Object.hasOwn(container, at) ? container[at] : undefined;
      if (!isRecord(next) && !Array.isArray(next)) container[at] = {};
      node = container[at] as Record<string, unknown> | unknown[];
    });
  }
  return out;
}
