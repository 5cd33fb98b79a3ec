import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubPersistent } from '@prism/pubsub-persistent';
import { definePlugin, endpointId, healthy, type Isolation, implement, unhealthy } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { StreamReplay } from '@prism/stream-replay';
import { KafkaBackend } from './client.js';
import { KafkaConfigSchema } from './config.js';
import { KafkaGroups } from './groups.js';
import { KafkaPubSub } from './pubsub.js';
import { KafkaStreams } from './streams.js';

export { type KafkaConfig, KafkaConfigSchema } from './config.js';

/**
 * The Kafka backend (@confluentinc/kafka-javascript / librdkafka): pub/sub, streams, consumer groups and
 * replay on Apache Kafka. Namespaces are isolated by the topic prefix `<topic_prefix>.<namespace>.` and
 * consumer group ids with the same prefix.
 */
const plugin = definePlugin({
  name: 'kafka',
  version: '0.1.0',
  description: 'Apache Kafka pub/sub (at-most-once and durable), streams, consumer groups and replay',
  interfaces: [PubSubBasic, PubSubPersistent, StreamBasic, StreamConsumerGroups, StreamReplay],
  configSchema: KafkaConfigSchema,
  /** Topics and consumer group ids `<topic_prefix>.<namespace>.…` on the cluster of the bootstrap brokers. */
  isolation(config, namespace): Isolation {
    return {
      endpoints: config.brokers.map((broker) => {
        const colon = broker.lastIndexOf(':');
        return endpointId(broker.slice(0, colon), broker.slice(colon + 1));
      }),
      scopes: [
        {
          kind: 'topics and consumer groups',
          value: `${config.topic_prefix}.${namespace}.`,
          ...(config.topic_prefix === 'prism' ? {} : { field: 'topic_prefix' }),
        },
      ],
    };
  },
  create(config, ctx) {
    const backend = new KafkaBackend(config, ctx.namespace, ctx.logger);
    const pubsub = new KafkaPubSub(backend, ctx);
    const streams = new KafkaStreams(backend);
    const groups = new KafkaGroups(backend, ctx.logger);
    return {
      bindings: [
        implement(PubSubBasic, pubsub.impl()),
        implement(PubSubPersistent, groups.persistent()),
        implement(StreamBasic, streams.basic()),
        implement(StreamConsumerGroups, groups.impl()),
        implement(StreamReplay, streams.replay()),
      ],
      start: () => backend.start(),
      async health() {
        try {
          const brokers = await backend.ping();
          return healthy({ brokers: String(brokers) });
        } catch (err) {
          return unhealthy(`kafka unreachable: ${(err as Error).message}`);
        }
      },
      async close() {
        groups.close();
        await pubsub.close();
        await backend.close();
      },
    };
  },
});

export default plugin;
