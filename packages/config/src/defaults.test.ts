import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_LIMITS } from '@prism/sdk';
import { catalog, memstoreOnly, problemAt, problemsOf } from './catalog.fixture.js';
import { DEFAULT_CONFIG_YAML } from './default.js';
import { loadConfig } from './load.js';
import { parseConfig } from './parse.js';
import { ConfigError } from './problems.js';
import { PROXY_DEFAULTS } from './proxy.js';

const parse = (yaml: string) => parseConfig(yaml, { file: 'prism.yaml', catalog, env: {} });
const kv = (extra = '') =>
  `namespaces:\n  - name: a\n    pattern: keyvalue\n    backend: { type: memstore }\n${extra}`;

describe('embedded default', () => {
  it('parses with a catalog that only has memstore, without env or files', () => {
    const cfg = parseConfig(DEFAULT_CONFIG_YAML, { file: '<default>', catalog: memstoreOnly, env: {} });
    expect(cfg.proxy.listen).toEqual({ host: '0.0.0.0', port: 8980 });
    // The admin API on loopback, so prismctl works right after `npm start`.
    expect(cfg.proxy.admin).toEqual({ listen: { host: '127.0.0.1', port: 8981 } });
    expect(cfg.namespaces).toHaveLength(1);
    const ns = cfg.namespaces[0]!;
    expect(ns).toMatchObject({ name: 'default', pattern: 'keyvalue', needs: ['keyvalue_basic'] });
    expect(ns.backend).toEqual({ type: 'memstore', plugin: { mode: 'in_process' }, config: {} });
    expect(ns.source).toEqual({ file: '<default>', line: 6 });
  });
});

describe('proxy defaults', () => {
  it('fills every proxy default when proxy: is absent', () => {
    const cfg = parse(kv());
    expect(cfg.proxy).toEqual({
      listen: { host: '0.0.0.0', port: 8980 },
      readMaxBytes: 16 * 1024 * 1024,
      cors: { allowedOrigins: ['*'] },
      shutdownTimeoutMs: 10000,
      limits: DEFAULT_LIMITS,
      metrics: { enabled: true },
      access: [],
      requireAllBackends: false,
      connections: PROXY_DEFAULTS.connections,
    });
    expect(cfg.proxy.adminToken).toBeUndefined();
    expect(cfg.proxy.tracing).toBeUndefined();
    expect(cfg.namespaces[0]!.backend!.plugin.mode).toBe('in_process');
    expect(cfg.namespaces[0]!.limits).toEqual(DEFAULT_LIMITS);
  });

  it('an empty file is a proxy with defaults and no namespaces', () => {
    expect(parse('').namespaces).toEqual([]);
    expect(parse('# nothing\n').proxy.listen.port).toBe(8980);
  });

  it('maps every snake_case proxy key to camelCase', () => {
    const cfg = parse(`proxy:
  listen: 127.0.0.1:9000
  read_max_bytes: 1048576
  cors: { allowed_origins: ['https://app.example.com'] }
  shutdown_timeout_ms: 2500
  limits: { max_key_bytes: 128, max_value_bytes: 65536 }
  admin_token: s3cret
  metrics: { enabled: false }
  tracing: { otlp_endpoint: "http://127.0.0.1:4318/v1/traces", sample_ratio: 0.5 }
  require_all_backends: true
  connections: { max_per_ip: 50, idle_session_timeout_ms: 60000 }
${kv()}`);
    expect(cfg.proxy).toEqual({
      listen: { host: '127.0.0.1', port: 9000 },
      readMaxBytes: 1048576,
      cors: { allowedOrigins: ['https://app.example.com'] },
      shutdownTimeoutMs: 2500,
      limits: { maxKeyBytes: 128, maxValueBytes: 65536 },
      adminToken: 's3cret',
      metrics: { enabled: false },
      tracing: { otlpEndpoint: 'http://127.0.0.1:4318/v1/traces', sampleRatio: 0.5 },
      access: [],
      requireAllBackends: true,
      connections: { ...PROXY_DEFAULTS.connections, maxPerIp: 50, idleSessionTimeoutMs: 60000 },
    });
    expect(parse(`proxy: { tracing: { otlp_endpoint: "https://c:4318/v1/traces" } }`).proxy.tracing).toEqual({
      otlpEndpoint: 'https://c:4318/v1/traces',
      sampleRatio: 0.01,
    });
  });

  it('rejects a tracing endpoint that is not an http(s) URL and a sample ratio outside 0–1', () => {
    const problems = problemsOf(`proxy:\n  tracing: { otlp_endpoint: "collector:4318", sample_ratio: 2 }\n`);
    expect(problemAt(problems, 'proxy.tracing.otlp_endpoint').message).toMatch(/http\(s\) URL/);
    expect(problemAt(problems, 'proxy.tracing.sample_ratio').message).toMatch(/from 0 to 1/);
    expect(
      problemAt(problemsOf(`proxy:\n  metrics: { enabled: "yes" }\n`), 'proxy.metrics.enabled').message,
    ).toMatch(/true or false/);
    expect(
      problemAt(problemsOf(`proxy:\n  require_all_backends: "yes"\n`), 'proxy.require_all_backends').message,
    ).toMatch(/true or false/);
  });

  it.each([
    ['0.0.0.0:8980', '0.0.0.0', 8980],
    ['localhost:0', 'localhost', 0],
    ['"[::1]:8443"', '::1', 8443],
    ['":7000"', '0.0.0.0', 7000],
    ['9001', '0.0.0.0', 9001],
  ])('listen %s', (listen, host, port) => {
    expect(parse(`proxy: { listen: ${listen} }`).proxy.listen).toEqual({ host, port });
  });

  it.each(['0.0.0.0:65536', 'localhost', 'a b:1', '[::1]'])('rejects listen %s', (listen) => {
    const p = problemAt(problemsOf(`proxy:\n  listen: "${listen}"\n`), 'proxy.listen');
    expect(p.line).toBe(2);
    expect(p.message).toMatch(/host:port/);
  });

  it.each([
    ['read_max_bytes', '0'],
    ['read_max_bytes', '-5'],
    ['shutdown_timeout_ms', '1.5'],
    ['shutdown_timeout_ms', 'soon'],
  ])('rejects %s: %s', (key, value) => {
    const p = problemAt(problemsOf(`proxy:\n  ${key}: ${value}\n`), `proxy.${key}`);
    expect(p.message).toMatch(/positive integer/);
  });

  it('rejects a non-list cors.allowed_origins and an empty admin_token', () => {
    const problems = problemsOf(`proxy:\n  cors: { allowed_origins: '*' }\n  admin_token: ''\n`);
    expect(problemAt(problems, 'proxy.cors.allowed_origins').line).toBe(2);
    expect(problemAt(problems, 'proxy.admin_token').message).toBe('must not be empty');
  });
});

