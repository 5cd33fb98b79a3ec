import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import {
  type Edge,
  GraphBasicInterface,
  type UpdateEdgeRequest,
  type UpdateVertexRequest,
  type Vertex,
} from '@prism/proto/prism/graph/v1/graph_basic_pb';
import { defineInterface, type InterfaceImpl, invalidArgument, type Limits } from '@prism/sdk';

export * from '@prism/proto/prism/graph/v1/graph_basic_pb';

/** Longest vertex or edge id, in characters (code points). */
export const MAX_ID_CHARS = 256;
/** Longest label or property name, in characters. */
export const MAX_LABEL_CHARS = 128;
/** Most properties one vertex or edge holds. */
export const MAX_PROPERTIES = 64;

/** A property value as every backend stores it: a string, a finite double or a boolean. */
export type PropertyValue = string | number | boolean;
/** A vertex's or edge's properties after validation. */
export type Properties = Record<string, PropertyValue>;

const LABEL = /^[A-Za-z0-9_-]+$/;
// C0 and C1 control characters and DEL.
const CONTROL = /\p{Cc}/u;

/** Number of code points in `s` (what the proto calls characters). */
const chars = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Throws INVALID_ARGUMENT unless `id` has 1..256 characters and no control characters. */
export function checkId(id: string, field = 'id'): void {
  if (id.length === 0) throw invalidArgument(`${field} must not be empty`);
  const n = chars(id);
  if (n > MAX_ID_CHARS) throw invalidArgument(`${field} is ${n} characters; at most ${MAX_ID_CHARS}`);
  if (CONTROL.test(id)) throw invalidArgument(`${field} must not contain control characters`);
}

/** Throws INVALID_ARGUMENT unless `label` has 1..128 letters, digits, '_' or '-'. */
export function checkLabel(label: string, field = 'label'): void {
  if (label.length === 0) throw invalidArgument(`${field} must not be empty`);
  if (label.length > MAX_LABEL_CHARS)
    throw invalidArgument(`${field} is ${label.length} characters; at most ${MAX_LABEL_CHARS}`);
  if (!LABEL.test(label))
    throw invalidArgument(`${field} "${label}" may contain only letters, digits, '_' and '-'`);
}

/** Throws INVALID_ARGUMENT unless `value` is a string (within the value limit), finite number or boolean. */
export function checkPropertyValue(value: JsonValue | undefined, field: string, limits?: Limits): void {
  switch (typeof value) {
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw invalidArgument(`${field} must be a finite number`);
      return;
    case 'string':
      if (limits && value.length * 3 > limits.maxValueBytes) {
        const bytes = Buffer.byteLength(value, 'utf8');
        if (bytes > limits.maxValueBytes)
          throw invalidArgument(
            `${field} is ${bytes} bytes; the namespace allows at most ${limits.maxValueBytes}`,
          );
      }
      return;
    default: {
      const kind =
        value === null || value === undefined ? 'null' : Array.isArray(value) ? 'a list' : 'an object';
      throw invalidArgument(
        `${field} is ${kind}; property values must be strings, finite numbers or booleans`,
      );
    }
  }
}

/** Checks property names, values and count (at most {@link MAX_PROPERTIES}); `field` prefixes messages. */
export function checkProperties(props: JsonObject | undefined, field = 'properties', limits?: Limits): void {
  if (!props) return;
  const names = Object.keys(props);
  if (names.length > MAX_PROPERTIES)
    throw invalidArgument(`${field} has ${names.length} properties; at most ${MAX_PROPERTIES}`);
  for (const name of names) {
    checkLabel(name, `${field} name "${name}"`);
    checkPropertyValue(props[name], `${field}.${name}`, limits);
  }
}

/** Validated properties as a plain object (an absent Struct is no properties). */
export function normaliseProperties(props: JsonObject | undefined): Properties {
  const out: Properties = {};
  if (!props) return out;
  for (const [name, value] of Object.entries(props)) {
    // Validators ran before, so every value is a scalar; the check keeps the type honest.
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[name] = value;
  }
  return out;
}

/**
 * The properties after an Update: `set` names set, `remove` names removed. INVALID_ARGUMENT when the result
 * would hold more than {@link MAX_PROPERTIES}. Returns a new object; `current` is left as it is.
 */
export function mergeProperties(
  current: Readonly<Properties>,
  set: JsonObject | undefined,
  remove: readonly string[],
): Properties {
  const out: Properties = { ...current };
  for (const name of remove) delete out[name];
  Object.assign(out, normaliseProperties(set));
  const n = Object.keys(out).length;
  if (n > MAX_PROPERTIES)
    throw invalidArgument(`the update leaves ${n} properties; at most ${MAX_PROPERTIES} are allowed`);
  return out;
}

/** Checks a vertex to add: id, label and properties. */
export function checkVertex(vertex: Vertex | undefined, limits?: Limits, field = 'vertex'): void {
  if (!vertex) throw invalidArgument(`${field} is required`);
  checkId(vertex.id, `${field}.id`);
  checkLabel(vertex.label, `${field}.label`);
  checkProperties(vertex.properties, `${field}.properties`, limits);
}

/** Checks an edge to add: id, label, endpoints and properties. */
export function checkEdge(edge: Edge | undefined, limits?: Limits, field = 'edge'): void {
  if (!edge) throw invalidArgument(`${field} is required`);
  checkId(edge.id, `${field}.id`);
  checkLabel(edge.label, `${field}.label`);
  checkId(edge.fromId, `${field}.from_id`);
  checkId(edge.toId, `${field}.to_id`);
  checkProperties(edge.properties, `${field}.properties`, limits);
}

/** Checks an Update: id, the properties to set, the names to remove (valid, not also set). */
export function checkUpdate(req: UpdateVertexRequest | UpdateEdgeRequest, limits?: Limits): void {
  checkId(req.id);
  checkProperties(req.set, 'set', limits);
  if (req.remove.length > MAX_PROPERTIES)
    throw invalidArgument(`remove has ${req.remove.length} names; at most ${MAX_PROPERTIES}`);
  for (let i = 0; i < req.remove.length; i++) {
    const name = req.remove[i]!;
    checkLabel(name, `remove[${i}]`);
    if (req.set && name in req.set) throw invalidArgument(`property "${name}" is both in set and in remove`);
  }
}

const byId = (req: { id: string }) => checkId(req.id);

/** The graph_basic flavour: labelled property vertices and directed edges (cascade delete). */
export const GraphBasic = defineInterface(
  'graph_basic',
  GraphBasicInterface,
  {
    addVertex: 'write',
    getVertex: 'read',
    updateVertex: 'write',
    deleteVertex: 'write',
    addEdge: 'write',
    getEdge: 'read',
    updateEdge: 'write',
    deleteEdge: 'write',
  },
  {
    addVertex: (req, limits) => checkVertex(req.vertex, limits),
    getVertex: byId,
    updateVertex: checkUpdate,
    deleteVertex: byId,
    addEdge: (req, limits) => checkEdge(req.edge, limits),
    getEdge: byId,
    updateEdge: checkUpdate,
    deleteEdge: byId,
  },
);

/** What an adapter implements for graph_basic. */
export type GraphBasicImpl = InterfaceImpl<typeof GraphBasicInterface>;
