import { describe, expect, it } from '@jest/globals';
import { MODELS, SLOT_PATTERNS } from '@prism/config';
import { json, prismctl } from './cli.test-util.js';
import type { ModelPatternInfo, PatternInfo, SlotPatternInfo } from './pattern-info.js';

describe('prismctl patterns list', () => {
  it('lists the models and the slot patterns with what can serve them', async () => {
    const r = await prismctl(['patterns', 'list']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^PATTERN\s+KIND\s+FLAVOURS \/ SLOTS\s+BACKENDS\s+STATUS$/m);
    expect(r.out).toMatch(
      /^keyvalue\s+model\s+basic, batch, cas, scan, transactional, ttl\s+memstore, redis, postgres, sqlite\s+served$/m,
    );
    expect(r.out).toMatch(
      /^set\s+model\s+basic, cardinality, operations, random\s+memstore, redis, postgres, sqlite\s+served$/m,
    );
    expect(r.out).toMatch(
      /^timeseries\s+model\s+basic, aggregation, interpolation, retention\s+memstore, postgres, sqlite, clickhouse\s+served$/m,
    );
    expect(r.out).toMatch(/^object\s+model\s+basic\s+-\s+no installed backend implements object_basic$/m);
    expect(r.out).toMatch(
      /^multicast-registry\s+slots\s+registry, messaging, durability \(optional\)\s+.*not served by this proxy version$/m,
    );
  });

  it('prints every pattern as JSON', async () => {
    const all = json<PatternInfo[]>(await prismctl(['patterns', 'list', '--json']));
    expect(all.map((p) => p.name)).toEqual([...MODELS, ...Object.keys(SLOT_PATTERNS)]);
    const stream = all.find((p) => p.name === 'stream') as ModelPatternInfo;
    expect(stream).toMatchObject({ kind: 'model', served: true, status: 'served' });
    expect(stream.flavours.map((f) => f.interface)).toEqual([
      'stream_basic',
      'stream_consumer_groups',
      'stream_partitioning',
      'stream_replay',
      'stream_retention',
    ]);
    expect(stream.flavours[1]).toEqual({
      interface: 'stream_consumer_groups',
      feature: 'consumer_groups',
      known: true,
      backends: ['memstore', 'redis', 'nats', 'kafka'],
    });
    expect(all.find((p) => p.name === 'multicast-registry')).toMatchObject({ kind: 'slots', served: false });
  });
});

describe('prismctl patterns describe', () => {
  it('describes a model: each flavour, how to ask for it and the backends implementing it', async () => {
    const r = await prismctl(['patterns', 'describe', 'queue']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('queue: single-backend pattern (served)');
    expect(r.out).toMatch(/^queue_basic\s+\(always\)\s+memstore, redis, postgres, nats$/m);
    expect(r.out).toMatch(/^queue_priority\s+needs: \{ priority: true \}\s+memstore, redis$/m);
    expect(r.out).toMatch(
      /^queue_visibility\s+needs: \{ visibility: true \}\s+memstore, redis, postgres, nats$/m,
    );
  });

  it('describes a slot pattern: its slots, required and optional interfaces and the backends for each', async () => {
    const r = await prismctl(['patterns', 'describe', 'multicast-registry']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('multicast-registry: slot pattern (not served by this proxy version');
    expect(r.out).toMatch(
      /^registry\s+no\s+keyvalue_basic\s+keyvalue_ttl\s+memstore\*, redis\*, postgres\*, sqlite\*\n\s+keyvalue_scan$/m,
    );
    expect(r.out).toMatch(
      /^messaging\s+no\s+pubsub_basic\s+pubsub_persistent\s+memstore\*, redis, postgres, nats\*, kafka\*$/m,
    );
    expect(r.out).toMatch(/^durability\s+yes\s+queue_basic\s+-\s+memstore, redis, postgres, nats$/m);
    expect(r.out).toContain('* also implements every optional interface of the slot');

    const j = json<SlotPatternInfo>(await prismctl(['patterns', 'describe', 'multicast-registry', '--json']));
    expect(j.slots[1]).toEqual({
      slot: 'messaging',
      description: 'delivers multicast messages',
      optional: false,
      required: ['pubsub_basic'],
      optionalInterfaces: ['pubsub_persistent'],
      backends: ['memstore', 'redis', 'postgres', 'nats', 'kafka'],
      fullBackends: ['memstore', 'nats', 'kafka'],
    });
  });

  it('is a usage error for an unknown pattern', async () => {
    const r = await prismctl(['patterns', 'describe', 'key-value']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /'key-value' is invalid for argument 'name'\. Allowed choices are keyvalue, .*multicast-registry/,
    );
  });
});
