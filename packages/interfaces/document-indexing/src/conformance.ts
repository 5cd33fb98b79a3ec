import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentQuery, type SortKey, SortKeySchema } from '@prism/document-query';
import { documentQuery, documentWriter, f } from '@prism/document-query/conformance';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import type { Filter } from '@prism/proto/prism/common/v1/filter_pb';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  CreateIndexRequestSchema,
  DocumentIndexing,
  type DocumentIndexingImpl,
  DropIndexRequestSchema,
  ExplainRequestSchema,
  INDEX_LIMITS,
  ListIndexesRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a document_indexing implementation, used by this and other suites. */
export function documentIndexing(impl: DocumentIndexingImpl, namespace: string) {
  const sortKeys = (sort: (string | { path: string; descending?: boolean })[] = []): SortKey[] =>
    sort.map((k) =>
      create(
        SortKeySchema,
        typeof k === 'string' ? { path: k } : { path: k.path, descending: k.descending ?? false },
      ),
    );
  return {
    create: async (name: string, ...paths: string[]) =>
      (await impl.createIndex(create(CreateIndexRequestSchema, { namespace, index: { name, paths } }), ctx))
        .created ?? false,
    drop: async (name: string) =>
      (await impl.dropIndex(create(DropIndexRequestSchema, { namespace, name }), ctx)).dropped ?? false,
    list: async () =>
      ((await impl.listIndexes(create(ListIndexesRequestSchema, { namespace }), ctx)).indexes ?? []).map(
        (i) => ({
          name: i.name ?? '',
          paths: [...(i.paths ?? [])],
        }),
      ),
    explain: async (filter?: Filter, sort?: (string | { path: string; descending?: boolean })[]) => {
      const res = await impl.explain(
        create(ExplainRequestSchema, { namespace, filter, sort: sortKeys(sort) }),
        ctx,
      );
      return { plan: res.plan ?? '', indexesUsed: [...(res.indexesUsed ?? [])] };
    },
  };
}

const { eq, in: inOf, and } = f;

/**
 * The document_indexing conformance suite: declarations (create/list/drop and their rules), the plan naming
 * a declared index once it exists, and queries answering the same with and without indexes. The adapter
 * must declare document_basic and document_query too.
 */
