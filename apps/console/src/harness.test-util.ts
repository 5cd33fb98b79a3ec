// What the console's browser tests share: proxies started in-process from a YAML, Chromium, a page.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DescService } from '@bufbuild/protobuf';
import { type Client, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { loadProxyConfig, type RunningProxy, resolvePluginBin, startProxy } from '@prism/proxy';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(CONSOLE_DIR, '../..');
/** Screenshots of every page (gitignored); `readme.png` is what docs/console.png is copied from. */
export const SCREENSHOTS = join(CONSOLE_DIR, 'output');

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

/** Fails with the fix when the console is not built (Nx builds it before its tests). */
export function assertBuilt(): void {
  const index = join(CONSOLE_DIR, 'dist/index.html');
  if (!existsSync(index))
    throw new Error(`${index} is missing: build the console first (cd apps/console && pnpm run build)`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A proxy serving `yaml` on free loopback ports, the admin listener (and so the console) included. */
export async function startTestProxy(dir: string, name: string, yaml: string): Promise<RunningProxy> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  process.env.PRISM_LOG_LEVEL ??= 'error';
  const loaded = await loadProxyConfig(file);
  return startProxy({ ...loaded, configFile: file, host: '127.0.0.1', port: 0, adminPort: 0 });
}

/**
 * A plugin package for `plugin: { mode: sidecar, package: ./slow-memstore }`: MemStore, whose first
 * start is immediate and every later start waits `delayMs` before serving, so a test sees the namespace
 * down for that long after its sidecar was killed (a real restart takes well under a second).
 */
export function writeSlowRestartPlugin(dir: string, delayMs: number): string {
  const pkg = join(dir, 'slow-memstore');
  mkdirSync(pkg, { recursive: true });
  const memstore = resolvePluginBin(
    { type: 'memstore', config: {}, plugin: { mode: 'sidecar' } } as unknown as Parameters<
      typeof resolvePluginBin
    >[0],
    join(dir, 'prism.yaml'),
  ).file;
  const marker = join(dir, 'slow-memstore.started');
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'slow-memstore',
      type: 'module',
      exports: './index.mjs',
      bin: { 'prism-plugin-memstore': './bin.mjs' },
    }),
  );
  // The proxy loads a plugin package's definition (its default export) to validate the config.
  writeFileSync(
    join(pkg, 'index.mjs'),
    `export { default } from ${JSON.stringify(pathToFileURL(join(dirname(memstore), 'index.js')).href)};\n`,
  );
  writeFileSync(
    join(pkg, 'bin.mjs'),
    `import { existsSync, writeFileSync } from 'node:fs';
if (existsSync(${JSON.stringify(marker)})) await new Promise((r) => setTimeout(r, ${delayMs}));
else writeFileSync(${JSON.stringify(marker)}, String(process.pid));
await import(${JSON.stringify(pathToFileURL(memstore).href)});
`,
  );
  return pkg;
}

/** A Node client (Connect over fetch) of `url`, e.g. the proxy's client port, as an application calls it. */
export function nodeClient<S extends DescService>(url: string, service: S, token?: string): Client<S> {
  const bearer: Interceptor = (next) => (req) => {
    if (token) req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };
  return createClient(
    service,
    createConnectTransport({ baseUrl: url, useBinaryFormat: true, interceptors: [bearer] }),
  );
}

/** The admin API's URL of a proxy (its console is at `${adminUrl}/console/`). */
export function adminUrlOf(proxy: RunningProxy): string {
  if (!proxy.adminUrl) throw new Error('the proxy has no admin listener');
  return proxy.adminUrl;
}

export interface ConsolePage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Page errors and console errors, except failed requests (a refused call shows as a 4xx in DevTools). */
  readonly problems: string[];
}

/** Opens the console of `proxy` at `hash` (e.g. "#/keys/cache") in a fresh context of `width` px. */
export async function openConsole(
  browser: Browser,
  proxy: RunningProxy,
  hash = '#/namespaces',
  width = 1280,
): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  await page.goto(`${adminUrlOf(proxy)}/console/${hash}`);
  await page.getByRole('heading', { level: 1, name: 'Prism console' }).waitFor();
  return { page, context, problems };
}

export function screenshot(page: Page, name: string, fullPage = true): Promise<Buffer> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return page.screenshot({ path: join(SCREENSHOTS, name), fullPage });
}

/** Polls `check` every 50 ms; throws with `what` when it is still false after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
