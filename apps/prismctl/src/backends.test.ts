import { describe, expect, it } from '@jest/globals';
import { PluginCatalog } from '@prism/proxy';
import { json, prismctl } from './cli.test-util.js';
import type { BackendInfo } from './metadata.js';

describe('prismctl backends list', () => {
  it('lists every backend the proxy ships with the interfaces its plugin declares', async () => {
    const r = await prismctl(['backends', 'list']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^TYPE\s+VERSION\s+KIND\s+INTERFACES$/);
    expect(r.out).toMatch(
      /^memstore\s+\d+\.\d+\.\d+\s+embedded\s+keyvalue: basic, batch, cas, scan, transactional, ttl$/m,
    );
    expect(r.out).toMatch(/^redis\s+\S+\s+server\s+keyvalue: /m);
    expect(r.out).toMatch(/^sqlite\s+\S+\s+embedded\s+keyvalue: /m);
    // A cell spanning lines: the models of one backend, one per line.
    expect(r.out).toMatch(
      /^nats\s+\S+\s+server\s+pubsub: basic, filtering, ordering, persistent, wildcards\n\s+stream: basic, consumer_groups, replay, retention\n\s+queue: basic, dead_letter, delayed, visibility\n/m,
    );
  });

  it('prints the definitions as JSON', async () => {
    const all = json<BackendInfo[]>(await prismctl(['backends', 'list', '--json']));
    // Backend order of docs/backends.md.
    expect(all.map((b) => b.type)).toEqual([
      'memstore',
      'redis',
      'postgres',
      'sqlite',
      'nats',
      'kafka',
      'clickhouse',
      'gremlin',
      'neptune',
    ]);
    const sqlite = all.find((b) => b.type === 'sqlite')!;
    expect(sqlite).toEqual({
      type: 'sqlite',
      package: '@prism/adapter-sqlite',
      installed: true,
      embedded: true,
      version: expect.any(String),
      description: expect.stringMatching(/SQLite/),
      interfaces: [
        'keyvalue_basic',
        'keyvalue_batch',
        'keyvalue_cas',
        'keyvalue_scan',
        'keyvalue_transactional',
        'keyvalue_ttl',
        'list_basic',
        'set_basic',
        'set_cardinality',
        'set_operations',
        'set_random',
        'sortedset_basic',
        'sortedset_lex',
        'sortedset_operations',
        'sortedset_range',
        'sortedset_rank',
        'timeseries_basic',
        'document_basic',
        'document_indexing',
        'document_query',
      ],
    });
  });

  it('lists a backend whose package cannot be imported as not installed instead of failing', async () => {
    const catalog = () => new PluginCatalog(['memstore', 'nosuch']);
    const r = await prismctl(['backends', 'list'], { catalog });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^nosuch\s+-\s+server\s+not installed: .*@prism\/adapter-nosuch/m);
    const all = json<BackendInfo[]>(await prismctl(['backends', 'list', '--json'], { catalog }));
    expect(all.find((b) => b.type === 'nosuch')).toMatchObject({
      installed: false,
      interfaces: [],
      note: expect.stringMatching(/^not installed: /),
    });
  });
});

describe('prismctl backends find', () => {
  it('finds the backends implementing every given interface (comma-separated or repeated)', async () => {
    const comma = await prismctl(['backends', 'find', '--interface', 'queue_basic,queue_delayed', '--json']);
    const repeated = await prismctl([
      'backends',
      'find',
      '--interface',
      'queue_basic',
      '--interface',
      'queue_delayed',
      '--json',
    ]);
    expect(comma.code).toBe(0);
    expect(json<BackendInfo[]>(comma).map((b) => b.type)).toEqual(['memstore', 'redis', 'postgres', 'nats']);
    expect(repeated.out).toBe(comma.out);

    const human = await prismctl(['backends', 'find', '--interface', 'keyvalue_ttl']);
    expect(human.out.split('\n').map((l) => l.split(/\s+/)[0])).toEqual([
      'TYPE',
      'memstore',
      'redis',
      'postgres',
      'sqlite',
    ]);
  });

  it('exits 1 when no backend implements them all', async () => {
    // object_basic is a known flavour no adapter implements yet.
    const r = await prismctl(['backends', 'find', '--interface', 'keyvalue_basic,object_basic']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('no backend implements keyvalue_basic + object_basic');
    // Each implemented somewhere (kafka: partitioning; redis, nats: retention), but together only on memstore.
    const apart = await prismctl(
      ['backends', 'find', '--interface', 'stream_partitioning,stream_retention'],
      {
        catalog: () => new PluginCatalog(['redis', 'nats', 'kafka']),
      },
    );
    expect([apart.code, apart.out, apart.err]).toEqual([
      1,
      '',
      'no backend implements stream_partitioning + stream_retention',
    ]);
    const j = await prismctl(['backends', 'find', '--interface', 'list_basic,kafka_x', '--json']);
    expect(j.code).toBe(2); // kafka_x is not <model>_<feature>
    const none = await prismctl(['backends', 'find', '--interface', 'object_basic', '--json']);
    expect([none.code, json(none)]).toEqual([1, []]);
  });

  it('notes backends it could not check', async () => {
    const r = await prismctl(['backends', 'find', '--interface', 'keyvalue_basic'], {
      catalog: () => new PluginCatalog(['memstore', 'nosuch']),
    });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^note: nosuch: not installed: .* \(not checked\)$/);
  });

  it('is a usage error (exit 2) for a feature without its model, an unknown flavour or no --interface', async () => {
    const bare = await prismctl(['backends', 'find', '--interface', 'ttl']);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('"ttl" is not an interface flavour (did you mean "keyvalue_ttl"?)');
    const typo = await prismctl(['backends', 'find', '--interface', 'keyvalue_tll']);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('unknown interface "keyvalue_tll" (did you mean "keyvalue_ttl"?)');
    const none = await prismctl(['backends', 'find']);
    expect(none.code).toBe(2);
    expect(none.err).toContain("required option '--interface <flavours>' not specified");
  });
});
