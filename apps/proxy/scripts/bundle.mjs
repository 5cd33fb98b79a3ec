#!/usr/bin/env node
// Bundles the proxy with esbuild, straight from the workspace's TypeScript sources (the `@prism/source`
// export condition), into dist/bundle/:
//   main.mjs             what `npm start`, the container and the cold-start bench run: turns on V8's
//                        compile cache where Node has one (22.1+), then imports proxy.mjs
//   proxy.mjs            the proxy
//   plugin-<type>.mjs    each shipped adapter's sidecar/remote plugin executable
//   chunk-*.mjs          code split out by esbuild: each adapter is a chunk loaded only when a config uses it
//   node_modules/        links to the native packages kept external (better-sqlite3, the Kafka client)
//   console/             the web console (apps/console, when its packages are installed), served at /console
// One file to parse instead of hundreds of modules to resolve is most of the proxy's cold start.
// Usage: node scripts/bundle.mjs [--quiet] [--metafile] [--if-stale]
//   --if-stale  do nothing when no input changed since the last bundle (what `npm start` passes)
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtPackages } from '../../../scripts/native-packages.mjs';

const proxyDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(proxyDir, '../..');
const outdir = join(proxyDir, 'dist/bundle');
const quiet = process.argv.includes('--quiet');
const ADAPTER_PREFIX = '@prism/adapter-';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const proxyPkg = readJson(join(proxyDir, 'package.json'));

/** Packages with install scripts that build native code: they stay outside the bundle. */
const nativePackages = builtPackages(root);

/**
 * Every shipped adapter: its type, package dir, sidecar entry, and whether its dependencies are installed
 * (`npm start` leaves out adapters with native dependencies unless the config names them).
 */
const adapters = Object.keys({ ...proxyPkg.dependencies, ...proxyPkg.optionalDependencies })
  .filter((name) => name.startsWith(ADAPTER_PREFIX))
  .sort()
  .map((name) => {
    const dir = realpathSync(join(proxyDir, 'node_modules', name));
    const deps = Object.keys(readJson(join(dir, 'package.json')).dependencies ?? {});
    const native = deps.filter((d) => nativePackages.includes(d));
    const absent = deps.filter((d) => !existsSync(join(dir, 'node_modules', d)));
    const missing = absent.find((d) => native.includes(d)) ?? absent[0];
    const bin = join(dir, 'src/bin.ts');
    return {
      name,
      type: name.slice(ADAPTER_PREFIX.length),
      dir,
      missing,
      native,
      bin: existsSync(bin) && bin,
    };
  });
const available = adapters.filter((a) => !a.missing);

/** The bundle's version of src/adapters.ts: static imports, so each adapter is a lazily loaded chunk. */
function shippedAdaptersModule() {
  const loaders = adapters.map((a) =>
    a.missing
      ? `  ${JSON.stringify(a.type)}: () => Promise.reject(Object.assign(new Error(${JSON.stringify(
          `Cannot find package '${a.missing}' (${a.name} was left out of this install)`,
        )}), { code: 'PRISM_ADAPTER_NOT_INSTALLED' })),`
      : `  ${JSON.stringify(a.type)}: () => import(${JSON.stringify(a.name)}),`,
  );
  const bins = available
    .filter((a) => a.bin)
    .map((a) => `  ${JSON.stringify(a.type)}: './plugin-${a.type}.mjs',`);
  return `import { fileURLToPath } from 'node:url';
export const ADAPTER_PREFIX = ${JSON.stringify(ADAPTER_PREFIX)};
const loaders = {\n${loaders.join('\n')}\n};
const bins = {\n${bins.join('\n')}\n};
export const shippedAdapters = {
  types: ${JSON.stringify(adapters.map((a) => a.type))},
  load: (type) => loaders[type](),
  pluginBin: (type) => (bins[type] ? fileURLToPath(new URL(bins[type], import.meta.url)) : undefined),
};
`;
}

const adaptersSource = join(proxyDir, 'src/adapters.ts');
/** @type {import('esbuild').Plugin} */
const shippedAdaptersPlugin = {
  name: 'prism-shipped-adapters',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]adapters\.ts$/ }, (args) =>
      args.path === adaptersSource ? { contents: shippedAdaptersModule(), loader: 'js' } : undefined,
    );
  },
};

