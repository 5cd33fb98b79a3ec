#!/usr/bin/env node
// The README's two commands (`npm start`, `npm test`) and `npm run bench` land here. They work on a fresh
// machine with only Node 20: pnpm, the workspace's packages and (for tests) the backend servers are
// installed when missing.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtPackages } from './native-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command = 'start', ...rest] = process.argv.slice(2);
const env = {
  ...process.env,
  // node-gyp builds native addons (better-sqlite3, the Kafka client) against the system Node headers.
  npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr',
  // The Kafka client links librdkafka's dependencies from Debian's -dev packages (see scripts/setup).
  CKJS_LINKING: process.env.CKJS_LINKING ?? 'dynamic',
  // Without a TTY pnpm refuses to recreate node_modules when its layout must change (another store, a
  // pnpm upgrade); these scripts are non-interactive by design.
  npm_config_confirm_modules_purge: 'false',
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
};

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts });
  if (res.status !== 0) {
    console.error(`\n✖ ${cmd} ${args.join(' ')} failed (exit ${res.status ?? res.signal})`);
    process.exit(res.status ?? 1);
  }
}

/** The pnpm version the workspace pins (`packageManager`); any other pnpm is never used. */
const PNPM_VERSION = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.replace(
  /^pnpm@/,
  '',
);

