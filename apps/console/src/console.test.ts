/// <reference lib="dom" />
// The console in Debian's Chromium (playwright-core), served by real proxies on their admin listener:
// one without auth (MemStore, Redis, NATS and a MemStore sidecar), one with JWT auth for the read-only
// checks. Node clients write, publish and read Redis directly to check what the page shows and does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';
import { KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { PubSubBasicInterface } from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
import { QueueBasicInterface } from '@prism/proto/prism/queue/v1/queue_basic_pb';
import type { RunningProxy } from '@prism/proxy';
import { startIdentityProvider, type TestIdentityProvider, testServerUrl } from '@prism/testing';
import type { Browser, Page } from 'playwright-core';
import { createClient as createRedisClient, RESP_TYPES } from 'redis';
import {
  adminUrlOf,
  assertBuilt,
  launchChromium,
  nodeClient,
  openConsole,
  screenshot,
  startTestProxy,
  until,
  writeSlowRestartPlugin,
} from './harness.test-util.js';

/** How long the sidecar of namespace `sidecar` takes to come back after it was killed. */
const SLOW_RESTART_MS = 5000;
/** Redis keys of namespace `cache` start with this (the adapter's default key_prefix, `<namespace>:`). */
const REDIS_PREFIX = 'cache:';
const KEYS = 1000;

let dir: string;
let browser: Browser;
let idp: TestIdentityProvider;
/** No auth: mem (MemStore), cache (Redis), events (NATS), jobs (MemStore queue), sidecar (MemStore sidecar). */
let open: RunningProxy;
/** proxy.auth (JWT): viewer reads `notes`, editor reads and writes it, ops is admin. */
let secured: RunningProxy;
let redis: ReturnType<typeof createRedisClient>;

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);
const itemKey = (i: number) => `item:${String(i).padStart(4, '0')}`;

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'prism-console-'));
  writeSlowRestartPlugin(dir, SLOW_RESTART_MS);
  idp = await startIdentityProvider('prism');
  const redisUrl = testServerUrl('redis');
  [open, secured, browser] = await Promise.all([
    startTestProxy(
      dir,
      'open',
      `namespaces:
  - { name: mem, pattern: keyvalue, needs: { ttl: true, scan: true }, backend: { type: memstore } }
  - name: cache
    pattern: keyvalue
    needs: { ttl: true, scan: true }
    backend: { type: redis, config: { url: "${redisUrl}" } }
  - { name: events, pattern: pubsub, backend: { type: nats, config: { servers: ["${testServerUrl('nats')}"] } } }
  - { name: jobs, pattern: queue, backend: { type: memstore } }
  - name: sidecar
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: sidecar, package: ./slow-memstore } }
`,
    ),
    startTestProxy(
      dir,
      'secured',
      `proxy:
  auth:
    providers: [{ name: corp, type: jwt, issuer: "${idp.issuer}", audience: prism }]
  access: [{ principals: ["sub:ops"], permissions: [admin] }]
namespaces:
  - name: notes
    pattern: keyvalue
    needs: { ttl: true, scan: true }
    backend: { type: memstore }
    access:
      - { principals: ["sub:viewer"], permissions: [read] }
      - { principals: ["sub:editor"], permissions: [read, write] }
`,
    ),
    launchChromium(),
  ]);
  redis = createRedisClient({ url: redisUrl });
  await redis.connect();
  // 1,000 JSON values through the proxy, as an application would write them.
  const kv = nodeClient(open.url, KeyValueBasicInterface);
  for (let i = 0; i < KEYS; i += 100)
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        kv.set({
          namespace: 'cache',
          key: itemKey(i + j),
          value: bytes(JSON.stringify({ id: i + j, name: `item ${i + j}`, tags: ['console', 'demo'] })),
        }),
      ),
    );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await redis?.quit().catch(() => {});
  await Promise.allSettled([open?.shutdown(), secured?.shutdown(), idp?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The text of the console's status line that contains `part`. */
const statusWith = (page: Page, part: string | RegExp) => page.getByRole('status').filter({ hasText: part });

/** The keys the key list shows, in order. */
const shownKeys = (page: Page) =>
  page
    .getByRole('list', { name: /^Keys of / })
    .getByRole('button')
    .allTextContents();

describe('the console on the admin listener', () => {
  it('lists namespaces with backend, plugin mode, health and interfaces', async () => {
    const { page, context, problems } = await openConsole(browser, open);
    const card = (name: string) =>
      page.getByRole('listitem').filter({ has: page.getByRole('heading', { name, exact: true }) });
    await card('cache').waitFor();
    await expect(card('cache').textContent()).resolves.toMatch(/Backendredis.*Pluginin_process.*healthy/);
    await expect(card('sidecar').textContent()).resolves.toMatch(/Backendmemstore.*Pluginsidecar.*healthy/);
    await expect(card('events').textContent()).resolves.toMatch(/Backendnats/);
    const badges = await card('cache')
      .getByRole('list', { name: 'Interfaces of cache' })
      .getByRole('listitem')
      .allTextContents();
    expect(badges).toEqual(expect.arrayContaining(['keyvalue_basic', 'keyvalue_scan', 'keyvalue_ttl']));
    expect(await card('events').getByRole('list', { name: 'Interfaces of events' }).textContent()).toContain(
      'pubsub_basic',
    );
    await screenshot(page, 'namespaces.png');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('browses 1,000 Redis keys in pages of 100, forward and back', async () => {
    const { page, context, problems } = await openConsole(browser, open, '#/keys/cache');
    await page.getByLabel('Page size').selectOption('100');
    await page.getByLabel('Key prefix').fill('item:');
    await page.getByRole('button', { name: 'Scan' }).click();
    await statusWith(page, 'Page 1: keys 1–100 of 1,000 starting with "item:"').waitFor();
    const pages: string[][] = [await shownKeys(page)];
    for (let p = 2; p <= 10; p++) {
      await page.getByRole('button', { name: 'Next page' }).click();
      await statusWith(page, `Page ${p}: keys ${(p - 1) * 100 + 1}–${p * 100}`).waitFor();
      pages.push(await shownKeys(page));
    }
    expect(pages.map((p) => p.length)).toEqual(Array(10).fill(100));
    // Every key exactly once over the ten pages (Redis SCAN order is its own).
    expect(new Set(pages.flat()).size).toBe(KEYS);
    expect([...pages.flat()].sort()).toEqual(Array.from({ length: KEYS }, (_, i) => itemKey(i)));
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await screenshot(page, 'keys.png');
    // Back one page: the same keys as when going forward.
    await page.getByRole('button', { name: 'Previous page' }).click();
    await statusWith(page, 'Page 9: keys 801–900').waitFor();
    expect(await shownKeys(page)).toEqual(pages[8]);
    // The keyboard opens a key too.
    const first = pages[8]?.[0] as string;
    await page.getByRole('button', { name: first, exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 3, name: first }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a value as text, JSON and hex, edits it (Redis has the new bytes), sets a TTL and deletes', async () => {
    const { page, context, problems } = await openConsole(browser, open, '#/keys/cache');
    const key = itemKey(42);
    await page.getByLabel('Open key by name').fill(key);
    // The key form's own button: the namespace form (shown while namespaces load) has an "Open" too.
    await page
      .locator('form', { has: page.getByLabel('Open key by name') })
      .getByRole('button', { name: 'Open', exact: true })
      .click();
    await page.getByRole('heading', { level: 3, name: key }).waitFor();
    // JSON is chosen for a JSON value; text and hex on request.
    await expect(page.getByLabel('JSON', { exact: true }).isChecked()).resolves.toBe(true);
    const value = page.locator('pre.value');
    expect(await value.textContent()).toContain('"name": "item 42"');
    await screenshot(page, 'readme.png', false);
    await page.getByLabel('Hex', { exact: true }).check();
    expect(await value.textContent()).toMatch(/^00000000 {2}7b 22 69 64 22 3a 34 32/);
    await page.getByLabel('Text', { exact: true }).check();
    expect(await value.textContent()).toBe('{"id":42,"name":"item 42","tags":["console","demo"]}');

    await page.getByRole('button', { name: 'Edit value' }).click();
    await page.getByLabel('New value').fill('{"edited":true,"by":"console"}');
    await page.getByRole('button', { name: 'Save' }).click();
    await statusWith(page, 'Saved 30 B').waitFor();
    // The Redis adapter stores the value as a plain string at <key_prefix><key>.
    expect(await redis.get(`${REDIS_PREFIX}${key}`)).toBe('{"edited":true,"by":"console"}');
    expect(await value.textContent()).toContain('"edited": true');

    // Hex input writes raw bytes.
    await page.getByRole('button', { name: 'Edit value' }).click();
    await page.getByLabel('Write as').selectOption('hex');
    await page.getByLabel('New value').fill('00 ff 10 41');
    await page.getByRole('button', { name: 'Save' }).click();
    await statusWith(page, 'Saved 4 B').waitFor();
    const raw = redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    expect(await raw.get(`${REDIS_PREFIX}${key}`)).toEqual(Buffer.from([0x00, 0xff, 0x10, 0x41]));
    await expect(page.getByLabel('Hex', { exact: true }).isChecked()).resolves.toBe(true);

    // TTL: set, seen in Redis (PTTL), removed.
    await page.getByLabel('TTL (seconds)').fill('120');
    await page.getByRole('button', { name: 'Set TTL' }).click();
    await statusWith(page, 'TTL set to 2 min 0 s').waitFor();
    const pttl = await redis.pTTL(`${REDIS_PREFIX}${key}`);
    expect(pttl).toBeGreaterThan(100_000);
    expect(pttl).toBeLessThanOrEqual(120_000);
    await page.getByText(/expires in (1|2) min/).waitFor();
    await screenshot(page, 'key-value.png');
    await page.getByRole('button', { name: 'Remove TTL' }).click();
    await statusWith(page, 'TTL removed').waitFor();
    expect(await redis.pTTL(`${REDIS_PREFIX}${key}`)).toBe(-1);

    // Delete asks first.
    await page.getByRole('button', { name: 'Delete key' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByText('Choose a key to see its value.').waitFor();
    expect(await redis.exists(`${REDIS_PREFIX}${key}`)).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('tails a NATS topic while another client publishes: pause, resume and a bounded buffer', async () => {
    const { page, context, problems } = await openConsole(browser, open, '#/tail/events');
    const topic = 'orders.created';
    await page.getByLabel('Topic', { exact: true }).fill(topic);
    await page.getByRole('button', { name: 'Start tail' }).click();
    await statusWith(page, `Tailing topic ${topic}`).waitFor();
    const pubsub = nodeClient(open.url, PubSubBasicInterface);
    const publish = async (from: number, to: number) => {
      for (let i = from; i <= to; i++)
        await pubsub.publish({
          namespace: 'events',
          topic,
          payload: bytes(`order ${i}`),
          metadata: { source: 'node' },
        });
    };
    const rows = page.locator('table.messages tbody tr');
    const payloads = () => page.locator('table.messages tbody td.payload').allTextContents();

    await publish(1, 20);
    await until('20 rows', async () => (await rows.count()) === 20);
    expect(await payloads()).toEqual(Array.from({ length: 20 }, (_, i) => `order ${20 - i}`));
    expect(await rows.first().textContent()).toContain('source=node');

    // Paused: messages keep arriving (counted), the view holds still.
    await page.getByRole('button', { name: 'Pause' }).click();
    await publish(21, 25);
    await statusWith(page, '25 received').waitFor();
    await statusWith(page, 'paused, 5 new not shown').waitFor();
    expect(await rows.count()).toBe(20);
    await page.getByRole('button', { name: 'Resume' }).click();
    await until('25 rows', async () => (await rows.count()) === 25);
    expect((await payloads())[0]).toBe('order 25');

    // The buffer keeps the newest 100 and counts what it dropped.
    await page.getByLabel('Keep newest').selectOption('100');
    await publish(26, 150);
    await statusWith(page, '150 received · 100 shown · 50 older dropped').waitFor();
    expect(await rows.count()).toBe(100);
    expect((await payloads())[0]).toBe('order 150');
    expect((await payloads()).at(-1)).toBe('order 51');
    await screenshot(page, 'tail.png');
    await page.getByRole('button', { name: 'Stop' }).click();
    await statusWith(page, 'Stopped').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('charts request rate and p99 per namespace from /metrics', async () => {
    const { page, context, problems } = await openConsole(browser, open, '#/metrics');
    await page.getByLabel('Refresh every').selectOption('1');
    const kv = nodeClient(open.url, KeyValueBasicInterface);
    let stop = false;
    const traffic = (async () => {
      while (!stop)
        await Promise.all(Array.from({ length: 10 }, () => kv.get({ namespace: 'mem', key: 'k' })));
    })();
    try {
      const rate = page.locator('tr[data-namespace="mem"] td[data-metric="rate"]');
      const p99 = page.locator('tr[data-namespace="mem"] td[data-metric="p99"]');
      await until(
        'a rate above 10/s and a p99 for mem',
        async () => {
          const r = Number((await rate.textContent().catch(() => '')) ?? '');
          return r > 10 && /ms$/.test((await p99.textContent().catch(() => '')) ?? '');
        },
        20_000,
      );
    } finally {
      stop = true;
      await traffic;
    }
    const card = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: 'mem', exact: true }) });
    expect(await card.locator('canvas').count()).toBe(2);
    expect(await card.getByRole('figure').allTextContents()).toEqual([
      expect.stringMatching(/^Requests\/s: \d/),
      expect.stringMatching(/^p99 latency: [\d.]+ ms/),
    ]);
    await screenshot(page, 'metrics.png');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows queue calls and the dead-letter policy form', async () => {
    const queue = nodeClient(open.url, QueueBasicInterface);
    await queue.enqueue({ namespace: 'jobs', queue: 'emails', payload: bytes('hello') });
    const { page, context, problems } = await openConsole(browser, open, '#/queues/jobs');
    await page.getByRole('rowheader', { name: 'Enqueue' }).waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'Enqueue' }).textContent()).toBe('Enqueue10');
    await page.getByLabel('Queue', { exact: true }).fill('emails');
    await page.getByLabel('Dead-letter queue').fill('emails.dead');
    await page.getByRole('button', { name: 'Apply policy' }).click();
    await statusWith(page, 'emails: messages delivered more than 5 times move to emails.dead').waitFor();
    await screenshot(page, 'queues.png');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('sees a killed sidecar turn unhealthy, then recover with its restart and last error', async () => {
    const admin = nodeClient(adminUrlOf(open), AdminService);
    const before = (await admin.getPluginStatus({ namespace: 'sidecar' })).plugin;
    expect(before).toMatchObject({ pluginMode: 'sidecar', state: 'running', restarts: 0 });
    const { page, context, problems } = await openConsole(browser, open, '#/plugins');
    const card = page.locator('li[data-namespace="sidecar"]');
    await card.getByTitle('state: running').waitFor();
    expect(await card.locator('[data-field="pid"]').textContent()).toBe(String(before?.pid));

    process.kill(before?.pid as number, 'SIGKILL');
    await card.getByTitle('state: restarting').waitFor({ timeout: 5000 });
    await card.getByTitle('health: unhealthy').waitFor({ timeout: 5000 });
    expect(await card.locator('[data-field="last-error"]').textContent()).toMatch(/SIGKILL|exit/i);
    await screenshot(page, 'plugins-down.png');

    await card.getByTitle('health: healthy').waitFor({ timeout: SLOW_RESTART_MS + 15_000 });
    await card.getByTitle('state: running').waitFor();
    expect(await card.locator('[data-field="restarts"]').textContent()).toBe('1');
    const after = (await admin.getPluginStatus({ namespace: 'sidecar' })).plugin;
    expect(after?.pid).not.toBe(before?.pid);
    expect(await card.locator('[data-field="pid"]').textContent()).toBe(String(after?.pid));
    const log = await page.getByRole('log').textContent();
    expect(log).toMatch(/sidecar: plugin running → restarting/);
    expect(log).toMatch(/sidecar: health unhealthy → healthy/);
    expect(log).toMatch(/sidecar: restarted \(restarts 0 → 1, pid \d+\)/);
    await screenshot(page, 'plugins.png');
    // The namespace serves again.
    const kv = nodeClient(open.url, KeyValueBasicInterface);
    await kv.set({ namespace: 'sidecar', key: 'back', value: bytes('yes') });
    expect(text((await kv.get({ namespace: 'sidecar', key: 'back' })).value)).toBe('yes');
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('fits a 390 px screen on every page', async () => {
    const { page, context, problems } = await openConsole(browser, open, '#/namespaces', 390);
    for (const hash of [
      '#/namespaces',
      '#/keys/cache',
      '#/tail/events',
      '#/queues/jobs',
      '#/metrics',
      '#/plugins',
    ]) {
      await page.goto(`${adminUrlOf(open)}/console/${hash}`);
      await page.getByRole('heading', { level: 2 }).first().waitFor();
      if (hash === '#/keys/cache') {
        await statusWith(page, 'Page 1').waitFor();
        await page
          .getByRole('list', { name: /^Keys of / })
          .getByRole('button')
          .first()
          .click();
        await page.locator('pre.value').waitFor();
      }
      if (hash === '#/plugins') await page.locator('li[data-namespace="sidecar"]').waitFor();
      if (hash === '#/metrics') await page.locator('canvas').first().waitFor({ timeout: 15_000 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect({ hash, overflow }).toEqual({ hash, overflow: 0 });
      await screenshot(page, `${hash.slice(2).split('/')[0]}-390.png`);
    }
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('tokens and permissions (proxy.auth)', () => {
  beforeAll(async () => {
    const kv = nodeClient(secured.url, KeyValueBasicInterface, await idp.token({ sub: 'editor' }));
    for (const [key, value] of [
      ['note:1', 'first note'],
      ['note:2', '{"pinned":true}'],
    ] as const)
      await kv.set({ namespace: 'notes', key, value: bytes(value) });
  });

  async function withToken(sub: string, hash: string) {
    const c = await openConsole(browser, secured, hash);
    const token = await idp.token({ sub });
    await c.page.getByLabel('Token', { exact: true }).fill(token);
    await c.page.getByRole('button', { name: 'Use token' }).click();
    return { ...c, token };
  }

  it('a read-only token browses and reads, but sees no write buttons', async () => {
    const { page, context, problems, token } = await withToken('viewer', '#/keys/notes');
    await page.getByText('not an admin').waitFor();
    await statusWith(page, 'Page 1: keys 1–2 of 2').waitFor();
    await page.getByText('Read-only: this token has no write permission on notes').waitFor();
    await page.getByRole('button', { name: 'note:1' }).click();
    expect(await page.locator('pre.value').textContent()).toBe('first note');
    for (const name of ['Edit value', 'Delete key', 'Set TTL'])
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    expect(await page.getByText('New key').count()).toBe(0);
    await screenshot(page, 'read-only.png');
    // The token stays for this tab (sessionStorage), never in localStorage.
    expect(await page.evaluate(() => sessionStorage.getItem('prism.console.token'))).toBe(token);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.reload();
    await page.getByText('not an admin').waitFor();
    // The admin-only screens say why they are empty.
    await page.goto(`${adminUrlOf(secured)}/console/#/plugins`);
    await page
      .getByText(/Plugin status comes from the admin API, which this token may not use \(PERMISSION_DENIED/)
      .waitFor();
    await page.goto(`${adminUrlOf(secured)}/console/#/metrics`);
    await page
      .getByRole('alert')
      .filter({ hasText: /^PERMISSION_DENIED: .*no admin permission/ })
      .waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a token with write permission gets the write buttons; an admin token lists namespaces', async () => {
    const editor = await withToken('editor', '#/keys/notes');
    await statusWith(editor.page, 'Page 1').waitFor();
    await editor.page.getByRole('button', { name: 'note:2' }).click();
    await editor.page.getByRole('button', { name: 'Edit value' }).waitFor();
    expect(await editor.page.getByRole('button', { name: 'Delete key' }).count()).toBe(1);
    expect(await editor.page.getByText('New key').count()).toBe(1);
    await editor.context.close();

    const ops = await withToken('ops', '#/namespaces');
    await ops.page.getByText('admin API allowed').waitFor();
    await ops.page.getByRole('heading', { name: 'notes', exact: true }).waitFor();
    await ops.context.close();

    // Without a token nothing is readable, and the page says so.
    const anonymous = await openConsole(browser, secured, '#/keys/notes');
    await anonymous.page
      .getByRole('alert')
      .filter({ hasText: /^UNAUTHENTICATED: no credentials/ })
      .waitFor();
    expect([...editor.problems, ...ops.problems, ...anonymous.problems]).toEqual([]);
    await anonymous.context.close();
  });
});
