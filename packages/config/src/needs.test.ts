import { describe, expect, it } from '@jest/globals';
import { catalog, problemAt, problemsOf } from './catalog.fixture.js';
import { parseConfig } from './parse.js';

const parse = (yaml: string) => parseConfig(yaml, { file: 'prism.yaml', catalog, env: {} });
const CONFIG: Record<string, string> = { redis: '{ url: "redis://x" }', nats: '{ servers: [x] }' };
const ns = (pattern: string, needs: string, type = 'memstore') =>
  `namespaces:\n  - name: sessions\n    pattern: ${pattern}\n    needs: ${needs}\n    backend: { type: ${type}, config: ${CONFIG[type] ?? '{}'} }\n`;

describe('needs as a map', () => {
  it('adds <pattern>_basic and <pattern>_<key> for every true key, ignoring false ones', () => {
    const cfg = parse(ns('keyvalue', '{ ttl: true, scan: true, batch: false }'));
    expect(cfg.namespaces[0]!.needs).toEqual(['keyvalue_basic', 'keyvalue_ttl', 'keyvalue_scan']);
  });

  it('without needs only the basic flavour is needed', () => {
    const cfg = parse('namespaces:\n  - name: l\n    pattern: list\n    backend: { type: memstore }\n');
    expect(cfg.namespaces[0]!.needs).toEqual(['list_basic']);
  });

  it.each([
    ['pubsub', 'wildcards', 'nats', 'pubsub_wildcards'],
    ['queue', 'dead_letter', 'postgres', 'queue_dead_letter'],
  ])('%s needs.%s → %s', (pattern, key, type, flavour) => {
    expect(parse(ns(pattern, `{ ${key}: true }`, type)).namespaces[0]!.needs).toEqual([
      `${pattern}_basic`,
      flavour,
    ]);
  });

  it('names namespace, backend, each missing flavour and what the backend implements', () => {
    const problems = problemsOf(ns('pubsub', '{ persistent: true, wildcards: true }', 'redis'));
    expect(problems).toHaveLength(2);
    const p = problemAt(problems, 'namespaces[0].needs.persistent');
    expect(p).toMatchObject({ namespace: 'sessions', line: 4, column: 14 });
    expect(p.message).toBe(
      'backend "redis" does not implement pubsub_persistent (needs.persistent); it implements keyvalue_basic, keyvalue_ttl, keyvalue_scan, pubsub_basic',
    );
    expect(problemAt(problems, 'namespaces[0].needs.wildcards').message).toMatch(/pubsub_wildcards/);
  });

  it('the formatted error reads like the documented example', () => {
    try {
      parse(ns('keyvalue', '{ ttl: true }', 'postgres'));
      throw new Error('parsed');
    } catch (err) {
      expect((err as Error).message).toContain(
        'namespace "sessions": backend "postgres" does not implement keyvalue_ttl (needs.ttl); it implements keyvalue_basic, queue_basic',
      );
    }
  });

  it('reports a missing basic flavour at the pattern', () => {
    const p = problemAt(problemsOf(ns('pubsub', '{}', 'memstore')), 'namespaces[0].pattern');
    expect(p.message).toMatch(/^backend "memstore" does not implement pubsub_basic \(pattern pubsub\)/);
    expect(p.line).toBe(3);
  });

  it('explains service levels written as needs (latency, consistency, ...)', () => {
    const problems = problemsOf(
      ns('keyvalue', '{ latency: <1ms, ttl: true, consistency: strong, persistence: false, size: 5 }'),
    );
    expect(problems.map((p) => [p.field, p.message])).toEqual([
      [
        'namespaces[0].needs.latency',
        'must be true or false: needs names interface features the backend must implement (e.g. ttl: true); "latency" reads like a service level, which Prism does not check: choose a backend that meets it and remove the key',
      ],
      [
        'namespaces[0].needs.consistency',
        expect.stringMatching(/^must be true or false: .*"consistency" reads like a service level/),
      ],
      ['namespaces[0].needs.size', expect.stringMatching(/"size" reads like a service level/)],
    ]);
    expect(problemAt(problemsOf(ns('keyvalue', '{ ttl: [true] }')), 'namespaces[0].needs.ttl').message).toBe(
      'must be true or false',
    );
  });

  it('suggests the known flavour for a misspelt key', () => {
    const p = problemAt(problemsOf(ns('keyvalue', '{ tll: true }')), 'namespaces[0].needs.tll');
    expect(p.message).toMatch(/does not implement keyvalue_tll .* \(did you mean "keyvalue_ttl"\?\)$/);
  });

  it('rejects non-boolean values and malformed feature names', () => {
    const problems = problemsOf(ns('keyvalue', '{ ttl: yes-please, Scan: true }'));
    expect(problemAt(problems, 'namespaces[0].needs.ttl').message).toBe('must be true or false');
    expect(problemAt(problems, 'namespaces[0].needs.Scan').message).toMatch(/not a feature name/);
  });
});

