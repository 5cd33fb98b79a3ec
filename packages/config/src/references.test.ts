// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are YAML with ${env:} and ${file:} references
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { catalog, problemAt, problemsOf } from './catalog.fixture.js';
import { parseConfig } from './parse.js';
import { ConfigError } from './problems.js';

const dir = mkdtempSync(join(tmpdir(), 'prism-refs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'secrets'));
writeFileSync(join(dir, 'secrets', 'token'), 'file-token-value\n');
writeFileSync(join(dir, 'secrets', 'two-newlines'), 'abc\n\n');
writeFileSync(join(dir, 'secrets', 'crlf'), 'pass-crlf\r\n');
const configFile = join(dir, 'prism.yaml');

const redis = (config: string, extra = '') =>
  `${extra}namespaces:\n  - name: sessions\n    pattern: keyvalue\n    backend:\n      type: redis\n      config:\n${config}`;
const parse = (yaml: string, env: NodeJS.ProcessEnv = {}) =>
  parseConfig(yaml, { file: configFile, catalog, env });

describe('${env:NAME}', () => {
  it('resolves in proxy fields and backend config, also inside longer strings', () => {
    const cfg = parse(
      redis(
        '        url: redis://${env:REDIS_HOST}:${env:REDIS_PORT}/0\n',
        'proxy:\n  admin_token: ${env:TOKEN}\n',
      ),
      { REDIS_HOST: 'cache.internal', REDIS_PORT: '6380', TOKEN: 't0ken' },
    );
    expect(cfg.proxy.adminToken).toBe('t0ken');
    expect(cfg.namespaces[0]!.backend!.config).toEqual({ url: 'redis://cache.internal:6380/0' });
  });

  it('resolves in nested maps and lists of backend config', () => {
    const cfg = parse(
      'namespaces:\n  - name: n\n    pattern: pubsub\n    backend:\n      type: nats\n      config:\n        servers: ["${env:A}", "nats://${env:B}"]\n',
      { A: 'nats://a:4222', B: 'b:4222' },
    );
    expect(cfg.namespaces[0]!.backend!.config).toEqual({ servers: ['nats://a:4222', 'nats://b:4222'] });
  });

  it('turns numeric and boolean strings into numbers/booleans for proxy fields', () => {
    const cfg = parse('proxy:\n  listen: ${env:LISTEN}\n  read_max_bytes: ${env:MAX}\n', {
      LISTEN: '127.0.0.1:7777',
      MAX: '2048',
    });
    expect(cfg.proxy.listen).toEqual({ host: '127.0.0.1', port: 7777 });
    expect(cfg.proxy.readMaxBytes).toBe(2048);
  });

  it('uses process.env when no env is given', () => {
    process.env.PRISM_CONFIG_TEST_TOKEN = 'from-process';
    try {
      const cfg = parseConfig('proxy:\n  admin_token: ${env:PRISM_CONFIG_TEST_TOKEN}\n', {
        file: configFile,
        catalog,
      });
      expect(cfg.proxy.adminToken).toBe('from-process');
    } finally {
      delete process.env.PRISM_CONFIG_TEST_TOKEN;
    }
  });

  it('${env:NAME:-fallback} uses the fallback when unset or empty', () => {
    const yaml = 'proxy:\n  admin_token: ${env:TOKEN:-dev-token}\n';
    expect(parse(yaml).proxy.adminToken).toBe('dev-token');
    expect(parse(yaml, { TOKEN: '' }).proxy.adminToken).toBe('dev-token');
    expect(parse(yaml, { TOKEN: 'real' }).proxy.adminToken).toBe('real');
  });

  it('a missing variable names the variable and the field, once, at its line', () => {
    const problems = problemsOf(redis('        url: redis://${env:REDIS_HOST}:6379\n'), { file: configFile });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      file: configFile,
      line: 7,
      column: 14,
      namespace: 'sessions',
      field: 'namespaces[0].backend.config.url',
      message: 'environment variable REDIS_HOST is not set (referenced as ${env:REDIS_HOST})',
    });
  });

  it('never echoes a resolved value in messages', () => {
    const secret = 'super-secret-password';
    let error: unknown;
    try {
      parse(redis('        url: ${env:REDIS_URL}\n'), { REDIS_URL: secret });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('namespaces[0].backend.config.url');
    expect(message).not.toContain(secret);
    // Values quoted by Prism itself are replaced by their reference.
    const p = problemAt(
      problemsOf('proxy:\n  listen: ${env:LISTEN}\n', { env: { LISTEN: 'hunter2-is-no-address' } }),
      'proxy.listen',
    );
    expect(p.message).toContain('(got (the value of ${env:LISTEN}))');
    expect(p.message).not.toContain('hunter2');
  });

  it('rejects invalid variable names and unknown reference kinds, and $${ escapes', () => {
    const problems = problemsOf(
      'proxy:\n  admin_token: ${env:1BAD}\n  cors: { allowed_origins: ["${vault:x}"] }\n',
    );
    expect(problemAt(problems, 'proxy.admin_token').message).toMatch(/not a valid environment variable name/);
    expect(problemAt(problems, 'proxy.cors.allowed_origins[0]').message).toMatch(
      /^unknown reference "\$\{vault:x\}"; use \$\{env:NAME\} or \$\{file:PATH\}/,
    );
    expect(parse('proxy:\n  admin_token: a$${env:X}b\n').proxy.adminToken).toBe('a${env:X}b');
  });
});

describe('${file:PATH}', () => {
  it('reads relative paths against the config file directory and trims one trailing newline', () => {
    const cfg = parse(
      'proxy:\n  admin_token: ${file:secrets/token}\n  cors: { allowed_origins: ["${file:./secrets/two-newlines}", "${file:secrets/crlf}"] }\n',
    );
    expect(cfg.proxy.adminToken).toBe('file-token-value');
    expect(cfg.proxy.cors.allowedOrigins).toEqual(['abc\n', 'pass-crlf']);
  });

  it('reads absolute paths, also inside longer strings', () => {
    const cfg = parse(redis(`        url: "redis://:\${file:${join(dir, 'secrets', 'token')}}@db:6379"\n`));
    expect(cfg.namespaces[0]!.backend!.config.url).toBe('redis://:file-token-value@db:6379');
  });

  it('an unreadable file names the field and the path, never the content', () => {
    const problems = problemsOf('proxy:\n  admin_token: ${file:secrets/nope}\n', { file: configFile });
    const p = problemAt(problems, 'proxy.admin_token');
    expect(p).toMatchObject({ line: 2, column: 16 });
    expect(p.message).toBe(`cannot read \${file:secrets/nope} (${join(dir, 'secrets', 'nope')}): ENOENT`);
    expect(
      problemAt(
        problemsOf('proxy:\n  admin_token: ${file:secrets}\n', { file: configFile }),
        'proxy.admin_token',
      ).message,
    ).toMatch(/EISDIR/);
    expect(problemAt(problemsOf('proxy:\n  admin_token: ${file:}\n'), 'proxy.admin_token').message).toMatch(
      /needs a path/,
    );
  });

  it('scrubs file content that a backend schema echoes back', () => {
    const leaky = {
      types: () => ['leaky'],
      describe: () => ({
        interfaces: ['keyvalue_basic'],
        configSchema: catalog.describe('redis')!.configSchema!.superRefine((v, ctx) => {
          ctx.addIssue({ code: 'custom', message: `bad password ${(v as { password?: string }).password}` });
        }),
      }),
    };
    const problems = problemsOf(
      'namespaces:\n  - name: s\n    pattern: keyvalue\n    backend:\n      type: leaky\n      config: { url: "redis://x", password: "${file:secrets/token}" }\n',
      { file: configFile, catalog: leaky },
    );
    expect(problems.map((p) => p.message)).toEqual(['bad password ***']);
  });

  it('skips files without permission when running as non-root', () => {
    const locked = join(dir, 'secrets', 'locked');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0o000);
    const root = process.getuid?.() === 0;
    const yaml = 'proxy:\n  admin_token: ${file:secrets/locked}\n';
    if (root) expect(parse(yaml).proxy.adminToken).toBe('x');
    else
      expect(problemAt(problemsOf(yaml, { file: configFile }), 'proxy.admin_token').message).toMatch(
        /EACCES/,
      );
  });
});

