// Every interface flavour's conformance suite, by interface name, called with what the adapter declares.
// suites.test.ts checks that every contract package under packages/interfaces has an entry here.
import { describeDocumentBasicConformance } from '@prism/document-basic/conformance';
import { describeDocumentIndexingConformance } from '@prism/document-indexing/conformance';
import { describeDocumentQueryConformance } from '@prism/document-query/conformance';
import { describeGraphAnalyticsConformance } from '@prism/graph-analytics/conformance';
import { describeGraphBasicConformance } from '@prism/graph-basic/conformance';
import { describeGraphQueryConformance } from '@prism/graph-query/conformance';
import { describeGraphTraversalConformance } from '@prism/graph-traversal/conformance';
import { describeKeyValueBasicConformance } from '@prism/keyvalue-basic/conformance';
import { describeKeyValueBatchConformance } from '@prism/keyvalue-batch/conformance';
import { describeKeyValueCASConformance } from '@prism/keyvalue-cas/conformance';
import { describeKeyValueScanConformance } from '@prism/keyvalue-scan/conformance';
import { describeKeyValueTransactionalConformance } from '@prism/keyvalue-transactional/conformance';
import { describeKeyValueTTLConformance } from '@prism/keyvalue-ttl/conformance';
import { describeListBasicConformance } from '@prism/list-basic/conformance';
import { describeListBlockingConformance } from '@prism/list-blocking/conformance';
import { describeListIndexingConformance } from '@prism/list-indexing/conformance';
import { describeListRangeConformance } from '@prism/list-range/conformance';
import { describePubSubBasicConformance, type MessagingSuiteOptions } from '@prism/pubsub-basic/conformance';
import { describePubSubFilteringConformance } from '@prism/pubsub-filtering/conformance';
import { describePubSubOrderingConformance } from '@prism/pubsub-ordering/conformance';
import { describePubSubPersistentConformance } from '@prism/pubsub-persistent/conformance';
import { describePubSubWildcardsConformance } from '@prism/pubsub-wildcards/conformance';
import { describeQueueBasicConformance } from '@prism/queue-basic/conformance';
import { describeQueueDeadLetterConformance } from '@prism/queue-dead-letter/conformance';
import { describeQueueDelayedConformance } from '@prism/queue-delayed/conformance';
import { describeQueuePriorityConformance } from '@prism/queue-priority/conformance';
import { describeQueueVisibilityConformance } from '@prism/queue-visibility/conformance';
import type { PluginFactory } from '@prism/sdk';
import { describeSetBasicConformance } from '@prism/set-basic/conformance';
import { describeSetCardinalityConformance } from '@prism/set-cardinality/conformance';
import { describeSetOperationsConformance } from '@prism/set-operations/conformance';
import { describeSetRandomConformance } from '@prism/set-random/conformance';
import { describeSortedSetBasicConformance } from '@prism/sortedset-basic/conformance';
import { describeSortedSetLexConformance } from '@prism/sortedset-lex/conformance';
import { describeSortedSetOperationsConformance } from '@prism/sortedset-operations/conformance';
import { describeSortedSetRangeConformance } from '@prism/sortedset-range/conformance';
import { describeSortedSetRankConformance } from '@prism/sortedset-rank/conformance';
import { describeStreamBasicConformance } from '@prism/stream-basic/conformance';
import { describeStreamConsumerGroupsConformance } from '@prism/stream-consumer-groups/conformance';
import { describeStreamPartitioningConformance } from '@prism/stream-partitioning/conformance';
import { describeStreamReplayConformance } from '@prism/stream-replay/conformance';
import { describeStreamRetentionConformance } from '@prism/stream-retention/conformance';
import { describeTimeSeriesAggregationConformance } from '@prism/timeseries-aggregation/conformance';
import { describeTimeSeriesBasicConformance } from '@prism/timeseries-basic/conformance';
import { describeTimeSeriesInterpolationConformance } from '@prism/timeseries-interpolation/conformance';
import { describeTimeSeriesRetentionConformance } from '@prism/timeseries-retention/conformance';

/** What a suite may know about the adapter under test. */
export interface SuiteContext {
  /** Whether the adapter also declares interface `name` (suites test the interplay when it does). */
  has(name: string): boolean;
  /** Backend traits for the messaging suites. */
  readonly messaging: MessagingSuiteOptions;
}

/** Registers one flavour's jest suite for an adapter. */
export type ConformanceSuite = (label: string, factory: PluginFactory, context: SuiteContext) => void;

