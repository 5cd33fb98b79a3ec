import { PubSubBasic } from '@prism/pubsub-basic';
import { definePlugin, healthy, implement, unhealthy } from '@prism/sdk';
import { KafkaBackend } from './client.js';
import { KafkaConfigSchema } from './config.js';
import { KafkaPubSub } from './pubsub.js';

export { type KafkaConfig, KafkaConfigSchema } from './config.js';

/**
 * The Kafka backend (@confluentinc/kafka-javascript / librdkafka): pub/sub, streams, consumer groups and
 * replay on Apache Kafka. Namespaces are isolated by the topic prefix `<topic_prefix>.<namespace>.` and
 * consumer group ids with the same prefix.
 */
const plugin = definePlugin({
  name: 'kafka',
  version: '0.1.0',
  description: 'Apache Kafka pub/sub, streams, consumer groups and replay',
  interfaces: [PubSubBasic],
  configSchema: KafkaConfigSchema,
  create(config, ctx) {
    const backend = new KafkaBackend(config, ctx.namespace, ctx.logger);
    const pubsub = new KafkaPubSub(backend, ctx);
    return {
      bindings: [implement(PubSubBasic, pubsub.impl())],
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
        await pubsub.close();
        await backend.close();
      },
    };
  },
});

export default plugin;
