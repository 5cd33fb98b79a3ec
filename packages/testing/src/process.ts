import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options for {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this many ms. Default 20000. */
  readonly timeoutMs?: number;
  /** Pause between attempts in ms. Default 50. */
  readonly intervalMs?: number;
  /** Included in the timeout error so the failure says what was awaited. */
  readonly what?: string;
  /** Fails immediately with this message when it returns a string (e.g. the process died). */
  readonly abortIf?: () => string | undefined;
}

/** Polls `probe` until it returns true (errors count as "not yet"), or throws when the deadline passes. */
export async function waitUntil(
  probe: () => Promise<boolean> | boolean,
  opts: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let lastError: unknown;
  for (;;) {
    const reason = opts.abortIf?.();
    if (reason) throw new Error(`${opts.what ?? 'condition'}: ${reason}`);
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(
        `timed out after ${opts.timeoutMs ?? 20_000} ms waiting for ${opts.what ?? 'condition'}${detail}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** True while a process with this PID exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; a zombie has exited but is not yet reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

// Everything started by this process, killed synchronously if the process exits without stopping them
// (a crashed test run must not leave servers behind), and temp dirs removed.
const livePids = new Set<number>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Creates a temp dir that is removed at process exit at the latest. */
export function makeTempDir(prefix: string): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `prism-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

/** Removes a temp dir made by {@link makeTempDir}. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A server process whose stdout/stderr go to a log file. */
export interface SpawnedServer {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Set once the process has exited: its exit code or signal. */
  exited(): string | undefined;
  /** Resolves when the process has exited (immediately if it already has). */
  waitExit(): Promise<void>;
}

/** Spawns `cmd args` with output appended to `logFile`; the PID is tracked for the exit hook. */
export function spawnServer(
  cmd: string,
  args: readonly string[],
  logFile: string,
  cwd: string,
): SpawnedServer {
  installExitHook();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { cwd, stdio: ['ignore', fd, fd], env: { ...process.env, LC_ALL: 'C' } });
  } finally {
    closeSync(fd);
  }
  let exitInfo: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      if (child.pid) livePids.delete(child.pid);
      resolve();
    });
    child.once('error', (err) => {
      exitInfo = `failed to start: ${err.message}`;
      resolve();
    });
  });
  if (!child.pid) {
    return { child, pid: -1, exited: () => exitInfo ?? 'failed to start', waitExit: () => exitPromise };
  }
  livePids.add(child.pid);
  // Test runs must not wait for servers; they are stopped explicitly or killed at exit.
  child.unref();
  return { child, pid: child.pid, exited: () => exitInfo, waitExit: () => exitPromise };
}

/** Tracks an extra PID (e.g. a postmaster behind runuser) for the exit hook. */
export function trackPid(pid: number): void {
  livePids.add(pid);
}

/**
 * Stops a server: `signal` (SIGTERM by default) to `signalPid`, then SIGKILL to it and to the child
 * when it is still alive after `graceMs`. Resolves once the spawned child has exited.
 */
export async function stopServer(
  server: SpawnedServer,
  opts: { signalPid?: number; signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<void> {
  const target = opts.signalPid ?? server.pid;
  if (server.exited() !== undefined && !isAlive(target)) return;
  // The child is unref'd so that test runs never wait for it; waiting for its exit must keep the process
  // alive, or a jest global teardown ends with an empty event loop before jest sets its exit code (a failed
  // run then exited 0).
  server.child.ref();
  const send = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  send(target, opts.signal ?? 'SIGTERM');
  const graceful = await Promise.race([
    server.waitExit().then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), opts.graceMs ?? 5000).unref()),
  ]);
  if (!graceful) {
    send(target, 'SIGKILL');
    send(server.pid, 'SIGKILL');
    await server.waitExit();
  }
  // A postmaster behind runuser may outlive runuser by a moment; make sure it is gone.
  await waitUntil(() => !isAlive(target), {
    what: `PID ${target} to exit`,
    timeoutMs: opts.graceMs ?? 5000,
  }).catch(() => send(target, 'SIGKILL'));
  livePids.delete(target);
}

/** Last `maxBytes` of a log file, or '' when it does not exist. */
export function readLog(file: string, maxBytes = 64 * 1024): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  return text.length > maxBytes ? `…${text.slice(-maxBytes)}` : text;
}
