import { DocumentBasic } from '@prism/document-basic';
import { DocumentIndexing } from '@prism/document-indexing';
import { DocumentQuery } from '@prism/document-query';
import { GraphAnalytics } from '@prism/graph-analytics';
import { GraphBasic } from '@prism/graph-basic';
import {
  DEFAULT_MAX_TRAVERSAL_DEPTH,
  GraphTraversal,
  MAX_TRAVERSAL_DEPTH_CEILING,
} from '@prism/graph-traversal';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { KeyValueTransactional } from '@prism/keyvalue-transactional';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { ListBasic } from '@prism/list-basic';
import { ListBlocking } from '@prism/list-blocking';
import { ListIndexing } from '@prism/list-indexing';
import { ListRange } from '@prism/list-range';
import { definePlugin, degraded, healthy, implement, z } from '@prism/sdk';
import { SetBasic } from '@prism/set-basic';
import { SetCardinality } from '@prism/set-cardinality';
import { SetOperations } from '@prism/set-operations';
import { SetRandom } from '@prism/set-random';
import { SortedSetBasic } from '@prism/sortedset-basic';
import { SortedSetLex } from '@prism/sortedset-lex';
import { SortedSetOperations } from '@prism/sortedset-operations';
import { SortedSetRange } from '@prism/sortedset-range';
import { SortedSetRank } from '@prism/sortedset-rank';
import { TimeSeriesAggregation } from '@prism/timeseries-aggregation';
import { TimeSeriesBasic } from '@prism/timeseries-basic';
import { TimeSeriesInterpolation } from '@prism/timeseries-interpolation';
import { TimeSeriesRetention } from '@prism/timeseries-retention';
import { memBatch } from './batch.js';
import { memCAS } from './cas.js';
import { DocumentStore, memDocuments } from './document.js';
import { GraphStore, memGraphAnalytics, memGraphBasic, memGraphTraversal } from './graph.js';
import { memBasic, memList, memScan, memTTL } from './impl.js';
import { MemListBlocking, memListIndexing, memListRange } from './list.js';
import { createMessaging, MESSAGING_INTERFACES } from './messaging.js';
import { memSetBasic, memSetCardinality, memSetOperations, memSetRandom, SetStore } from './set.js';
import {
  memSortedSetBasic,
  memSortedSetLex,
  memSortedSetOperations,
  memSortedSetRange,
  memSortedSetRank,
  SortedSetStore,
} from './sortedset.js';
import { MemStore } from './store.js';
import {
  memTimeSeriesAggregation,
  memTimeSeriesBasic,
  memTimeSeriesInterpolation,
  memTimeSeriesRetention,
  TimeSeriesStore,
} from './timeseries.js';
import { memTransactional } from './transact.js';

export { MemStore, type MemStoreOptions } from './store.js';

/** `backend.config` of a memstore namespace. Unknown fields are rejected so typos surface at load. */
export const MemStoreConfig = z.strictObject({
  /** Most keys (key/value and list keys together); new keys beyond it get RESOURCE_EXHAUSTED. */
  max_keys: z.number().int().positive().optional(),
  /** How often expired keys are removed when nobody reads them (setInterval caps delays at 2^31-1 ms). */
  sweep_interval_ms: z.number().int().positive().max(2_147_483_647).default(1000),
  /** The deepest graph traversal (k-hop, shortest path, analytics subgraph) this namespace allows. */
  max_traversal_depth: z
    .number()
    .int()
    .min(1)
    .max(MAX_TRAVERSAL_DEPTH_CEILING)
    .default(DEFAULT_MAX_TRAVERSAL_DEPTH),
});

/** Config accepted by the memstore backend. */
export type MemStoreConfig = z.output<typeof MemStoreConfig>;

