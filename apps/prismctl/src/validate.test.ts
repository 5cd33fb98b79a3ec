import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { json, prismctl, tempDir } from './cli.test-util.js';
import { buildProgram } from './program.js';
import type { ValidationReport } from './validate.js';

describe('prismctl validate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prismctl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('summarizes a valid config', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(
      file,
      'namespaces:\n  - name: side\n    pattern: keyvalue\n    needs: { ttl: true }\n    backend: { type: memstore, plugin: { mode: sidecar } }\n',
    );
    const out: string[] = [];
    await buildProgram((s) => out.push(s)).parseAsync(['node', 'prismctl', 'validate', file]);
    expect(out.join('\n')).toContain(`${file}: OK, 1 namespace(s)`);
    expect(out.join('\n')).toContain(
      'side: keyvalue on memstore (sidecar); needs keyvalue_basic, keyvalue_ttl',
    );
  });

  it('lists every problem with its line and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'namespaces:\n  - name: a\n    pattern: keyvalue\n    backend: { type: memstore, config: { max_keys: -1 } }\n',
    );
    const errors: string[] = [];
    const before = process.exitCode;
    await buildProgram(
      () => {},
      (s) => errors.push(s),
    ).parseAsync(['node', 'prismctl', 'validate', file]);
    expect(process.exitCode).toBe(1);
    process.exitCode = before;
    expect(errors.join('\n')).toMatch(/bad\.yaml:4:\d+: namespaces\[0\]\.backend\.config\.max_keys/);
  });
});

