import { create, type JsonObject } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, ConnectError, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  AddEdgeRequestSchema,
  AddVertexRequestSchema,
  DeleteEdgeRequestSchema,
  DeleteVertexRequestSchema,
  GetEdgeRequestSchema,
  GetVertexRequestSchema,
  GraphBasic,
  type GraphBasicImpl,
  UpdateEdgeRequestSchema,
  UpdateVertexRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** A vertex as the suite compares it. */
export interface PlainVertex {
  id: string;
  label: string;
  properties: JsonObject;
}
/** An edge as the suite compares it. */
export interface PlainEdge {
  id: string;
  label: string;
  fromId: string;
  toId: string;
  properties: JsonObject;
}

const plainVertex = (
  v: { id?: string; label?: string; properties?: JsonObject } | undefined,
): PlainVertex => ({
  id: v?.id ?? '',
  label: v?.label ?? '',
  properties: v?.properties ?? {},
});
const plainEdge = (
  e: { id?: string; label?: string; fromId?: string; toId?: string; properties?: JsonObject } | undefined,
): PlainEdge => ({
  id: e?.id ?? '',
  label: e?.label ?? '',
  fromId: e?.fromId ?? '',
  toId: e?.toId ?? '',
  properties: e?.properties ?? {},
});

/** Small typed client over a graph_basic implementation, used by this and other suites. */
export function graphBasic(impl: GraphBasicImpl, namespace: string) {
  return {
    addVertex: async (id: string, label: string, properties: JsonObject = {}) =>
      plainVertex(
        (
          await impl.addVertex(
            create(AddVertexRequestSchema, { namespace, vertex: { id, label, properties } }),
            ctx,
          )
        ).vertex,
      ),
    getVertex: async (id: string) => {
      const res = await impl.getVertex(create(GetVertexRequestSchema, { namespace, id }), ctx);
      return res.found ? plainVertex(res.vertex) : undefined;
    },
    updateVertex: async (id: string, set: JsonObject, remove: string[] = []) =>
      plainVertex(
        (await impl.updateVertex(create(UpdateVertexRequestSchema, { namespace, id, set, remove }), ctx))
          .vertex,
      ),
    deleteVertex: async (id: string) => {
      const res = await impl.deleteVertex(create(DeleteVertexRequestSchema, { namespace, id }), ctx);
      return { deleted: res.deleted ?? false, deletedEdges: Number(res.deletedEdges ?? 0) };
    },
    addEdge: async (id: string, label: string, fromId: string, toId: string, properties: JsonObject = {}) =>
      plainEdge(
        (
          await impl.addEdge(
            create(AddEdgeRequestSchema, { namespace, edge: { id, label, fromId, toId, properties } }),
            ctx,
          )
        ).edge,
      ),
    getEdge: async (id: string) => {
      const res = await impl.getEdge(create(GetEdgeRequestSchema, { namespace, id }), ctx);
      return res.found ? plainEdge(res.edge) : undefined;
    },
    updateEdge: async (id: string, set: JsonObject, remove: string[] = []) =>
      plainEdge(
        (await impl.updateEdge(create(UpdateEdgeRequestSchema, { namespace, id, set, remove }), ctx)).edge,
      ),
    deleteEdge: async (id: string) =>
      (await impl.deleteEdge(create(DeleteEdgeRequestSchema, { namespace, id }), ctx)).deleted ?? false,
  };
}

/**
 * The graph_basic conformance suite: vertices and edges with scalar properties, merges, cascade delete,
 * ALREADY_EXISTS / FAILED_PRECONDITION / NOT_FOUND, input rules, concurrency and namespace isolation.
 */
