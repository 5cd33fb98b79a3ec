import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigError, type ConfigProblem } from '@prism/config';
import { PluginCatalog } from './catalog.js';
import { loadProxyConfig } from './load.js';

// Namespaces sharing a backend must not see each other's data: config validation asks each real adapter
// definition where a namespace lives (`isolation`) and rejects overlaps, naming both namespaces.

const work = mkdtempSync(join(tmpdir(), 'prism-isolation-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

async function load(yaml: string) {
  const file = join(work, `prism-${n++}.yaml`);
  writeFileSync(file, yaml);
  return loadProxyConfig(file, undefined, {});
}

async function problems(yaml: string): Promise<readonly ConfigProblem[]> {
  const err = await load(yaml).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(err)}`);
  return err.problems;
}

const ns = (name: string, backend: string) =>
  `  - name: ${name}\n    pattern: keyvalue\n    backend: ${backend}\n`;
const redis = (url: string, extra = '') => `{ type: redis, config: { url: "${url}"${extra} } }`;

describe('overlapping namespaces on a shared backend', () => {
  it('rejects Redis key prefixes where one is a prefix of the other, naming both namespaces and fields', async () => {
    const found = await problems(
      `namespaces:\n${ns('app', redis('redis://127.0.0.1:6379', ', key_prefix: app'))}${ns('admin', redis('redis://127.0.0.1:6379', ', key_prefix: "app:admin:"'))}`,
    );
    expect(found).toHaveLength(1);
    const [p] = found;
    expect(p?.field).toBe('namespaces[1].backend.config.key_prefix');
    expect(p?.namespace).toBe('admin');
    expect(p?.line).toBe(7);
    expect(p?.message).toContain('namespaces "app" (namespaces[0]) and "admin"');
    expect(p?.message).toContain('key_prefix "app"');
    expect(p?.message).toContain('key_prefix "app:admin:"');
    expect(p?.message).toContain('keys in database 0');
    expect(p?.message).toContain('localhost:6379');
  });

  it('sees one server behind localhost and 127.0.0.1, and a custom prefix inside a default one', async () => {
    const [p] = await problems(
      `namespaces:\n${ns('app', redis('redis://localhost:6379'))}${ns('other', redis('redis://127.0.0.1', ', key_prefix: "app:x:"'))}`,
    );
    expect(p?.message).toMatch(/"app" uses "app:" \(from its name\), "other" uses key_prefix "app:x:"/);
  });

  it('accepts the same prefixes on different Redis servers or databases', async () => {
    await expect(
      load(
        `namespaces:\n${ns('app', redis('redis://127.0.0.1:6379', ', key_prefix: app'))}${ns('admin', redis('redis://127.0.0.1:6380', ', key_prefix: "app:admin:"'))}${ns('db1', redis('redis://127.0.0.1:6379/1', ', key_prefix: "app:admin:"'))}`,
      ),
    ).resolves.toBeDefined();
  });

  it('rejects equal prefixes in different databases: pub/sub channels are server-wide', async () => {
    const [p] = await problems(
      `namespaces:\n${ns('a', redis('redis://127.0.0.1:6379/0', ', key_prefix: "shared:"'))}${ns('b', redis('redis://127.0.0.1:6379', ', key_prefix: "shared:", database: 2'))}`,
    );
    expect(p?.message).toContain('pub/sub channels');
    expect(p?.field).toBe('namespaces[1].backend.config.key_prefix');
  });

  it('checks sidecar namespaces the same way', async () => {
    const side = `{ type: redis, plugin: { mode: sidecar }, config: { url: "redis://127.0.0.1:6379", key_prefix: "app:admin" } }`;
    const [p] = await problems(
      `namespaces:\n${ns('app', redis('redis://127.0.0.1:6379', ', key_prefix: "app:"'))}${ns('admin', side)}`,
    );
    expect(p?.message).toContain('namespaces "app" (namespaces[0]) and "admin"');
  });

  it('never flags the default prefixes, subjects, topics and tables, even for names like app and app-admin', async () => {
    const pg = (db: string) => `{ type: postgres, config: { url: "postgres://u@127.0.0.1:5432/${db}" } }`;
    const file = join(work, 'shared.db');
    const yaml = `namespaces:
${['app', 'app-admin', 'app-admin-2', 'ap'].map((name) => ns(name, redis('redis://127.0.0.1:6379'))).join('')}
${['app', 'app-admin']
  .map(
    (name) =>
      `  - name: q-${name}\n    pattern: pubsub\n    backend: { type: nats, config: { servers: ["nats://127.0.0.1:4222"] } }\n` +
      `  - name: k-${name}\n    pattern: pubsub\n    backend: { type: kafka, config: { brokers: ["127.0.0.1:9092"] } }\n` +
      ns(`p-${name}`, pg('prism')) +
      ns(`s-${name}`, `{ type: sqlite, config: { path: "${file}" } }`),
  )
  .join('')}`;
    const { config } = await load(yaml);
    expect(config.namespaces).toHaveLength(12);
  });

  it('each adapter declares its endpoint (never a credential) and scopes', async () => {
    const catalog = new PluginCatalog();
    await catalog.load(['redis', 'nats', 'kafka', 'postgres', 'sqlite', 'memstore']);
    const iso = (type: string, config: unknown, namespace: string) => {
      const d = catalog.describe(type)!;
      return d.isolation?.(d.configSchema!.parse(config), namespace);
    };
    const redisIso = iso('redis', { url: 'redis://:secret@LOCALHOST:6379/3' }, 'app');
    expect(redisIso).toEqual({
      endpoints: ['localhost:6379'],
      scopes: [
        { kind: 'keys in database 3', value: 'app:' },
        { kind: 'pub/sub channels (server-wide)', value: 'app:', match: 'exact' },
      ],
    });
    expect(iso('nats', { servers: ['nats://10.0.0.1', 'n2:4223'] }, 'ev')).toEqual({
      endpoints: ['10.0.0.1:4222', 'n2:4223'],
      scopes: [
        { kind: 'subjects', value: 'prism.ev.' },
        { kind: 'JetStream streams', value: 'PRISM_ev_' },
      ],
    });
    expect(iso('kafka', { brokers: 'kafka://B1:9092', topic_prefix: 'acme' }, 'ev')).toEqual({
      endpoints: ['b1:9092'],
      scopes: [{ kind: 'topics and consumer groups', value: 'acme.ev.', field: 'topic_prefix' }],
    });
    const pgIso = iso('postgres', { url: 'postgres://u:secret@db.internal/app' }, 'q');
    expect(pgIso).toEqual({
      endpoints: ['db.internal:5432/app'],
      scopes: [{ kind: 'rows of schema "prism"', value: 'q', match: 'exact' }],
    });
    expect(JSON.stringify([redisIso, pgIso])).not.toContain('secret');
    expect(iso('sqlite', { path: ':memory:' }, 'x')).toBeUndefined();
    expect(iso('sqlite', { path: '/var/lib/prism/kv.db' }, 'x')?.endpoints).toEqual([
      'file:/var/lib/prism/kv.db',
    ]);
    expect(catalog.describe('memstore')?.isolation).toBeUndefined(); // one private store per namespace
  });
});