// What the last bundle was made from: its input files, and which adapters were installed.
const stampFile = join(outdir, 'inputs.json');
const consoleDir = join(root, 'apps/console');
const withConsole = existsSync(join(consoleDir, 'node_modules/preact'));
const signature = [...adapters.map((a) => `${a.type}:${a.missing ?? 'ok'}`), `console:${withConsole}`].join(
  ',',
);
/** The console's own files (its dependencies are in the lockfile, which the stamp covers). */
const consoleInputs = () =>
  [
    'index.html',
    'scripts/build.mjs',
    ...readdirSync(join(consoleDir, 'src'), { recursive: true }).map((f) => join('src', f)),
  ].map((f) => relative(root, join(consoleDir, f)));
if (process.argv.includes('--if-stale') && existsSync(stampFile)) {
  const stamp = readJson(stampFile);
  const built = statSync(stampFile).mtimeMs;
  const fresh = (file) => existsSync(file) && statSync(file).mtimeMs <= built;
  if (stamp.signature === signature && stamp.inputs.every((f) => fresh(join(root, f)))) process.exit(0);
}

const { build } = await import('esbuild');
rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
const result = await build({
  entryPoints: {
    proxy: join(proxyDir, 'src/main.ts'),
    ...Object.fromEntries(available.filter((a) => a.bin).map((a) => [`plugin-${a.type}`, a.bin])),
  },
  outdir,
  absWorkingDir: root, // metafile paths relative to the repository root
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunk-[hash]',
  conditions: ['@prism/source'],
  external: [...new Set(adapters.flatMap((a) => a.native))],
  // CommonJS dependencies (prom-client, pino, yaml) call require(); ESM output has none by default.
  banner: {
    js: "import { createRequire as __prismRequire } from 'node:module'; const require = __prismRequire(import.meta.url);",
  },
  minifySyntax: true,
  minifyWhitespace: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [shippedAdaptersPlugin],
});

// The web console, built by its own script (esbuild as well) into console/, where the proxy looks first.
if (withConsole) {
  const res = spawnSync(
    process.execPath,
    [join(consoleDir, 'scripts/build.mjs'), '--outdir', join(outdir, 'console')],
    {
      stdio: 'inherit',
    },
  );
  if (res.status !== 0) process.exit(res.status ?? 1);
}

// Native packages resolve by name from the bundle: link each one found in an installed adapter.
const modules = join(outdir, 'node_modules');
for (const a of available)
  for (const name of a.native) {
    const link = join(modules, name);
    if (existsSync(link)) continue;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(join(a.dir, 'node_modules', name)), link, 'dir');
  }
writeFileSync(
  join(outdir, 'main.mjs'),
  `#!/usr/bin/env node
// Node 22.1+ keeps V8's compiled code between runs, which takes most of the parse cost off a cold start.
import module from 'node:module';
module.enableCompileCache?.();
await import('./proxy.mjs');
`,
  { mode: 0o755 },
);
writeFileSync(
  join(outdir, 'package.json'),
  `${JSON.stringify({ type: 'module', version: proxyPkg.version })}\n`,
);
writeFileSync(
  stampFile,
  JSON.stringify({
    signature,
    inputs: [
      ...Object.keys(result.metafile.inputs),
      'apps/proxy/package.json',
      'pnpm-workspace.yaml',
      'pnpm-lock.yaml',
      ...(withConsole ? consoleInputs() : []),
    ],
  }),
);
if (process.argv.includes('--metafile'))
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));

if (!quiet) {
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([f]) => f.endsWith('.mjs'))
    .map(([f, o]) => `  ${relative(proxyDir, f)}  ${(o.bytes / 1024).toFixed(0)} KiB`);
  console.log(`bundled the proxy in ${Date.now() - started} ms:\n${sizes.join('\n')}`);
}
const left = adapters.filter((a) => a.missing);
if (left.length)
  console.log(
    `left out (not installed): ${left.map((a) => `${a.type} (needs ${a.missing})`).join(', ')}; a config that names one gets a message saying how to install it`,
  );