describe('needs as a list', () => {
  it('takes flavour names as they are, keeps basic first and drops duplicates', () => {
    const cfg = parse(ns('keyvalue', '[keyvalue_scan, keyvalue_basic, keyvalue_ttl, keyvalue_scan]'));
    expect(cfg.namespaces[0]!.needs).toEqual(['keyvalue_basic', 'keyvalue_scan', 'keyvalue_ttl']);
  });

  it('accepts flavours of another model', () => {
    expect(parse(ns('keyvalue', '[list_basic]')).namespaces[0]!.needs).toEqual([
      'keyvalue_basic',
      'list_basic',
    ]);
  });

  it('reports missing flavours at their list position', () => {
    const p = problemAt(
      problemsOf(ns('keyvalue', '[keyvalue_ttl, pubsub_basic]', 'postgres')),
      'namespaces[0].needs[1]',
    );
    expect(p.message).toMatch(/^backend "postgres" does not implement pubsub_basic \(needs\[1\]\)/);
    expect(p).toMatchObject({ line: 4, column: 27 });
  });

  it('rejects names that are not <known model>_<feature>, suggesting the full name for a bare feature', () => {
    const problems = problemsOf(ns('keyvalue', '[ttl, cache_basic, KeyValue_TTL]'));
    expect(problemAt(problems, 'namespaces[0].needs[0]').message).toBe(
      'unknown flavour "ttl" (did you mean "keyvalue_ttl"?); flavours are <model>_<feature>, e.g. keyvalue_ttl',
    );
    expect(problemAt(problems, 'namespaces[0].needs[1]').message).toMatch(/^unknown flavour "cache_basic"/);
    expect(problemAt(problems, 'namespaces[0].needs[2]').message).toMatch(/^unknown flavour "KeyValue_TTL"/);
  });

  it('rejects needs that is neither a map nor a list', () => {
    expect(problemAt(problemsOf(ns('keyvalue', 'ttl')), 'namespaces[0].needs').message).toMatch(
      /map of features .* or a list of flavours/,
    );
  });

  it('still checks the basic flavour when needs itself is broken', () => {
    const problems = problemsOf(ns('pubsub', 'nonsense', 'memstore'));
    expect(problems.map((p) => p.field).sort()).toEqual(['namespaces[0].needs', 'namespaces[0].pattern']);
  });
});

