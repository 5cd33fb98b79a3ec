import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { checkQuery, effectiveLimit, type GraphQueryImpl } from '@prism/graph-query';
import { invalidArgument } from '@prism/sdk';
import { type GremlinConnection, ID_KEY, PARTITION_KEY } from './connection.js';
import { type EdgeDetail, edgeIdsIn, edgeOf, jsonOf } from './values.js';

/** Results per streamed batch. */
const BATCH = 100;

// Prism iterates the traversal itself (and appends the limit), so the text must end at a step.
const TERMINAL =
  /\.\s*(toList|toSet|toBulkSet|next|tryNext|hasNext|iterate|explain|profile|toStream)\s*\(\s*[^)]*\)\s*$/;

/** A Gremlin string literal for a partition value ([a-z0-9-], so nothing needs escaping; checked anyway). */
const literal = (s: string): string => {
  if (!/^[a-z0-9-]+$/.test(s)) throw new Error(`partition "${s}" is not [a-z0-9-]`);
  return `'${s}'`;
};

/**
 * The script the server runs for checked traversal text `text` (starting with the token `g`): the
 * namespace's strategies on `g`, the text, and `.limit(limit)`. ElementIdStrategy makes the client's ids
 * the ids the traversal sees (V(x), hasId(x) and id() use prism.id; element ids are `<partition>/<id>`),
 * PartitionStrategy confines every step, and addV/addE, to the partition.
 */
export function queryScript(text: string, partition: string, limit: number): string {
  const strategies =
    `ElementIdStrategy.build().idPropertyKey('${ID_KEY}').create(), ` +
    `new PartitionStrategy(partitionKey: '${PARTITION_KEY}', writePartition: ${literal(partition)}, ` +
    `readPartitions: [${literal(partition)}])`;
  return `g.withStrategies(${strategies})${text.trim().slice(1)}.limit(${limit})`;
}

/** Options of {@link gremlinQuery}. */
export interface QueryOptions {
  readonly allowWrites: boolean;
  /** Server traversal source for writes (and reads when no read-only source is set). */
  readonly traversalSource: string;
  /** Server traversal source with ReadOnlyStrategy, used when writes are not allowed. */
  readonly readOnlyTraversalSource: string | undefined;
}

/**
 * graph_query on a Gremlin server. The text passes the contract's checker (with this namespace's
 * allow_writes), then runs as {@link queryScript} builds it: the checker guarantees the text is one
 * traversal from `g` with no way to name strategies (no `new`, no class references, with(out)Strategies
 * refused by the checker), so every step sees only the namespace's partition. Read-only namespaces alias `g` to the
 * server's read-only source, so the server refuses mutations on its own as well.
 */
export function gremlinQuery(conn: GremlinConnection, partition: string, opts: QueryOptions): GraphQueryImpl {
  const source = opts.allowWrites
    ? opts.traversalSource
    : (opts.readOnlyTraversalSource ?? opts.traversalSource);
  return {
    async *query(req) {
      // The contract's checker also refuses io, call, with(out)Strategies, withComputer, ... always, and
      // a binding named g.
      checkQuery(req, opts.allowWrites);
      const text = req.gremlin.trim();
      if (TERMINAL.test(text))
        throw invalidArgument(
          'gremlin: leave out the terminal step (toList(), next(), iterate(), ...); Prism iterates the traversal',
        );
      const bindings: Record<string, unknown> = { ...(req.bindings ?? {}) };
      const limit = effectiveLimit(req.limit);
      const script = queryScript(text, partition, limit + 1);
      const rs = await conn.script(script, bindings, { g: source });
      const raw = rs.toArray();
      const edges = new Map<string, EdgeDetail>();
      const edgeIds = [...edgeIdsIn(raw)];
      if (edgeIds.length > 0) {
        const maps = await conn.traverse((g) =>
          g
            .E(...edgeIds)
            .elementMap()
            .toList(),
        );
        for (const m of maps) {
          const detail = edgeOf(m, partition);
          edges.set(detail.id, detail);
        }
      }
      const results: JsonValue[] = raw.map((v) => jsonOf(v, partition, edges));
      const truncated = results.length > limit;
      const kept = results.slice(0, limit).map((v) => fromJson(ValueSchema, v));
      if (kept.length === 0) {
        yield { results: [], truncated };
        return;
      }
      for (let i = 0; i < kept.length; i += BATCH) {
        const last = i + BATCH >= kept.length;
        yield { results: kept.slice(i, i + BATCH), truncated: last && truncated };
      }
    },
  };
}
