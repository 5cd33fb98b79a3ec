import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { problemsOf as allProblemsOf, catalog, problemAt } from './catalog.fixture.js';
import { parseConfig } from './parse.js';

const dir = mkdtempSync(join(tmpdir(), 'prism-backend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), '-----BEGIN-----\n');
const file = join(dir, 'prism.yaml');
const problemsOf = (yaml: string) => allProblemsOf(yaml, { file });

/** A keyvalue namespace whose `backend:` block is `body` (indented by 6). */
const kv = (body: string) => `namespaces:\n  - name: sessions\n    pattern: keyvalue\n    backend:\n${body}`;
const parse = (yaml: string) => parseConfig(yaml, { file, catalog, env: {} });
const backendOf = (yaml: string) => parse(yaml).namespaces[0]!.backend!;

describe('backend type', () => {
  it('an unknown type lists the known types', () => {
    const p = problemAt(problemsOf(kv('      type: mongo\n')), 'namespaces[0].backend.type');
    expect(p).toMatchObject({ line: 5, column: 13, namespace: 'sessions' });
    expect(p.message).toBe(
      'unknown backend type "mongo": no "mongo" adapter in this version of Prism (known types: memstore, redis, nats, postgres); for a plugin from another package set plugin.package, or use plugin: { mode: remote, endpoint: ... }',
    );
  });

  it('a typo of a known type suggests it instead', () => {
    const p = problemAt(problemsOf(kv('      type: redsi\n')), 'namespaces[0].backend.type');
    expect(p.message).toBe(
      'unknown backend type "redsi" (did you mean "redis"?); known types: memstore, redis, nats, postgres',
    );
  });

  it('is required and must look like a type name', () => {
    expect(problemAt(problemsOf(kv('      config: {}\n')), 'namespaces[0].backend').message).toBe(
      'backend needs a "type" (one of: memstore, redis, nats, postgres)',
    );
    expect(problemAt(problemsOf(kv('      type: Redis!\n')), 'namespaces[0].backend.type').message).toMatch(
      /backend type name/,
    );
  });

  it('backend must be a map', () => {
    expect(problemAt(problemsOf(kv('      memstore\n')), 'namespaces[0].backend').message).toMatch(
      /must be a map/,
    );
  });
});

describe('backend config', () => {
  it('is passed through as written (the plugin applies its own defaults)', () => {
    const b = backendOf(
      kv('      type: redis\n      config:\n        url: redis://h:1\n        pool: { size: 4 }\n'),
    );
    expect(b).toEqual({
      type: 'redis',
      plugin: { mode: 'in_process' },
      config: { url: 'redis://h:1', pool: { size: 4 } },
    });
    expect(backendOf(kv('      type: memstore\n      config:\n')).config).toEqual({});
  });

  it("is validated with the catalog's schema; problems carry the path inside config and its line", () => {
    const problems = problemsOf(
      kv(
        '      type: redis\n      config:\n        url: http://wrong\n        pool: { size: 0, sise: 2 }\n        passwd: x\n',
      ),
    );
    expect(problems.map((p) => [p.field, p.line, p.message])).toEqual([
      ['namespaces[0].backend.config.url', 7, 'must be a redis:// URL'],
      ['namespaces[0].backend.config.pool.size', 8, expect.stringMatching(/>=1/)],
      ['namespaces[0].backend.config.pool.sise', 8, 'unknown key "sise" (did you mean "size"?)'],
      ['namespaces[0].backend.config.passwd', 9, 'unknown key "passwd" (did you mean "password"?)'],
    ]);
  });

  it('reports missing required config at the config map', () => {
    const p = problemAt(
      problemsOf(kv('      type: redis\n      config: {}\n')),
      'namespaces[0].backend.config.url',
    );
    expect(p.line).toBe(6);
  });

  it('is validated for sidecar plugins but not for remote ones', () => {
    expect(
      problemsOf(kv('      type: redis\n      plugin: { mode: sidecar }\n      config: { url: 1 }\n')).map(
        (p) => p.field,
      ),
    ).toEqual(['namespaces[0].backend.config.url']);
    const remote = backendOf(
      kv(
        '      type: redis\n      plugin: { mode: remote, endpoint: "https://plugins:9443" }\n      config: { anything: 1 }\n',
      ),
    );
    expect(remote.config).toEqual({ anything: 1 });
  });

  it('must be a map', () => {
    expect(
      problemAt(problemsOf(kv('      type: memstore\n      config: [1]\n')), 'namespaces[0].backend.config')
        .message,
    ).toBe('must be a map');
  });
});

describe('plugin modes', () => {
  it('defaults to in_process and rejects unknown modes', () => {
    expect(backendOf(kv('      type: memstore\n')).plugin).toEqual({ mode: 'in_process' });
    expect(
      problemAt(
        problemsOf(kv('      type: memstore\n      plugin: { mode: docker }\n')),
        'namespaces[0].backend.plugin.mode',
      ).message,
    ).toBe('must be one of in_process, sidecar, remote');
  });

  it('remote requires an http(s) endpoint URL', () => {
    const missing = problemAt(
      problemsOf(kv('      type: redis\n      plugin: { mode: remote }\n')),
      'namespaces[0].backend.plugin',
    );
    expect(missing).toMatchObject({
      line: 6,
      message: expect.stringMatching(/^a remote plugin needs an endpoint URL/),
    });
    for (const endpoint of ['plugins:9443', 'ftp://x', '"http://"'])
      expect(
        problemAt(
          problemsOf(kv(`      type: redis\n      plugin: { mode: remote, endpoint: ${endpoint} }\n`)),
          'namespaces[0].backend.plugin.endpoint',
        ).message,
      ).toMatch(/^must be an http:\/\/ or https:\/\/ URL/);
  });

  it('remote accepts backend types the catalog does not know (the plugin reports its interfaces)', () => {
    const b = backendOf(
      kv('      type: dynamodb\n      plugin: { mode: remote, endpoint: "http://10.0.0.5:7000" }\n'),
    );
    expect(b).toEqual({
      type: 'dynamodb',
      plugin: { mode: 'remote', endpoint: 'http://10.0.0.5:7000' },
      config: {},
    });
  });

  it('remote with a known type still checks needs', () => {
    const p = problemAt(
      problemsOf(
        'namespaces:\n  - name: q\n    pattern: queue\n    backend: { type: memstore, plugin: { mode: remote, endpoint: "http://x:1" } }\n',
      ),
      'namespaces[0].pattern',
    );
    expect(p.message).toMatch(/does not implement queue_basic/);
  });

  it('in_process rejects endpoint and tls; sidecar may have an endpoint', () => {
    const problems = problemsOf(
      kv(
        `      type: memstore\n      plugin:\n        endpoint: "http://x:1"\n        tls: { ca: ca.pem }\n`,
      ),
    );
    expect(problems.map((p) => [p.field, p.line, p.message])).toEqual([
      [
        'namespaces[0].backend.plugin.endpoint',
        7,
        expect.stringMatching(/^an in_process plugin has no endpoint/),
      ],
      [
        'namespaces[0].backend.plugin.tls',
        8,
        expect.stringMatching(/tls applies to sidecar and remote plugins/),
      ],
    ]);
    expect(
      backendOf(
        kv('      type: memstore\n      plugin: { mode: sidecar, endpoint: "http://127.0.0.1:7001" }\n'),
      ).plugin,
    ).toEqual({
      mode: 'sidecar',
      endpoint: 'http://127.0.0.1:7001',
    });
  });

  it('package names the npm package to load, except for remote plugins', () => {
    expect(
      backendOf(kv('      type: memstore\n      plugin: { package: "@acme/prism-memstore" }\n')).plugin,
    ).toEqual({
      mode: 'in_process',
      package: '@acme/prism-memstore',
    });
    expect(
      problemAt(
        problemsOf(
          kv('      type: redis\n      plugin: { mode: remote, endpoint: "http://x:1", package: p }\n'),
        ),
        'namespaces[0].backend.plugin.package',
      ).message,
    ).toMatch(/not loaded by the proxy/);
  });
});

describe('plugin tls', () => {
  const remote = (tls: string, endpoint = 'https://plugins.internal:9443') =>
    kv(
      `      type: redis\n      plugin:\n        mode: remote\n        endpoint: ${endpoint}\n        tls: ${tls}\n`,
    );

  it('resolves PEM paths against the config directory and maps keys to camelCase', () => {
    const b = backendOf(
      remote(
        '{ ca: ca.pem, cert: ./cert.pem, key: key.pem, server_name: plugins, insecure_skip_verify: false }',
      ),
    );
    expect(b.plugin.tls).toEqual({
      ca: join(dir, 'ca.pem'),
      cert: join(dir, 'cert.pem'),
      key: join(dir, 'key.pem'),
      serverName: 'plugins',
      insecureSkipVerify: false,
    });
  });

  it('reports unreadable files, cert without key, unknown keys and plain http', () => {
    const problems = problemsOf(remote('{ ca: nope.pem, cert: cert.pem, server: x }'));
    expect(problems.map((p) => [p.field, p.message])).toEqual([
      [
        'namespaces[0].backend.plugin.tls.server',
        'unknown key "server"; allowed keys: ca, cert, key, server_name, insecure_skip_verify',
      ],
    ]);
    const more = problemsOf(remote('{ ca: nope.pem, cert: cert.pem }'));
    expect(more.map((p) => [p.field, p.line, p.message])).toEqual([
      ['namespaces[0].backend.plugin.tls', 9, 'cert and key go together (mutual TLS): set both or neither'],
      ['namespaces[0].backend.plugin.tls.ca', 9, `cannot read ${join(dir, 'nope.pem')}: ENOENT`],
    ]);
    expect(
      problemAt(
        problemsOf(remote('{ ca: ca.pem }', 'http://plugins:80')),
        'namespaces[0].backend.plugin.endpoint',
      ).message,
    ).toBe('tls is set, so the endpoint must use https://');
  });
});
