import { readFileSync } from 'node:fs';
import { PluginCatalog } from '@prism/proxy';
import type { Command } from 'commander';

/**
 * Exit codes a CI can rely on: 0 ok; 1 an invalid config or a failed check (nothing matched, a backend
 * lacks a flavour, a remote call failed); 2 a usage error (unknown command or option, bad argument).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** One of {@link EXIT}. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What every command gets: where output goes, how it reports failure, and the backend catalog. */
export interface CliIo {
  /** Standard output (one call per block of lines, no trailing newline). */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
  /** Sets the exit code of the run without stopping it (a check failed: {@link EXIT.failed}). */
  exit(code: ExitCode): void;
  /** A new catalog of the backends the proxy ships (tests substitute their own). */
  catalog(): PluginCatalog;
}

/** Wrong usage (bad argument or option value) found by a command itself: exit code 2, like commander's. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A check that failed (no backend fits, ...): the message goes to stderr, exit code 1. */
export class CheckFailedError extends Error {
  override readonly name = 'CheckFailedError';
}

/** Options of a leaf command that every command has. */
export interface JsonOption {
  readonly json?: boolean;
}

/** Adds `--json` to a command (every leaf command has it). */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print JSON (for scripts) instead of human-readable text');
}

/**
 * Wraps a command action: a {@link UsageError} becomes commander's error (printed as `error: ...`, exit 2)
 * and a {@link CheckFailedError} is printed to stderr with exit code 1.
 */
export function action<A extends unknown[]>(
  cmd: Command,
  io: CliIo,
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof UsageError)
        cmd.error(`error: ${err.message}`, { exitCode: EXIT.usage, code: 'prismctl.usage' });
      if (!(err instanceof CheckFailedError)) throw err;
      io.err(err.message);
      io.exit(EXIT.failed);
    }
  };
}

/** Splits repeatable, comma-separated option values (`--x a,b --x c`) into a list. */
export function collectList(value: string, previous: readonly string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/** The default {@link CliIo.catalog}: the proxy's catalog of its bundled adapters. */
export const defaultCatalog = (): PluginCatalog => new PluginCatalog();

/** prismctl's version (its package.json: one level above src/ and dist/). */
export const prismctlVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
