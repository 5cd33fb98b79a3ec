import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.js';
import {
  isAlive,
  readLog,
  removeTempDir,
  type SpawnedServer,
  spawnServer,
  stopServer,
  trackPid,
  waitUntil,
} from './process.js';

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** The state letter of /proc/<pid>/stat (R, S, T for stopped, Z, …), or undefined when gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** `root` and all its descendants (from /proc), parents before children. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const visit = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(root);
  return out;
}

/** A real backend server started for tests. */
export interface TestServer {
  /** Backend kind, e.g. `redis`. */
  readonly kind: string;
  readonly host: string;
  readonly port: number;
  /** Connection URL clients use (`redis://…`, `postgres://…`, `nats://…`). */
  readonly url: string;
  /** The server's own temp dir (data, sockets, log). */
  readonly dir: string;
  /** Path of the server's log file. */
  readonly logFile: string;
  /** PID of the running server process, or undefined while stopped. */
  readonly pid: number | undefined;
  /** The server's log output so far (stdout + stderr), for printing when a test fails. */
  logs(): string;
  /** Stops the process by PID (SIGTERM, SIGKILL after a deadline); port and data dir are kept for restart(). */
  stop(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP to it and every descendant, e.g. PostgreSQL's backends): its sockets stay
   * open and the kernel still accepts connections and data, but nothing answers — a hung backend.
   * Idempotent; `thaw()`, `stop()` and `dispose()` undo it.
   */
  freeze(): Promise<void>;
  /** Resumes a frozen server (SIGCONT to the processes `freeze()` stopped). Idempotent. */
  thaw(): Promise<void>;
  /** Starts the server again on the same port and data dir, and waits until it answers. */
  restart(): Promise<void>;
  /** Stops the server and removes its temp dir. Idempotent. */
  dispose(): Promise<void>;
}

/** How one backend starts and proves it is ready; used by {@link startManagedServer}. */
export interface ServerRecipe {
  readonly kind: string;
  readonly dir: string;
  /** Command line for a given port. */
  command(port: number): { cmd: string; args: string[] };
  /** Resolves true once the server answers real requests on `port`. */
  probe(port: number): Promise<boolean>;
  /** Builds the client URL for `port`. */
  url(port: number): string;
  /** PID to signal when stopping, when it differs from the spawned child (e.g. postmaster behind runuser). */
  signalPid?(child: SpawnedServer): number | undefined;
  /** Signal for a graceful stop; default SIGTERM. */
  readonly stopSignal?: NodeJS.Signals;
  /** Readiness deadline in ms; default 30000. */
  readonly readyTimeoutMs?: number;
}

/** Starts a server from a recipe on a free port (retrying with a new port when the first is taken). */
export async function startManagedServer(recipe: ServerRecipe, fixedPort?: number): Promise<TestServer> {
  const logFile = join(recipe.dir, `${recipe.kind}.log`);
  let current: SpawnedServer | undefined;
  let disposed = false;

  const launch = async (port: number): Promise<void> => {
    const { cmd, args } = recipe.command(port);
    const child = spawnServer(cmd, args, logFile, recipe.dir);
    current = child;
    try {
      await waitUntil(() => recipe.probe(port), {
        what: `${recipe.kind} on 127.0.0.1:${port} to answer`,
        timeoutMs: recipe.readyTimeoutMs ?? 30_000,
        abortIf: () => {
          const exit = child.exited();
          return exit ? `${recipe.kind} ${exit} before becoming ready` : undefined;
        },
      });
    } catch (err) {
      await stopServer(child, { graceMs: 1000 });
      current = undefined;
      const log = readLog(logFile, 4000);
      throw new Error(`${(err as Error).message}\n--- ${recipe.kind} log (${logFile}) ---\n${log}`);
    }
    const extra = recipe.signalPid?.(child);
    if (extra) trackPid(extra);
  };

  let port = fixedPort ?? (await freePort());
  for (let attempt = 0; ; attempt++) {
    try {
      await launch(port);
      break;
    } catch (err) {
      // Another process may have grabbed the free port between probing and binding it.
      if (
        fixedPort !== undefined ||
        attempt >= 2 ||
        !/in use|EADDRINUSE|bind/i.test((err as Error).message)
      ) {
        removeTempDir(recipe.dir);
        throw err;
      }
      port = await freePort();
    }
  }

  // Processes stopped by freeze(), resumed by thaw().
  let frozen: number[] = [];
  const thaw = async () => {
    for (const pid of frozen) signalQuietly(pid, 'SIGCONT');
    frozen = [];
  };

  const stop = async () => {
    const child = current;
    if (!child) return;
    await thaw();
    current = undefined;
    await stopServer(child, {
      signalPid: recipe.signalPid?.(child) ?? child.pid,
      signal: recipe.stopSignal ?? 'SIGTERM',
    });
  };

  return {
    kind: recipe.kind,
    host: '127.0.0.1',
    port,
    url: recipe.url(port),
    dir: recipe.dir,
    logFile,
    get pid() {
      return current?.pid;
    },
    logs: () => readLog(logFile),
    stop,
    async freeze() {
      const child = current;
      if (!child) throw new Error(`${recipe.kind} test server is not running; nothing to freeze`);
      if (frozen.length > 0) return;
      const root = recipe.signalPid?.(child) ?? child.pid;
      // Parents first, so none can start a new child while its children are being stopped.
      frozen = processTree(root);
      for (const pid of frozen) signalQuietly(pid, 'SIGSTOP');
      // SIGSTOP is asynchronous: wait until every process reports the stopped state.
      await waitUntil(() => frozen.every((pid) => !isAlive(pid) || processState(pid) === 'T'), {
        what: `${recipe.kind} processes ${frozen.join(', ')} to stop`,
        timeoutMs: 5000,
        intervalMs: 10,
      });
    },
    thaw,
    async restart() {
      if (disposed) throw new Error(`${recipe.kind} test server was disposed; start a new one`);
      await stop();
      await launch(port);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await stop();
      removeTempDir(recipe.dir);
    },
  };
}
