// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are YAML with ${env:} references
import { describe, expect, it } from '@jest/globals';
import { catalog, problemAt, problemsOf } from './catalog.fixture.js';
import { parseConfig } from './parse.js';
import { ConfigError, formatProblem } from './problems.js';

const messageOf = (yaml: string): string => {
  try {
    parseConfig(yaml, { file: 'conf/prism.yaml', catalog, env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('parsed');
};

describe('YAML syntax errors', () => {
  it('become a ConfigError with the line and column', () => {
    const problems = problemsOf(
      'proxy:\n  listen: 0.0.0.0:8980\nnamespaces:\n  - name: a\n   pattern: keyvalue\n',
    );
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.line).toBe(5);
    expect(problems[0]!.message).toMatch(/^YAML syntax error: /);
  });

  it('reports duplicate keys with their line', () => {
    const problems = problemsOf('proxy:\n  listen: a:1\n  listen: b:2\n');
    expect(problems[0]).toMatchObject({
      line: 3,
      message: expect.stringMatching(/YAML syntax error: .*unique/),
    });
  });

  it('hints at quoting references inside flow collections', () => {
    const p = problemsOf('proxy: { admin_token: ${env:X} }\n')[0]!;
    expect(p.line).toBe(1);
    expect(p.message).toMatch(/quote references: "\$\{env:NAME\}"/);
  });

  it('reports an unclosed flow map', () => {
    expect(problemsOf('proxy: { listen: 1\n')[0]!.message).toMatch(/^YAML syntax error/);
  });
});

describe('structure', () => {
  it('rejects a document that is not a map, and namespaces that are not a list', () => {
    expect(problemAt(problemsOf('- a\n- b\n'), '').message).toMatch(/must be a map/);
    expect(problemAt(problemsOf('namespaces: { name: a }\n'), 'namespaces').message).toMatch(
      /must be a list/,
    );
    expect(problemAt(problemsOf('namespaces:\n  - just-a-name\n'), 'namespaces[0]')).toMatchObject({
      line: 2,
      message: expect.stringMatching(/must be a map/),
    });
  });

  it('rejects unknown keys at every level, suggesting the closest valid key', () => {
    const problems = problemsOf(`proxy:
  readMaxBytes: 1
  cors: { allowed_origin: [x] }
namespace: []
namespaces:
  - name: a
    patern: keyvalue
    pattern: keyvalue
    backend:
      type: memstore
      plugins: { mode: in_process }
      plugin: { mod: in_process }
`);
    expect(problems.map((p) => [p.field, p.line, p.column, p.message])).toEqual([
      ['proxy.readMaxBytes', 2, 3, 'unknown key "readMaxBytes" (did you mean "read_max_bytes"?)'],
      ['proxy.cors.allowed_origin', 3, 11, 'unknown key "allowed_origin" (did you mean "allowed_origins"?)'],
      ['namespace', 4, 1, 'unknown key "namespace" (did you mean "namespaces"?)'],
      ['namespaces[0].patern', 7, 5, 'unknown key "patern" (did you mean "pattern"?)'],
      ['namespaces[0].backend.plugins', 11, 7, 'unknown key "plugins" (did you mean "plugin"?)'],
      ['namespaces[0].backend.plugin.mod', 12, 17, 'unknown key "mod" (did you mean "mode"?)'],
    ]);
    expect(problems.slice(3).every((p) => p.namespace === 'a')).toBe(true);
  });

  it('treats __proto__ as an ordinary (unknown) key', () => {
    const problems = problemsOf('proxy:\n  __proto__: { listen: 1 }\n');
    expect(problems.map((p) => p.field)).toEqual(['proxy.__proto__']);
    expect(({} as { listen?: unknown }).listen).toBeUndefined();
  });

  it('lists the allowed keys when nothing is close', () => {
    expect(problemAt(problemsOf('proxy:\n  zzzzzz: 1\n'), 'proxy.zzzzzz').message).toBe(
      'unknown key "zzzzzz"; allowed keys: listen, read_max_bytes, cors, shutdown_timeout_ms, limits, admin_token, admin, metrics, tracing, tls, auth, audit, access, require_all_backends, connections',
    );
  });

  it('requires name, pattern and backend', () => {
    const problems = problemsOf(
      'namespaces:\n  - pattern: keyvalue\n    backend: { type: memstore }\n  - name: b\n  - name: c\n    pattern: list\n',
    );
    expect(problems.map((p) => [p.field, p.line, p.message])).toEqual([
      ['namespaces[0]', 2, 'missing required "name"'],
      ['namespaces[1]', 4, expect.stringMatching(/^missing required "pattern" \(one of: keyvalue, list,/)],
      ['namespaces[2]', 5, 'pattern list needs a backend, e.g. backend: { type: memstore }'],
    ]);
    expect(problems[1]!.namespace).toBe('b');
  });

  it('rejects an unknown pattern with a suggestion and the list of patterns', () => {
    const p = problemAt(
      problemsOf('namespaces:\n  - name: a\n    pattern: key-value\n    backend: { type: memstore }\n'),
      'namespaces[0].pattern',
    );
    expect(p.message).toMatch(
      /^unknown pattern "key-value" \(did you mean "keyvalue"\?\); known patterns: keyvalue, .*multicast-registry$/,
    );
  });
});

describe('patterns of the design documents that this version lacks', () => {
  const one = (body: string) => `namespaces:\n  - name: videos\n${body}`;

  it('says a planned pattern is not in this version, and still checks its slots', () => {
    const problems = problemsOf(
      one(
        '    pattern: claim-check\n    slots:\n      queue: { type: nats, config: { servers: [] } }\n      storage: { type: s3, config: { bucket: b } }\n',
      ),
    );
    expect(problems.map((p) => [p.field, p.line, p.message])).toEqual([
      [
        'namespaces[0].pattern',
        3,
        expect.stringMatching(
          /^unknown pattern "claim-check": not in this version of Prism \(Claim Check: large payloads go to object storage, messages carry a reference; planned, not implemented yet\); known patterns: keyvalue, .*multicast-registry$/,
        ),
      ],
      ['namespaces[0].slots.queue.config.servers', 5, expect.any(String)],
      [
        'namespaces[0].slots.storage.type',
        6,
        expect.stringMatching(
          /^unknown backend type "s3": no "s3" adapter in this version of Prism \(known types: /,
        ),
      ],
    ]);
    expect(problems.every((p) => p.namespace === 'videos')).toBe(true);
  });

  it('checks the backend of an unknown pattern too', () => {
    const problems = problemsOf(one('    pattern: outbx\n    backend: { type: mongo }\n'));
    expect(problems.map((p) => p.field)).toEqual(['namespaces[0].pattern', 'namespaces[0].backend.type']);
    expect(problems[0]!.message).toMatch(/^unknown pattern "outbx"; known patterns: /);
  });

  it.each([
    ['outbox', /^unknown pattern "outbox": not in this version of Prism \(Outbox: /],
    ['wal', /^unknown pattern "wal": not in this version of Prism \(WAL: /],
    ['tiered-storage', /^unknown pattern "tiered-storage": not in this version of Prism \(Tiered Storage: /],
    [
      'transactional-queue',
      /^unknown pattern "transactional-queue" \(the design documents' name for "outbox"\): not in this version of Prism \(Outbox: /,
    ],
    [
      'event-stream',
      /^unknown pattern "event-stream" \(the design documents' name for "stream": use pattern: stream\); known patterns: /,
    ],
  ])('explains pattern %s', (pattern, message) => {
    const problems = problemsOf(one(`    pattern: ${pattern}\n    slots: {}\n`));
    expect(problemAt(problems, 'namespaces[0].pattern').message).toMatch(message);
    expect(problems).toHaveLength(1);
  });

  it('rejects slots that are not a map', () => {
    const problems = problemsOf(one('    pattern: outbox\n    slots: [postgres]\n'));
    expect(problemAt(problems, 'namespaces[0].slots').message).toBe('must be a map (slot name → backend)');
  });
});

describe('namespace names', () => {
  const named = (...names: string[]) =>
    `namespaces:\n${names.map((n) => `  - name: ${n}\n    pattern: keyvalue\n    backend: { type: memstore }\n`).join('')}`;

  it.each(['a', 'default', 'iot-devices', 'a1', '"0"', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(parseConfig(named(name), { file: 'f', catalog }).namespaces[0]!.name).toBe(
      name.replaceAll('"', ''),
    );
  });

  it.each(['Sessions', 'a_b', '-a', 'a-', 'a.b', 'x'.repeat(64), '""', '42'])('rejects %s', (name) => {
    const p = problemAt(problemsOf(named(name)), 'namespaces[0].name');
    expect(p.line).toBe(2);
    expect(p.message).toMatch(/^must be (1-63 characters|a string)/);
  });

  it('rejects duplicates at the second declaration', () => {
    const p = problemAt(problemsOf(named('a', 'b', 'a')), 'namespaces[2].name');
    expect(p).toMatchObject({
      line: 8,
      namespace: 'a',
      message: 'duplicate namespace name "a" (first declared in namespaces[0])',
    });
  });

  it('records the line each namespace starts on', () => {
    const cfg = parseConfig(`# comment\n${named('a', 'b')}`, { file: 'x.yaml', catalog });
    expect(cfg.namespaces.map((n) => n.source)).toEqual([
      { file: 'x.yaml', line: 3 },
      { file: 'x.yaml', line: 6 },
    ]);
  });
});

describe('ConfigError', () => {
  it('collects every problem of the file, sorted by position, one per line', () => {
    const message = messageOf(`namespaces:
  - name: sessions
    pattern: keyvalue
    needs: { ttl: true }
    backend: { type: postgres, config: {} }
  - name: Bad
    pattern: keyvalue
    backend: { type: memcached }
proxy:
  listen: nowhere
`);
    const lines = message.split('\n');
    expect(lines[0]).toBe('invalid Prism config conf/prism.yaml (4 problems):');
    expect(lines.slice(1)).toEqual([
      '  conf/prism.yaml:4:14: namespaces[0].needs.ttl: namespace "sessions": backend "postgres" does not implement keyvalue_ttl (needs.ttl); it implements keyvalue_basic, queue_basic, queue_visibility, queue_dead_letter',
      '  conf/prism.yaml:6:11: namespaces[1].name: must be 1-63 characters of a-z, 0-9 and "-", starting and ending with a letter or digit',
      '  conf/prism.yaml:8:22: namespaces[1].backend.type: unknown backend type "memcached": no "memcached" adapter in this version of Prism (known types: memstore, redis, nats, postgres); for a plugin from another package set plugin.package, or use plugin: { mode: remote, endpoint: ... }',
      '  conf/prism.yaml:10:11: proxy.listen: must be "host:port" with a port from 0 to 65535, e.g. "0.0.0.0:8980" (got "nowhere")',
    ]);
  });

  it('exposes structured problems', () => {
    const problems = problemsOf('proxy:\n  listen: nowhere\n', { file: 'p.yaml' });
    expect(problems).toEqual([
      {
        file: 'p.yaml',
        line: 2,
        column: 11,
        field: 'proxy.listen',
        message: 'must be "host:port" with a port from 0 to 65535, e.g. "0.0.0.0:8980" (got "nowhere")',
      },
    ]);
    expect(formatProblem(problems[0]!)).toBe(`p.yaml:2:11: proxy.listen: ${problems[0]!.message}`);
  });

  it('is an Error named ConfigError', () => {
    const err = new ConfigError([{ file: 'f', field: 'x', message: 'm' }]);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe('invalid Prism config f (1 problem):\n  f: x: m');
  });
});
