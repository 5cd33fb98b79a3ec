import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (e2e/src/ → ../..). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built proxy entry point; `nx test @prism/e2e` builds it first. */
export const PROXY_MAIN = join(ROOT, 'apps/proxy/dist/main.js');

/** A proxy running as a child process. */
export interface ProxyProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `prism-proxy --config FILE --port 0` and resolves once it prints its URL (it only does so when
 * every namespace is up and the port is bound). Rejects with the process output if it exits first.
 */
export function startProxyProcess(
  configFile: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [PROXY_MAIN, '--config', configFile, '--port', '0', ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, PRISM_LOG_LEVEL: process.env.PRISM_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /serving Connect, gRPC and gRPC-web on (https?:\/\/\S+)/.exec(out);
      if (!match) return;
      child.stdout?.off('data', onData);
      child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
      resolve({
        url: match[1]!,
        child,
        output: () => out,
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    exited.then((code) => reject(new Error(`proxy exited with ${code} before serving:\n${out}`)));
  });
}
