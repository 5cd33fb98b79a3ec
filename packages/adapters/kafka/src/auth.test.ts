// The seeds' authentication suite against a private Kafka 4 KRaft broker whose client listener is
// SASL_PLAINTEXT with SCRAM-SHA-256 (one broker for this file), in_process: the adapter called directly.

import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PublishRequestSchema, PubSubBasic } from '@prism/pubsub-basic';
import { Code, ConnectError, createLogger, instantiatePlugin } from '@prism/sdk';
import { type KafkaTestServer, startKafka } from '@prism/testing';
import { captureLogs, describeAuthenticationSuite } from '@prism/testing/auth-suite';
import plugin from './index.js';

const USER = 'prism_app';
let kafka: KafkaTestServer;
// SCRAM passwords for the broker's tools: letters, digits and "-" only.
let password = `pw-${randomBytes(8).toString('hex')}`;
const logs = captureLogs();
const logger = createLogger({ name: 'kafka-auth', level: 'debug', stream: logs.stream });

beforeAll(async () => {
  kafka = await startKafka({ sasl: { user: USER, password, reauthMs: 2000 }, heapMb: 384 });
}, 180_000);
afterAll(async () => {
  await kafka?.dispose();
}, 60_000);

const config = (user: string, pw: string | undefined) => ({
  brokers: [kafka.bootstrap],
  request_timeout_ms: 5000,
  sasl: { mechanism: 'scram-sha-256', username: user, ...(pw !== undefined ? { password: pw } : {}) },
});

describeAuthenticationSuite('kafka (in_process, SASL SCRAM-SHA-256)', {
  valid: () => ({ user: USER, password }),
  pooled: false, // one producer connection per broker and instance: the suite starts five
  start: async (creds) => {
    const namespace = `auth-${randomBytes(4).toString('hex')}`;
    const h = await instantiatePlugin(plugin, config(creds.user, creds.password), { namespace, logger });
    const pubsub = h.get(PubSubBasic)!;
    return {
      op: async (i) => {
        await pubsub.publish(
          create(PublishRequestSchema, { namespace, topic: 't', payload: new Uint8Array([i & 255]) }),
          {
            signal: AbortSignal.timeout(15_000),
          },
        );
      },
      close: () => h.close(),
    };
  },
  rotate: async () => {
    password = `pw-${randomBytes(8).toString('hex')}`;
    await kafka.setPassword(password);
  },
  // Re-authentication every 2 s, after the (JVM) ConfigCommand ran.
  rotationTimeoutMs: 20_000,
  logs: () => logs.text() + kafka.logs(),
});

describe('kafka credentials: backend specifics', () => {
  it('rejects a wrong password at start at once, not after the connect timeout', async () => {
    const t0 = Date.now();
    const err = await instantiatePlugin(
      plugin,
      { ...config(USER, 'wrong-pass'), request_timeout_ms: 20_000 },
      { namespace: 'fast' },
    ).then(
      async (h) => {
        await h.close();
        throw new Error('start should have failed');
      },
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[err.code]).toBe('Unauthenticated');
    expect(err.rawMessage).toContain(`SASL user "${USER}"`);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
