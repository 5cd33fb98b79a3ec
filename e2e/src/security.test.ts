import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { Code, ConnectError, createClient, type Interceptor, type Transport } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { KeyValueScanInterface } from '@prism/keyvalue-scan';
import { Health, HealthCheckResponse_ServingStatus } from '@prism/proto/grpc/health/v1/health_pb';
import {
  type IssuedCert,
  issueCert,
  makeTestCerts,
  startIdentityProvider,
  type TestCerts,
  type TestIdentityProvider,
} from '@prism/testing';
import { type ProxyProcess, ROOT, startProxyProcess } from './proxy-process.js';

// One proxy with TLS (optional client certificates), a JWT provider backed by a real identity provider
// and an mTLS provider, access rules, a rate limit and an audit file. Every check runs over gRPC,
// Connect (binary and JSON) and gRPC-web, and on namespaces served in_process, by a sidecar and by a
// remote plugin. The proxy's own output and the audit file are then searched for every test secret.

const ADMIN_TOKEN = 'admin-token-e2e-7f3a9c';
const MODES = ['local', 'side', 'far'] as const; // in_process, sidecar, remote

let dir: string;
let certs: TestCerts;
let appCert: IssuedCert;
let strangerCerts: TestCerts;
let idp: TestIdentityProvider;
let remote: ChildProcess;
let proxy: ProxyProcess;
let auditFile: string;
const secrets: string[] = [ADMIN_TOKEN];
let calls = 0;

/** Counts every RPC the test makes (the audit file must hold one record per call). */
const counting: Interceptor = (next) => (req) => {
  calls++;
  return next(req);
};
const withToken =
  (token: string | undefined): Interceptor =>
  (next) =>
  (req) => {
    if (token !== undefined) req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };

type Protocol = 'grpc' | 'connect' | 'connect-json' | 'grpc-web';
const PROTOCOLS: Protocol[] = ['grpc', 'connect', 'connect-json', 'grpc-web'];

function transport(protocol: Protocol, token?: string, cert?: { cert: Buffer; key: Buffer }): Transport {
  const nodeOptions = { ca: certs.ca, ...(cert && { cert: cert.cert, key: cert.key }) };
  const base = { baseUrl: proxy.url, interceptors: [counting, withToken(token)] };
  switch (protocol) {
    case 'grpc':
      return createGrpcTransport({ ...base, nodeOptions });
    case 'connect':
      return createConnectTransport({ ...base, httpVersion: '2', nodeOptions });
    case 'connect-json':
      return createConnectTransport({ ...base, httpVersion: '1.1', useBinaryFormat: false, nodeOptions });
    case 'grpc-web':
      return createGrpcWebTransport({ ...base, httpVersion: '1.1', nodeOptions });
  }
}

const kv = (t: Transport) => createClient(KeyValueBasicInterface, t);

/** The Connect code a promise fails with, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail');
}

const token = async (sub: string, claims: Record<string, unknown> = {}) => {
  const t = await idp.token({ sub, ...claims });
  secrets.push(t);
  return t;
};

/** Starts `prism-plugin-memstore --port 0` (the remote plugin) and resolves with its URL. */
function startRemoteMemstore(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'packages/adapters/memstore/dist/bin.js'), '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.once('exit', (code) => reject(new Error(`memstore plugin exited with ${code}: ${out}`)));
  });
}