export function describeDocumentIndexingConformance(label: string, factory: PluginFactory): void {
  describe(`document_indexing conformance: ${label}`, () => {
    let handle: PluginHandle;
    let other: PluginHandle;
    let idx: ReturnType<typeof documentIndexing>;
    let put: (id: string, doc: unknown) => Promise<void>;
    let query: (filter?: Filter, sort?: string[]) => Promise<string[]>;
    const namespace = uniqueNamespace(label);
    const otherNamespace = uniqueNamespace(`${label}-other`);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(DocumentIndexing);
      if (!impl) throw new Error(`${label} does not implement document_indexing`);
      idx = documentIndexing(impl, namespace);
      const q = handle.get(DocumentQuery);
      if (!q) throw new Error(`${label} implements document_indexing without document_query`);
      const write = documentWriter(handle, namespace, label);
      put = (id, doc) => write({ [id]: doc });
      const dq = documentQuery(q, namespace);
      query = async (filter, sort = []) => (await dq.query({ filter, sort, limit: 1000 })).ids;
      other = await factory({ namespace: otherNamespace, limits: CONFORMANCE_LIMITS });
      const cities = ['Berlin', 'Paris', 'Rome', 'Oslo', 'Lima'];
      for (let i = 0; i < 60; i += 10)
        await Promise.all(
          Array.from({ length: 10 }, (_, j) => i + j).map((n) =>
            put(`c${String(n).padStart(2, '0')}`, {
              address: { city: cities[n % 5], zip: n % 2 === 0 ? String(1000 + n) : 1000 + n },
              n,
              ...(n % 7 === 0 ? { v: n % 2 === 0 ? 'x' : true } : {}),
            }),
          ),
        );
    });
    afterAll(async () => {
      await handle?.close();
      await other?.close();
    });

    it('creates an index: created=true, then false for the same paths, ALREADY_EXISTS for others', async () => {
      expect(await idx.create('by_zip', 'address.zip')).toBe(true);
      expect(await idx.create('by_zip', 'address.zip')).toBe(false);
      const e = await expectCode(() => idx.create('by_zip', 'address.city'), Code.AlreadyExists);
      expect(e.rawMessage).toContain('address.zip');
      await expectCode(() => idx.create('by_zip', 'address.zip', 'n'), Code.AlreadyExists);
      expect(await idx.create('a_pair', 'n', 'address.city')).toBe(true);
      expect(await idx.list()).toEqual([
        { name: 'a_pair', paths: ['n', 'address.city'] },
        { name: 'by_zip', paths: ['address.zip'] },
      ]);
      expect(await idx.drop('a_pair')).toBe(true);
      expect(await idx.drop('a_pair')).toBe(false);
      expect(await idx.list()).toEqual([{ name: 'by_zip', paths: ['address.zip'] }]);
    });

    it('rejects bad names and paths', async () => {
      for (const name of ['', 'Upper', '1abc', 'a-b', 'a.b', 'x'.repeat(49)])
        await expectCode(() => idx.create(name, 'n'), Code.InvalidArgument);
      expect(await idx.create('x'.repeat(48), 'n')).toBe(true);
      expect(await idx.drop('x'.repeat(48))).toBe(true);
      await expectCode(() => idx.create('no_paths'), Code.InvalidArgument);
      await expectCode(
        () => idx.create('nine', ...Array.from({ length: 9 }, (_, i) => `p${i}`)),
        Code.InvalidArgument,
      );
      for (const path of ['', 'a..b', 'a.', 'a\\b'])
        await expectCode(() => idx.create('bad_path', path), Code.InvalidArgument);
      await expectCode(() => idx.create('twice', 'n', 'n'), Code.InvalidArgument);
      await expectCode(() => idx.drop('Bad'), Code.InvalidArgument);
      expect((await idx.list()).map((i) => i.name)).not.toContain('bad_path');
    });

    it('explains: the plan names an index on an eq path once it exists, and not before or after dropping it', async () => {
      const filter = eq('address.city', 'Rome');
      const before = await idx.explain(filter);
      expect(before.plan.length).toBeGreaterThan(0);
      expect(before.indexesUsed).not.toContain('by_city');
      const rome = await query(filter);
      expect(rome).toHaveLength(12);
      expect(await idx.create('by_city', 'address.city')).toBe(true);
      const after = await idx.explain(filter);
      expect(after.indexesUsed.filter((n) => n === 'by_city')).toEqual(['by_city']);
      expect(after.plan.length).toBeGreaterThan(0);
      expect((await idx.explain(and(filter, eq('n', '12')))).indexesUsed).toContain('by_city');
      expect((await idx.explain(eq('n', '12'))).indexesUsed).not.toContain('by_city');
      expect(await query(filter)).toEqual(rome);
      expect(await query(inOf('address.city', 'Rome', 'Oslo'), ['n'])).toHaveLength(24);
      expect(await idx.drop('by_city')).toBe(true);
      expect((await idx.explain(filter)).indexesUsed).not.toContain('by_city');
      expect(await query(filter)).toEqual(rome);
    });

    it('answers queries the same with an index on a path of mixed types', async () => {
      const cases: [Filter | undefined, string[]][] = [
        [eq('address.zip', '1010'), []],
        [eq('address.zip', '1011'), []],
        [eq('v', 'true'), []],
        [eq('v', 'x'), []],
        [inOf('address.zip', '1010', '1011', '1012', 'nope'), []],
        [undefined, ['v', 'address.zip']],
      ];
      const without = await Promise.all(cases.map(([f, s]) => query(f, s)));
      expect(without[0]).toEqual(['c10']);
      expect(without[1]).toEqual(['c11']);
      expect(without[2]).toEqual(['c07', 'c21', 'c35', 'c49']);
      expect(without[4]).toEqual(['c10', 'c11', 'c12']);
      expect(await idx.create('by_v', 'v')).toBe(true);
      expect(await idx.create('by_zip', 'address.zip')).toBe(false);
      expect((await idx.explain(eq('v', 'true'))).indexesUsed).toContain('by_v');
      for (let i = 0; i < cases.length; i++)
        expect(await query(cases[i]![0], cases[i]![1])).toEqual(without[i]);
      // Writes after the index exists are found through it.
      await put('c99', { v: true, address: { zip: 1010 } });
      expect(await query(eq('v', 'true'))).toEqual(['c07', 'c21', 'c35', 'c49', 'c99']);
      expect(await query(eq('address.zip', '1010'))).toEqual(['c10', 'c99']);
      await put('c99', { v: 'changed' });
      expect(await query(eq('v', 'true'))).toEqual(['c07', 'c21', 'c35', 'c49']);
      expect(await idx.drop('by_v')).toBe(true);
    });

    it(`allows at most ${INDEX_LIMITS.maxIndexes} indexes per namespace`, async () => {
      const have = (await idx.list()).length;
      const made: string[] = [];
      for (let i = have; i < INDEX_LIMITS.maxIndexes; i++) {
        made.push(`lim_${i}`);
        expect(await idx.create(`lim_${i}`, `f${i}`)).toBe(true);
      }
      await expectCode(() => idx.create('one_too_many', 'z'), Code.ResourceExhausted);
      expect(await idx.create(made[0]!, `f${have}`)).toBe(false);
      for (const name of made) expect(await idx.drop(name)).toBe(true);
    });

    it('keeps namespaces apart', async () => {
      const impl = other.get(DocumentIndexing);
      if (!impl) throw new Error(`${label} does not implement document_indexing`);
      const elsewhere = documentIndexing(impl, otherNamespace);
      expect(await elsewhere.list()).toEqual([]);
      expect(await elsewhere.create('by_zip', 'n')).toBe(true);
      expect(await elsewhere.list()).toEqual([{ name: 'by_zip', paths: ['n'] }]);
      expect(await idx.list()).toEqual([{ name: 'by_zip', paths: ['address.zip'] }]);
      expect(await elsewhere.drop('by_zip')).toBe(true);
      expect(await idx.list()).toEqual([{ name: 'by_zip', paths: ['address.zip'] }]);
    });
  });
}
