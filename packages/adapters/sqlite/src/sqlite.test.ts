import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { kvBasic } from '@prism/keyvalue-basic/conformance';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { kvScan } from '@prism/keyvalue-scan/conformance';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { kvTTL, waitUntil } from '@prism/keyvalue-ttl/conformance';
import { Code, ConnectError, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { describeBackendConformance } from '@prism/testing/conformance';
import Database from 'better-sqlite3';
import plugin from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'prism-sqlite-'));
const file = join(dir, 'kv.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (s: string) => new TextEncoder().encode(s);

// Every declared interface's suite in memory and on a file, and UNIMPLEMENTED through the proxy for the rest.
describeBackendConformance('sqlite :memory:', { plugin, config: { path: ':memory:' } });
describeBackendConformance('sqlite file', { plugin, config: { path: file } });

describe('sqlite adapter on a file', () => {
  const handles: PluginHandle[] = [];
  const open = async (namespace: string) => {
    const h = await instantiatePlugin(plugin, { path: file }, { namespace });
    handles.push(h);
    return kvBasic(h.get(KeyValueBasic)!, namespace);
  };
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
  });

  it('writes rows a separate SQLite connection can read, tagged with the namespace, in WAL mode', async () => {
    const kv = await open('rows-a');
    await kv.set('user:1', bytes('alice'));
    const direct = new Database(file, { readonly: true });
    try {
      expect(direct.pragma('journal_mode', { simple: true })).toBe('wal');
      const row = direct
        .prepare('SELECT namespace, key, value, expires_at FROM prism_kv WHERE namespace = ? AND key = ?')
        .get('rows-a', 'user:1') as { namespace: string; key: string; value: Buffer; expires_at: null };
      expect(row).toEqual({
        namespace: 'rows-a',
        key: 'user:1',
        value: Buffer.from('alice'),
        expires_at: null,
      });
      await kv.delete('user:1');
      expect(direct.prepare('SELECT count(*) AS n FROM prism_kv WHERE namespace = ?').get('rows-a')).toEqual({
        n: 0,
      });
    } finally {
      direct.close();
    }
  });

  it('keeps namespaces sharing one file apart, in the table too', async () => {
    const a = await open('iso-a');
    const b = await open('iso-b');
    await a.set('same', bytes('from-a'));
    await b.set('same', bytes('from-b'));
    expect((await a.get('same')).value).toEqual(bytes('from-a'));
    expect((await b.get('same')).value).toEqual(bytes('from-b'));
    expect(await b.delete('same')).toBe(true);
    expect(await a.exists('same')).toBe(true);
    const direct = new Database(file, { readonly: true });
    try {
      const rows = direct
        .prepare(
          "SELECT namespace FROM prism_kv WHERE key = 'same' AND namespace LIKE 'iso-_' ORDER BY namespace",
        )
        .all();
      expect(rows).toEqual([{ namespace: 'iso-a' }]);
    } finally {
      direct.close();
    }
  });

  it('stores the expiry in expires_at and sweeps expired rows without any read', async () => {
    const h = await instantiatePlugin(plugin, { path: file, sweep_interval_ms: 20 }, { namespace: 'sweep' });
    handles.push(h);
    const ttl = kvTTL(h.get(KeyValueTTL)!, 'sweep');
    const before = Date.now();
    await ttl.setWithTTL('short', bytes('v'), 100);
    await ttl.setWithTTL('long', bytes('v'), 60_000);
    const direct = new Database(file, { readonly: true });
    try {
      const expiry = direct
        .prepare("SELECT expires_at FROM prism_kv WHERE namespace = 'sweep' AND key = ?")
        .pluck();
      expect(expiry.get('short')).toBeGreaterThanOrEqual(before + 100);
      const rows = direct.prepare("SELECT key FROM prism_kv WHERE namespace = 'sweep' ORDER BY key").pluck();
      await waitUntil(async () => rows.all().length === 1, 'the sweeper deleted the expired row');
      expect(rows.all()).toEqual(['long']);
    } finally {
      direct.close();
    }
  });

  it('keeps namespaces on one file apart in Scan and Count', async () => {
    const a = await instantiatePlugin(plugin, { path: file }, { namespace: 'scan-a' });
    const b = await instantiatePlugin(plugin, { path: file }, { namespace: 'scan-b' });
    handles.push(a, b);
    await kvBasic(a.get(KeyValueBasic)!, 'scan-a').set('p/1', bytes('a'));
    await kvBasic(b.get(KeyValueBasic)!, 'scan-b').set('p/2', bytes('b'));
    const scanA = kvScan(a.get(KeyValueScan)!, 'scan-a');
    expect(await scanA.keys('')).toEqual(['p/1']);
    expect(await scanA.count('p/')).toBe(1);
    expect(await kvScan(b.get(KeyValueScan)!, 'scan-b').keys('p/')).toEqual(['p/2']);
  });

  it('answers UNAVAILABLE when another connection holds the write lock past busy_timeout_ms', async () => {
    const h = await instantiatePlugin(plugin, { path: file, busy_timeout_ms: 50 }, { namespace: 'busy' });
    handles.push(h);
    const kv = kvBasic(h.get(KeyValueBasic)!, 'busy');
    await kv.set('k', bytes('before'));
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const err = await kv.set('k', bytes('during')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.Unavailable);
      expect((err as ConnectError).rawMessage).toMatch(/locked/);
      expect(await kv.get('k')).toEqual({ found: true, value: bytes('before') }); // WAL: readers never wait
      other.exec('ROLLBACK');
      await kv.set('k', bytes('after'));
      expect((await kv.get('k')).value).toEqual(bytes('after'));
    } finally {
      other.close();
    }
  });

  it('keeps data across a close and reopen of the file', async () => {
    const h = await instantiatePlugin(plugin, { path: file }, { namespace: 'durable' });
    await kvBasic(h.get(KeyValueBasic)!, 'durable').set('k', bytes('v'));
    await h.close();
    const kv = await open('durable');
    expect(await kv.get('k')).toEqual({ found: true, value: bytes('v') });
  });

  it('reports healthy while open', async () => {
    const h = await instantiatePlugin(plugin, { path: file }, { namespace: 'health' });
    expect((await h.health()).status).toBe('healthy');
    await h.close();
    expect((await h.health()).status).toBe('unhealthy');
  });

  it('answers UNAVAILABLE after close instead of crashing', async () => {
    const h = await instantiatePlugin(plugin, { path: file }, { namespace: 'closed' });
    const kv = kvBasic(h.get(KeyValueBasic)!, 'closed');
    await h.close();
    await expect(kv.get('k')).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it('fails to start with an error naming the namespace, the backend and the path', async () => {
    const bad = join(dir, 'missing-dir', 'kv.db');
    const err = await instantiatePlugin(plugin, { path: bad }, { namespace: 'orders' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    const message = (err as ConnectError).rawMessage;
    expect(message).toContain('namespace "orders"');
    expect(message).toContain('sqlite');
    expect(message).toContain(bad);
  });

  it('rejects an invalid config naming the field', async () => {
    await expect(instantiatePlugin(plugin, { busy_timeout_ms: -1 }, { namespace: 'cfg' })).rejects.toThrow(
      /busy_timeout_ms/,
    );
  });
});
