import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';

/** PEM files of a throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate. */
export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly ca: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  remove(): void;
}

/** A certificate signed by a {@link TestCerts} CA. */
export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * Creates a throwaway CA, a server certificate (SAN 127.0.0.1, localhost, plugin.test) and a client
 * certificate (CN client, SAN URI spiffe://prism.test/client, for mTLS) with the openssl CLI, in `dir`
 * (default: a fresh temp dir), for tests of TLS.
 */
export function makeTestCerts(dir: string = mkdtempSync(join(tmpdir(), 'prism-certs-'))): TestCerts {
  const p = (f: string) => join(dir, f);
  mkdirSync(dir, { recursive: true });
  ssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=prism-test-ca',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
  );
  const server = issue(
    dir,
    'server',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:plugin.test\nextendedKeyUsage=serverAuth\n',
  );
  const client = issue(
    dir,
    'client',
    'subjectAltName=URI:spiffe://prism.test/client\nextendedKeyUsage=clientAuth\n',
  );
  return {
    dir,
    caFile: p('ca.pem'),
    serverCertFile: server.certFile,
    serverKeyFile: server.keyFile,
    clientCertFile: client.certFile,
    clientKeyFile: client.keyFile,
    ca: readFileSync(p('ca.pem')),
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Issues another certificate from the CA of `certs`: a client certificate by default, with common name
 * `name` and the given subject alternative names (e.g. `['URI:spiffe://prism.test/app', 'DNS:app.test']`).
 */
export function issueCert(
  certs: TestCerts,
  name: string,
  opts: { san?: readonly string[]; usage?: 'clientAuth' | 'serverAuth' } = {},
): IssuedCert {
  const san = opts.san?.length ? `subjectAltName=${opts.san.join(',')}\n` : '';
  return issue(certs.dir, name, `${san}extendedKeyUsage=${opts.usage ?? 'clientAuth'}\n`);
}

function ssl(dir: string, ...args: string[]): void {
  execFileSync(findBinary('openssl', 'openssl', ['/usr/bin']), args, { cwd: dir, stdio: 'pipe' });
}

function issue(dir: string, name: string, ext: string): IssuedCert {
  const p = (f: string) => join(dir, f);
  writeFileSync(p(`${name}.ext`), ext);
  ssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    p(`${name}.key`),
    '-out',
    p(`${name}.csr`),
  );
  ssl(
    dir,
    'x509',
    '-req',
    '-in',
    p(`${name}.csr`),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    p(`${name}.ext`),
    '-out',
    p(`${name}.pem`),
  );
  return {
    certFile: p(`${name}.pem`),
    keyFile: p(`${name}.key`),
    cert: readFileSync(p(`${name}.pem`)),
    key: readFileSync(p(`${name}.key`)),
  };
}
