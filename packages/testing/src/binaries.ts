import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A server binary was not found; the message carries the exact command that installs it. */
export class MissingBinaryError extends Error {
  constructor(
    readonly binary: string,
    readonly aptPackage: string,
    searched: readonly string[],
  ) {
    super(
      `${binary} not found (looked in PATH and ${searched.join(', ') || 'nowhere else'}). ` +
        `Install it with: apt-get install -y ${aptPackage}`,
    );
    this.name = 'MissingBinaryError';
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Finds `name` in extra directories first, then PATH; throws {@link MissingBinaryError} otherwise. */
export function findBinary(name: string, aptPackage: string, extraDirs: readonly string[] = []): string {
  for (const dir of extraDirs) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  const found = onPath(name);
  if (found) return found;
  throw new MissingBinaryError(name, aptPackage, extraDirs);
}

/** `/usr/lib/postgresql/<version>/bin` directories, newest version first. */
export function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'))
    .filter((dir) => existsSync(join(dir, 'initdb')));
}

/** True when this process runs as root (PostgreSQL's initdb and postgres then need another user). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs a command synchronously and returns stdout; the error includes stderr. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): string {
  try {
    return execFileSync(cmd, args, {
      cwd: opts.cwd,
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}
