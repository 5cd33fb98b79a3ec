import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { describe, expect, it } from '@jest/globals';
import { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** Runs the built CLI; resolves with its output so far and its exit. */
function run(args: string[]) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PRISM_LOG_LEVEL: 'warn' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

describe('prism-proxy and the admin API', () => {
  it('prints the admin URL (free port with --port 0) and exits 0 after Drain with exit', async () => {
    // The CLI is exercised as built (the test command builds before testing).
    expect(existsSync(MAIN)).toBe(true);
    // The built-in config has the admin API on 127.0.0.1:8981; --port 0 moves it to a free port too,
    // so this test never collides with a proxy already running here.
    const p = run(['--port', '0', '--host', '127.0.0.1']);
    let adminUrl: string | undefined;
    for (const end = Date.now() + 20_000; !adminUrl && Date.now() < end && p.child.exitCode === null; ) {
      adminUrl = /admin API \(prism\.admin\.v1, prismctl\) on (http:\/\/\S+)/.exec(p.output())?.[1];
      if (!adminUrl) await new Promise((r) => setTimeout(r, 20));
    }
    expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(adminUrl).not.toBe('http://127.0.0.1:8981');
    const admin = createClient(AdminService, createGrpcTransport({ baseUrl: adminUrl as string }));
    const version = await admin.getVersion({});
    expect(version.pid).toBe(p.child.pid);
    expect(version.configFile).toBe('<embedded default>');
    expect((await admin.listNamespaces({})).namespaces.map((n) => n.name)).toEqual(['default']);
    expect(await admin.drain({ exit: true })).toMatchObject({ exiting: true });
    expect(await p.exited).toBe(0);
  }, 60_000);

  it('--admin-port picks the port; a bad value exits 2', async () => {
    const free = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const p = run(['--port', '0', '--host', '127.0.0.1', '--admin-port', String(free)]);
    const banner = `admin API (prism.admin.v1, prismctl) on http://127.0.0.1:${free}`;
    for (
      const end = Date.now() + 20_000;
      !p.output().includes(banner) && Date.now() < end && p.child.exitCode === null;
    )
      await new Promise((r) => setTimeout(r, 20));
    expect(p.output()).toContain(banner);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);

    const bad = run(['--admin-port', 'x']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/--admin-port must be an integer between 0 and 65535, got "x"/);
    const help = run(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.output()).toMatch(/--admin-port N/);
  });
});
