import type { JsonObject } from '@bufbuild/protobuf';
import { GraphQueryInterface, type QueryRequest } from '@prism/proto/prism/graph/v1/graph_query_pb';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';
import { checkGremlin, STATIC_TOKENS } from './gremlin.js';

export * from '@prism/proto/prism/graph/v1/graph_query_pb';
export * from './gremlin.js';

/** Longest Gremlin text, in UTF-8 bytes. */
export const MAX_GREMLIN_BYTES = 64 * 1024;
/** Results a query answers when `limit` is 0. */
export const DEFAULT_LIMIT = 1000;
/** The highest `limit` a query accepts. */
export const MAX_LIMIT = 10_000;
/** Most bindings one query carries. */
export const MAX_BINDINGS = 64;
/** Most items in one list binding. */
export const MAX_BINDING_LIST = 1000;

const BINDING_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The number of results a request with `limit` may answer. */
export const effectiveLimit = (limit: number): number => (limit === 0 ? DEFAULT_LIMIT : limit);

const isScalar = (v: unknown): boolean =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** Throws INVALID_ARGUMENT unless every binding has a valid name and a scalar or list-of-scalars value. */
export function checkBindings(bindings: JsonObject | undefined): void {
  if (!bindings) return;
  const names = Object.keys(bindings);
  if (names.length > MAX_BINDINGS)
    throw invalidArgument(`bindings has ${names.length} entries; at most ${MAX_BINDINGS}`);
  for (const name of names) {
    if (!BINDING_NAME.test(name))
      throw invalidArgument(
        `bindings name "${name}" must be 1..64 letters, digits and '_', not starting with a digit`,
      );
    const value = bindings[name];
    if (isScalar(value)) continue;
    if (Array.isArray(value)) {
      if (value.length > MAX_BINDING_LIST)
        throw invalidArgument(`bindings.${name} has ${value.length} items; at most ${MAX_BINDING_LIST}`);
      value.forEach((item, i) => {
        if (!isScalar(item))
          throw invalidArgument(
            `bindings.${name}[${i}] must be a string, finite number or boolean (lists hold only scalars)`,
          );
      });
      continue;
    }
    throw invalidArgument(
      `bindings.${name} must be a string, finite number, boolean or a list of those (got ${value === null ? 'null' : typeof value === 'number' ? 'a non-finite number' : 'an object'})`,
    );
  }
}

/**
 * Checks a whole request: size, bindings, limit, the traversal text (writes allowed or not) and that every
 * bare identifier the text uses is a binding. Adapters call it again with their namespace's allow_writes.
 */
export function checkQuery(req: QueryRequest, allowWrites: boolean): void {
  if (req.gremlin.trim().length === 0) throw invalidArgument('gremlin must not be empty');
  if (req.gremlin.length * 3 > MAX_GREMLIN_BYTES) {
    const bytes = Buffer.byteLength(req.gremlin, 'utf8');
    if (bytes > MAX_GREMLIN_BYTES)
      throw invalidArgument(`gremlin is ${bytes} bytes; at most ${MAX_GREMLIN_BYTES} (64 KiB)`);
  }
  checkBindings(req.bindings);
  if (req.limit > MAX_LIMIT)
    throw invalidArgument(`limit is ${req.limit}; at most ${MAX_LIMIT} (0 means ${DEFAULT_LIMIT})`);
  // `g` is the traversal source, and a binding named like a statically imported token (id, label, desc,
  // ...) would be shadowed by it.
  for (const name of Object.keys(req.bindings ?? {})) {
    if (name === 'g') throw invalidArgument('bindings name "g" is the traversal source; choose another name');
    if (STATIC_TOKENS.has(name))
      throw invalidArgument(`bindings name "${name}" is a Gremlin token; choose another name`);
  }
  const { references } = checkGremlin(req.gremlin, { allowWrites });
  for (const ref of references)
    if (!req.bindings || !Object.hasOwn(req.bindings, ref.name))
      throw invalidArgument(
        `gremlin: "${ref.name}" at position ${ref.position} is neither a binding nor a Gremlin token; pass it in bindings`,
      );
}

/** The graph_query flavour: parameterised, bounded Gremlin traversals on backends that speak Gremlin. */
export const GraphQuery = defineInterface(
  'graph_query',
  GraphQueryInterface,
  { query: 'read' },
  // Writes are judged by the adapter, which knows the namespace's allow_writes; this rejects the rest.
  { query: (req) => checkQuery(req, true) },
);

/** What an adapter implements for graph_query. */
export type GraphQueryImpl = InterfaceImpl<typeof GraphQueryInterface>;
