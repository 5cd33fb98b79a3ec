import { describe, expect, it } from '@jest/globals';
import { z } from '@prism/sdk';
import { problemsOf } from './catalog.fixture.js';
import { parseConfig } from './parse.js';
import type { BackendCatalog } from './types.js';

// The generic rule, with a catalog whose `isolation` is made up: cluster seeds, exact table names and
// a plugin bug. The real adapters' isolation is tested with their definitions in apps/proxy.
const catalog: BackendCatalog = {
  types: () => ['cluster', 'tables', 'buggy'],
  describe: (type) =>
    ({
      cluster: {
        interfaces: ['keyvalue_basic'],
        configSchema: z.strictObject({ seeds: z.array(z.string()), prefix: z.string().optional() }),
        isolation: (config: unknown, namespace: string) => {
          const c = config as { seeds: string[]; prefix?: string };
          return {
            endpoints: c.seeds,
            scopes: [
              { kind: 'keys', value: c.prefix ?? `${namespace}/`, ...(c.prefix ? { field: 'prefix' } : {}) },
            ],
          };
        },
      },
      tables: {
        interfaces: ['keyvalue_basic'],
        configSchema: z.strictObject({ db: z.string(), table: z.string() }),
        isolation: (config: unknown) => {
          const c = config as { db: string; table: string };
          return {
            endpoints: [c.db],
            scopes: [{ kind: 'tables', value: c.table, match: 'exact' as const, field: 'table' }],
          };
        },
      },
      buggy: {
        interfaces: ['keyvalue_basic'],
        isolation: () => {
          throw new Error('bug');
        },
      },
    })[type],
};

const ns = (name: string, backend: string) =>
  `  - name: ${name}\n    pattern: keyvalue\n    backend: ${backend}\n`;
const parse = (yaml: string) => parseConfig(yaml, { file: '/etc/prism/prism.yaml', catalog, env: {} });

describe('isolation of namespaces on a shared backend', () => {
  it('treats a cluster that shares one seed as the same backend', () => {
    const [p, ...rest] = problemsOf(
      `namespaces:\n${ns('a', '{ type: cluster, config: { seeds: [h1, h2], prefix: "x" } }')}${ns('b', '{ type: cluster, config: { seeds: [h3, h2], prefix: "x/y" } }')}`,
      { catalog },
    );
    expect(rest).toEqual([]);
    expect(p?.field).toBe('namespaces[1].backend.config.prefix');
    expect(p?.message).toContain('share cluster h2');
    expect(p?.message).toContain('"x" is a prefix of "x/y", so "a" could read and overwrite the data of "b"');
    expect(() =>
      parse(
        `namespaces:\n${ns('a', '{ type: cluster, config: { seeds: [h1], prefix: "x" } }')}${ns('b', '{ type: cluster, config: { seeds: [h2], prefix: "x/y" } }')}`,
      ),
    ).not.toThrow();
  });

  it('compares exact scopes (table names) for equality only', () => {
    const [p] = problemsOf(
      `namespaces:\n${ns('a', '{ type: tables, config: { db: d, table: kv } }')}${ns('b', '{ type: tables, config: { db: d, table: kv } }')}`,
      { catalog },
    );
    expect(p?.message).toMatch(
      /"a" uses table "kv", "b" uses table "kv"; the two are equal.*different values/,
    );
    expect(() =>
      parse(
        `namespaces:\n${ns('a', '{ type: tables, config: { db: d, table: kv } }')}${ns('b', '{ type: tables, config: { db: d, table: kv2 } }')}`,
      ),
    ).not.toThrow();
  });

  it('reports every overlapping pair, at the later namespace, and ignores a failing isolation()', () => {
    const problems = problemsOf(
      `namespaces:\n${ns('a', '{ type: cluster, config: { seeds: [h], prefix: "p" } }')}${ns('b', '{ type: cluster, config: { seeds: [h], prefix: "p1" } }')}${ns('c', '{ type: cluster, config: { seeds: [h], prefix: "p12" } }')}${ns('d', '{ type: buggy }')}${ns('e', '{ type: buggy }')}`,
      { catalog },
    );
    expect(problems.map((p) => [/^namespaces "(\w)"/.exec(p.message)?.[1], p.namespace])).toEqual([
      ['a', 'b'],
      ['a', 'c'],
      ['b', 'c'],
    ]);
  });
});