const access = `
    access:
      - { principals: ["sub:reader"], permissions: [read] }
      - { principals: ["sub:writer", "spiffe://prism.test/app"], permissions: [read, write] }`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prism-e2e-security-'));
  certs = makeTestCerts(join(dir, 'certs'));
  appCert = issueCert(certs, 'app', { san: ['URI:spiffe://prism.test/app', 'DNS:app.test'] });
  strangerCerts = makeTestCerts(join(dir, 'stranger'));
  for (const pem of [certs.serverKey, certs.clientKey, appCert.key, strangerCerts.clientKey])
    secrets.push(pem.toString().split('\n')[1] as string); // a line of each private key
  idp = await startIdentityProvider('prism');
  const far = await startRemoteMemstore();
  remote = far.child;
  auditFile = join(dir, 'audit', 'audit.jsonl');
  copyFileSync(certs.serverCertFile, join(dir, 'server.pem'));
  copyFileSync(certs.serverKeyFile, join(dir, 'server.key'));
  const file = join(dir, 'prism.yaml');
  writeFileSync(
    file,
    `proxy:
  tls: { cert_file: server.pem, key_file: server.key, client_ca_file: certs/ca.pem }
  auth:
    providers:
      - { name: corp, type: jwt, issuer: "${idp.issuer}", audience: prism }
      - { name: certs, type: mtls }
  admin_token: \${env:E2E_ADMIN_TOKEN}
  access:
    - { principals: ["group:sre"], permissions: [admin] }
  audit: { path: audit/audit.jsonl }
  cors: { allowed_origins: ["https://app.example.com"] }
namespaces:
  - name: local
    pattern: keyvalue
    needs: { scan: true }
    backend: { type: memstore }${access}
  - name: side
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: sidecar } }${access}
  - name: far
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: remote, endpoint: "${far.url}" } }${access}
  - name: billing
    pattern: keyvalue
    backend: { type: memstore }
    access:
      - { principals: ["sub:accountant"], permissions: [read, write] }
  - name: limited
    pattern: keyvalue
    backend: { type: memstore }
    access:
      - { principals: ["*"], permissions: [read, write] }
    limits: { rate: { requests_per_second: 50, burst: 10 } }
`,
  );
  proxy = await startProxyProcess(file, [], { E2E_ADMIN_TOKEN: ADMIN_TOKEN, PRISM_LOG_LEVEL: 'debug' });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  remote?.kill();
  await idp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(PROTOCOLS)('over %s', (protocol) => {
  it.each(MODES)('namespace %s: tokens are checked and access rules hold', async (ns) => {
    const anonymous = kv(transport(protocol));
    const reader = kv(transport(protocol, await token('reader')));
    const writer = kv(transport(protocol, await token('writer')));
    const key = `k-${protocol}`;

    const none = await failure(anonymous.get({ namespace: ns, key }));
    expect(none.code).toBe(Code.Unauthenticated);
    expect(none.rawMessage).toMatch(/no credentials/);
    for (const [claims, opts, why] of [
      [{ expiresIn: -600 }, {}, /expired/],
      [{ aud: 'billing-api' }, {}, /audience/],
      [{}, { key: 'foreign' as const }, /signature/],
    ] as const) {
      const bad = await idp.token({ sub: 'writer', ...claims }, opts);
      secrets.push(bad);
      const err = await failure(
        kv(transport(protocol, bad)).set({ namespace: ns, key, value: new Uint8Array([1]) }),
      );
      expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, expect.stringMatching(why)]);
    }

    expect(await outcome(writer.set({ namespace: ns, key, value: new Uint8Array([7]) }))).toBe('ok');
    expect((await reader.get({ namespace: ns, key })).value).toEqual(new Uint8Array([7]));
    const denied = await failure(reader.set({ namespace: ns, key, value: new Uint8Array([8]) }));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.rawMessage).toBe(
      `principal "reader" (provider corp) has no write permission on namespace "${ns}" (KeyValueBasicInterface/Set)`,
    );
    expect((await writer.get({ namespace: ns, key })).value).toEqual(new Uint8Array([7]));
  });

  it('a principal of one namespace is denied another, and cannot tell it from a missing one', async () => {
    const accountant = kv(transport(protocol, await token('accountant')));
    expect(
      await outcome(accountant.set({ namespace: 'billing', key: 'b', value: new Uint8Array([1]) })),
    ).toBe('ok');
    const forbidden = await failure(accountant.get({ namespace: 'local', key: 'b' }));
    const missing = await failure(accountant.get({ namespace: 'no-such-ns', key: 'b' }));
    expect(forbidden.code).toBe(Code.PermissionDenied);
    expect(missing.code).toBe(Code.PermissionDenied);
    expect(missing.rawMessage.replace('no-such-ns', 'local')).toBe(forbidden.rawMessage);
    const reader = kv(transport(protocol, await token('reader')));
    expect(await outcome(reader.get({ namespace: 'billing', key: 'b' }))).toBe(Code.PermissionDenied);
  });

  it('a client certificate is the principal (SPIFFE URI SAN); an untrusted one is refused', async () => {
    const app = kv(transport(protocol, undefined, appCert));
    expect(await outcome(app.set({ namespace: 'side', key: 'm', value: new Uint8Array([3]) }))).toBe('ok');
    // The default client certificate names spiffe://prism.test/client, which no rule grants.
    const client = kv(transport(protocol, undefined, { cert: certs.clientCert, key: certs.clientKey }));
    expect(await outcome(client.get({ namespace: 'side', key: 'm' }))).toBe(Code.PermissionDenied);
    const stranger = kv(
      transport(protocol, undefined, { cert: strangerCerts.clientCert, key: strangerCerts.clientKey }),
    );
    const err = await failure(stranger.get({ namespace: 'side', key: 'm' }));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/client certificate rejected/);
  });

  it('server streams go through the same checks', async () => {
    const scan = (t: Transport) =>
      createClient(KeyValueScanInterface, t).scan({ namespace: 'local', prefix: '' });
    const drain = async (t: Transport) => {
      for await (const _ of scan(t));
    };
    expect(await outcome(drain(transport(protocol)))).toBe(Code.Unauthenticated);
    expect(await outcome(drain(transport(protocol, await token('accountant'))))).toBe(Code.PermissionDenied);
    expect(await outcome(drain(transport(protocol, await token('reader'))))).toBe('ok');
  });
});

