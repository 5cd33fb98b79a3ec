// The packages whose install scripts may run (pnpm-workspace.yaml `onlyBuiltDependencies`): native addons
// and tools that ship binaries. `npm start` leaves out adapters that depend on one; the bundle keeps them
// external. Plain script (no YAML parser): it runs before anything is installed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The names listed under `onlyBuiltDependencies` in `<root>/pnpm-workspace.yaml`. */
export function builtPackages(root) {
  return readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
    .split('onlyBuiltDependencies:')[1]
    .split(/\n(?=\S)/)[0]
    .split('\n')
    .map((l) =>
      l
        .replace(/^\s*-\s*/, '')
        .replace(/["']/g, '')
        .trim(),
    )
    .filter(Boolean);
}
