import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The proxy's version: the nearest package.json with a version above this module (apps/proxy's from
 * src/ and dist/, the one the bundler writes next to dist/bundle/), so it holds however the proxy is
 * built. "unknown" when there is none.
 */
export function proxyVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
        if (typeof version === 'string') {
          cached = version;
          break;
        }
      } catch {
        // not JSON: keep looking further up
      }
    }
    if (dirname(dir) === dir) break;
  }
  return cached;
}

/** The build's git commit: `PRISM_COMMIT` (set by CI or the container build); undefined when unset. */
export function proxyCommit(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.PRISM_COMMIT?.trim() || undefined;
}
