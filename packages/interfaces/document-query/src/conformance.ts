import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentBasic, PutRequestSchema } from '@prism/document-basic';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { type Filter, FilterSchema } from '@prism/proto/prism/common/v1/filter_pb';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { DocumentQuery, type DocumentQueryImpl, QueryRequestSchema } from './index.js';

const ctx = { signal: new AbortController().signal };

/** Filter builders for tests: `f.eq('a.b', 'x')`, `f.and(...)`. */
export const f = {
  eq: (field: string, value: string): Filter =>
    create(FilterSchema, { condition: { case: 'eq', value: { field, value } } }),
  ne: (field: string, value: string): Filter =>
    create(FilterSchema, { condition: { case: 'ne', value: { field, value } } }),
  lt: (field: string, value: number): Filter =>
    create(FilterSchema, { condition: { case: 'lt', value: { field, value } } }),
  le: (field: string, value: number): Filter =>
    create(FilterSchema, { condition: { case: 'le', value: { field, value } } }),
  gt: (field: string, value: number): Filter =>
    create(FilterSchema, { condition: { case: 'gt', value: { field, value } } }),
  ge: (field: string, value: number): Filter =>
    create(FilterSchema, { condition: { case: 'ge', value: { field, value } } }),
  startswith: (field: string, prefix: string): Filter =>
    create(FilterSchema, { condition: { case: 'startswith', value: { field, prefix } } }),
  in: (field: string, ...values: string[]): Filter =>
    create(FilterSchema, { condition: { case: 'in', value: { field, values } } }),
  exists: (field: string): Filter =>
    create(FilterSchema, { condition: { case: 'exists', value: { field } } }),
  and: (...filters: Filter[]): Filter =>
    create(FilterSchema, { condition: { case: 'and', value: { filters } } }),
  or: (...filters: Filter[]): Filter =>
    create(FilterSchema, { condition: { case: 'or', value: { filters } } }),
  not: (filter: Filter): Filter => create(FilterSchema, { condition: { case: 'not', value: filter } }),
};

/** Options of one query in tests. */
export interface QueryOptions {
  filter?: Filter;
  sort?: (string | { path: string; descending?: boolean })[];
  projection?: string[];
  limit?: number;
  cursor?: string;
}

/** Small typed client over a document_query implementation, used by this and other suites. */
export function documentQuery(impl: DocumentQueryImpl, namespace: string) {
  const query = async (o: QueryOptions = {}) => {
    const res = await impl.query(
      create(QueryRequestSchema, {
        namespace,
        filter: o.filter,
        sort: (o.sort ?? []).map((k) =>
          typeof k === 'string'
            ? { path: k, descending: false }
            : { path: k.path, descending: k.descending ?? false },
        ),
        projection: o.projection ?? [],
        limit: o.limit ?? 0,
        cursor: o.cursor ?? '',
      }),
      ctx,
    );
    const documents = (res.documents ?? []).map((d) => ({
      id: d.id ?? '',
      json: d.json ?? '',
      version: Number(d.version ?? 0),
    }));
    return { documents, ids: documents.map((d) => d.id), nextCursor: res.nextCursor ?? '' };
  };
  /** Every page of a query, following cursors; the ids in order. */
  const all = async (o: QueryOptions = {}) => {
    const ids: string[] = [];
    let pages = 0;
    let cursor = '';
    do {
      const page = await query({ ...o, cursor });
      ids.push(...page.ids);
      cursor = page.nextCursor;
      pages++;
      if (pages > 10_000) throw new Error('cursor does not advance');
    } while (cursor !== '');
    return { ids, pages };
  };
  return { query, all };
}

/** Puts documents through document_basic (every suite over documents needs it). */
export function documentWriter(handle: PluginHandle, namespace: string, label: string) {
  const impl = handle.get(DocumentBasic);
  if (!impl) throw new Error(`${label} implements document queries without document_basic`);
  return async (docs: Record<string, unknown>) => {
    const entries = Object.entries(docs);
    for (let i = 0; i < entries.length; i += 16)
      await Promise.all(
        entries
          .slice(i, i + 16)
          .map(([id, doc]) =>
            impl.put(create(PutRequestSchema, { namespace, id, json: JSON.stringify(doc) }), ctx),
          ),
      );
  };
}

