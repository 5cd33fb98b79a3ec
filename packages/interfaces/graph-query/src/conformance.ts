import { create, type JsonObject, type JsonValue, toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AddEdgeRequestSchema,
  AddVertexRequestSchema,
  GetVertexRequestSchema,
  GraphBasic,
  type GraphBasicImpl,
} from '@prism/graph-basic';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { GraphQuery, type GraphQueryImpl, QueryRequestSchema } from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a graph_query implementation: runs a query and gathers every batch. */
export function graphQuery(impl: GraphQueryImpl, namespace: string) {
  return {
    query: async (gremlin: string, bindings: JsonObject = {}, limit = 0) => {
      const results: JsonValue[] = [];
      let truncated = false;
      let batches = 0;
      for await (const res of impl.query(
        create(QueryRequestSchema, { namespace, gremlin, bindings, limit }),
        ctx,
      )) {
        batches++;
        // Results are google.protobuf.Value messages on the wire; compare them as the JSON they stand for.
        results.push(...(res.results ?? []).map((v) => toJson(ValueSchema, create(ValueSchema, v))));
        truncated = res.truncated ?? false;
      }
      return { results, truncated, batches };
    },
  };
}

function basicOf(handle: PluginHandle): GraphBasicImpl {
  const impl = handle.get(GraphBasic);
  if (!impl)
    throw new Error(`${handle.plugin} does not implement graph_basic, which graph_query's suite needs`);
  return impl;
}

const VERTICES: [string, string, JsonObject][] = [
  ['ada', 'person', { name: 'Ada', age: 36 }],
  ['bob', 'person', { name: 'Bob', age: 40 }],
  ['cy', 'person', { name: 'Cy', age: 25 }],
  ['oslo', 'city', { name: 'Oslo' }],
];
const EDGES: [string, string, string, string, JsonObject][] = [
  ['ab', 'knows', 'ada', 'bob', { since: 2020 }],
  ['bc', 'knows', 'bob', 'cy', { since: 2021 }],
  ['ac', 'likes', 'ada', 'cy', {}],
  ['co', 'lives_in', 'cy', 'oslo', {}],
];

/**
 * The graph_query conformance suite, for backends that speak Gremlin, on a namespace with allow_writes
 * false (the default): bindings, the result format of vertices, edges and values, limit/truncated,
 * mutations rejected with the graph unchanged, Groovy and lambda injection rejected, bindings that cannot
 * inject, input rules and namespace isolation. Data is set up through graph_basic.
 */