describe('multicast-registry slots', () => {
  const iot = (slots: string) =>
    `namespaces:\n  - name: iot\n    pattern: multicast-registry\n    slots:\n${slots}`;

  it('accepts registry + messaging backends that implement what the slots need', () => {
    const cfg = parse(
      iot(
        '      registry: { type: redis, config: { url: "redis://127.0.0.1:6379" } }\n      messaging: { type: nats, config: { servers: ["nats://127.0.0.1:4222"] } }\n',
      ),
    );
    const n = cfg.namespaces[0]!;
    expect(n.needs).toEqual([]);
    expect(n.backend).toBeUndefined();
    expect(n.slots).toEqual({
      registry: { type: 'redis', plugin: { mode: 'in_process' }, config: { url: 'redis://127.0.0.1:6379' } },
      messaging: {
        type: 'nats',
        plugin: { mode: 'in_process' },
        config: { servers: ['nats://127.0.0.1:4222'] },
      },
    });
  });

  it('accepts the optional durability slot and checks it', () => {
    const base =
      '      registry: { type: memstore }\n      messaging: { type: nats, config: { servers: [x] } }\n';
    expect(
      Object.keys(parse(iot(`${base}      durability: { type: postgres }\n`)).namespaces[0]!.slots!),
    ).toEqual(['registry', 'messaging', 'durability']);
    const problems = problemsOf(iot(`${base}      durability: { type: memstore }\n`));
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^slot "durability": backend "memstore" does not implement queue_basic/),
      expect.stringMatching(/queue_visibility/),
      expect.stringMatching(/queue_dead_letter/),
    ]);
  });

  it('checks each slot against the catalog and its config schema', () => {
    const problems = problemsOf(
      iot('      registry: { type: nats, config: { servers: [] } }\n      messaging: { type: memstore }\n'),
    );
    expect(
      problems.filter((p) => p.field === 'namespaces[0].slots.registry.type').map((p) => p.message),
    ).toEqual([
      expect.stringMatching(
        /^slot "registry": backend "nats" does not implement keyvalue_basic \(slot registry of multicast-registry\)/,
      ),
      expect.stringMatching(/keyvalue_scan/),
    ]);
    expect(problemAt(problems, 'namespaces[0].slots.registry.config.servers').line).toBe(5);
    expect(problemAt(problems, 'namespaces[0].slots.messaging.type').message).toMatch(/pubsub_basic/);
    expect(problems.every((p) => p.namespace === 'iot')).toBe(true);
  });

  it('requires the registry and messaging slots and rejects unknown slot names', () => {
    const problems = problemsOf(
      iot('      registry: { type: redis, config: { url: "redis://x" } }\n      mesaging: { type: nats }\n'),
    );
    expect(problems.map((p) => [p.field, p.line, p.message])).toEqual([
      ['namespaces[0].slots', 5, expect.stringMatching(/^missing slot "messaging"/)],
      ['namespaces[0].slots.mesaging', 6, 'unknown key "mesaging" (did you mean "messaging"?)'],
    ]);
    expect(
      problemAt(problemsOf('namespaces:\n  - name: iot\n    pattern: multicast-registry\n'), 'namespaces[0]')
        .message,
    ).toBe('pattern multicast-registry needs slots: registry, messaging');
  });

  it('validates slots structurally: unknown types and keys', () => {
    const problems = problemsOf(iot('      registry: { type: redys, confg: {} }\n      messaging: nats\n'));
    expect(problemAt(problems, 'namespaces[0].slots.registry.type').message).toMatch(
      /^unknown backend type "redys" \(did you mean "redis"\?\); known types: memstore, redis, nats, postgres$/,
    );
    expect(problemAt(problems, 'namespaces[0].slots.registry.confg').message).toMatch(
      /did you mean "config"/,
    );
    expect(problemAt(problems, 'namespaces[0].slots.messaging').message).toMatch(/must be a map/);
  });

  it('rejects backend and needs on a slot pattern, and slots on a model pattern', () => {
    const slotProblems = problemsOf(
      'namespaces:\n  - name: iot\n    pattern: multicast-registry\n    needs: { ttl: true }\n    backend: { type: memstore }\n    slots: { registry: { type: memstore }, messaging: { type: nats, config: { servers: [x] } } }\n',
    );
    expect(slotProblems.map((p) => p.field)).toEqual(['namespaces[0].needs', 'namespaces[0].backend']);
    const modelProblems = problemsOf(
      'namespaces:\n  - name: kv\n    pattern: keyvalue\n    backend: { type: memstore }\n    slots: {}\n',
    );
    expect(problemAt(modelProblems, 'namespaces[0].slots').message).toMatch(/uses one backend/);
  });
});
