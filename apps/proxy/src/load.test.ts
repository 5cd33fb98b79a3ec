import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '@prism/config';
import { loadProxyConfig, UnservedConfigError } from './load.js';

const work = mkdtempSync(join(tmpdir(), 'prism-load-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('loadProxyConfig', () => {
  it('refuses a valid config this proxy version does not serve (slot patterns), like at start', async () => {
    const file = join(work, 'slots.yaml');
    writeFileSync(
      file,
      'namespaces:\n  - name: kv\n    pattern: keyvalue\n    backend: { type: memstore }\n  - name: iot\n    pattern: multicast-registry\n    slots:\n      registry: { type: memstore }\n      messaging: { type: memstore }\n',
    );
    const err = await loadProxyConfig(file, undefined, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnservedConfigError);
    expect(err).toBeInstanceOf(ConfigError); // main and reload print it like any invalid config
    const unserved = err as UnservedConfigError;
    expect(unserved.problems).toEqual([
      {
        file,
        line: 5,
        namespace: 'iot',
        field: 'namespaces[1].pattern',
        message: expect.stringMatching(
          /^pattern "multicast-registry" with slots is not served by this proxy version: the config is valid/,
        ),
      },
    ]);
    expect(unserved.message).toContain(`${file}:5: namespaces[1].pattern: namespace "iot": pattern`);
    // What was loaded stays available to tools that report on it (prismctl validate).
    expect(unserved.config.namespaces.map((n) => n.name)).toEqual(['kv', 'iot']);
    expect(unserved.catalog.describe('memstore')?.interfaces).toContain('pubsub_basic');
  });

  it('loads a config of single-backend patterns', async () => {
    const file = join(work, 'ok.yaml');
    writeFileSync(
      file,
      'namespaces:\n  - name: kv\n    pattern: keyvalue\n    backend: { type: memstore }\n',
    );
    const { config } = await loadProxyConfig(file, undefined, {});
    expect(config.namespaces.map((n) => n.name)).toEqual(['kv']);
  });
});