/** The version of the pnpm on PATH, or undefined when there is none (or it fails, as pnpm 12 does here). */
function pnpmOnPath() {
  const res = spawnSync('pnpm', ['--version'], { cwd: tmpdir(), env, encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

/**
 * Makes `pnpm` on PATH (for us and for the tools we run: Nx runs package scripts with it) the pinned
 * version. A pnpm of another version on PATH is left alone: pnpm 12 reads the `packageManager` pin and
 * tries to download pnpm 10 as `@pnpm/exe`, which fails offline or where that package is not served.
 * Instead the pinned pnpm is installed once with npm into a cache directory and put first on PATH (no
 * check on later runs: `pnpm --version` alone costs a few hundred milliseconds).
 */
function ensurePnpm() {
  const home = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'prism', `pnpm-${PNPM_VERSION}`);
  const bin = join(home, 'node_modules', '.bin');
  if (!existsSync(join(bin, 'pnpm'))) {
    if (pnpmOnPath() === PNPM_VERSION) return;
    console.log(`• installing pnpm ${PNPM_VERSION} into ${home} (npm install pnpm@${PNPM_VERSION})`);
    mkdirSync(home, { recursive: true });
    run('npm', [
      'install',
      '--prefix',
      home,
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `pnpm@${PNPM_VERSION}`,
    ]);
  }
  env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
}

/** Adapter packages whose dependencies build native addons (those listed in onlyBuiltDependencies). */
function nativeAdapters() {
  const built = builtPackages(root);
  const dir = join(root, 'packages/adapters');
  const out = new Map(); // backend type → package name
  for (const type of readdirSync(dir)) {
    const file = join(dir, type, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (Object.keys(pkg.dependencies ?? {}).some((d) => built.includes(d))) out.set(type, pkg.name);
  }
  return out;
}

/** Backend types a config file names (`type: <name>`); none for the embedded default. */
function backendTypesOf(args) {
  const i = args.findIndex((a) => a === '--config' || a === '-c' || a.startsWith('--config='));
  if (i < 0) return new Set();
  const file = args[i].startsWith('--config=') ? args[i].slice('--config='.length) : args[i + 1];
  if (!file || !existsSync(file)) return new Set(); // the proxy reports a missing file itself
  return new Set([...readFileSync(file, 'utf8').matchAll(/\btype:\s*["']?([a-z0-9_-]+)/g)].map((m) => m[1]));
}

const STAMP = join(root, 'node_modules', '.prism-install');

/** What the last install was: `full`, or the filter of a start install, for which lockfile. */
function lastInstall() {
  if (!existsSync(join(root, 'node_modules', '.modules.yaml')) || !existsSync(STAMP)) return undefined;
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return undefined; // written by an older version of this script
  }
}

function lockHash() {
  return createHash('sha256')
    .update(readFileSync(join(root, 'pnpm-lock.yaml')))
    .update(readFileSync(join(root, 'pnpm-workspace.yaml')))
    .digest('hex');
}

/** Installs every package of the workspace (tests, bench); skipped when done for this lockfile. */
function ensureFullInstall() {
  const lock = lockHash();
  const last = lastInstall();
  if (last?.lock === lock && last.kind === 'full') return;
  run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline']);
  writeFileSync(STAMP, JSON.stringify({ kind: 'full', lock }));
}

/**
 * Installs what `npm start` runs: the production dependencies of the proxy and the web console, without adapters whose
 * dependencies build native code (the Kafka client builds librdkafka from C for minutes) unless the
 * config names their backend; no dev tools (Nx, Biome, buf, TypeScript are half the download). A checkout
 * that had a full install gets a full install again instead: `--prod` would remove its dev tools.
 */
function ensureStartInstall(skipped) {
  const lock = lockHash();
  const last = lastInstall();
  const filters = ['@prism/proxy...', '@prism/console...', ...skipped].flatMap((f) => ['--filter', f]);
  const key = filters.join(' ');
  if (last?.lock === lock && (last.kind === 'full' || last.filters === key)) return;
  if (last?.kind === 'full') {
    run('bash', [join(root, 'scripts/setup/05-native-build-deps.sh')]); // a full install builds them all
    return ensureFullInstall();
  }
  // --loglevel=error: pnpm warns that it cannot link the adapters' sidecar bins, which only a tsc build
  // makes; the bundle carries its own.
  console.log(`• installing the proxy's packages (pnpm install --prod ${filters.join(' ')})`);
  run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--prod', '--loglevel=error', ...filters]);
  writeFileSync(STAMP, JSON.stringify({ kind: 'start', lock, filters: key }));
}

/** Runs every scripts/setup/*.sh in order: each installs one kind of test dependency when missing. */
function ensureTestDependencies() {
  const dir = join(root, 'scripts/setup');
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sh'))
    .sort())
    run('bash', [join(dir, file)]);
}

switch (command) {
  case 'start': {
    // The proxy and what it depends on (no test servers). Adapters with native builds only when the
    // config names their backend; without them the proxy says how to get them if a config needs one.
    ensurePnpm();
    const wanted = backendTypesOf(rest);
    const native = nativeAdapters();
    const skipped = [...native].filter(([type]) => !wanted.has(type)).map(([, name]) => `!${name}`);
    if (skipped.length < native.size) {
      const names = [...native].filter(([type]) => wanted.has(type)).map(([, name]) => name);
      console.log(`• ${names.join(', ')}: native code, built once (the Kafka client takes minutes)`);
      run('bash', [join(root, 'scripts/setup/05-native-build-deps.sh')]);
    }
    ensureStartInstall(skipped);
    // esbuild bundles the proxy from the TypeScript sources in well under a second: no tsc build.
    run('node', ['apps/proxy/scripts/bundle.mjs', '--quiet', '--if-stale']);
    run('node', ['apps/proxy/dist/bundle/main.mjs', ...rest]);
    break;
  }
  case 'test': {
    ensurePnpm();
    ensureTestDependencies(); // first: native addons built by `pnpm install` need the -dev packages
    ensureFullInstall();
    // Generated code must match the protos: regenerate and fail when it differs from what is committed.
    run('pnpm', ['exec', 'nx', 'run', '@prism/proto:generate', '--skip-nx-cache', '--output-style=stream']);
    run('git', ['diff', '--exit-code', '--stat', '--', 'packages/proto/src/gen']);
    run('pnpm', ['exec', 'buf', 'lint']);
    run('pnpm', ['exec', 'biome', 'check', '.']);
    // docs/backends.md must match what the adapters declare (regenerate with node scripts/gen-backend-matrix.mjs).
    run('node', ['scripts/gen-backend-matrix.mjs', '--check']);
    run('pnpm', ['exec', 'nx', 'run-many', '-t', 'build', 'typecheck', '--output-style=stream']);
    run('pnpm', ['exec', 'nx', 'run-many', '-t', 'test', '--parallel=1', '--output-style=stream', ...rest]);
    break;
  }
  case 'bench': {
    ensurePnpm();
    ensureTestDependencies();
    ensureFullInstall();
    run('pnpm', ['exec', 'nx', 'run-many', '-t', 'build', '--output-style=stream']);
    run('node', ['apps/prism-load/dist/bench/main.js', ...rest]);
    break;
  }
  default:
    console.error(`unknown command "${command}" (expected start, test or bench)`);
    process.exit(2);
}
