import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Child pids of a process (Linux /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Runs the built CLI to its exit; resolves with the exit code and everything it printed. */
function runToExit(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PRISM_LOG_LEVEL: 'warn' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

/** A config file with one MemStore namespace, `per_worker` or not. */
function memstoreConfig(perWorker: boolean): string {
  const file = join(mkdtempSync(join(tmpdir(), 'prism-cluster-')), 'prism.yaml');
  writeFileSync(
    file,
    `namespaces:\n  - name: default\n    pattern: keyvalue\n${perWorker ? '    per_worker: true\n' : ''}    backend: { type: memstore }\n`,
  );
  return file;
}

describe('--workers (node:cluster)', () => {
  it('serves one port from N worker processes and drains them all on SIGTERM', async () => {
    // The CLI is exercised as built (the test command builds before testing).
    expect(existsSync(MAIN)).toBe(true);
    const args = ['--config', memstoreConfig(true), '--port', '0', '--host', '127.0.0.1', '--workers', '2'];
    const child = spawn(process.execPath, [MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PRISM_LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline && child.exitCode === null) {
      url = /serving Connect, gRPC and gRPC-web on (\S+) \(2 workers\)/.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 20));
    }
    expect(url).toBeDefined();
    const workers = childrenOf(child.pid as number);
    expect(workers).toHaveLength(2);

    // Several connections, each landing on some worker; every one serves.
    for (let i = 0; i < 4; i++) {
      const transport = createGrpcTransport({ baseUrl: url as string });
      const kv = createClient(KeyValueBasicInterface, transport);
      await kv.set({ namespace: 'default', key: `k${i}`, value: new Uint8Array([i]) });
    }

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of workers) expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('refuses a MemStore namespace with more than one worker unless it is per_worker', async () => {
    for (const config of [[], ['--config', memstoreConfig(false)]]) {
      const { code, out } = await runToExit([...config, '--port', '0', '--workers', '2']);
      expect(code).toBe(1);
      expect(out).toMatch(/cannot start 2 workers/);
      expect(out).toMatch(
        /namespace "default" \(.+:\d+\): backend memstore keeps its data in the proxy's process, so with --workers 2 each worker would hold its own copy/,
      );
      expect(out).toMatch(/set "per_worker: true" on the namespace/);
    }
  });

  it('rejects a bad --workers value', async () => {
    const child = spawn(process.execPath, [MAIN, '--workers', 'two'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/--workers must be an integer/);
  });
});