export function describeGraphBasicConformance(label: string, factory: PluginFactory): void {
  describe(`graph_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let g: ReturnType<typeof graphBasic>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(GraphBasic);
      if (!impl) throw new Error(`${label} does not implement graph_basic`);
      g = graphBasic(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('adds a vertex and gets it back with its scalar properties', async () => {
      const props = {
        name: 'Ada',
        age: 36,
        height: 1.65,
        admin: true,
        empty: '',
        neg: -2.5,
        uni: 'Zoë ✓ 日本',
      };
      expect(await g.addVertex('ada', 'person', props)).toEqual({
        id: 'ada',
        label: 'person',
        properties: props,
      });
      expect(await g.getVertex('ada')).toEqual({ id: 'ada', label: 'person', properties: props });
      expect(await g.addVertex('bare', 'thing')).toEqual({ id: 'bare', label: 'thing', properties: {} });
      expect(await g.getVertex('bare')).toEqual({ id: 'bare', label: 'thing', properties: {} });
    });

    it('answers found=false for a missing vertex or edge, without error', async () => {
      expect(await g.getVertex('nobody')).toBeUndefined();
      expect(await g.getEdge('nothing')).toBeUndefined();
    });

    it('keeps ids with spaces, punctuation and non-ASCII characters apart', async () => {
      const ids = ['with space', "quote'd", 'a/b:c', 'ü-1', 'x'.repeat(256)];
      for (const id of ids) await g.addVertex(id, 'odd', { id });
      for (const id of ids) expect(await g.getVertex(id)).toEqual({ id, label: 'odd', properties: { id } });
    });

    it('rejects a second vertex or edge with a taken id with ALREADY_EXISTS and keeps the first', async () => {
      await g.addVertex('dup', 'first', { n: 1 });
      await expectCode(() => g.addVertex('dup', 'second', { n: 2 }), Code.AlreadyExists);
      expect(await g.getVertex('dup')).toEqual({ id: 'dup', label: 'first', properties: { n: 1 } });
      await g.addEdge('dup-e', 'rel', 'dup', 'dup', { w: 1 });
      await expectCode(() => g.addEdge('dup-e', 'other', 'dup', 'dup'), Code.AlreadyExists);
      expect(await g.getEdge('dup-e')).toEqual({
        id: 'dup-e',
        label: 'rel',
        fromId: 'dup',
        toId: 'dup',
        properties: { w: 1 },
      });
    });

    it('adds edges, self-loops and parallel edges, and gets them back', async () => {
      await g.addVertex('e-a', 'person');
      await g.addVertex('e-b', 'person');
      expect(await g.addEdge('ab1', 'knows', 'e-a', 'e-b', { since: 2020 })).toEqual({
        id: 'ab1',
        label: 'knows',
        fromId: 'e-a',
        toId: 'e-b',
        properties: { since: 2020 },
      });
      await g.addEdge('ab2', 'knows', 'e-a', 'e-b', { since: 2021 });
      await g.addEdge('aa', 'likes', 'e-a', 'e-a');
      expect(await g.getEdge('ab1')).toMatchObject({
        fromId: 'e-a',
        toId: 'e-b',
        properties: { since: 2020 },
      });
      expect(await g.getEdge('ab2')).toMatchObject({
        fromId: 'e-a',
        toId: 'e-b',
        properties: { since: 2021 },
      });
      expect(await g.getEdge('aa')).toEqual({
        id: 'aa',
        label: 'likes',
        fromId: 'e-a',
        toId: 'e-a',
        properties: {},
      });
    });

    it('rejects an edge to or from a missing vertex with FAILED_PRECONDITION naming the endpoint', async () => {
      await g.addVertex('lonely', 'person');
      const to = await expectCode(
        () => g.addEdge('bad1', 'knows', 'lonely', 'ghost'),
        Code.FailedPrecondition,
      );
      expect(to.rawMessage).toMatch(/to_id/);
      expect(to.rawMessage).toMatch(/ghost/);
      const from = await expectCode(
        () => g.addEdge('bad2', 'knows', 'phantom', 'lonely'),
        Code.FailedPrecondition,
      );
      expect(from.rawMessage).toMatch(/from_id/);
      expect(from.rawMessage).toMatch(/phantom/);
      expect(await g.getEdge('bad1')).toBeUndefined();
      expect(await g.getEdge('bad2')).toBeUndefined();
    });

    it('merges properties on UpdateVertex: sets given names, removes listed ones, keeps the label', async () => {
      await g.addVertex('upd', 'person', { name: 'Bob', age: 40, city: 'Oslo' });
      expect(await g.updateVertex('upd', { age: 41, admin: false }, ['city'])).toEqual({
        id: 'upd',
        label: 'person',
        properties: { name: 'Bob', age: 41, admin: false },
      });
      expect(await g.getVertex('upd')).toEqual({
        id: 'upd',
        label: 'person',
        properties: { name: 'Bob', age: 41, admin: false },
      });
      // Removing a name that is not there is fine; an empty update changes nothing.
      expect((await g.updateVertex('upd', {}, ['never'])).properties).toEqual({
        name: 'Bob',
        age: 41,
        admin: false,
      });
      // A value may change type.
      expect((await g.updateVertex('upd', { age: 'forty-one' })).properties.age).toBe('forty-one');
    });

    it('merges properties on UpdateEdge, keeping label and endpoints', async () => {
      await g.addVertex('ue-a', 'n');
      await g.addVertex('ue-b', 'n');
      await g.addEdge('ue', 'rel', 'ue-a', 'ue-b', { w: 1, note: 'x' });
      expect(await g.updateEdge('ue', { w: 2.5 }, ['note'])).toEqual({
        id: 'ue',
        label: 'rel',
        fromId: 'ue-a',
        toId: 'ue-b',
        properties: { w: 2.5 },
      });
      expect(await g.getEdge('ue')).toEqual({
        id: 'ue',
        label: 'rel',
        fromId: 'ue-a',
        toId: 'ue-b',
        properties: { w: 2.5 },
      });
    });

    it('answers NOT_FOUND when updating a missing vertex or edge', async () => {
      await expectCode(() => g.updateVertex('missing-v', { a: 1 }), Code.NotFound);
      await expectCode(() => g.updateEdge('missing-e', { a: 1 }), Code.NotFound);
      expect(await g.getVertex('missing-v')).toBeUndefined();
    });

    it('deletes one edge and leaves its vertices', async () => {
      await g.addVertex('de-a', 'n');
      await g.addVertex('de-b', 'n');
      await g.addEdge('de', 'rel', 'de-a', 'de-b');
      expect(await g.deleteEdge('de')).toBe(true);
      expect(await g.getEdge('de')).toBeUndefined();
      expect(await g.deleteEdge('de')).toBe(false);
      expect(await g.getVertex('de-a')).toBeDefined();
      expect(await g.getVertex('de-b')).toBeDefined();
    });

    it('deletes a vertex with every edge in or out of it and counts them (a self-loop once)', async () => {
      for (const id of ['hub', 'c-1', 'c-2', 'c-3']) await g.addVertex(id, 'n');
      await g.addEdge('h-out', 'rel', 'hub', 'c-1');
      await g.addEdge('h-out2', 'rel', 'hub', 'c-1');
      await g.addEdge('h-in', 'rel', 'c-2', 'hub');
      await g.addEdge('h-loop', 'rel', 'hub', 'hub');
      await g.addEdge('keep', 'rel', 'c-1', 'c-2');
      expect(await g.deleteVertex('hub')).toEqual({ deleted: true, deletedEdges: 4 });
      expect(await g.getVertex('hub')).toBeUndefined();
      for (const e of ['h-out', 'h-out2', 'h-in', 'h-loop']) expect(await g.getEdge(e)).toBeUndefined();
      expect(await g.getEdge('keep')).toBeDefined();
      for (const id of ['c-1', 'c-2', 'c-3']) expect(await g.getVertex(id)).toBeDefined();
      expect(await g.deleteVertex('hub')).toEqual({ deleted: false, deletedEdges: 0 });
      // The id is free again, and the re-added vertex has no edges left over.
      await g.addVertex('hub', 'n');
      expect(await g.deleteVertex('hub')).toEqual({ deleted: true, deletedEdges: 0 });
    });

    it('rejects bad ids and labels with INVALID_ARGUMENT naming the field', async () => {
      const cases: [string, string, RegExp][] = [
        ['', 'person', /vertex\.id/],
        ['x'.repeat(257), 'person', /vertex\.id/],
        ['tab\there', 'person', /vertex\.id/],
        ['nul\u0000', 'person', /vertex\.id/],
        ['ok', '', /vertex\.label/],
        ['ok', 'has space', /vertex\.label/],
        ['ok', 'dot.ted', /vertex\.label/],
        ['ok', 'l'.repeat(129), /vertex\.label/],
      ];
      for (const [id, lbl, field] of cases) {
        const err = await expectCode(() => g.addVertex(id, lbl), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(field);
      }
      await g.addVertex('okv', 'person');
      const e = await expectCode(() => g.addEdge('', 'knows', 'okv', 'okv'), Code.InvalidArgument);
      expect(e.rawMessage).toMatch(/edge\.id/);
      await expectCode(() => g.addEdge('e-x', 'bad label', 'okv', 'okv'), Code.InvalidArgument);
      await expectCode(() => g.addEdge('e-x', 'knows', '', 'okv'), Code.InvalidArgument);
      await expectCode(() => g.getVertex(''), Code.InvalidArgument);
      await expectCode(() => g.deleteEdge(''), Code.InvalidArgument);
      expect(await g.getVertex('ok')).toBeUndefined();
      expect(await g.getEdge('e-x')).toBeUndefined();
    });

    it('rejects null, list, object and non-finite property values with INVALID_ARGUMENT', async () => {
      const bad: JsonObject[] = [
        { n: null },
        { list: [1, 2] },
        { obj: { a: 1 } },
        { nan: Number.NaN },
        { inf: Number.POSITIVE_INFINITY },
        { 'bad name': 1 },
        { '': 1 },
      ];
      for (const properties of bad) {
        const err = await expectCode(() => g.addVertex('pv', 'n', properties), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/properties/);
      }
      expect(await g.getVertex('pv')).toBeUndefined();
      await g.addVertex('pv', 'n', { a: 1 });
      for (const set of bad) await expectCode(() => g.updateVertex('pv', set), Code.InvalidArgument);
      await g.addEdge('pe', 'rel', 'pv', 'pv');
      for (const properties of bad)
        await expectCode(() => g.addEdge('pe2', 'rel', 'pv', 'pv', properties), Code.InvalidArgument);
      for (const set of bad) await expectCode(() => g.updateEdge('pe', set), Code.InvalidArgument);
      expect(await g.getVertex('pv')).toEqual({ id: 'pv', label: 'n', properties: { a: 1 } });
      expect(await g.getEdge('pe2')).toBeUndefined();
    });

    it('allows 64 properties, rejects 65, and rejects an update that would leave more than 64', async () => {
      const props = (n: number, prefix = 'p') =>
        Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]));
      const err = await expectCode(() => g.addVertex('many', 'n', props(65)), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/64/);
      await g.addVertex('many', 'n', props(64));
      expect(Object.keys((await g.getVertex('many'))!.properties)).toHaveLength(64);
      const over = await expectCode(() => g.updateVertex('many', { extra: 1 }), Code.InvalidArgument);
      expect(over.rawMessage).toMatch(/64/);
      expect((await g.getVertex('many'))!.properties).toEqual(props(64));
      // Replacing one while removing another stays within the limit.
      expect(Object.keys((await g.updateVertex('many', { extra: 1 }, ['p0'])).properties)).toHaveLength(64);
    });

    it('rejects a name both set and removed with INVALID_ARGUMENT', async () => {
      await g.addVertex('both', 'n', { a: 1 });
      const err = await expectCode(() => g.updateVertex('both', { a: 2 }, ['a']), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/"a"/);
      expect((await g.getVertex('both'))!.properties).toEqual({ a: 1 });
    });

    it('lets exactly one of 20 concurrent AddVertex calls with one id win', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => g.addVertex('race', 'n', { who: i })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected')
          expect(Code[ConnectError.from(r.reason).code]).toBe(Code[Code.AlreadyExists]);
      const who = (won[0] as PromiseFulfilledResult<PlainVertex>).value.properties.who;
      expect((await g.getVertex('race'))!.properties.who).toBe(who);
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const og = graphBasic(other.get(GraphBasic)!, ns);
        await g.addVertex('shared', 'mine', { who: 'me' });
        expect(await og.getVertex('shared')).toBeUndefined();
        await og.addVertex('shared', 'theirs', { who: 'them' });
        await og.addVertex('other-end', 'theirs');
        await og.addEdge('shared-e', 'rel', 'shared', 'other-end');
        expect(await g.getVertex('shared')).toEqual({
          id: 'shared',
          label: 'mine',
          properties: { who: 'me' },
        });
        expect(await g.getEdge('shared-e')).toBeUndefined();
        // An edge in this namespace cannot point at the other namespace's vertex.
        await expectCode(() => g.addEdge('cross', 'rel', 'shared', 'other-end'), Code.FailedPrecondition);
        expect(await g.deleteVertex('shared')).toEqual({ deleted: true, deletedEdges: 0 });
        expect(await og.getEdge('shared-e')).toBeDefined();
        expect(await og.getVertex('shared')).toBeDefined();
      } finally {
        await other.close();
      }
    });
  });
}
