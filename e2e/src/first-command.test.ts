import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { ROOT } from './proxy-process.js';

/**
 * The README's first command, `npm start`, on a fresh clone of this repository: with pnpm 12 first on
 * PATH (it refuses our `packageManager` pin) and with no pnpm at all. Each case clones HEAD, empties the
 * cache of the pinned pnpm, and times the first run (install + bundle + serve) and a second run.
 */
const work = mkdtempSync(join(tmpdir(), 'prism-first-command-'));

/** A PATH with every entry of this one, minus any pnpm or pnpx (a directory of links per entry). */
let noPnpmPath: string | undefined;
function pathWithoutPnpm(): string {
  if (noPnpmPath !== undefined) return noPnpmPath;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d && existsSync(d));
  noPnpmPath = dirs
    .map((dir, i) => {
      const names = readdirSync(dir);
      if (!names.some((n) => /^pnpm|^pnpx/.test(n))) return dir;
      const copy = join(work, 'path', String(i));
      mkdirSync(copy, { recursive: true });
      for (const n of names) if (!/^pnpm|^pnpx/.test(n)) symlinkSync(join(dir, n), join(copy, n));
      return copy;
    })
    .join(delimiter);
  return noPnpmPath;
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly ms: number;
  output(): string;
}

/** Runs `npm start -- --port 0` in `dir` and resolves when the proxy prints its URL. */
function npmStart(dir: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const t0 = performance.now();
  const child = spawn('npm', ['start', '--', '--port', '0'], {
    cwd: dir,
    env: { ...env, PRISM_LOG_LEVEL: 'warn', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: npm → prism.mjs → the proxy all get the signal
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not serve within 5 min:\n${out}`)),
      300_000,
    );
    const collect = (c: Buffer) => {
      out += c.toString();
      // The console's line is the banner's last before "try it".
      const m = /serving Connect, gRPC and gRPC-web on (http:\/\/\S+)[\s\S]*web console on/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, ms: performance.now() - t0, output: () => out });
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code} before serving:\n${out}`));
    });
  });
}

async function stop(s: Started): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  process.kill(-(s.child.pid as number), 'SIGTERM');
  await exited;
}

/** Clones HEAD, runs the first command twice, and checks the proxy answers a Set and a Get. */
async function firstCommand(name: string, path: string): Promise<void> {
  const dir = join(work, name);
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, dir]);
  const env = { ...process.env, PATH: path, XDG_CACHE_HOME: join(work, `${name}-cache`) };
  const runs: number[] = [];
  for (let i = 0; i < 2; i++) {
    const started = await npmStart(dir, env);
    try {
      runs.push(started.ms);
      const kv = createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: started.url }));
      await kv.set({ namespace: 'default', key: 'k', value: new TextEncoder().encode(name) });
      expect(new TextDecoder().decode((await kv.get({ namespace: 'default', key: 'k' })).value)).toBe(name);
      if (i === 0) expect(started.output()).toMatch(/installing pnpm 10\.\d+\.\d+/);
      // The web console comes with the first command (built into the proxy's bundle).
      const consoleUrl = /web console on (http:\/\/\S+)/.exec(started.output())?.[1];
      expect(consoleUrl).toBeDefined();
      const page = await fetch(consoleUrl as string);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Prism console</title>');
    } finally {
      await stop(started);
    }
  }
  // The embedded default needs no native build: the Kafka client and better-sqlite3 are not installed.
  const store = readdirSync(join(dir, 'node_modules/.pnpm'));
  expect(
    store.filter((p) => p.startsWith('@confluentinc+kafka-javascript') || p.startsWith('better-sqlite3')),
  ).toEqual([]);
  const [first, second] = runs.map(Math.round);
  console.log(
    `npm start on a fresh clone (${name}): first run ${first} ms to serving, second run ${second} ms`,
  );
}

describe('the first command (npm start) on a fresh clone', () => {
  let pnpm12Bin: string;

  beforeAll(() => {
    const prefix = join(work, 'pnpm-12');
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--loglevel=error', 'pnpm@12'], {
      stdio: 'ignore',
    });
    pnpm12Bin = join(prefix, 'node_modules/.bin');
    expect(execFileSync(join(pnpm12Bin, 'pnpm'), ['--version'], { cwd: work, encoding: 'utf8' })).toMatch(
      /^12\./,
    );
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('serves the MemStore default with pnpm 12 first on PATH', async () => {
    await firstCommand('pnpm12', `${pnpm12Bin}${delimiter}${pathWithoutPnpm()}`);
  }, 600_000);

  it('serves the MemStore default with no pnpm on PATH', async () => {
    const path = pathWithoutPnpm();
    expect(() => execFileSync('pnpm', ['--version'], { env: { PATH: path }, stdio: 'ignore' })).toThrow();
    await firstCommand('no-pnpm', path);
  }, 600_000);
});
