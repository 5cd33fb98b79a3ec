import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary, run } from './binaries.js';

/** A throwaway CA and a server certificate for 127.0.0.1/localhost signed by it (files + PEM text). */
export interface TestCertificates {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA certificate, PEM: what clients must trust. */
  readonly ca: string;
}

/**
 * Creates a CA and a server certificate (P-256 keys, valid 2 days, SAN IP:127.0.0.1 and DNS:localhost)
 * in `dir` with the `openssl` CLI, for servers under test that speak TLS.
 */
export function makeTestCertificates(dir: string): TestCertificates {
  const openssl = findBinary('openssl', 'openssl', ['/usr/bin']);
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(openssl, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=prism-test-ca',
  ]);
  run(openssl, ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(openssl, [
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    '2',
    '-extfile',
    f('san.ext'),
  ]);
  return {
    caFile: f('ca.crt'),
    certFile: f('server.crt'),
    keyFile: f('server.key'),
    ca: readFileSync(f('ca.crt'), 'utf8'),
  };
}
