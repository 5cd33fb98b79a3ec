import { readFile } from 'node:fs/promises';
import { parseConfig } from './parse.js';
import { ConfigError } from './problems.js';
import type { BackendCatalog, PrismConfig } from './types.js';

/** Reads and validates a config file; an unreadable file is a {@link ConfigError} too. */
export async function loadConfig(
  file: string,
  opts: { catalog: BackendCatalog; env?: NodeJS.ProcessEnv },
): Promise<PrismConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new ConfigError([{ file, field: '', message: `cannot read the config file: ${code}` }]);
  }
  return parseConfig(text, { ...opts, file });
}
