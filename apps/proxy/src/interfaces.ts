import { KeyValueBasic } from '@prism/keyvalue-basic';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { KeyValueTransactional } from '@prism/keyvalue-transactional';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { ListBasic } from '@prism/list-basic';
import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubPersistent } from '@prism/pubsub-persistent';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { QueueBasic } from '@prism/queue-basic';
import { QueueDeadLetter } from '@prism/queue-dead-letter';
import { QueueDelayed } from '@prism/queue-delayed';
import { QueueVisibility } from '@prism/queue-visibility';
import type { InterfaceDefinition } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { StreamReplay } from '@prism/stream-replay';

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
  PubSubBasic,
  PubSubPersistent,
  PubSubWildcards,
  QueueBasic,
  QueueDeadLetter,
  QueueDelayed,
  QueueVisibility,
  StreamBasic,
  StreamConsumerGroups,
  StreamReplay,
];