/** The in-process memory backend: one store per namespace, gone when the process exits. */
export default definePlugin({
  name: 'memstore',
  version: '0.1.0',
  dataInProcess: true,
  description:
    'In-memory store (per process, not persistent): key/value with TTL, scan, batch, CAS, transactions and capacity limits; lists, sets and sorted sets; time series with aggregation, retention and interpolation; property graphs with traversals and analytics; JSON documents with queries and indexes; pub/sub, streams and queues with every messaging flavour',
  interfaces: [
    KeyValueBasic,
    KeyValueTTL,
    KeyValueScan,
    KeyValueBatch,
    KeyValueCAS,
    KeyValueTransactional,
    ListBasic,
    ListIndexing,
    ListRange,
    ListBlocking,
    SetBasic,
    SetOperations,
    SetCardinality,
    SetRandom,
    SortedSetBasic,
    SortedSetRange,
    SortedSetRank,
    SortedSetOperations,
    SortedSetLex,
    TimeSeriesBasic,
    TimeSeriesAggregation,
    TimeSeriesRetention,
    TimeSeriesInterpolation,
    DocumentBasic,
    DocumentQuery,
    DocumentIndexing,
    ...MESSAGING_INTERFACES,
    GraphBasic,
    GraphTraversal,
    GraphAnalytics,
  ],
  omitted: {
    graph_query:
      'Gremlin text needs a Gremlin engine; MemStore walks its graph through graph_traversal and graph_analytics',
  },
  configSchema: MemStoreConfig,
  create(config, ctx) {
    const store = new MemStore({
      namespace: ctx.namespace,
      maxKeys: config.max_keys,
      sweepIntervalMs: config.sweep_interval_ms,
    });
    const messaging = createMessaging(ctx);
    const sets = new SetStore(ctx.namespace);
    const sortedSets = new SortedSetStore(ctx.namespace);
    const listBlocking = new MemListBlocking(store);
    const timeSeries = new TimeSeriesStore(ctx.namespace, config.sweep_interval_ms);
    const documents = memDocuments(new DocumentStore(), ctx.limits);
    const graph = new GraphStore(ctx.namespace, config.max_traversal_depth);
    return {
      bindings: [
        implement(KeyValueBasic, memBasic(store)),
        implement(KeyValueTTL, memTTL(store)),
        implement(KeyValueScan, memScan(store, ctx.limits)),
        implement(KeyValueBatch, memBatch(store)),
        implement(KeyValueCAS, memCAS(store)),
        implement(KeyValueTransactional, memTransactional(store)),
        implement(ListBasic, memList(store)),
        implement(ListIndexing, memListIndexing(store)),
        implement(ListRange, memListRange(store)),
        implement(ListBlocking, listBlocking.impl()),
        implement(SetBasic, memSetBasic(sets)),
        implement(SetOperations, memSetOperations(sets)),
        implement(SetCardinality, memSetCardinality(sets)),
        implement(SetRandom, memSetRandom(sets)),
        implement(SortedSetBasic, memSortedSetBasic(sortedSets)),
        implement(SortedSetRange, memSortedSetRange(sortedSets)),
        implement(SortedSetRank, memSortedSetRank(sortedSets)),
        implement(SortedSetOperations, memSortedSetOperations(sortedSets)),
        implement(SortedSetLex, memSortedSetLex(sortedSets)),
        implement(TimeSeriesBasic, memTimeSeriesBasic(timeSeries)),
        implement(TimeSeriesAggregation, memTimeSeriesAggregation(timeSeries)),
        implement(TimeSeriesRetention, memTimeSeriesRetention(timeSeries)),
        implement(TimeSeriesInterpolation, memTimeSeriesInterpolation(timeSeries)),
        implement(DocumentBasic, documents.basic),
        implement(DocumentQuery, documents.query),
        implement(DocumentIndexing, documents.indexing),
        ...messaging.bindings,
        implement(GraphBasic, memGraphBasic(graph)),
        implement(GraphTraversal, memGraphTraversal(graph)),
        implement(GraphAnalytics, memGraphAnalytics(graph)),
      ],
      health: () => {
        const keys = store.size;
        const max = store.maxKeys;
        ctx.metrics.gauge('memstore_keys', keys, { namespace: ctx.namespace });
        const details = { keys: String(keys), max_keys: max === undefined ? 'unlimited' : String(max) };
        return max !== undefined && keys >= max
          ? degraded(`at capacity: ${keys} keys, max_keys is ${max}; new keys are rejected`, details)
          : healthy(details);
      },
      close: async () => {
        messaging.close();
        sets.close();
        sortedSets.close();
        listBlocking.close();
        graph.close();
        timeSeries.close();
        store.close();
      },
    };
  },
});
