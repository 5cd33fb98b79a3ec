import { afterAll } from '@jest/globals';
import { describePubSubBasicConformance } from '@prism/pubsub-basic/conformance';
import { describePubSubWildcardsConformance } from '@prism/pubsub-wildcards/conformance';
import { describeQueueBasicConformance } from '@prism/queue-basic/conformance';
import { describeQueueDeadLetterConformance } from '@prism/queue-dead-letter/conformance';
import { describeQueueDelayedConformance } from '@prism/queue-delayed/conformance';
import { describeQueueVisibilityConformance } from '@prism/queue-visibility/conformance';
import { instantiatePlugin, type PluginFactory } from '@prism/sdk';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
import plugin from './index.js';

const databases: string[] = [];
afterAll(async () => {
  await Promise.all(databases.map((url) => dropDatabase(url)));
});

/** A factory with a fresh database (created on first use) on the run's real PostgreSQL server. */
function freshDatabase(): PluginFactory {
  let url: Promise<string> | undefined;
  return async (opts) => {
    url ??= createDatabase(testServerUrl('postgres')).then((u) => {
      databases.push(u);
      return u;
    });
    return instantiatePlugin(plugin, { url: await url, pool_size: 4 }, opts);
  };
}

describeQueueBasicConformance('postgres', freshDatabase());
describeQueueVisibilityConformance('postgres', freshDatabase());
describeQueueDeadLetterConformance('postgres', freshDatabase());
describeQueueDelayedConformance('postgres', freshDatabase());
describePubSubBasicConformance('postgres', freshDatabase());
describePubSubWildcardsConformance('postgres', freshDatabase());
