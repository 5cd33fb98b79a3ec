import { DocumentBasic } from '@prism/document-basic';
import { DocumentIndexing } from '@prism/document-indexing';
import { DocumentQuery } from '@prism/document-query';
import { GraphAnalytics } from '@prism/graph-analytics';
import { GraphBasic } from '@prism/graph-basic';
import { GraphQuery } from '@prism/graph-query';
import { GraphTraversal } from '@prism/graph-traversal';
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
import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubFiltering } from '@prism/pubsub-filtering';
import { PubSubOrdering } from '@prism/pubsub-ordering';
import { PubSubPersistent } from '@prism/pubsub-persistent';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { QueueBasic } from '@prism/queue-basic';
import { QueueDeadLetter } from '@prism/queue-dead-letter';
import { QueueDelayed } from '@prism/queue-delayed';
import { QueuePriority } from '@prism/queue-priority';
import { QueueVisibility } from '@prism/queue-visibility';
import type { InterfaceDefinition } from '@prism/sdk';
import { SetBasic } from '@prism/set-basic';
import { SetCardinality } from '@prism/set-cardinality';
import { SetOperations } from '@prism/set-operations';
import { SetRandom } from '@prism/set-random';
import { SortedSetBasic } from '@prism/sortedset-basic';
import { SortedSetLex } from '@prism/sortedset-lex';
import { SortedSetOperations } from '@prism/sortedset-operations';
import { SortedSetRange } from '@prism/sortedset-range';
import { SortedSetRank } from '@prism/sortedset-rank';
import { StreamBasic } from '@prism/stream-basic';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { StreamPartitioning } from '@prism/stream-partitioning';
import { StreamReplay } from '@prism/stream-replay';
import { StreamRetention } from '@prism/stream-retention';
import { TimeSeriesAggregation } from '@prism/timeseries-aggregation';
import { TimeSeriesBasic } from '@prism/timeseries-basic';
import { TimeSeriesInterpolation } from '@prism/timeseries-interpolation';
import { TimeSeriesRetention } from '@prism/timeseries-retention';

/**
 * Every interface flavour the proxy serves. Each is mounted once; a namespace whose backend lacks one
 * answers UNIMPLEMENTED. Adding a flavour = adding its contract package here.
 */
export const KNOWN_INTERFACES: readonly InterfaceDefinition[] = [
  KeyValueBasic,
  KeyValueBatch,
  KeyValueCAS,
  KeyValueScan,
  KeyValueTransactional,
  KeyValueTTL,
  ListBasic,
  ListBlocking,
  ListIndexing,
  ListRange,
  SetBasic,
  SetCardinality,
  SetOperations,
  SetRandom,
  SortedSetBasic,
  SortedSetLex,
  SortedSetOperations,
  SortedSetRange,
  SortedSetRank,
  PubSubBasic,
  PubSubFiltering,
  PubSubOrdering,
  PubSubPersistent,
  PubSubWildcards,
  QueueBasic,
  QueueDeadLetter,
  QueueDelayed,
  QueuePriority,
  QueueVisibility,
  StreamBasic,
  StreamConsumerGroups,
  StreamPartitioning,
  StreamReplay,
  StreamRetention,
  TimeSeriesBasic,
  TimeSeriesAggregation,
  TimeSeriesRetention,
  TimeSeriesInterpolation,
  GraphBasic,
  GraphTraversal,
  GraphQuery,
  GraphAnalytics,
  DocumentBasic,
  DocumentQuery,
  DocumentIndexing,
];
