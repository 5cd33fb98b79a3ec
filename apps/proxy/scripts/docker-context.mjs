#!/usr/bin/env node
// Assembles what the container image carries in /opt/prism, in dist/docker/ (or --out DIR):
//   the esbuild bundle (scripts/bundle.mjs, run first unless --no-bundle): main.mjs, plugin-<type>.mjs, chunks
//   node_modules/    the native packages the bundle keeps external (better-sqlite3, the Kafka client) with only
//                    their runtime files: JS, package.json, licences, the compiled .node and the shared
//                    libraries beside it (librdkafka.so.1); plus the packages their JS requires (bindings, …)
//   healthcheck.mjs  the image's HEALTHCHECK (grpc.health.v1 over HTTP/2)
// Build files (C sources, objects, static libraries, node-gyp output) are left behind, and the .node/.so files
// are stripped when `strip` is installed: the Kafka package is 280 MB installed, ~5 MB here.
// The Dockerfile runs this in its build stage; with --build-arg PRISM_BUILD=prebuilt it takes this directory
// as made on the host instead (same Debian release and Node major as the image's base). See docs/operating.md.
// Usage: node scripts/docker-context.mjs [--out DIR] [--no-bundle] [--quiet]
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const proxyDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    'no-bundle': { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
});
const out = resolve(values.out ?? join(proxyDir, 'dist/docker'));
const bundleDir = join(proxyDir, 'dist/bundle');
const log = values.quiet ? () => {} : (msg) => console.log(msg);

if (!values['no-bundle']) {
  const res = spawnSync(process.execPath, [join(proxyDir, 'scripts/bundle.mjs'), '--quiet'], {
    stdio: 'inherit',
  });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
if (!existsSync(join(bundleDir, 'main.mjs'))) {
  console.error(`no bundle in ${bundleDir} (run: cd apps/proxy && pnpm run bundle)`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'node_modules'), { recursive: true });

// 1. The bundle itself (its node_modules/ holds links to the native packages: copied below, file by file).
for (const name of readdirSync(bundleDir))
  if (name !== 'node_modules' && name !== 'meta.json')
    cpSync(join(bundleDir, name), join(out, name), { recursive: true });
copyFileSync(join(proxyDir, 'docker/healthcheck.mjs'), join(out, 'healthcheck.mjs'));

// 2. The native packages and everything their JS requires, flattened into node_modules/.
const isBuiltin = (spec) => spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]);
const packageName = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
/** Directories whose files never run: sources of native code, tests, docs, and nested installs. */
const SKIP_DIRS = new Set([
  'node_modules',
  'deps',
  'test',
  'tests',
  '__tests__',
  'docs',
  'doc',
  'example',
  'examples',
  'bench',
  'benchmark',
  'benchmarks',
  'ci',
  '.github',
]);
const SKIP_BUILD_DIRS = new Set(['obj', 'obj.target', '.deps']);
const JS = /\.(c|m)?js$|\.json$/;
const SHARED_LIB = /\.so(\.\d+)*$/;
const LICENCE = /^(licen[cs]e|copying|notice)/i;

/** Where `name` resolves from package directory `from` (Node's lookup; not above pnpm's store). */
function resolvePackage(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return realpathSync(dirname(candidate));
    if (basename(dir) === '.pnpm' || dirname(dir) === dir) return undefined;
  }
}

/** The runtime files of a package, relative to its directory. */
function runtimeFiles(pkgDir) {
  const files = [];
  const walk = (rel, inBuild) => {
    for (const entry of readdirSync(join(pkgDir, rel), { withFileTypes: true })) {
      const path = rel ? join(rel, entry.name) : entry.name;
      if (entry.isDirectory()) {
        if (inBuild ? !SKIP_BUILD_DIRS.has(entry.name) : !SKIP_DIRS.has(entry.name))
          walk(path, inBuild || (!rel && entry.name === 'build'));
      } else if (
        inBuild
          ? (entry.name.endsWith('.node') || SHARED_LIB.test(entry.name)) && !/^test[_-]/.test(entry.name)
          : JS.test(entry.name)
      )
        files.push(path);
      else if (!rel && LICENCE.test(entry.name)) files.push(path);
    }
  };
  walk('', false);
  return files.filter((f) => !/(^|\/)[^/]*\.config\.(c|m)?js$/.test(f)); // eslint/jest configs of the package
}

/** Bare specifiers the package's JS requires or imports. */
function requiredPackages(pkgDir, files) {
  const names = new Set();
  for (const file of files.filter((f) => /\.(c|m)?js$/.test(f)))
    for (const m of readFileSync(join(pkgDir, file), 'utf8').matchAll(
      /(?:require\s*\(\s*|import\s*\(\s*|\bfrom\s+|\bimport\s+)['"]([^'"./][^'"]*)['"]/g,
    ))
      if (!isBuiltin(m[1])) names.add(packageName(m[1]));
  return names;
}

const natives = [];
const bundleModules = join(bundleDir, 'node_modules');
for (const entry of existsSync(bundleModules) ? readdirSync(bundleModules) : [])
  for (const name of entry.startsWith('@')
    ? readdirSync(join(bundleDir, 'node_modules', entry)).map((n) => `${entry}/${n}`)
    : [entry])
    natives.push(name);

const packages = new Map(); // name → package dir
const queue = natives.map((name) => [name, realpathSync(join(bundleDir, 'node_modules', name))]);
while (queue.length) {
  const [name, dir] = queue.shift();
  const seen = packages.get(name);
  if (seen === dir) continue;
  if (seen) throw new Error(`two versions of ${name} are needed (${seen} and ${dir}); node_modules/ is flat`);
  packages.set(name, dir);
  const files = runtimeFiles(dir);
  for (const dep of requiredPackages(dir, files)) {
    const depDir = resolvePackage(dep, dir);
    if (depDir) queue.push([dep, depDir]); // unresolvable: an optional or development-only require
  }
  const dest = join(out, 'node_modules', name);
  for (const file of files) {
    const from = join(dir, file);
    const to = join(dest, file);
    mkdirSync(dirname(to), { recursive: true });
    if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
  }
}

// 3. Debug symbols are most of a native library's size (librdkafka: 13 MB → 3 MB).
const binaries = [];
const find = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) find(path);
    else if (entry.isFile() && (entry.name.endsWith('.node') || SHARED_LIB.test(entry.name)))
      binaries.push(path);
  }
};
find(join(out, 'node_modules'));
const strip = binaries.length && spawnSync('strip', ['--strip-unneeded', ...binaries], { stdio: 'inherit' });
if (strip?.error) log('(strip is not installed: native libraries keep their debug symbols)');

const size = (path) => {
  const st = lstatSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((n, e) => n + size(join(path, e)), 0) : st.size;
};
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
log(
  `docker context in ${relative(process.cwd(), out).startsWith('..') ? out : relative(process.cwd(), out) || '.'}: ${mb(size(out))} (bundle ${mb(
    readdirSync(out)
      .filter((f) => f !== 'node_modules')
      .reduce((n, f) => n + statSync(join(out, f)).size, 0),
  )}; ${[...packages.keys()].map((p) => `${p} ${mb(size(join(out, 'node_modules', p)))}`).join(', ')})`,
);
// The directory layout must stay what the Dockerfile copies: one tree, no links out of it.
for (const name of natives)
  if (!existsSync(join(out, 'node_modules', name, 'package.json'))) throw new Error(`${name} was not copied`);