describe('prismctl validate: the interface report', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  const kv = tmp.write(
    'kv.yaml',
    'namespaces:\n  - name: cache\n    pattern: keyvalue\n    needs: { ttl: true, scan: true }\n    backend: { type: redis, config: { url: "redis://127.0.0.1:6379" } }\n  - name: far\n    pattern: pubsub\n    backend: { type: acme, plugin: { mode: remote, endpoint: "https://plugins.internal:9443" } }\n',
  );
  const iot = tmp.write(
    'iot.yaml',
    'namespaces:\n  - name: iot\n    pattern: multicast-registry\n    slots:\n      registry: { type: redis }\n      messaging: { type: nats }\n      durability: { type: postgres, config: { url: "postgres://x@127.0.0.1/db" } }\n  - name: side\n    pattern: keyvalue\n    backend: { type: memstore }\n  - name: iot2\n    pattern: multicast-registry\n    slots:\n      registry: { type: sqlite }\n      messaging: { type: postgres, config: { url: "postgres://x@127.0.0.1/db" } }\n',
  );

  it('marks each required interface per namespace, ? for a remote plugin the proxy does not ship', async () => {
    const r = await prismctl(['validate', kv]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain(`${kv}: OK, 2 namespace(s)`);
    expect(r.out).toMatch(
      /cache: keyvalue on redis \(in_process\); needs keyvalue_basic, keyvalue_ttl, keyvalue_scan\n\s+Required interfaces:\n\s+✓ keyvalue_basic\s+\(redis implements\)\n\s+✓ keyvalue_ttl\s+\(redis implements\)\n\s+✓ keyvalue_scan/,
    );
    expect(r.out).toContain('far: pubsub on acme (remote https://plugins.internal:9443)');
    expect(r.out).toMatch(/\? pubsub_basic\s+\(checked when the proxy connects to the plugin\)/);
  });

  it('reports slots with ✓ and ✗ for required and optional interfaces, and fails: slots are not served', async () => {
    const r = await prismctl(['validate', iot]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${iot}: FAILED, 2 of 3 namespace(s) not served by this proxy version`);
    // iot: every slot filled; nats has pubsub_persistent, redis has keyvalue_ttl.
    expect(r.out).toMatch(
      /iot: multicast-registry on slots \(registry, messaging, durability\)\n\s+Slot: registry: identity → metadata store\n\s+Backend: redis \(in_process\)\n\s+Required interfaces:\n\s+✓ keyvalue_basic\s+\(redis implements\)\n\s+✓ keyvalue_scan\s+\(redis implements\)\n\s+Optional interfaces:\n\s+✓ keyvalue_ttl\s+\(redis implements\)\n\s+Slot: messaging: delivers multicast messages\n\s+Backend: nats \(in_process\)\n\s+Required interfaces:\n\s+✓ pubsub_basic\s+\(nats implements\)\n\s+Optional interfaces:\n\s+✓ pubsub_persistent\s+\(nats implements\)\n\s+Slot: durability \(optional\): .*\n\s+Backend: postgres \(in_process\)\n\s+Required interfaces:\n\s+✓ queue_basic\s+\(postgres implements\)\n\s+✓ queue_visibility\s+\(postgres implements\)\n\s+✓ queue_dead_letter\s+\(postgres implements\)\n\s+✗ pattern multicast-registry is not served by this proxy version/,
    );
    // iot2: postgres has no persistent pub/sub; durability left out.
    expect(r.out).toMatch(/✗ pubsub_persistent\s+\(postgres does not implement\)/);
    expect(r.out).toMatch(/Slot: durability \(optional\): .*\n\s+Backend: not set/);
    expect(r.out).toContain('side: keyvalue on memstore (in_process)');
    // The same problems the proxy prints when it refuses to start.
    expect(r.err.split('\n')).toEqual([
      expect.stringMatching(
        /iot\.yaml:2: namespaces\[0\]\.pattern: namespace "iot": pattern "multicast-registry" with slots is not served by this proxy version/,
      ),
      expect.stringMatching(/iot\.yaml:11: namespaces\[2\]\.pattern: namespace "iot2": /),
    ]);
  });

  it('prints the report as JSON with --json', async () => {
    const ok = await prismctl(['validate', kv, '--json']);
    expect(ok.code).toBe(0);
    const report = json<ValidationReport>(ok);
    expect(report).toEqual({
      file: kv,
      ok: true,
      problems: [],
      namespaces: [
        {
          name: 'cache',
          pattern: 'keyvalue',
          line: 2,
          served: true,
          backend: { type: 'redis', mode: 'in_process' },
          needs: [
            { interface: 'keyvalue_basic', implemented: true },
            { interface: 'keyvalue_ttl', implemented: true },
            { interface: 'keyvalue_scan', implemented: true },
          ],
        },
        {
          name: 'far',
          pattern: 'pubsub',
          line: 6,
          served: true,
          backend: { type: 'acme', mode: 'remote', endpoint: 'https://plugins.internal:9443' },
          needs: [{ interface: 'pubsub_basic', implemented: null }],
        },
      ],
    });

    const failed = await prismctl(['validate', iot, '--json']);
    expect(failed.code).toBe(1);
    const slots = json<ValidationReport>(failed);
    expect(slots.ok).toBe(false);
    expect(slots.problems.map((p) => [p.field, p.namespace])).toEqual([
      ['namespaces[0].pattern', 'iot'],
      ['namespaces[2].pattern', 'iot2'],
    ]);
    const iot2 = slots.namespaces.find((n) => n.name === 'iot2')!;
    expect(iot2.served).toBe(false);
    expect(iot2.slots).toEqual([
      {
        slot: 'registry',
        description: 'identity → metadata store',
        optional: false,
        backend: { type: 'sqlite', mode: 'in_process' },
        required: [
          { interface: 'keyvalue_basic', implemented: true },
          { interface: 'keyvalue_scan', implemented: true },
        ],
        optionalInterfaces: [{ interface: 'keyvalue_ttl', implemented: true }],
      },
      {
        slot: 'messaging',
        description: 'delivers multicast messages',
        optional: false,
        backend: { type: 'postgres', mode: 'in_process' },
        required: [{ interface: 'pubsub_basic', implemented: true }],
        optionalInterfaces: [{ interface: 'pubsub_persistent', implemented: false }],
      },
      {
        slot: 'durability',
        description: 'keeps undelivered messages for offline identities',
        optional: true,
        required: [
          { interface: 'queue_basic', implemented: null },
          { interface: 'queue_visibility', implemented: null },
          { interface: 'queue_dead_letter', implemented: null },
        ],
        optionalInterfaces: [],
      },
    ]);
  });

  it('reports an invalid config as problems in JSON too, and an unreadable file', async () => {
    const bad = tmp.write(
      'bad.yaml',
      'namespaces:\n  - name: a\n    pattern: keyvalue\n    backend: { type: nats }\n',
    );
    const r = await prismctl(['validate', bad, '--json']);
    expect(r.code).toBe(1);
    const report = json<ValidationReport>(r);
    expect(report.namespaces).toEqual([]);
    expect(report.problems[0]).toMatchObject({ field: 'namespaces[0].pattern', line: 3 });
    expect(report.problems[0]!.message).toMatch(/"nats" does not implement keyvalue_basic/);

    const missing = await prismctl(['validate', join(tmp.dir, 'nope.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope\.yaml: .*ENOENT/);
  });

  it('is a usage error without a file', async () => {
    const r = await prismctl(['validate']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("missing required argument 'file'");
  });
});
