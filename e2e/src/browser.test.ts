import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { Code, createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { PubSubBasicInterface } from '@prism/pubsub-basic';
import { startIdentityProvider, type TestIdentityProvider } from '@prism/testing';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Protocol } from '../browser/main.js';
import { type ProxyProcess, ROOT, startProxyProcess } from './proxy-process.js';

// The page in e2e/browser/ (connect-web, built with Vite) runs in Debian's Chromium, served by a static
// server on its own port, i.e. from another origin than the proxy's: every call is a cross-origin fetch
// with a CORS preflight. Node clients check what the page wrote and publish what it receives.

const run = promisify(execFile);
const PROTOCOLS: Protocol[] = ['connect', 'grpc-web'];
const SCREENSHOTS = join(ROOT, 'e2e/output/browser');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

let dir: string;
let idp: TestIdentityProvider;
let browser: Browser;
/** Serves the page from the origin both proxies list in `cors.allowed_origins`. */
let listed: StaticSite;
/** The same page from an origin no proxy lists. */
let unlisted: StaticSite;
/** No auth: keyvalue namespace `kv`, pubsub namespace `events`. */
let open: ProxyProcess;
/** `proxy.auth` with a JWT provider; `kv` allows `sub:browser`. */
let secured: ProxyProcess;

interface StaticSite {
  readonly origin: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** A static file server for `root` on a free loopback port (a different port is a different origin). */
async function serveStatic(root: string): Promise<StaticSite> {
  const server = http.createServer((req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+$/, '/index.html');
    try {
      const body = readFileSync(join(root, path));
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A preflight as Chromium sent it (and what it got back), seen through the DevTools protocol. */
interface Preflight {
  url: string;
  request: Record<string, string>;
  status?: number;
  response?: Record<string, string>;
}

/** A call the page made (a POST to the proxy); `corsError` when the browser refused it. */
interface PageCall {
  path: string;
  contentType: string;
  corsError?: string;
}

/** Header names lower-cased (DevTools reports them as sent). */
const lower = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));

interface OpenPage {
  page: Page;
  context: BrowserContext;
  preflights: Preflight[];
  calls: PageCall[];
  consoleErrors: string[];
}

/** Opens the page from `site` in a fresh browser context (empty preflight cache), pointed at `proxy`. */
async function openPage(site: StaticSite, proxy: ProxyProcess): Promise<OpenPage> {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const page = await context.newPage();
  const preflights: Preflight[] = [];
  const calls: PageCall[] = [];
  const byId = new Map<string, Preflight | PageCall>();
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  // Playwright's own request events leave preflights out; the DevTools protocol reports them.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  // Preflight answers are cached (Access-Control-Max-Age) across contexts: bypass, so each test sees its own.
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  cdp.on('Network.requestWillBeSent', ({ requestId, request }) => {
    if (!request.url.startsWith(proxy.url)) return;
    const path = new URL(request.url).pathname;
    if (request.method === 'OPTIONS') {
      const p = { url: request.url, request: lower(request.headers) };
      preflights.push(p);
      byId.set(requestId, p);
    } else if (request.method === 'POST') {
      const c = { path, contentType: lower(request.headers)['content-type'] ?? '' };
      calls.push(c);
      byId.set(requestId, c);
    }
  });
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    const p = byId.get(requestId);
    if (p && 'request' in p) Object.assign(p, { status: response.status, response: lower(response.headers) });
  });
  cdp.on('Network.loadingFailed', ({ requestId, corsErrorStatus }) => {
    const c = byId.get(requestId);
    if (c && 'path' in c && corsErrorStatus) c.corsError = corsErrorStatus.corsError;
  });
  await page.goto(`${site.origin}/index.html?proxy=${encodeURIComponent(proxy.url)}`);
  await page.waitForFunction(() => window.prism !== undefined);
  return { page, context, preflights, calls, consoleErrors };
}

const nodeClient = (proxy: ProxyProcess, token?: string) => {
  const bearer: Interceptor = (next) => (req) => {
    if (token) req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };
  return createGrpcTransport({ baseUrl: proxy.url, interceptors: [bearer] });
};

