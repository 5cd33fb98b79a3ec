import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { buildProgram } from './program.js';

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
