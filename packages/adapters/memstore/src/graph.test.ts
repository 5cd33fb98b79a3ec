import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { ConnectedComponentsRequestSchema, GraphAnalytics } from '@prism/graph-analytics';
import { AddEdgeRequestSchema, AddVertexRequestSchema, GraphBasic } from '@prism/graph-basic';
import { GraphTraversal, KHopRequestSchema, ShortestPathRequestSchema } from '@prism/graph-traversal';
import { Code, ConnectError, instantiatePlugin, PluginConfigError } from '@prism/sdk';
import plugin from './index.js';

const ctx = { signal: new AbortController().signal };
const codeOf = async (fn: () => unknown) => {
  try {
    await fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

// The conformance suite runs with the default max_traversal_depth (6); this checks that the config changes it.
describe('memstore graph: max_traversal_depth', () => {
  it('bounds k-hop, shortest path and analytics subgraphs by the configured depth', async () => {
    const namespace = 'graph-depth';
    const h = await instantiatePlugin(plugin, { max_traversal_depth: 2 }, { namespace });
    try {
      const basic = h.get(GraphBasic)!;
      for (const id of ['a', 'b', 'c', 'd'])
        await basic.addVertex(create(AddVertexRequestSchema, { namespace, vertex: { id, label: 'n' } }), ctx);
      for (const [id, fromId, toId] of [
        ['ab', 'a', 'b'],
        ['bc', 'b', 'c'],
        ['cd', 'c', 'd'],
      ] as const)
        await basic.addEdge(
          create(AddEdgeRequestSchema, { namespace, edge: { id, label: 'r', fromId, toId } }),
          ctx,
        );
      const t = h.get(GraphTraversal)!;
      const two = await t.kHop(create(KHopRequestSchema, { namespace, startId: 'a', depth: 2 }), ctx);
      expect(two.vertices?.map((v) => v.vertex?.id)).toEqual(['b', 'c']);
      const err = await codeOf(() =>
        t.kHop(create(KHopRequestSchema, { namespace, startId: 'a', depth: 3 }), ctx),
      );
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(/depth 3 exceeds this namespace's max_traversal_depth \(2\)/);
      // max_depth 0 means the namespace's maximum: d is 3 steps away, beyond it.
      const path = await t.shortestPath(
        create(ShortestPathRequestSchema, { namespace, fromId: 'a', toId: 'd' }),
        ctx,
      );
      expect(path.found).toBe(false);
      const a = h.get(GraphAnalytics)!;
      const sub = (depth: number) =>
        create(ConnectedComponentsRequestSchema, { namespace, subgraph: { seedIds: ['a'], depth } });
      expect((await a.connectedComponents(sub(2), ctx)).components?.[0]?.vertexIds).toEqual(['a', 'b', 'c']);
      expect((await codeOf(() => a.connectedComponents(sub(3), ctx)))?.code).toBe(Code.InvalidArgument);
    } finally {
      await h.close();
    }
  });

  it('rejects a max_traversal_depth outside 1..32 at load', async () => {
    for (const max_traversal_depth of [0, 33, 2.5])
      await expect(
        instantiatePlugin(plugin, { max_traversal_depth }, { namespace: 'x' }),
      ).rejects.toBeInstanceOf(PluginConfigError);
  });

  it('answers UNAVAILABLE once the namespace is closed', async () => {
    const namespace = 'graph-closed';
    const h = await instantiatePlugin(plugin, {}, { namespace });
    const basic = h.get(GraphBasic)!;
    await h.close();
    const err = await codeOf(() =>
      basic.addVertex(create(AddVertexRequestSchema, { namespace, vertex: { id: 'a', label: 'n' } }), ctx),
    );
    expect(err?.code).toBe(Code.Unavailable);
  });
});