describe('limits', () => {
  it('namespace limits override proxy limits, which override DEFAULT_LIMITS, key by key', () => {
    const cfg = parse(`proxy:
  limits: { max_value_bytes: 2048 }
namespaces:
  - name: a
    pattern: keyvalue
    limits: { max_key_bytes: 256 }
    backend: { type: memstore }
  - name: b
    pattern: keyvalue
    backend: { type: memstore }
`);
    expect(cfg.proxy.limits).toEqual({ maxKeyBytes: DEFAULT_LIMITS.maxKeyBytes, maxValueBytes: 2048 });
    expect(cfg.namespaces[0]!.limits).toEqual({ maxKeyBytes: 256, maxValueBytes: 2048 });
    expect(cfg.namespaces[1]!.limits).toEqual({
      maxKeyBytes: DEFAULT_LIMITS.maxKeyBytes,
      maxValueBytes: 2048,
    });
  });

  it('rejects value limits larger than read_max_bytes (proxy and namespace)', () => {
    const problems = problemsOf(`proxy:
  read_max_bytes: 1000
  limits: { max_value_bytes: 500 }
namespaces:
  - name: a
    pattern: keyvalue
    limits: { max_value_bytes: 5000 }
    backend: { type: memstore }
`);
    const p = problemAt(problems, 'namespaces[0].limits.max_value_bytes');
    expect(p).toMatchObject({ line: 7, namespace: 'a' });
    expect(p.message).toMatch(/exceeds proxy.read_max_bytes \(1000\)/);
    expect(
      problemsOf('proxy:\n  read_max_bytes: 10\n  limits: { max_value_bytes: 11 }\n').map((x) => x.field),
    ).toEqual(['proxy.limits.max_value_bytes']);
    // Inherited default value limits are not an error: only explicit settings are compared.
    expect(parse(`proxy:\n  read_max_bytes: 10\n${kv()}`).namespaces[0]!.limits.maxValueBytes).toBe(
      DEFAULT_LIMITS.maxValueBytes,
    );
  });

  it('rejects unknown limit keys with a suggestion', () => {
    const p = problemAt(
      problemsOf(`${kv('    limits: { max_key_byte: 10 }\n')}`),
      'namespaces[0].limits.max_key_byte',
    );
    expect(p.message).toBe('unknown key "max_key_byte" (did you mean "max_key_bytes"?)');
    expect(p).toMatchObject({ line: 5, column: 15, namespace: 'a' });
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file and names it in the result', async () => {
    const file = join(dir, 'prism.yaml');
    writeFileSync(file, kv());
    const cfg = await loadConfig(file, { catalog, env: {} });
    expect(cfg.file).toBe(file);
    expect(cfg.namespaces[0]!.source).toEqual({ file, line: 2 });
  });

  it('reports an unreadable file as a ConfigError naming it', async () => {
    const file = join(dir, 'missing.yaml');
    const err = await loadConfig(file, { catalog }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]).toMatchObject({
      file,
      message: expect.stringMatching(/ENOENT/),
    });
  });

  it('reports problems with the file path', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'proxy:\n  listen: nope\n');
    const err = (await loadConfig(file, { catalog }).catch((e: unknown) => e)) as ConfigError;
    expect(err.message).toContain(`${file}:2:11: proxy.listen:`);
  });
});

describe('per_worker', () => {
  it('is off unless set, and must be a boolean', () => {
    expect(parse(kv()).namespaces[0]!.perWorker).toBeUndefined();
    expect(
      parse(kv().replace('    backend:', '    per_worker: true\n    backend:')).namespaces[0]!.perWorker,
    ).toBe(true);
    const problems = problemsOf(kv().replace('    backend:', '    per_worker: maybe\n    backend:'));
    expect(problemAt(problems, 'namespaces[0].per_worker').message).toBe('must be true or false');
  });
});
