/// <reference path="./gremlin-driver.d.ts" />
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import gremlin from 'gremlin';
import { ID_KEY, PARTITION_KEY } from './connection.js';

const { structure, process: gp } = gremlin;

// Element ids on the server are `<partition>/<client id>`: partitions are [a-z0-9-] (no '/'), so two
// namespaces never share an element id, and the client's id is what follows the first '/'.

/** The server element id of a client id in `partition`. */
export const elementId = (partition: string, id: string): string => `${partition}/${id}`;

/** The client id of a server element id (ids made outside Prism, e.g. by graph_query writes, as they are). */
export function clientId(partition: string, eid: unknown): string {
  const s = typeof eid === 'string' ? eid : String(jsonOf(eid, partition));
  const prefix = `${partition}/`;
  return s.startsWith(prefix) ? s.slice(prefix.length) : s;
}

const isEnum = (v: unknown): v is { typeName: string; elementName: string } =>
  v instanceof gp.EnumValue ||
  (typeof v === 'object' &&
    v !== null &&
    typeof (v as { elementName?: unknown }).elementName === 'string' &&
    typeof (v as { typeName?: unknown }).typeName === 'string');

/** The key of an elementMap/valueMap entry as a string: T.id → `id`, Direction.OUT → `OUT`. */
const keyOf = (k: unknown): string => (isEnum(k) ? k.elementName : String(k));

/** A property value as Prism returns it: strings, numbers, booleans (longs as numbers). */
function scalar(v: unknown): JsonValue {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v === null || v === undefined) return null;
  return String(v);
}

/** A vertex or edge's properties from an elementMap, without the partition property. */
function propsOf(m: Map<unknown, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of m) {
    if (isEnum(k)) continue;
    const name = String(k);
    if (name === PARTITION_KEY || name === ID_KEY) continue;
    out[name] = scalar(v);
  }
  return out;
}

const asMap = (v: unknown): Map<unknown, unknown> => {
  if (v instanceof Map) return v;
  throw new Error(`expected a map from the server, got ${typeof v}`);
};

const entry = (m: Map<unknown, unknown>, name: string): unknown => {
  for (const [k, v] of m) if (keyOf(k) === name && isEnum(k)) return v;
  return undefined;
};

/** An edge as {@link edgeOf} reads it from `elementMap()`. */
export type EdgeDetail = ReturnType<typeof edgeOf>;

/** The server ids of every edge anywhere in `v` (lists, maps, paths), for fetching their properties. */
export function edgeIdsIn(v: unknown, out: Set<unknown> = new Set()): Set<unknown> {
  if (v instanceof structure.Edge) out.add(v.id);
  else if (v instanceof structure.Path) for (const o of v.objects) edgeIdsIn(o, out);
  else if (v instanceof Map)
    for (const [k, x] of v) {
      edgeIdsIn(k, out);
      edgeIdsIn(x, out);
    }
  else if (v instanceof Set || Array.isArray(v)) for (const x of v) edgeIdsIn(x, out);
  return out;
}

/** A vertex from `elementMap()`. */
export function vertexOf(
  raw: unknown,
  partition: string,
): { id: string; label: string; properties: JsonObject } {
  const m = asMap(raw);
  return {
    id: clientId(partition, entry(m, 'id')),
    label: String(entry(m, 'label')),
    properties: propsOf(m),
  };
}

/** An edge from `elementMap()` (OUT and IN hold the endpoints' id and label). */
export function edgeOf(
  raw: unknown,
  partition: string,
): { id: string; label: string; fromId: string; toId: string; properties: JsonObject } {
  const m = asMap(raw);
  const end = (d: string) => clientId(partition, entry(asMap(entry(m, d)), 'id'));
  return {
    id: clientId(partition, entry(m, 'id')),
    label: String(entry(m, 'label')),
    fromId: end('OUT'),
    toId: end('IN'),
    properties: propsOf(m),
  };
}

/** Properties of a driver Vertex/Edge (3.7 servers send them; older ones send none), with `prism.id`. */
function elementProps(props: unknown): JsonObject {
  const out: JsonObject = {};
  const add = (key: string, value: unknown) => {
    if (key !== PARTITION_KEY) out[key] = scalar(value);
  };
  if (Array.isArray(props)) {
    for (const p of props) {
      if (p instanceof structure.VertexProperty || p instanceof structure.Property)
        add((p as { key: string }).key, (p as { value: unknown }).value);
    }
  } else if (props && typeof props === 'object') {
    for (const [k, v] of Object.entries(props)) {
      // Vertex: {key: VertexProperty[]}; Edge: {key: value}.
      if (Array.isArray(v)) {
        const first = v[0] as { value?: unknown } | undefined;
        if (first !== undefined) add(k, first.value ?? first);
      } else add(k, v);
    }
  }
  return out;
}

/** An element's client id (its `prism.id`, else the element id without the prefix) and other properties. */
function split(eid: unknown, props: unknown, partition: string): { id: string; properties: JsonObject } {
  const properties = elementProps(props);
  const own = properties[ID_KEY];
  delete properties[ID_KEY];
  return { id: typeof own === 'string' ? own : clientId(partition, eid), properties };
}

/**
 * A graph_query result as JSON: vertices {id, label, properties}, edges also {from_id, to_id}, maps as
 * objects (token keys by name), lists, sets and paths as arrays, numbers, strings, booleans and null.
 */
export function jsonOf(v: unknown, partition: string, edges?: ReadonlyMap<string, EdgeDetail>): JsonValue {
  const rec = (x: unknown) => jsonOf(x, partition, edges);
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return scalar(v);
  if (v instanceof structure.Edge) {
    // The driver keeps an edge's property values but drops their keys: use the fetched elementMap.
    const detail = edges?.get(clientId(partition, v.id));
    if (detail)
      return {
        id: detail.id,
        label: detail.label,
        from_id: detail.fromId,
        to_id: detail.toId,
        properties: detail.properties,
      };
    const { id, properties } = split(v.id, v.properties, partition);
    return {
      id,
      label: v.label,
      from_id: clientId(partition, v.outV.id),
      to_id: clientId(partition, v.inV.id),
      properties,
    };
  }
  if (v instanceof structure.Vertex) {
    const { id, properties } = split(v.id, v.properties, partition);
    return { id, label: v.label, properties };
  }
  if (v instanceof structure.VertexProperty || v instanceof structure.Property)
    return { key: v.key, value: rec(v.value) };
  if (v instanceof structure.Path) return v.objects.map(rec);
  if (isEnum(v)) return v.elementName;
  if (v instanceof Map) {
    const out: JsonObject = {};
    for (const [k, val] of v) {
      const key = keyOf(k);
      if (key === PARTITION_KEY || key === ID_KEY) continue;
      out[key] = rec(val);
    }
    return out;
  }
  if (v instanceof Set || Array.isArray(v)) return [...v].map(rec);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, val] of Object.entries(v)) out[k] = rec(val);
    return out;
  }
  return String(v);
}