it('a rate limit of 50/s under 200 req/s: RESOURCE_EXHAUSTED with a retry hint for the excess, ok for the rest', async () => {
  const client = kv(transport('grpc', await token('anyone')));
  const results: (Code | 'ok')[] = [];
  let retryAfter: string | null = null;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 400; i++) {
    // 200 req/s for 2 s, paced by the clock (not by answers).
    const due = start + i * 5;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      client.exists({ namespace: 'limited', key: 'r' }).then(
        () => void results.push('ok'),
        (err: unknown) => {
          const e = ConnectError.from(err);
          results.push(e.code);
          retryAfter ??= e.metadata.get('prism-retry-after-ms');
        },
      ),
    );
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  const ok = results.filter((r) => r === 'ok').length;
  const limited = results.filter((r) => r === Code.ResourceExhausted).length;
  expect(ok + limited).toBe(400);
  // burst 10 + 50/s over the run, give or take the pacing jitter.
  const expected = 10 + 50 * seconds;
  expect(ok).toBeGreaterThan(expected * 0.8);
  expect(ok).toBeLessThan(expected * 1.2 + 5);
  expect(Number(retryAfter)).toBeGreaterThan(0);
});

describe('the proxy surface', () => {
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const u = new URL(proxy.url);
      const req = https.request(
        { host: u.hostname, port: u.port, path, method, headers, ca: certs.ca },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('/metrics needs admin: proxy.access (group sre) or the admin token', async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', { authorization: `Bearer ${await token('reader')}` })).status).toBe(403);
    expect(
      (await get('/metrics', { authorization: `Bearer ${await token('ops', { groups: ['sre'] })}` })).status,
    ).toBe(200);
    expect((await get('/metrics', { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  });

  it('CORS: only listed origins; a preflight from another origin gets no Access-Control-Allow-Origin', async () => {
    const preflight = (origin: string) =>
      get(
        '/prism.keyvalue.v1.KeyValueBasicInterface/Get',
        {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
        'OPTIONS',
      );
    const listed = await preflight('https://app.example.com');
    expect(listed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(listed.headers['access-control-allow-headers'])).toMatch(/Authorization/i);
    const other = await preflight('https://evil.example.com');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('health stays public', async () => {
    const health = createClient(Health, transport('grpc'));
    expect((await health.check({ service: '' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    calls--; // health checks are not namespace calls: they are not audited
  });

  it('SIGHUP reloads the certificate: new handshakes get it, an open connection keeps working', async () => {
    const serialOf = () =>
      new Promise<string>((resolve, reject) => {
        const u = new URL(proxy.url);
        const s = tls.connect(
          { host: u.hostname, port: Number(u.port), ca: certs.ca, ALPNProtocols: ['h2'] },
          () => {
            resolve(s.getPeerCertificate().serialNumber);
            s.end();
          },
        );
        s.on('error', reject);
      });
    const before = await serialOf();
    const open = kv(transport('grpc', await token('writer')));
    expect(await outcome(open.set({ namespace: 'local', key: 'hup', value: new Uint8Array([1]) }))).toBe(
      'ok',
    );
    const renewed = issueCert(certs, 'server2', {
      san: ['IP:127.0.0.1', 'DNS:localhost'],
      usage: 'serverAuth',
    });
    writeFileSync(join(dir, 'server.pem'), renewed.cert);
    writeFileSync(join(dir, 'server.key'), renewed.key);
    secrets.push(renewed.key.toString().split('\n')[1] as string);
    proxy.child.kill('SIGHUP');
    const deadline = Date.now() + 5000;
    let after = before;
    while (after === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      after = await serialOf();
    }
    expect(after).not.toBe(before);
    expect(await outcome(open.get({ namespace: 'local', key: 'hup' }))).toBe('ok');
  });
});

describe('after the run', () => {
  it('the audit file has one record per call, refusals included, and no secret is in any log', async () => {
    expect(await proxy.stop()).toBe(0);
    const lines = readFileSync(auditFile, 'utf8').trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBe(calls);
    const outcomes = new Set(records.map((r) => r.outcome));
    for (const o of ['OK', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED'])
      expect(outcomes).toContain(o);
    const denied = records.find((r) => r.outcome === 'PERMISSION_DENIED' && r.principal === 'reader');
    expect(denied).toMatchObject({
      provider: 'corp',
      method: 'prism.keyvalue.v1.KeyValueBasicInterface.Set',
      peer: expect.stringContaining('127.0.0.1'),
      request_id: expect.any(String),
    });
    expect(Object.keys(denied ?? {}).sort()).toEqual(
      [
        'duration_ms',
        'method',
        'namespace',
        'outcome',
        'peer',
        'principal',
        'provider',
        'request_id',
        'time',
        'trace_id',
      ].sort(),
    );
    const everything = `${proxy.output()}\n${lines.join('\n')}`;
    expect(proxy.output()).toMatch(/"msg":"call"/); // debug request logs were on
    for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
  });
});
