#!/usr/bin/env node
// Builds the console with esbuild into dist/ (or --outdir DIR): index.html, one hashed script and one
// hashed stylesheet. esbuild is what bundles the proxy too, so `npm start` builds the console with what it
// already installs; the proxy serves the files at /console on its admin listener.
// Usage: node scripts/build.mjs [--outdir DIR] [--watch]
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { context } from 'esbuild';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { outdir: { type: 'string' }, watch: { type: 'boolean' } } });
const outdir = resolve(values.outdir ?? join(here, 'dist'));

/** Writes index.html pointing at this build's hashed files. */
const writeIndex = {
  name: 'prism-console-index',
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length) return;
      const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
      const js = outputs.find((f) => f.endsWith('.js'));
      const css = outputs.find((f) => f.endsWith('.css'));
      const html = readFileSync(join(here, 'index.html'), 'utf8')
        .replace(
          '<script type="module" src="./src/main.tsx"></script>',
          `<script type="module" src="./assets/${js}"></script>`,
        )
        .replace(
          '</head>',
          css ? `  <link rel="stylesheet" href="./assets/${css}" />\n  </head>` : '</head>',
        );
      if (html.includes('src/main.tsx')) throw new Error('index.html: the script tag to replace has changed');
      writeFileSync(join(outdir, 'index.html'), html);
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const ctx = await context({
  absWorkingDir: here,
  entryPoints: { index: 'src/main.tsx' },
  outdir: join(outdir, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  // Workspace packages export their TypeScript sources under "@prism/source": no package build needed.
  conditions: ['@prism/source'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [writeIndex],
});
if (values.watch) {
  await ctx.watch();
  console.log(`watching src/, writing ${outdir}`);
} else {
  await ctx.rebuild();
  await ctx.dispose();
}