/** What a Node client reads at `key` (undefined when not found). */
async function nodeGet(proxy: ProxyProcess, key: string, token?: string): Promise<string | undefined> {
  const res = await createClient(KeyValueBasicInterface, nodeClient(proxy, token)).get({
    namespace: 'kv',
    key,
  });
  return res.found ? new TextDecoder().decode(res.value) : undefined;
}

/** Sum of the proxy's `prism_streams_open` series for a namespace. */
async function openStreams(proxy: ProxyProcess, namespace: string): Promise<number> {
  const text = await (await fetch(`${proxy.url}/metrics`)).text();
  let sum = 0;
  for (const [, labels, value] of text.matchAll(/^prism_streams_open\{([^}]*)\} (\S+)$/gm))
    if (labels?.includes(`namespace="${namespace}"`)) sum += Number(value);
  return sum;
}

/** Polls `check` every 50 ms; throws when it is still false after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prism-e2e-browser-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const [, provider] = await Promise.all([
    run(process.execPath, [join(ROOT, 'e2e/browser/build.mjs'), join(dir, 'page')]),
    startIdentityProvider('prism'),
  ]);
  idp = provider;
  listed = await serveStatic(join(dir, 'page'));
  unlisted = await serveStatic(join(dir, 'page'));
  const cors = `cors: { allowed_origins: ["${listed.origin}"] }`;
  writeFileSync(
    join(dir, 'open.yaml'),
    `proxy:
  ${cors}
namespaces:
  - { name: kv, pattern: keyvalue, backend: { type: memstore } }
  - { name: events, pattern: pubsub, backend: { type: memstore } }
`,
  );
  writeFileSync(
    join(dir, 'secured.yaml'),
    `proxy:
  ${cors}
  auth:
    providers: [{ name: corp, type: jwt, issuer: "${idp.issuer}", audience: prism }]
namespaces:
  - name: kv
    pattern: keyvalue
    backend: { type: memstore }
    access: [{ principals: ["sub:browser"], permissions: [read, write] }]
`,
  );
  [open, secured, browser] = await Promise.all([
    startProxyProcess(join(dir, 'open.yaml')),
    startProxyProcess(join(dir, 'secured.yaml')),
    chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }),
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([open?.stop(), secured?.stop(), listed?.close(), unlisted?.close(), idp?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('a page on another origin, with connect-web', () => {
  it('sets then gets a key over Connect and over gRPC-web; a Node client reads the same values', async () => {
    const { page, context, calls } = await openPage(listed, open);
    for (const protocol of PROTOCOLS) {
      const key = `browser-${protocol}`;
      const text = `written by the page over ${protocol}`;
      expect(
        await page.evaluate(([p, k, t]) => window.prism.kvSetGet(p, 'kv', k, t), [
          protocol,
          key,
          text,
        ] as const),
      ).toEqual({ value: text });
      expect(await nodeGet(open, key)).toBe(text);
    }
    // The two transports really spoke their protocols (Connect's JSON default, gRPC-web's binary frames).
    expect(calls.map((c) => `${c.path.split('/').pop()} ${c.contentType}`)).toEqual([
      'Set application/json',
      'Get application/json',
      'Set application/grpc-web+proto',
      'Get application/grpc-web+proto',
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, 'keyvalue.png') });
    await context.close();
  });

  it('CORS: the preflight from the listed origin is allowed; a page from an unlisted origin is refused', async () => {
    const ok = await openPage(listed, open);
    expect(
      await ok.page.evaluate(() => window.prism.kvSetGet('connect', 'kv', 'cors-listed', 'allowed')),
    ).toEqual({ value: 'allowed' });
    const preflight = ok.preflights.find((p) => p.url.endsWith('.KeyValueBasicInterface/Set'));
    expect(preflight?.request).toMatchObject({
      origin: listed.origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'connect-protocol-version,content-type',
    });
    expect(preflight?.status).toBe(204);
    expect(preflight?.response).toMatchObject({
      'access-control-allow-origin': listed.origin,
      'access-control-allow-methods': expect.stringContaining('POST'),
      'access-control-allow-headers': expect.stringMatching(/Content-Type.*Connect-Protocol-Version/),
    });
    await ok.context.close();

    const refused = await openPage(unlisted, open);
    for (const protocol of PROTOCOLS) {
      const key = `cors-unlisted-${protocol}`;
      const result = await refused.page.evaluate(
        ([p, k]) => window.prism.kvSetGet(p, 'kv', k, 'must not be written'),
        [protocol, key] as const,
      );
      expect(result).toEqual({ code: Code.Unknown, message: '[unknown] Failed to fetch' });
      expect(await nodeGet(open, key)).toBeUndefined();
    }
    // DevTools reports a failed load a moment after the page's fetch rejects: wait for both reports.
    for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 20)))
      if (refused.calls.length === 2 && refused.calls.every((c) => c.corsError)) break;
    // Each Set (Connect, then gRPC-web) was stopped at its preflight, which got no Access-Control-Allow-Origin.
    expect(
      refused.preflights.map((p) => [p.request.origin, p.response?.['access-control-allow-origin']]),
    ).toEqual([
      [unlisted.origin, undefined],
      [unlisted.origin, undefined],
    ]);
    expect(refused.calls).toEqual([
      expect.objectContaining({
        contentType: 'application/json',
        corsError: 'PreflightMissingAllowOriginHeader',
      }),
      expect.objectContaining({
        contentType: 'application/grpc-web+proto',
        corsError: 'PreflightMissingAllowOriginHeader',
      }),
    ]);
    expect(refused.consoleErrors.join('\n')).toContain(
      `from origin '${unlisted.origin}' has been blocked by CORS policy`,
    );
    await refused.context.close();
  });

  it('auth: the page sends Authorization: Bearer through an interceptor; without it, UNAUTHENTICATED', async () => {
    const token = await idp.token({ sub: 'browser' });
    const { page, context, preflights } = await openPage(listed, secured);
    for (const protocol of PROTOCOLS) {
      const key = `auth-${protocol}`;
      expect(
        await page.evaluate(([p, k, t]) => window.prism.kvSetGet(p, 'kv', k, 'with a token', t), [
          protocol,
          key,
          token,
        ] as const),
      ).toEqual({ value: 'with a token' });
      expect(await nodeGet(secured, key, token)).toBe('with a token');
      const anonymous = `${key}-anonymous`;
      expect(
        await page.evaluate(([p, k]) => window.prism.kvSetGet(p, 'kv', k, 'no token'), [
          protocol,
          anonymous,
        ] as const),
      ).toEqual({ code: Code.Unauthenticated, message: expect.stringMatching(/no credentials/) });
      expect(await nodeGet(secured, anonymous, token)).toBeUndefined();
    }
    // The browser asked to send authorization, and the proxy allowed it.
    const preflight = preflights.find((p) => p.url.endsWith('.KeyValueBasicInterface/Set'));
    expect(preflight?.request['access-control-request-headers']).toContain('authorization');
    expect(preflight?.response?.['access-control-allow-headers']).toMatch(/\bAuthorization\b/i);
    await context.close();
  });

  it('the README shows the page code as it runs', () => {
    const main = readFileSync(join(ROOT, 'e2e/browser/main.ts'), 'utf8');
    const shown = main.slice(main.indexOf('import '), main.indexOf('/** Appends a line')).trim();
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`\`\`\`ts\n${shown}\n\`\`\``);
  });

  it.each(PROTOCOLS)(
    'a Subscribe stream over %s gets 100 messages in order and ends when the page leaves',
    async (protocol) => {
      const topic = `browser.${protocol.replace('-', '_')}`;
      const { page, context } = await openPage(listed, open);
      await page.evaluate(([p, t]) => window.prism.subscribe(p, 'events', t), [protocol, topic] as const);
      expect(await openStreams(open, 'events')).toBe(1);
      const pubsub = createClient(PubSubBasicInterface, nodeClient(open));
      const sent = Array.from({ length: 100 }, (_, i) => `message ${i + 1} over ${protocol}`);
      for (const text of sent)
        await pubsub.publish({ namespace: 'events', topic, payload: new TextEncoder().encode(text) });
      await page.waitForFunction(() => window.prism.received.length >= 100, undefined, { timeout: 10_000 });
      expect(await page.evaluate(() => window.prism.received)).toEqual(sent);
      await page.screenshot({ path: join(SCREENSHOTS, `subscribe-${protocol}.png`), fullPage: false });

      // Leaving the page aborts the fetch; the proxy must see the stream end and count it closed.
      await page.goto('about:blank');
      await until(async () => (await openStreams(open, 'events')) === 0, 5000);
      await context.close();
    },
  );
});
