import { z } from '@prism/sdk';
import { type ParseOptions, parseConfig } from './parse.js';
import { ConfigError, type ConfigProblem, formatProblem } from './problems.js';
import type { BackendCatalog } from './types.js';

/** A small catalog for tests: interface lists and config schemas like real adapters declare them. */
const BACKENDS: Record<string, { interfaces: string[]; configSchema?: z.ZodType }> = {
  memstore: {
    interfaces: ['keyvalue_basic', 'keyvalue_ttl', 'keyvalue_scan', 'list_basic'],
    configSchema: z.strictObject({ max_keys: z.number().int().positive().optional() }),
  },
  redis: {
    interfaces: ['keyvalue_basic', 'keyvalue_ttl', 'keyvalue_scan', 'pubsub_basic'],
    configSchema: z.strictObject({
      url: z.string().startsWith('redis://', { error: 'must be a redis:// URL' }),
      password: z.string().optional(),
      pool: z.strictObject({ size: z.number().int().min(1) }).optional(),
    }),
  },
  nats: {
    interfaces: ['pubsub_basic', 'pubsub_wildcards'],
    configSchema: z.strictObject({ servers: z.array(z.string()).min(1) }),
  },
  postgres: { interfaces: ['keyvalue_basic', 'queue_basic', 'queue_visibility', 'queue_dead_letter'] },
};

export const catalog: BackendCatalog = {
  types: () => Object.keys(BACKENDS),
  describe: (type) => BACKENDS[type],
};

/** Only MemStore, as the proxy has it with no other adapter installed. */
export const memstoreOnly: BackendCatalog = {
  types: () => ['memstore'],
  describe: (type) => (type === 'memstore' ? BACKENDS.memstore : undefined),
};

/** Parses `yaml` expecting a ConfigError and returns its problems (fails the test when it parses). */
export function problemsOf(yaml: string, opts: Partial<ParseOptions> = {}): readonly ConfigProblem[] {
  try {
    parseConfig(yaml, { file: '/etc/prism/prism.yaml', catalog, env: {}, ...opts });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config parsed');
}

/** The one problem at `field` (fails the test when there is none or several). */
export function problemAt(problems: readonly ConfigProblem[], field: string): ConfigProblem {
  const found = problems.filter((p) => p.field === field);
  if (found.length !== 1)
    throw new Error(`expected one problem at ${field}, got:\n${problems.map(formatProblem).join('\n')}`);
  return found[0]!;
}