/** Every flavour's suite, by interface name. Adding a flavour = adding its line here (a test checks it). */
export const CONFORMANCE_SUITES: Readonly<Record<string, ConformanceSuite>> = {
  keyvalue_basic: (l, f) => describeKeyValueBasicConformance(l, f),
  keyvalue_ttl: (l, f, c) => describeKeyValueTTLConformance(l, f, { scan: c.has('keyvalue_scan') }),
  keyvalue_scan: (l, f) => describeKeyValueScanConformance(l, f),
  keyvalue_batch: (l, f, c) => describeKeyValueBatchConformance(l, f, { ttl: c.has('keyvalue_ttl') }),
  keyvalue_cas: (l, f, c) =>
    describeKeyValueCASConformance(l, f, { ttl: c.has('keyvalue_ttl'), batch: c.has('keyvalue_batch') }),
  keyvalue_transactional: (l, f, c) =>
    describeKeyValueTransactionalConformance(l, f, {
      ttl: c.has('keyvalue_ttl'),
      cas: c.has('keyvalue_cas'),
    }),
  list_basic: (l, f) => describeListBasicConformance(l, f),
  list_indexing: (l, f) => describeListIndexingConformance(l, f),
  list_range: (l, f) => describeListRangeConformance(l, f),
  list_blocking: (l, f) => describeListBlockingConformance(l, f),
  set_basic: (l, f) => describeSetBasicConformance(l, f),
  set_operations: (l, f) => describeSetOperationsConformance(l, f),
  set_cardinality: (l, f) => describeSetCardinalityConformance(l, f),
  set_random: (l, f) => describeSetRandomConformance(l, f),
  sortedset_basic: (l, f) => describeSortedSetBasicConformance(l, f),
  sortedset_range: (l, f) => describeSortedSetRangeConformance(l, f),
  sortedset_rank: (l, f) => describeSortedSetRankConformance(l, f),
  sortedset_operations: (l, f) => describeSortedSetOperationsConformance(l, f),
  sortedset_lex: (l, f) => describeSortedSetLexConformance(l, f),
  pubsub_basic: (l, f, c) => describePubSubBasicConformance(l, f, c.messaging),
  pubsub_wildcards: (l, f, c) => describePubSubWildcardsConformance(l, f, c.messaging),
  pubsub_persistent: (l, f, c) => describePubSubPersistentConformance(l, f, c.messaging),
  pubsub_filtering: (l, f, c) => describePubSubFilteringConformance(l, f, c.messaging),
  pubsub_ordering: (l, f, c) => describePubSubOrderingConformance(l, f, c.messaging),
  queue_basic: (l, f, c) => describeQueueBasicConformance(l, f, c.messaging),
  queue_visibility: (l, f, c) => describeQueueVisibilityConformance(l, f, c.messaging),
  queue_dead_letter: (l, f, c) => describeQueueDeadLetterConformance(l, f, c.messaging),
  queue_delayed: (l, f, c) => describeQueueDelayedConformance(l, f, c.messaging),
  queue_priority: (l, f, c) =>
    describeQueuePriorityConformance(l, f, { ...c.messaging, visibility: c.has('queue_visibility') }),
  stream_basic: (l, f, c) => describeStreamBasicConformance(l, f, c.messaging),
  stream_replay: (l, f, c) => describeStreamReplayConformance(l, f, c.messaging),
  stream_consumer_groups: (l, f, c) => describeStreamConsumerGroupsConformance(l, f, c.messaging),
  stream_retention: (l, f, c) => describeStreamRetentionConformance(l, f, c.messaging),
  stream_partitioning: (l, f, c) => describeStreamPartitioningConformance(l, f, c.messaging),
  document_basic: (l, f) => describeDocumentBasicConformance(l, f),
  document_query: (l, f) => describeDocumentQueryConformance(l, f),
  document_indexing: (l, f) => describeDocumentIndexingConformance(l, f),
  graph_basic: (l, f) => describeGraphBasicConformance(l, f),
  graph_traversal: (l, f) => describeGraphTraversalConformance(l, f),
  graph_query: (l, f) => describeGraphQueryConformance(l, f),
  graph_analytics: (l, f) => describeGraphAnalyticsConformance(l, f),
  timeseries_basic: (l, f) => describeTimeSeriesBasicConformance(l, f),
  timeseries_aggregation: (l, f) => describeTimeSeriesAggregationConformance(l, f),
  timeseries_retention: (l, f, c) =>
    describeTimeSeriesRetentionConformance(l, f, {
      aggregation: c.has('timeseries_aggregation'),
      interpolation: c.has('timeseries_interpolation'),
    }),
  timeseries_interpolation: (l, f) => describeTimeSeriesInterpolationConformance(l, f),
};
