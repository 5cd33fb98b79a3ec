import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@prism/proto/grpc/health/v1/health_pb';
import { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';
import {
  makeTestCerts,
  startIdentityProvider,
  type TestCerts,
  type TestIdentityProvider,
} from '@prism/testing';
import { startTestProxy, type TestProxy, waitFor } from '../test-support.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const ns = '  - name: a\n    pattern: keyvalue\n    backend: { type: memstore }\n';

const adminClient = (url: string, authorization?: string) =>
  createClient(
    AdminService,
    createGrpcTransport({
      baseUrl: url,
      ...(authorization && {
        interceptors: [
          (next) => (req) => {
            req.header.set('authorization', authorization);
            return next(req);
          },
        ],
      }),
    }),
  );

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail');
}

describe('admin API with proxy.auth, proxy.access and proxy.admin_token', () => {
  let idp: TestIdentityProvider;
  let test: TestProxy;
  const dir = mkdtempSync(join(tmpdir(), 'prism-admin-audit-'));
  const auditFile = join(dir, 'audit.jsonl');
  beforeAll(async () => {
    idp = await startIdentityProvider('prism');
    test = await startTestProxy(`proxy:
  admin: { listen: "127.0.0.1:0" }
  admin_token: ${ADMIN_TOKEN}
  auth:
    providers:
      - { name: corp, type: jwt, issuer: "${idp.issuer}", audience: prism }
  access:
    - { principals: ["group:sre"], permissions: [admin] }
  audit: { path: ${auditFile} }
namespaces:
${ns}    access:
      - { principals: ["sub:app"], permissions: [read, write] }
`);
  });
  afterAll(async () => {
    await test?.stop();
    await idp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a call without credentials: UNAUTHENTICATED', async () => {
    const err = await failure(adminClient(test.proxy.adminUrl!).listNamespaces({}));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toMatch(/no credentials/);
  });

  it('refuses a principal without admin in proxy.access: PERMISSION_DENIED', async () => {
    const token = await idp.token({ sub: 'app' });
    const err = await failure(adminClient(test.proxy.adminUrl!, `Bearer ${token}`).listPlugins({}));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toBe(
      'principal "app" (provider corp) has no admin permission on this proxy (proxy.access)',
    );
    // A bad token is UNAUTHENTICATED, and the token is never echoed.
    const bad = await failure(adminClient(test.proxy.adminUrl!, 'Bearer not-a-jwt').listPlugins({}));
    expect(bad.code).toBe(Code.Unauthenticated);
    expect(bad.rawMessage).not.toContain('not-a-jwt');
  });

  it('admits a principal with admin, and the admin token', async () => {
    const sre = await idp.token({ sub: 'alice', groups: ['sre'] });
    const viaJwt = await adminClient(test.proxy.adminUrl!, `Bearer ${sre}`).listNamespaces({});
    expect(viaJwt.namespaces.map((n) => n.name)).toEqual(['a']);
    const viaToken = adminClient(test.proxy.adminUrl!, `Bearer ${ADMIN_TOKEN}`);
    expect((await viaToken.getPluginStatus({ namespace: 'a' })).plugin?.state).toBe('running');
  });

  it('keeps health public on the admin port', async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: test.proxy.adminUrl! }));
    expect((await health.check({ service: '' })).status).toBe(Status.SERVING);
  });

  it('audits every admin call, refusals included, without credentials', async () => {
    const read = () =>
      readFileSync(auditFile, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((r) => String(r.method).startsWith('prism.admin.v1.AdminService.'));
    // The audit file is written asynchronously.
    await waitFor(() => read().length >= 5, 'the admin calls to be audited');
    const records = read();
    const seen = records.map((r) => [r.method, r.outcome, r.principal, r.namespace]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['prism.admin.v1.AdminService.ListNamespaces', 'UNAUTHENTICATED', null, ''],
        ['prism.admin.v1.AdminService.ListPlugins', 'PERMISSION_DENIED', null, ''],
        ['prism.admin.v1.AdminService.ListNamespaces', 'OK', 'alice', ''],
        ['prism.admin.v1.AdminService.GetPluginStatus', 'OK', 'admin_token', 'a'],
      ]),
    );
    for (const r of records) {
      expect(r.peer).toMatch(/127\.0\.0\.1/);
      expect(typeof r.request_id).toBe('string');
    }
    expect(readFileSync(auditFile, 'utf8')).not.toContain(ADMIN_TOKEN);
  });
});

describe('admin API with only proxy.admin_token (no proxy.auth)', () => {
  let test: TestProxy;
  beforeAll(async () => {
    test = await startTestProxy(
      `proxy:\n  admin: { listen: "127.0.0.1:0" }\n  admin_token: ${ADMIN_TOKEN}\nnamespaces:\n${ns}`,
    );
  });
  afterAll(() => test?.stop());

  it('needs the token: none or a wrong one is UNAUTHENTICATED', async () => {
    const none = await failure(adminClient(test.proxy.adminUrl!).getVersion({}));
    expect(none.code).toBe(Code.Unauthenticated);
    expect(none.rawMessage).toMatch(/Bearer <proxy\.admin_token>/);
    const wrong = await failure(adminClient(test.proxy.adminUrl!, 'Bearer wrong-token').getVersion({}));
    expect(wrong.code).toBe(Code.Unauthenticated);
    expect(wrong.rawMessage).not.toContain('wrong-token');
    const ok = await adminClient(test.proxy.adminUrl!, `Bearer ${ADMIN_TOKEN}`).getVersion({});
    expect(ok.pid).toBe(process.pid);
  });

  it('leaves the client port open to callers (admin_token alone does not turn auth on)', async () => {
    const res = await fetch(`${test.proxy.url}/metrics`);
    expect(res.status).toBe(200);
  });
});

describe('admin API without auth or token (loopback only)', () => {
  let test: TestProxy;
  beforeAll(async () => {
    test = await startTestProxy(`proxy:\n  admin: { listen: "127.0.0.1:0" }\nnamespaces:\n${ns}`);
  });
  afterAll(() => test?.stop());

  it('answers without credentials', async () => {
    expect((await adminClient(test.proxy.adminUrl!).listNamespaces({})).namespaces).toHaveLength(1);
  });
});

describe('admin API with proxy.tls', () => {
  let certs: TestCerts;
  let test: TestProxy;
  beforeAll(async () => {
    certs = makeTestCerts();
    test = await startTestProxy(`proxy:
  admin: { listen: "127.0.0.1:0" }
  tls: { cert_file: ${certs.serverCertFile}, key_file: ${certs.serverKeyFile} }
namespaces:
${ns}`);
  });
  afterAll(async () => {
    await test?.stop();
    certs?.remove();
  });

  it('serves TLS with the client port’s certificates', async () => {
    expect(test.proxy.adminUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const admin = createClient(
      AdminService,
      createGrpcTransport({ baseUrl: test.proxy.adminUrl!, nodeOptions: { ca: certs.ca } }),
    );
    expect((await admin.listNamespaces({})).namespaces.map((n) => n.name)).toEqual(['a']);
  });
});
