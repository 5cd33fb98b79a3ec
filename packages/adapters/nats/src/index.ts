import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubFiltering } from '@prism/pubsub-filtering';
import { PubSubOrdering } from '@prism/pubsub-ordering';
import { PubSubPersistent } from '@prism/pubsub-persistent';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { QueueBasic } from '@prism/queue-basic';
import { QueueDeadLetter } from '@prism/queue-dead-letter';
import { QueueDelayed } from '@prism/queue-delayed';
import { QueueVisibility } from '@prism/queue-visibility';
import { definePlugin, endpointId, healthy, type Isolation, implement, unhealthy } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { StreamReplay } from '@prism/stream-replay';
import { StreamRetention } from '@prism/stream-retention';
import { NatsConfigSchema } from './config.js';
import { NatsBackend } from './connection.js';
import { DelayedQueues } from './delayed.js';
import { DurableStreams } from './durable.js';
import { Names } from './names.js';
import { PersistentPubSub } from './persistent.js';
import { CorePubSub } from './pubsub.js';
import { CorePubSubFlavours } from './pubsub-flavours.js';
import { Queues } from './queues.js';
import { natsStreamRetention } from './stream-retention.js';
import { JetStreams } from './streams.js';

export { type NatsConfig, NatsConfigSchema } from './config.js';
export { decodeToken, encodeToken, Names } from './names.js';

/**
 * The NATS backend: pub/sub on core NATS (at-most-once), persistent pub/sub, streams, consumer groups
 * and queues on JetStream (at-least-once). Namespaces are isolated by the subject prefix
 * `prism.<namespace>.` and by JetStream stream names `<stream_prefix>_<namespace>_…`.
 */
const plugin = definePlugin({
  name: 'nats',
  version: '0.1.0',
  description:
    'NATS core pub/sub (with filters and ordering keys) and JetStream streams with retention, consumer groups and queues',
  interfaces: [
    PubSubBasic,
    PubSubWildcards,
    PubSubPersistent,
    PubSubFiltering,
    PubSubOrdering,
    StreamBasic,
    StreamConsumerGroups,
    StreamReplay,
    StreamRetention,
    QueueBasic,
    QueueVisibility,
    QueueDeadLetter,
    QueueDelayed,
  ],
  omitted: {
    queue_priority:
      'JetStream has no message priority: one consumer per level would cost up to 10 pulls per Receive, and the NAKs that skip lower levels raise delivery_count',
    stream_partitioning:
      'not in this version: a partition would be one JetStream stream each (as offsets are stream sequences), with keys routed by the adapter and a group as one durable consumer per partition',
  },
  configSchema: NatsConfigSchema,
  /** Subjects `prism.<namespace>.` and JetStream streams `<stream_prefix>_<namespace>_…`. */
  isolation(config, namespace): Isolation {
    const names = new Names(namespace, config.stream_prefix);
    return {
      endpoints: config.servers.map((server) => {
        const url = new URL(/^[a-z]+:\/\//.test(server) ? server : `nats://${server}`);
        return endpointId(url.hostname, url.port || 4222);
      }),
      scopes: [
        { kind: 'subjects', value: names.root },
        {
          kind: 'JetStream streams',
          value: names.streamPrefix,
          ...(config.stream_prefix === 'PRISM' ? {} : { field: 'stream_prefix' }),
        },
      ],
    };
  },
  create(config, ctx) {
    const backend = new NatsBackend(config, ctx.logger, ctx.namespace, ctx.limits);
    const names = new Names(ctx.namespace, config.stream_prefix);
    const durable = new DurableStreams();
    const core = new CorePubSub(backend, names, ctx);
    const flavours = new CorePubSubFlavours(backend, names, ctx);
    const persistent = new PersistentPubSub(backend, names, durable);
    const streams = new JetStreams(backend, names, durable);
    const queues = new Queues(backend, names, ctx.logger);
    const delayed = new DelayedQueues(backend, names, queues, ctx.logger);
    return {
      bindings: [
        implement(PubSubBasic, core.basic()),
        implement(PubSubWildcards, core.wildcards()),
        implement(PubSubPersistent, persistent.impl()),
        implement(PubSubFiltering, flavours.filtering()),
        implement(PubSubOrdering, flavours.ordering()),
        implement(StreamBasic, streams.basic()),
        implement(StreamConsumerGroups, streams.groups()),
        implement(StreamReplay, streams.replay()),
        implement(StreamRetention, natsStreamRetention(backend, names, streams)),
        implement(QueueBasic, queues.basic()),
        implement(QueueVisibility, queues.visibility()),
        implement(QueueDeadLetter, queues.deadLetters()),
        implement(QueueDelayed, delayed.impl()),
      ],
      async start() {
        await backend.start();
        await backend.call(() => delayed.resume());
      },
      async health() {
        const h = await backend.health();
        return h.ok ? healthy({ servers: config.servers.join(',') }, h.message) : unhealthy(h.message);
      },
      async close() {
        await delayed.close();
        await backend.close();
      },
    };
  },
});

export default plugin;
