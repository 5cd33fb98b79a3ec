import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';
import { KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { startIdentityProvider, type TestIdentityProvider } from '@prism/testing';
import { startTestProxy, type TestProxy } from '../test-support.js';
import { findConsoleDist } from './console.js';

const ADMIN_TOKEN = 'console-admin-token-0123456789';
const bytes = (s: string) => new TextEncoder().encode(s);

const kvAt = (url: string, token?: string) => {
  const bearer: Interceptor = (next) => (req) => {
    if (token) req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };
  return createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: url, interceptors: [bearer] }));
};

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail');
}

/** Starts a proxy whose console files come from `consoleDir` (PRISM_CONSOLE_DIR is read at start). */
async function withConsoleDir(consoleDir: string, yaml: string): Promise<TestProxy> {
  const before = process.env.PRISM_CONSOLE_DIR;
  process.env.PRISM_CONSOLE_DIR = consoleDir;
  try {
    return await startTestProxy(yaml);
  } finally {
    if (before === undefined) delete process.env.PRISM_CONSOLE_DIR;
    else process.env.PRISM_CONSOLE_DIR = before;
  }
}

const open = `proxy:
  admin: { listen: "127.0.0.1:0" }
namespaces:
  - { name: a, pattern: keyvalue, backend: { type: memstore } }
`;

describe('the web console on the admin listener', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-console-files-'));
  let built: TestProxy;
  let unbuilt: TestProxy;
  beforeAll(async () => {
    mkdirSync(join(dir, 'built/assets'), { recursive: true });
    writeFileSync(join(dir, 'built/index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'built/assets/app-1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'outside the console');
    mkdirSync(join(dir, 'empty'));
    // One after the other: each reads PRISM_CONSOLE_DIR while it starts.
    built = await withConsoleDir(join(dir, 'built'), open);
    unbuilt = await withConsoleDir(join(dir, 'empty'), open);
  });
  afterAll(async () => {
    await Promise.all([built?.stop(), unbuilt?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the built files under /console/ with a strict content security policy', async () => {
    const admin = built.proxy.adminUrl as string;
    const page = await fetch(`${admin}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('<title>console</title>');
    const asset = await fetch(`${admin}/console/assets/app-1234.js`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // /console and / lead to /console/; nothing outside the directory is served.
    expect((await fetch(`${admin}/console`, { redirect: 'manual' })).headers.get('location')).toBe(
      '/console/',
    );
    expect((await fetch(`${admin}/`, { redirect: 'manual' })).headers.get('location')).toBe('/console/');
    for (const path of ['/console/..%2fsecret.txt', '/console/%2e%2e/secret.txt', '/console/nope.js'])
      expect({ path, status: (await fetch(`${admin}${path}`)).status }).toEqual({ path, status: 404 });
    expect((await fetch(`${admin}/console/`, { method: 'POST' })).status).toBe(405);
    // The client port serves no console.
    expect((await fetch(`${built.proxy.url}/console/`)).status).toBe(404);
  });

  it('answers 404 with how to build it when the console is not built', async () => {
    const res = await fetch(`${unbuilt.proxy.adminUrl}/console/`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/not built .*\n.*pnpm --filter @prism\/console build/);
    // The admin API is unaffected.
    const version = await createClient(
      AdminService,
      createGrpcTransport({ baseUrl: unbuilt.proxy.adminUrl as string }),
    ).getVersion({});
    expect(version.pid).toBe(process.pid);
  });

  it('serves the client interfaces and /metrics there too; after a Drain, data calls are UNAVAILABLE', async () => {
    const test = await startTestProxy(open);
    try {
      const admin = test.proxy.adminUrl as string;
      await kvAt(admin).set({ namespace: 'a', key: 'k', value: bytes('via the admin port') });
      expect(
        new TextDecoder().decode((await kvAt(test.proxy.url).get({ namespace: 'a', key: 'k' })).value),
      ).toBe('via the admin port');
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      expect(metrics).toMatch(/prism_requests_total\{[^}]*namespace="a"[^}]*method="Set"[^}]*\} 1/);
      await test.proxy.drain(1000);
      const err = await failure(kvAt(admin).get({ namespace: 'a', key: 'k' }));
      expect(err.code).toBe(Code.Unavailable);
      expect(err.rawMessage).toMatch(/drained/);
    } finally {
      await test.stop();
    }
  });
});

describe('findConsoleDist', () => {
  it('takes PRISM_CONSOLE_DIR, else finds apps/console/dist of this workspace', () => {
    expect(findConsoleDist({ PRISM_CONSOLE_DIR: 'relative/dir' })).toBe(join(process.cwd(), 'relative/dir'));
    expect(findConsoleDist({})).toBe(
      join(fileURLToPath(new URL('../../../console', import.meta.url)), 'dist'),
    );
  });
});

describe('the console routes with proxy.auth', () => {
  let idp: TestIdentityProvider;
  let test: TestProxy;
  beforeAll(async () => {
    idp = await startIdentityProvider('prism');
    test = await startTestProxy(`proxy:
  admin: { listen: "127.0.0.1:0" }
  admin_token: ${ADMIN_TOKEN}
  auth:
    providers: [{ name: corp, type: jwt, issuer: "${idp.issuer}", audience: prism }]
namespaces:
  - name: a
    pattern: keyvalue
    backend: { type: memstore }
    access: [{ principals: ["sub:reader"], permissions: [read] }]
`);
  });
  afterAll(async () => {
    await test?.stop();
    await idp?.stop();
  });

  it('data calls on the admin port are authenticated and authorized like on the client port', async () => {
    const admin = test.proxy.adminUrl as string;
    expect((await failure(kvAt(admin).get({ namespace: 'a', key: 'k' }))).code).toBe(Code.Unauthenticated);
    const reader = await idp.token({ sub: 'reader' });
    expect((await kvAt(admin, reader).get({ namespace: 'a', key: 'k' })).found).toBe(false);
    const denied = await failure(kvAt(admin, reader).set({ namespace: 'a', key: 'k', value: bytes('x') }));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.rawMessage).toMatch(/no write permission on namespace "a"/);
    // The admin token opens the admin surface, not the namespaces (it is not a JWT).
    expect((await failure(kvAt(admin, ADMIN_TOKEN).get({ namespace: 'a', key: 'k' }))).code).toBe(
      Code.Unauthenticated,
    );
  });

  it('/metrics on the admin port has the same guard as on the client port', async () => {
    const admin = test.proxy.adminUrl as string;
    expect((await fetch(`${admin}/metrics`)).status).toBe(401);
    const reader = await idp.token({ sub: 'reader' });
    expect((await fetch(`${admin}/metrics`, { headers: { authorization: `Bearer ${reader}` } })).status).toBe(
      403,
    );
    const ok = await fetch(`${admin}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('prism_requests_total');
  });
});
