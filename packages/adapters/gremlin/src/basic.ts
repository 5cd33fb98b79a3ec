/// <reference path="./gremlin-driver.d.ts" />
import type { JsonObject } from '@bufbuild/protobuf';
import {
  type GraphBasicImpl,
  mergeProperties,
  normaliseProperties,
  type Properties,
} from '@prism/graph-basic';
import { alreadyExists, Code, ConnectError, failedPrecondition, notFound } from '@prism/sdk';
import gremlin, { type GraphTraversal } from 'gremlin';
import { type GremlinConnection, ID_KEY } from './connection.js';
import { edgeOf, elementId, vertexOf } from './values.js';

const { process: gp } = gremlin;
const __ = gp.statics;
const { t, cardinality } = gp;

/** Sets each property: vertices with single cardinality (Neptune's default is set), edges plainly. */
function setProps(tr: GraphTraversal, props: Properties, vertex: boolean): GraphTraversal {
  let out = tr;
  for (const [k, v] of Object.entries(props))
    out = vertex ? out.property(cardinality.single, k, v) : out.property(k, v);
  return out;
}

/** The properties an update leaves, as the contract's mergeProperties checks them (at most 64). */
const propsOfRaw = (p: JsonObject): Properties => normaliseProperties(p);

/** graph_basic on a Gremlin server, confined to the namespace's partition. */
export function gremlinBasic(conn: GremlinConnection, partition: string): GraphBasicImpl {
  const eid = (id: string) => elementId(partition, id);
  const taken = (what: string, id: string, err: unknown): never => {
    if (err instanceof ConnectError && err.code === Code.AlreadyExists)
      throw alreadyExists(`${what} "${id}" already exists`);
    throw err;
  };

  return {
    async addVertex(req) {
      const v = req.vertex!;
      const props = normaliseProperties(v.properties);
      try {
        const raw = await conn.traverse((g) =>
          setProps(
            g.addV(v.label).property(t.id, eid(v.id)).property(cardinality.single, ID_KEY, v.id),
            props,
            true,
          )
            .elementMap()
            .next(),
        );
        return { vertex: vertexOf(raw.value, partition) };
      } catch (err) {
        return taken('vertex', v.id, err);
      }
    },

    async getVertex(req) {
      const list = await conn.traverse((g) => g.V(eid(req.id)).elementMap().toList());
      return list.length === 0 ? { found: false } : { found: true, vertex: vertexOf(list[0], partition) };
    },

    async updateVertex(req) {
      const current = await conn.traverse((g) => g.V(eid(req.id)).elementMap().toList());
      if (current.length === 0) throw notFound(`vertex "${req.id}" not found`);
      // Checks the 64-property bound on the merged result before writing.
      mergeProperties(propsOfRaw(vertexOf(current[0], partition).properties), req.set, req.remove);
      const list = await conn.traverse((g) => {
        let q = g.V(eid(req.id));
        if (req.remove.length > 0) q = q.sideEffect(__.properties(...req.remove).drop());
        return setProps(q, normaliseProperties(req.set), true).elementMap().toList();
      });
      if (list.length === 0) throw notFound(`vertex "${req.id}" not found`);
      return { vertex: vertexOf(list[0], partition) };
    },

    async deleteVertex(req) {
      // One traversal: count the incident edges (a self-loop once), then drop the vertex with its edges.
      const res = await conn.traverse((g) =>
        g.V(eid(req.id)).sideEffect(__.bothE().dedup().count().aggregate('n')).drop().cap('n').next(),
      );
      const counts = Array.isArray(res.value) ? res.value : [];
      if (counts.length === 0) return { deleted: false, deletedEdges: 0n };
      return { deleted: true, deletedEdges: BigInt(Number(counts[0])) };
    },

    async addEdge(req) {
      const e = req.edge!;
      const props = normaliseProperties(e.properties);
      let list: unknown[];
      try {
        list = await conn.traverse((g) =>
          setProps(
            g
              .V(eid(e.fromId))
              .as('a')
              .V(eid(e.toId))
              .addE(e.label)
              .from_('a')
              .property(t.id, eid(e.id))
              .property(ID_KEY, e.id),
            props,
            false,
          )
            .elementMap()
            .toList(),
        );
      } catch (err) {
        return taken('edge', e.id, err);
      }
      if (list.length === 0) {
        // Nothing was added: name the endpoint that is missing.
        const found = await conn.traverse((g) => g.V(eid(e.fromId), eid(e.toId)).id().toList());
        const missing = found.includes(eid(e.fromId)) ? ['to_id', e.toId] : ['from_id', e.fromId];
        throw failedPrecondition(`edge.${missing[0]}: vertex "${missing[1]}" does not exist`);
      }
      return { edge: edgeOf(list[0], partition) };
    },

    async getEdge(req) {
      const list = await conn.traverse((g) => g.E(eid(req.id)).elementMap().toList());
      return list.length === 0 ? { found: false } : { found: true, edge: edgeOf(list[0], partition) };
    },

    async updateEdge(req) {
      const current = await conn.traverse((g) => g.E(eid(req.id)).elementMap().toList());
      if (current.length === 0) throw notFound(`edge "${req.id}" not found`);
      mergeProperties(propsOfRaw(edgeOf(current[0], partition).properties), req.set, req.remove);
      const list = await conn.traverse((g) => {
        let q = g.E(eid(req.id));
        if (req.remove.length > 0) q = q.sideEffect(__.properties(...req.remove).drop());
        return setProps(q, normaliseProperties(req.set), false).elementMap().toList();
      });
      if (list.length === 0) throw notFound(`edge "${req.id}" not found`);
      return { edge: edgeOf(list[0], partition) };
    },

    async deleteEdge(req) {
      const res = await conn.traverse((g) =>
        g.E(eid(req.id)).sideEffect(__.id().aggregate('x')).drop().cap('x').next(),
      );
      return { deleted: Array.isArray(res.value) && res.value.length > 0 };
    },
  };
}