describe('secretPaths', () => {
  it('lists the backend config values that came from references, and only those', () => {
    const cfg = parse(
      'namespaces:\n  - name: r\n    pattern: keyvalue\n    backend:\n      type: redis\n      config: { url: "redis://${env:HOST}:6379", password: "${file:secrets/token}" }\n  - name: n\n    pattern: pubsub\n    backend:\n      type: nats\n      config: { servers: ["nats://a:4222", "${env:B}", "$${x}"] }\n',
      { HOST: 'db', B: 'nats://b:4222' },
    );
    const [r, n] = cfg.namespaces.map((ns) => ns.backend!);
    expect(r!.secretPaths).toEqual([['url'], ['password']]);
    expect(r!.config).toEqual({ url: 'redis://db:6379', password: 'file-token-value' });
    expect(n!.secretPaths).toEqual([['servers', 1]]);
  });

  it('is absent when the backend config has no references', () => {
    const cfg = parse(redis('        url: redis://db:6379\n', 'proxy:\n  admin_token: ${env:T}\n'), {
      T: 'x',
    });
    expect(cfg.namespaces[0]!.backend!.secretPaths).toBeUndefined();
  });
});

describe('envNames', () => {
  it('lists the environment variables a backend config references, sorted and once each', () => {
    const cfg = parse(
      'proxy:\n  admin_token: ${env:ADMIN}\nnamespaces:\n  - name: r\n    pattern: keyvalue\n    backend:\n      type: redis\n      config: { url: "redis://${env:HOST}:${env:PORT:-6379}", password: "${env:PW}${env:HOST}" }\n  - name: n\n    pattern: pubsub\n    backend:\n      type: nats\n      config: { servers: ["nats://a:4222", "$${env:LITERAL}", "${file:secrets/token}"] }\n',
      { HOST: 'db', PW: 'pw-value', ADMIN: 'a' },
    );
    const [r, n] = cfg.namespaces.map((ns) => ns.backend!);
    expect(r!.envNames).toEqual(['HOST', 'PORT', 'PW']);
    expect(n!.envNames).toBeUndefined();
  });
});
