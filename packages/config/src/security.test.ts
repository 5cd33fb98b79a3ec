import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { catalog, problemAt, problemsOf } from './catalog.fixture.js';
import { parseConfig } from './parse.js';

const dir = mkdtempSync(join(tmpdir(), 'prism-config-security-'));
for (const f of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(join(dir, f), 'pem');
const file = join(dir, 'prism.yaml');
const parse = (yaml: string) => parseConfig(yaml, { file, catalog, env: {} });
const problems = (yaml: string) => problemsOf(yaml, { file });
const ns = (extra = '') =>
  `namespaces:\n  - name: a\n    pattern: keyvalue\n    backend: { type: memstore }\n${extra}`;
const jwt = '{ name: corp, type: jwt, issuer: "https://login.example.com/", audience: prism }';

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('proxy.tls', () => {
  it('resolves the files against the config file and defaults require_client_cert to false', () => {
    const cfg = parse(`proxy:\n  tls: { cert_file: cert.pem, key_file: key.pem, client_ca_file: ca.pem }\n`);
    expect(cfg.proxy.tls).toEqual({
      certFile: join(dir, 'cert.pem'),
      keyFile: join(dir, 'key.pem'),
      clientCaFile: join(dir, 'ca.pem'),
      requireClientCert: false,
    });
  });

  it('reports a missing file and require_client_cert without a client CA', () => {
    const p = problems(
      `proxy:\n  tls: { cert_file: nope.pem, key_file: key.pem, require_client_cert: true }\n`,
    );
    expect(problemAt(p, 'proxy.tls.cert_file').message).toBe(`file not found: ${join(dir, 'nope.pem')}`);
    expect(problemAt(p, 'proxy.tls.require_client_cert').message).toMatch(/needs client_ca_file/);
  });
});

describe('proxy.auth', () => {
  it('fills the jwt defaults: every asymmetric algorithm, groups claim, 30 s skew; anonymous off', () => {
    const auth = parse(`proxy:\n  auth: { providers: [${jwt}] }\n`).proxy.auth;
    expect(auth).toEqual({
      allowAnonymous: false,
      providers: [
        {
          name: 'corp',
          type: 'jwt',
          issuer: 'https://login.example.com/',
          audience: ['prism'],
          algorithms: [
            'RS256',
            'RS384',
            'RS512',
            'PS256',
            'PS384',
            'PS512',
            'ES256',
            'ES384',
            'ES512',
            'EdDSA',
          ],
          groupsClaim: 'groups',
          clockSkewSeconds: 30,
        },
      ],
    });
  });

  it('refuses none and HS* algorithms, duplicate names, an unknown type, and mtls without a client CA', () => {
    const p = problems(`proxy:
  auth:
    providers:
      - { name: corp, type: jwt, issuer: "https://a/", audience: x, algorithms: [HS256] }
      - { name: corp, type: mtls }
      - { name: other, type: saml }
`);
    expect(problemAt(p, 'proxy.auth.providers[0].algorithms[0]').message).toMatch(/must be one of RS256/);
    expect(problemAt(p, 'proxy.auth.providers[1].name').message).toBe('duplicate provider name "corp"');
    expect(problemAt(p, 'proxy.auth.providers[1]').message).toMatch(/needs proxy.tls with client_ca_file/);
    expect(problemAt(p, 'proxy.auth.providers[2].type').message).toBe('must be jwt or mtls');
  });

  it('with auth on, CORS trusts no origin unless listed; without it the default stays "*"', () => {
    expect(parse(`proxy:\n  auth: { providers: [${jwt}] }\n`).proxy.cors.allowedOrigins).toEqual([]);
    expect(parse('').proxy.cors.allowedOrigins).toEqual(['*']);
  });
});

describe('access rules and limits', () => {
  it('parses namespace access, rate and max_concurrent (burst defaults to one second of rate)', () => {
    const cfg = parse(
      `proxy:\n  auth: { providers: [${jwt}] }\n${ns(`    access:
      - { principals: ["group:app", "spiffe://prism.test/x", "*"], permissions: [read, write] }
    limits: { rate: { requests_per_second: 50 }, max_concurrent: 8 }
`)}`,
    );
    const a = cfg.namespaces[0]!;
    expect(a.access).toEqual([
      { principals: ['group:app', 'spiffe://prism.test/x', '*'], permissions: ['read', 'write'] },
    ]);
    expect(a.rate).toEqual({ requestsPerSecond: 50, burst: 50, per: 'namespace' });
    expect(a.maxConcurrent).toBe(8);
  });

  it('reports bad principals and permissions, and access rules without proxy.auth', () => {
    const p = problems(
      ns(
        `    access:\n      - { principals: [alice], permissions: [delete] }\n    limits: { rate: { requests_per_second: 0 } }\n`,
      ),
    );
    expect(problemAt(p, 'namespaces[0].access[0].principals[0]').message).toMatch(/sub:NAME, group:NAME/);
    expect(problemAt(p, 'namespaces[0].access[0].permissions[0]').message).toBe(
      'must be read, write or admin',
    );
    expect(problemAt(p, 'namespaces[0].limits.rate.requests_per_second').message).toBe(
      'must be a positive number',
    );
    const noAuth = problems(ns(`    access:\n      - { principals: ["*"], permissions: [read] }\n`));
    expect(problemAt(noAuth, 'namespaces[0].access').message).toMatch(/need proxy.auth/);
  });

  it('proxy.audit takes a path or stdout, not both', () => {
    expect(parse(`proxy:\n  audit: { path: logs/audit.jsonl, sample_reads: 0.1 }\n`).proxy.audit).toEqual({
      path: join(dir, 'logs/audit.jsonl'),
      sampleReads: 0.1,
    });
    expect(parse(`proxy:\n  audit: { stdout: true }\n`).proxy.audit).toEqual({ sampleReads: 1 });
    expect(problemAt(problems(`proxy:\n  audit: {}\n`), 'proxy.audit').message).toMatch(/either path/);
  });
});