/** The mixed-type data set of the query suites (ids m01..). */
export const MIXED: Readonly<Record<string, unknown>> = {
  m01: { v: 5, o: { x: 1 }, k: 'num' },
  m02: { v: -1.5, o: { x: 'a' } },
  m03: { v: '10' },
  m04: { v: 'abc', o: { x: true } },
  m05: { v: true },
  m06: { v: false },
  m07: { v: null },
  m08: { v: { nested: 1 } },
  m09: { v: [1, 2], w: [{ x: 1 }] },
  m10: {},
  m11: { v: 1e21 },
  m12: { v: '9' },
  m13: { v: 1e-7 },
  m14: { v: '1e+21' },
  m15: { 'a.b': 'dot', a: { b: 'nested' }, 'c\\d': 'slash' },
  m16: { v: 'é' },
  m17: { v: '😀' },
  m18: { v: '\uffff' },
};

const ALL_MIXED = Object.keys(MIXED).sort();
const without = (...ids: string[]) => ALL_MIXED.filter((id) => !ids.includes(id));

/** The document_query conformance suite: the filter language on paths, the total order, projection, paging. */
export function describeDocumentQueryConformance(label: string, factory: PluginFactory): void {
  describe(`document_query conformance: ${label}`, () => {
    let handle: PluginHandle;
    let paging: PluginHandle;
    let q: ReturnType<typeof documentQuery>;
    let pq: ReturnType<typeof documentQuery>;
    const namespace = uniqueNamespace(label);
    const pagingNamespace = uniqueNamespace(`${label}-paging`);
    const N = 230;

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(DocumentQuery);
      if (!impl) throw new Error(`${label} does not implement document_query`);
      q = documentQuery(impl, namespace);
      await documentWriter(handle, namespace, label)(MIXED);
      paging = await factory({ namespace: pagingNamespace, limits: CONFORMANCE_LIMITS });
      pq = documentQuery(paging.get(DocumentQuery)!, pagingNamespace);
      const docs: Record<string, unknown> = {};
      for (let i = 0; i < N; i++)
        docs[`p${String(i).padStart(3, '0')}`] = {
          g: i % 3 === 0 ? 'a' : 'b',
          r: i % 17,
          ...(i % 5 === 0 ? {} : { s: `s${i % 7}` }),
        };
      await documentWriter(paging, pagingNamespace, label)(docs);
    });
    afterAll(async () => {
      await handle?.close();
      await paging?.close();
    });

    const ids = async (filter?: Filter) => (await q.query({ filter, limit: 1000 })).ids;

    it('returns every document without a filter, in id order, with versions', async () => {
      const r = await q.query({ limit: 1000 });
      expect(r.ids).toEqual(ALL_MIXED);
      expect(r.nextCursor).toBe('');
      expect(r.documents[0]).toEqual({ id: 'm01', json: '{"v":5,"o":{"x":1},"k":"num"}', version: 1 });
    });

    it('eq compares the text of strings, numbers (as JSON.stringify prints them) and booleans', async () => {
      expect(await ids(f.eq('v', '5'))).toEqual(['m01']);
      expect(await ids(f.eq('v', '5.0'))).toEqual([]);
      expect(await ids(f.eq('v', '10'))).toEqual(['m03']);
      expect(await ids(f.eq('v', 'true'))).toEqual(['m05']);
      expect(await ids(f.eq('v', 'false'))).toEqual(['m06']);
      expect(await ids(f.eq('v', '1e+21'))).toEqual(['m11', 'm14']);
      expect(await ids(f.eq('v', '1000000000000000000000'))).toEqual([]);
      expect(await ids(f.eq('v', '1e-7'))).toEqual(['m13']);
      expect(await ids(f.eq('v', '0.0000001'))).toEqual([]);
      expect(await ids(f.eq('v', 'null'))).toEqual([]);
      expect(await ids(f.eq('v', '{"nested":1}'))).toEqual([]);
      expect(await ids(f.eq('v', '[1,2]'))).toEqual([]);
      expect(await ids(f.eq('o.x', '1'))).toEqual(['m01']);
      expect(await ids(f.eq('o.x', 'a'))).toEqual(['m02']);
      expect(await ids(f.eq('v', 'é'))).toEqual(['m16']);
      expect(await ids(f.eq('v', 'ABC'))).toEqual([]);
    });

    it('ne is true for absent paths and other values', async () => {
      expect(await ids(f.ne('v', '5'))).toEqual(without('m01'));
      expect(await ids(f.ne('o.x', 'a'))).toEqual(without('m02'));
    });

    it('lt/le/gt/ge compare numbers and numeric strings numerically; nothing else matches', async () => {
      expect(await ids(f.lt('v', 6))).toEqual(['m01', 'm02', 'm13']);
      expect(await ids(f.le('v', 5))).toEqual(['m01', 'm02', 'm13']);
      expect(await ids(f.lt('v', 5))).toEqual(['m02', 'm13']);
      expect(await ids(f.gt('v', 8))).toEqual(['m03', 'm11', 'm12', 'm14']);
      expect(await ids(f.ge('v', 9))).toEqual(['m03', 'm11', 'm12', 'm14']);
      expect(await ids(f.gt('v', 9))).toEqual(['m03', 'm11', 'm14']);
      expect(await ids(f.le('v', -1.5))).toEqual(['m02']);
      expect(await ids(f.gt('v', 0))).toEqual(['m01', 'm03', 'm11', 'm12', 'm13', 'm14']);
      expect(await ids(f.ge('o.x', 1))).toEqual(['m01']);
      expect(await ids(f.not(f.lt('v', 6)))).toEqual(without('m01', 'm02', 'm13'));
    });

    it('startswith sees numbers as JSON.stringify prints them', async () => {
      expect(await ids(f.startswith('v', '1'))).toEqual(['m03', 'm11', 'm13', 'm14']);
      expect(await ids(f.startswith('v', '1e'))).toEqual(['m11', 'm13', 'm14']);
      expect(await ids(f.startswith('v', '-'))).toEqual(['m02']);
      expect(await ids(f.startswith('v', 'tr'))).toEqual(['m05']);
      expect(await ids(f.startswith('v', 'a'))).toEqual(['m04']);
      expect(await ids(f.startswith('v', ''))).toEqual([
        'm01',
        'm02',
        'm03',
        'm04',
        'm05',
        'm06',
        'm11',
        'm12',
        'm13',
        'm14',
        'm16',
        'm17',
        'm18',
      ]);
      expect(await ids(f.not(f.startswith('v', '1')))).toEqual(without('m03', 'm11', 'm13', 'm14'));
    });

    it('in and exists; null, objects, arrays and paths through arrays are absent', async () => {
      expect(await ids(f.in('v', 'abc', 'false', '-1.5', 'nope'))).toEqual(['m02', 'm04', 'm06']);
      expect(await ids(f.in('v', '5', '1e-7'))).toEqual(['m01', 'm13']);
      const present = [
        'm01',
        'm02',
        'm03',
        'm04',
        'm05',
        'm06',
        'm11',
        'm12',
        'm13',
        'm14',
        'm16',
        'm17',
        'm18',
      ];
      expect(await ids(f.exists('v'))).toEqual(present);
      expect(await ids(f.not(f.exists('v')))).toEqual(without(...present));
      expect(await ids(f.exists('v.nested'))).toEqual(['m08']);
      expect(await ids(f.exists('v.0'))).toEqual([]);
      expect(await ids(f.exists('w.0.x'))).toEqual([]);
      expect(await ids(f.eq('v.0', '1'))).toEqual([]);
      expect(await ids(f.exists('o'))).toEqual([]);
      expect(await ids(f.exists('o.x'))).toEqual(['m01', 'm02', 'm04']);
    });

    it('escaped names, _id, and and/or/not', async () => {
      expect(await ids(f.eq('a\\.b', 'dot'))).toEqual(['m15']);
      expect(await ids(f.eq('a.b', 'nested'))).toEqual(['m15']);
      expect(await ids(f.eq('a.b', 'dot'))).toEqual([]);
      expect(await ids(f.eq('c\\\\d', 'slash'))).toEqual(['m15']);
      expect(await ids(f.eq('_id', 'm03'))).toEqual(['m03']);
      expect(await ids(f.startswith('_id', 'm1'))).toEqual(ALL_MIXED.filter((id) => id.startsWith('m1')));
      expect(await ids(f.and(f.exists('o.x'), f.ne('o.x', 'true')))).toEqual(['m01', 'm02']);
      expect(await ids(f.or(f.eq('v', 'true'), f.eq('o.x', 'a'), f.eq('_id', 'm10')))).toEqual([
        'm02',
        'm05',
        'm10',
      ]);
      expect(await ids(f.not(f.or(f.exists('v'), f.exists('o.x'))))).toEqual([
        'm07',
        'm08',
        'm09',
        'm10',
        'm15',
      ]);
      expect(await ids(f.and(f.not(f.eq('v', 'abc')), f.exists('o.x')))).toEqual(['m01', 'm02']);
    });

    it('sorts numbers, then strings by code point, then booleans, absent last; descending too', async () => {
      const absent = ['m07', 'm08', 'm09', 'm10', 'm15'];
      const asc = ['m02', 'm13', 'm01', 'm11', 'm03', 'm14', 'm12', 'm04', 'm16', 'm18', 'm17', 'm06', 'm05'];
      expect((await q.query({ sort: ['v'], limit: 1000 })).ids).toEqual([...asc, ...absent]);
      const desc = [...asc].reverse();
      expect((await q.query({ sort: [{ path: 'v', descending: true }], limit: 1000 })).ids).toEqual([
        ...desc,
        ...absent,
      ]);
      expect((await q.query({ sort: [{ path: 'o.x', descending: true }, 'v'], limit: 1000 })).ids).toEqual([
        'm04',
        'm02',
        'm01',
        ...asc.filter((id) => !['m01', 'm02', 'm04'].includes(id)),
        ...absent,
      ]);
      expect((await q.query({ sort: [{ path: '_id', descending: true }], limit: 3 })).ids).toEqual([
        'm18',
        'm17',
        'm16',
      ]);
    });

    it('projects paths, nested as in the document, leaving absent ones out', async () => {
      const r = await q.query({
        filter: f.in('_id', 'm01', 'm09', 'm15'),
        projection: ['o.x', 'k', 'a\\.b', 'w'],
      });
      expect(r.documents.map((d) => [d.id, d.json])).toEqual([
        ['m01', '{"o":{"x":1},"k":"num"}'],
        ['m09', '{"w":[{"x":1}]}'],
        ['m15', '{"a.b":"dot"}'],
      ]);
      const s = await q.query({ filter: f.eq('_id', 'm01'), projection: ['o', 'o.x'] });
      expect(s.documents[0]?.json).toBe('{"o":{"x":1}}');
    });

    it('pages with cursors: every match exactly once, in order, whatever the page size', async () => {
      const full = await pq.query({
        filter: f.eq('g', 'b'),
        sort: [{ path: 's', descending: true }, 'r'],
        limit: 1000,
      });
      // s descending (absent last), then r ascending, then id.
      const expected = Array.from({ length: N }, (_, i) => i)
        .filter((i) => i % 3 !== 0)
        .map((i) => ({
          id: `p${String(i).padStart(3, '0')}`,
          s: i % 5 === 0 ? undefined : `s${i % 7}`,
          r: i % 17,
        }))
        .sort((a, b) => {
          if (a.s !== b.s) {
            if (a.s === undefined) return 1;
            if (b.s === undefined) return -1;
            return a.s < b.s ? 1 : -1;
          }
          return a.r !== b.r ? a.r - b.r : a.id < b.id ? -1 : 1;
        })
        .map((x) => x.id);
      expect(full.ids).toEqual(expected);
      expect(full.nextCursor).toBe('');
      for (const limit of [1, 7, 50]) {
        const paged = await pq.all({
          filter: f.eq('g', 'b'),
          sort: [{ path: 's', descending: true }, 'r'],
          limit,
        });
        expect(paged.ids).toEqual(full.ids);
        expect(paged.pages).toBe(Math.ceil(full.ids.length / limit));
      }
      const everything = await pq.all({ sort: ['s'], limit: 33 });
      expect(everything.ids.length).toBe(N);
      expect(new Set(everything.ids).size).toBe(N);
      const first = await pq.query({});
      expect(first.ids.length).toBe(100);
      expect(first.nextCursor).not.toBe('');
      const sparse = await pq.all({ filter: f.eq('_id', 'p229'), limit: 2 });
      expect(sparse.ids).toEqual(['p229']);
    });

    it('rejects a cursor of another query, a malformed one, and limits beyond the bounds', async () => {
      const page = await pq.query({ filter: f.eq('g', 'a'), sort: ['r'], limit: 5 });
      expect(page.nextCursor).not.toBe('');
      await expectCode(
        () => pq.query({ filter: f.eq('g', 'b'), sort: ['r'], cursor: page.nextCursor }),
        Code.InvalidArgument,
      );
      await expectCode(
        () => pq.query({ filter: f.eq('g', 'a'), sort: ['s'], cursor: page.nextCursor }),
        Code.InvalidArgument,
      );
      await expectCode(
        () => pq.query({ filter: f.eq('g', 'a'), sort: ['r'], projection: ['g'], cursor: page.nextCursor }),
        Code.InvalidArgument,
      );
      await expectCode(() => pq.query({ cursor: 'not a cursor!' }), Code.InvalidArgument);
      await expectCode(() => pq.query({ cursor: 'eyJ4IjoxfQ' }), Code.InvalidArgument);
      const next = await pq.query({ filter: f.eq('g', 'a'), sort: ['r'], limit: 5, cursor: page.nextCursor });
      expect(next.ids.length).toBe(5);
      await expectCode(() => pq.query({ limit: 1001 }), Code.InvalidArgument);
      expect((await pq.query({ limit: 1000 })).ids.length).toBe(N);
      await expectCode(
        () => pq.query({ sort: Array.from({ length: 9 }, (_, i) => `k${i}`) }),
        Code.InvalidArgument,
      );
      await expectCode(
        () => pq.query({ projection: Array.from({ length: 65 }, (_, i) => `k${i}`) }),
        Code.InvalidArgument,
      );
      for (const bad of ['', 'a..b', '.a', 'a.', 'a\\b', 'a\\']) {
        await expectCode(() => pq.query({ sort: [bad] }), Code.InvalidArgument);
        await expectCode(() => pq.query({ projection: [bad] }), Code.InvalidArgument);
      }
      const e = await expectCode(
        () => pq.query({ filter: f.and(f.eq('g', 'a'), f.eq('a..b', 'x')) }),
        Code.InvalidArgument,
      );
      expect(e.rawMessage).toContain('filter.and[1].eq');
      await expectCode(() => pq.query({ filter: create(FilterSchema, {}) }), Code.InvalidArgument);
    });

    it('compares and sorts doubles exactly (no rounding through another representation)', async () => {
      const ns = uniqueNamespace(`${label}-doubles`);
      const h = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        await documentWriter(
          h,
          ns,
          label,
        )({
          a: { p: 0.1 + 0.2 },
          b: { p: 0.3 },
          c: { p: 2 ** 53 + 2 },
          d: { p: 5e-324 },
          e: { p: Number.MAX_VALUE },
          f: { p: -1e-7 },
          g: { p: 123456789012345680000 },
          h: { p: '0.30000000000000004' },
        });
        const dq = documentQuery(h.get(DocumentQuery)!, ns);
        const got = async (filter: Filter) => (await dq.query({ filter })).ids;
        expect(await got(f.eq('p', '0.30000000000000004'))).toEqual(['a', 'h']);
        expect(await got(f.eq('p', '0.3'))).toEqual(['b']);
        expect(await got(f.eq('p', '5e-324'))).toEqual(['d']);
        expect(await got(f.eq('p', '1.7976931348623157e+308'))).toEqual(['e']);
        expect(await got(f.eq('p', '9007199254740994'))).toEqual(['c']);
        expect(await got(f.gt('p', 0.3))).toEqual(['a', 'c', 'e', 'g', 'h']);
        expect(await got(f.lt('p', 1e-300))).toEqual(['d', 'f']);
        expect(await got(f.in('p', '123456789012345680000', '-1e-7'))).toEqual(['f', 'g']);
        expect((await dq.query({ sort: ['p'] })).ids).toEqual(['f', 'd', 'b', 'a', 'c', 'g', 'e', 'h']);
        expect((await dq.query({ sort: [{ path: 'p', descending: true }], limit: 3 })).ids).toEqual([
          'h',
          'e',
          'g',
        ]);
        const paged = await dq.all({ sort: ['p'], limit: 3 });
        expect(paged.ids).toEqual(['f', 'd', 'b', 'a', 'c', 'g', 'e', 'h']);
      } finally {
        await h.close();
      }
    });

    it('keeps namespaces apart', async () => {
      expect((await pq.query({ filter: f.startswith('_id', 'm'), limit: 1000 })).ids).toEqual([]);
      expect((await q.query({ filter: f.startswith('_id', 'p'), limit: 1000 })).ids).toEqual([]);
    });
  });
}
