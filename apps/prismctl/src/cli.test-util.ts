import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProgramOptions, run } from './program.js';

/** What one prismctl run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `prismctl <args>` in-process and captures its output and exit code. */
export async function prismctl(
  args: readonly string[],
  options: Omit<ProgramOptions, 'exit'> = {},
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(
    ['node', 'prismctl', ...args],
    (s) => out.push(s),
    (s) => err.push(s),
    options,
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Parses the stdout of a `--json` run. */
export function json<T>(r: CliRun): T {
  return JSON.parse(r.out) as T;
}

/** A temporary directory with a `write(name, text)` helper; `remove()` in afterAll. */
export function tempDir(): { dir: string; write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'prismctl-'));
  return {
    dir,
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
