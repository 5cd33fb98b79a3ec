import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatPath, type Path } from './path.js';
import type { Reporter } from './reporter.js';

/** Where `${env:}` and `${file:}` references are resolved from. */
export interface ReferenceContext {
  readonly env: NodeJS.ProcessEnv;
  /** Directory relative `${file:}` paths are resolved against (the config file's). */
  readonly baseDir: string;
  readonly reporter: Reporter;
}

// `$${` is an escaped literal `${`; otherwise `${kind:arg}`.
const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names of the environment variables a string references (`${env:NAME}`, `${env:NAME:-fallback}`). */
export function referencedEnvNames(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(REFERENCE)) {
    const inner = m[1];
    if (inner === undefined || !inner.startsWith('env:')) continue;
    const arg = inner.slice(4);
    const dash = arg.indexOf(':-');
    const name = dash < 0 ? arg : arg.slice(0, dash);
    if (ENV_NAME.test(name)) out.push(name);
  }
  return out;
}

/** Returns a copy of `value` with every reference in every string replaced; problems go to the reporter. */
export function resolveReferences(value: unknown, path: Path, ctx: ReferenceContext): unknown {
  if (typeof value === 'string') return resolveString(value, path, ctx);
  if (Array.isArray(value)) return value.map((v, i) => resolveReferences(v, [...path, i], ctx));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a `__proto__` key stays a key (and is reported as unknown).
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveReferences(v, [...path, k], ctx)]),
    );
  }
  return value;
}

function resolveString(text: string, path: Path, ctx: ReferenceContext): string {
  if (!text.includes('${')) return text;
  let referenced = false;
  let failed = false;
  const out = text.replace(REFERENCE, (match, inner: string | undefined) => {
    if (match === '$${') return '${';
    referenced = true;
    const value = resolveOne(inner ?? '', path, ctx);
    if (value === undefined) failed = true;
    return value ?? '';
  });
  if (referenced) ctx.reporter.references.set(formatPath(path), text);
  if (failed) ctx.reporter.unresolved.add(formatPath(path));
  return out;
}

function resolveOne(inner: string, path: Path, ctx: ReferenceContext): string | undefined {
  const { reporter } = ctx;
  const colon = inner.indexOf(':');
  const kind = colon < 0 ? inner : inner.slice(0, colon);
  const arg = colon < 0 ? '' : inner.slice(colon + 1);
  if (kind === 'env') {
    // `${env:NAME:-fallback}` uses the fallback when NAME is unset or empty.
    const dash = arg.indexOf(':-');
    const name = dash < 0 ? arg : arg.slice(0, dash);
    if (!ENV_NAME.test(name)) {
      reporter.add(path, `\${env:${name}} is not a valid environment variable name`);
      return undefined;
    }
    const value = ctx.env[name];
    if (value !== undefined && (value !== '' || dash < 0)) {
      reporter.secrets.add(value);
      return value;
    }
    if (dash >= 0) return arg.slice(dash + 2);
    reporter.add(path, `environment variable ${name} is not set (referenced as \${env:${name}})`);
    return undefined;
  }
  if (kind === 'file') {
    if (!arg) {
      reporter.add(path, `\${file:} needs a path, e.g. \${file:/run/secrets/token}`);
      return undefined;
    }
    const full = resolve(ctx.baseDir, arg);
    try {
      // One trailing newline is what editors and `echo` add; it is never part of the secret.
      const content = readFileSync(full, 'utf8').replace(/\r?\n$/, '');
      reporter.secrets.add(content);
      return content;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      reporter.add(path, `cannot read \${file:${arg}} (${full}): ${code}`);
      return undefined;
    }
  }
  reporter.add(
    path,
    `unknown reference "\${${inner}}"; use \${env:NAME} or \${file:PATH} (write $\${ for a literal "\${")`,
  );
  return undefined;
}
