import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { kvBasic } from '@prism/keyvalue-basic/conformance';
import { waitUntil } from '@prism/keyvalue-ttl/conformance';
import { Code, ConnectError, instantiatePlugin } from '@prism/sdk';
import { createDatabase, findBinary, type PostgresTestServer, run, startPostgres } from '@prism/testing';
import postgres from 'postgres';
import plugin from './index.js';

const bytes = (s: string) => new TextEncoder().encode(s);

/** A throwaway CA and a server certificate for 127.0.0.1/localhost signed by it, made with openssl. */
function makeCertificates(dir: string, name: string) {
  const openssl = findBinary('openssl', 'openssl');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const path = (f: string) => join(dir, `${name}-${f}`);
  run(openssl, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.crt'),
    '-days',
    '2',
    '-subj',
    `/CN=${name}-ca`,
  ]);
  run(openssl, [
    'req',
    ...ec,
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  writeFileSync(path('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(openssl, [
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.crt'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-out',
    path('server.crt'),
    '-days',
    '2',
    '-extfile',
    path('san.ext'),
  ]);
  return { ca: readFileSync(path('ca.crt'), 'utf8'), cert: path('server.crt'), key: path('server.key') };
}

let server: PostgresTestServer;
let url = '';
let certDir = '';
let ca = '';
let otherCa = '';
let direct: postgres.Sql;

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'prism-pg-tls-'));
  const good = makeCertificates(certDir, 'good');
  ca = good.ca;
  otherCa = makeCertificates(certDir, 'other').ca;
  server = await startPostgres();
  // Hand the certificate to the server (owned by the data dir's owner, key private) and turn TLS on.
  const data = join(server.dir, 'data');
  const owner = statSync(data);
  for (const [from, to] of [
    [good.cert, 'server.crt'],
    [good.key, 'server.key'],
  ] as const) {
    copyFileSync(from, join(data, to));
    chownSync(join(data, to), owner.uid, owner.gid);
    chmodSync(join(data, to), 0o600);
  }
  url = await createDatabase(server.url);
  direct = postgres(url, { max: 1, onnotice: () => {} });
  await direct`ALTER SYSTEM SET ssl = on`;
  await direct`SELECT pg_reload_conf()`;
  await waitUntil(async () => (await direct`SHOW ssl`)[0]?.ssl === 'on', 'the server enabled TLS');
}, 120_000);
afterAll(async () => {
  await direct?.end();
  await server?.dispose();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

/** Whether the adapter's sessions of `namespace` use TLS, as the server reports them. */
async function sessionsUseTls(namespace: string): Promise<boolean[]> {
  const rows = await direct`SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
    WHERE a.application_name = ${`prism:${namespace}`}`;
  return rows.map((r) => r.ssl as boolean);
}

describe('postgres over TLS', () => {
  it('connects with a verified certificate (ssl.ca) and really uses TLS', async () => {
    const h = await instantiatePlugin(plugin, { url, ssl: { ca } }, { namespace: 'tls-verified' });
    try {
      const kv = kvBasic(h.get(KeyValueBasic)!, 'tls-verified');
      await kv.set('k', bytes('v'));
      expect(await kv.get('k')).toEqual({ found: true, value: bytes('v') });
      const tls = await sessionsUseTls('tls-verified');
      expect(tls.length).toBeGreaterThan(0);
      expect(tls.every(Boolean)).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('connects with ssl "require" (encrypted, not verified)', async () => {
    const h = await instantiatePlugin(plugin, { url, ssl: 'require' }, { namespace: 'tls-require' });
    try {
      await kvBasic(h.get(KeyValueBasic)!, 'tls-require').set('k', bytes('v'));
      expect((await sessionsUseTls('tls-require')).every(Boolean)).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('refuses a certificate from an untrusted CA with FAILED_PRECONDITION naming namespace and target', async () => {
    const u = new URL(url);
    u.password = 'tls-s3cret';
    const err = await instantiatePlugin(
      plugin,
      { url: u.toString(), ssl: { ca: otherCa } },
      { namespace: 'tls-bad' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    const ce = err as ConnectError;
    expect(ce.code).toBe(Code.FailedPrecondition);
    expect(ce.rawMessage).toContain('namespace "tls-bad"');
    expect(ce.rawMessage).toMatch(/TLS/);
    expect(ce.rawMessage).toContain(':***@127.0.0.1');
    expect(ce.rawMessage).not.toContain('tls-s3cret');
  });
});