export function describeGraphQueryConformance(label: string, factory: PluginFactory): void {
  describe(`graph_query conformance: ${label}`, () => {
    let handle: PluginHandle;
    let q: ReturnType<typeof graphQuery>;
    const namespace = uniqueNamespace(label);
    const persons = async () => (await q.query("g.V().hasLabel('person').count()")).results;
    const exists = async (id: string) =>
      (await basicOf(handle).getVertex(create(GetVertexRequestSchema, { namespace, id }), ctx)).found ??
      false;

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(GraphQuery);
      if (!impl) throw new Error(`${label} does not implement graph_query`);
      q = graphQuery(impl, namespace);
      const basic = basicOf(handle);
      for (const [id, lbl, properties] of VERTICES)
        await basic.addVertex(
          create(AddVertexRequestSchema, { namespace, vertex: { id, label: lbl, properties } }),
          ctx,
        );
      for (const [id, lbl, fromId, toId, properties] of EDGES)
        await basic.addEdge(
          create(AddEdgeRequestSchema, { namespace, edge: { id, label: lbl, fromId, toId, properties } }),
          ctx,
        );
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('runs a traversal with bindings and returns values as JSON', async () => {
      const r = await q.query('g.V(start).out(lbl).values(prop)', {
        start: 'ada',
        lbl: 'knows',
        prop: 'name',
      });
      expect(r).toMatchObject({ results: ['Bob'], truncated: false });
      expect(
        (await q.query("g.V(start).out('knows').out('knows').values('age')", { start: 'ada' })).results,
      ).toEqual([25]);
      expect(await persons()).toEqual([3]);
      expect(
        (await q.query("g.V().has('person', 'age', P.gte(minAge)).values('name').order()", { minAge: 36 }))
          .results,
      ).toEqual(['Ada', 'Bob']);
    });

    it('accepts list bindings', async () => {
      const r = await q.query("g.V().has('name', within(names)).values('name').order()", {
        names: ['Cy', 'Ada', 'Nobody'],
      });
      expect(r.results).toEqual(['Ada', 'Cy']);
    });

    it('returns vertices as {id, label, properties}', async () => {
      const r = await q.query('g.V(vid)', { vid: 'ada' });
      expect(r.results).toEqual([{ id: 'ada', label: 'person', properties: { name: 'Ada', age: 36 } }]);
      const city = await q.query("g.V(start).out('likes').out('lives_in')", { start: 'ada' });
      expect(city.results).toEqual([{ id: 'oslo', label: 'city', properties: { name: 'Oslo' } }]);
    });

    it('returns edges as {id, label, from_id, to_id, properties}', async () => {
      const r = await q.query('g.E(e)', { e: 'ab' });
      expect(r.results).toEqual([
        { id: 'ab', label: 'knows', from_id: 'ada', to_id: 'bob', properties: { since: 2020 } },
      ]);
      const out = await q.query("g.V(v).outE('likes')", { v: 'ada' });
      expect(out.results).toEqual([
        { id: 'ac', label: 'likes', from_id: 'ada', to_id: 'cy', properties: {} },
      ]);
    });

    it('returns nothing for a traversal that matches nothing', async () => {
      expect(await q.query('g.V(vid).out()', { vid: 'ghost' })).toMatchObject({
        results: [],
        truncated: false,
      });
    });

    it('cuts results at limit and says so on the last batch', async () => {
      const cut = await q.query("g.V().hasLabel('person').values('name').order()", {}, 2);
      expect(cut).toMatchObject({ results: ['Ada', 'Bob'], truncated: true });
      const all = await q.query("g.V().hasLabel('person').values('name').order()", {}, 3);
      expect(all).toMatchObject({ results: ['Ada', 'Bob', 'Cy'], truncated: false });
      expect((await q.query('g.V().id().order()')).results).toEqual(['ada', 'bob', 'cy', 'oslo']);
    });

    it('rejects mutating steps on a read-only namespace with INVALID_ARGUMENT and leaves the graph as it was', async () => {
      const attempts: [string, JsonObject, RegExp][] = [
        ["g.addV('person').property('name', n)", { n: 'Eve' }, /addV/],
        ['g.V(vid).drop()', { vid: 'ada' }, /drop/],
        ["g.V(vid).property('age', 99)", { vid: 'ada' }, /property/],
        ["g.V(a).addE('knows').to(__.V(b))", { a: 'cy', b: 'ada' }, /addE/],
        ['g.V().sideEffect(__.drop())', {}, /sideEffect|drop/],
        ['g.mergeV([])', {}, /mergeV|\[/],
        ["g.V().hasLabel('person').coalesce(__.drop(), __.identity())", {}, /drop/],
        ["g.io('/tmp/x.json').read()", {}, /io/],
        ['g.withoutStrategies(ReadOnlyStrategy).V().drop()', {}, /withoutStrategies|ReadOnlyStrategy/],
      ];
      for (const [gremlin, bindings, step] of attempts) {
        const err = await expectCode(() => q.query(gremlin, bindings), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(step);
      }
      expect(await persons()).toEqual([3]);
      expect(await exists('ada')).toBe(true);
      expect((await q.query("g.V(vid).values('age')", { vid: 'ada' })).results).toEqual([36]);
      expect((await q.query("g.V(vid).inE('knows').count()", { vid: 'ada' })).results).toEqual([0]);
    });

    it('rejects lambdas, Groovy code and anything that is not a g. traversal with INVALID_ARGUMENT', async () => {
      const attempts = [
        'g.V().map{ it.get() }',
        "g.V().filter{ it.get().value('name') == 'Ada' }",
        "g.V().values('name'); System.exit(0)",
        'System.exit(0)',
        "new File('/etc/passwd').text",
        'def x = 1; g.V()',
        'x = g.V()',
        'g.V().getClass().forName("java.lang.Runtime")',
        'g.V().class',
        "g.V().values(\"\u0024{'na' + 'me'}\")",
        'g.V().values("$name")',
        'g.V().values(""" name """)',
        "g.V().map(Lambda.function('it.get()'))",
        'Runtime.getRuntime().exec("id")',
        '@groovy.transform.TypeChecked g.V()',
        'graph.io(graphml()).readGraph("/etc/passwd")',
        "g.V().values('name').collect { it }",
        '',
        'V()',
      ];
      for (const gremlin of attempts) await expectCode(() => q.query(gremlin), Code.InvalidArgument);
      expect(await persons()).toEqual([3]);
    });

    it('passes bindings as values only: a binding cannot inject a traversal', async () => {
      const injected = "ada').drop().V('";
      expect((await q.query("g.V(vid).values('name')", { vid: injected })).results).toEqual([]);
      expect((await q.query("g.V().has('name', n).count()", { n: "x').drop()" })).results).toEqual([0]);
      expect((await q.query('g.inject(s)', { s: '\u0024{System.exit(0)}' })).results).toEqual([
        '\u0024{System.exit(0)}',
      ]);
      expect(await persons()).toEqual([3]);
      expect(await exists('ada')).toBe(true);
    });

    it('rejects unbound names, bad bindings, limits and oversized text with INVALID_ARGUMENT', async () => {
      const unbound = await expectCode(() => q.query('g.V(nobody)'), Code.InvalidArgument);
      expect(unbound.rawMessage).toMatch(/nobody/);
      const token = await expectCode(() => q.query('g.V(id)', { id: 'ada' }), Code.InvalidArgument);
      expect(token.rawMessage).toMatch(/"id"/);
      await expectCode(() => q.query('g.V(x)', { x: { a: 1 } }), Code.InvalidArgument);
      await expectCode(() => q.query('g.V(x)', { x: null }), Code.InvalidArgument);
      await expectCode(() => q.query('g.V(x)', { x: [['nested']] }), Code.InvalidArgument);
      await expectCode(() => q.query('g.V()', { '1bad': 'x' }), Code.InvalidArgument);
      await expectCode(() => q.query('g.V()', { 'has-dash': 'x' }), Code.InvalidArgument);
      const limit = await expectCode(() => q.query('g.V()', {}, 10_001), Code.InvalidArgument);
      expect(limit.rawMessage).toMatch(/10000/);
      const big = `g.V().has('name', '${'x'.repeat(64 * 1024)}')`;
      const size = await expectCode(() => q.query(big), Code.InvalidArgument);
      expect(size.rawMessage).toMatch(/64 KiB/);
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const oq = graphQuery(other.get(GraphQuery)!, ns);
        expect((await oq.query('g.V().count()')).results).toEqual([0]);
        await basicOf(other).addVertex(
          create(AddVertexRequestSchema, {
            namespace: ns,
            vertex: { id: 'ada', label: 'alien', properties: {} },
          }),
          ctx,
        );
        expect((await oq.query('g.V().label()')).results).toEqual(['alien']);
        expect((await q.query('g.V(vid).label()', { vid: 'ada' })).results).toEqual(['person']);
        expect(await persons()).toEqual([3]);
      } finally {
        await other.close();
      }
    });
  });
}
