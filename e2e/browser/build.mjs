// Builds the page with Vite's JS API: `node e2e/browser/build.mjs OUT_DIR`. e2e/src/browser.test.ts runs
// it in a child process (Vite's native bundler, Rolldown, does not load inside jest's VM modules).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, defaultClientConditions } from 'vite';

const outDir = process.argv[2];
if (!outDir) throw new Error('usage: node build.mjs OUT_DIR');
await build({
  root: dirname(fileURLToPath(import.meta.url)),
  base: './',
  configFile: false,
  logLevel: 'warn',
  // Workspace packages export their TypeScript sources under "@prism/source": no package build needed.
  resolve: { conditions: ['@prism/source', ...defaultClientConditions] },
  build: { outDir, emptyOutDir: true },
});
