#!/usr/bin/env node
// The README's two commands (`npm start`, `npm test`) and `npm run bench` land here. They work on a fresh
// machine with only Node 20: pnpm, the workspace's packages and (for tests) the backend servers are
// installed when missing.
import { execSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command = 'start', ...rest] = process.argv.slice(2);
const env = {
  ...process.env,
  // node-gyp builds native addons (better-sqlite3, the Kafka client) against the system Node headers.
  npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr',
  // The Kafka client links librdkafka's dependencies from Debian's -dev packages (see scripts/setup).
  CKJS_LINKING: process.env.CKJS_LINKING ?? 'dynamic',
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

function has(cmd) {
  try {
    execSync(`command -v ${cmd}`, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensurePnpm() {
  if (!has('pnpm')) {
    console.log('• installing pnpm (npm i -g pnpm@10)');
    run('npm', ['install', '-g', 'pnpm@10']);
  }
}

/** Installs the workspace's packages (all of them, or only what `filter` needs). */
function ensureInstall(filter) {
  ensurePnpm();
  // Cheap when nothing changed; keeps a checkout in step with its lockfile.
  run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', ...(filter ? ['--filter', filter] : [])]);
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
    // Only the proxy and what it depends on (no test servers); native addons need their -dev packages.
    ensurePnpm();
    run('bash', [join(root, 'scripts/setup/05-native-build-deps.sh')]);
    ensureInstall('@prism/proxy...');
    run('pnpm', ['exec', 'nx', 'run', '@prism/proxy:build', '--output-style=stream']);
    run('node', ['apps/proxy/dist/main.js', ...rest]);
    break;
  }
  case 'test': {
    ensurePnpm();
    ensureTestDependencies(); // first: native addons built by `pnpm install` need the -dev packages
    ensureInstall();
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
    ensureInstall();
    run('pnpm', ['exec', 'nx', 'run-many', '-t', 'build', '--output-style=stream']);
    run('node', ['apps/prism-load/dist/bench/main.js', ...rest]);
    break;
  }
  default:
    console.error(`unknown command "${command}" (expected start, test or bench)`);
    process.exit(2);
}
