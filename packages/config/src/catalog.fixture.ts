import { z } from '@prism/sdk';
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
