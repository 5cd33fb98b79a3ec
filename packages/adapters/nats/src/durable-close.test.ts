// Defect: a message published just after a durable subscription's stream closed could be handed (by the
// server) to the closed stream's outstanding pull request; it then came back only after ack_wait (30 s), as
// a redelivery and after later messages. The subscription must keep every message whether or not a stream
// is open: a stream reopened right away gets it promptly, in order, as a first delivery.
//
// The race is forced: instance A talks to nats-server through a TCP relay whose client-to-server direction
// the test holds while A's stream closes, so whatever A sends when it closes (an UNSUB of its pull inbox)
// reaches the server only after the server has handed the next message to the closed stream's pull
// request (checked with the consumer's own info: no request waiting any more, one delivery unacked).
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pollUntil, text, uniqueNamespace, utf8 } from '@prism/pubsub-basic/conformance';
import { PubSubPersistent } from '@prism/pubsub-persistent';
import { persistentClient } from '@prism/pubsub-persistent/conformance';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { testServerUrl } from '@prism/testing';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { HANDOFF_HOLD_MS } from './durable.js';
import plugin from './index.js';
import { encodeToken, fitName, Names } from './names.js';

/** A TCP relay to nats-server whose client-to-server direction can be held (bytes queue, none is lost). */
class Relay {
  private server?: Server;
  private held = false;
  private readonly pipes: { up: Socket; queue: Buffer[] }[] = [];
  port = 0;

  async start(target: URL): Promise<void> {
    this.server = createServer((down) => {
      const up = tcpConnect(Number(target.port), target.hostname);
      const pipe = { up, queue: [] as Buffer[] };
      this.pipes.push(pipe);
      up.on('data', (b) => down.write(b));
      down.on('data', (b: Buffer) => (this.held ? pipe.queue.push(b) : up.write(b)));
      const end = () => {
        up.destroy();
        down.destroy();
      };
      up.on('error', end).on('close', end);
      down.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }
  hold(): void {
    this.held = true;
  }
  release(): void {
    this.held = false;
    for (const p of this.pipes) for (const b of p.queue.splice(0)) p.up.write(b);
  }
  async stop(): Promise<void> {
    for (const p of this.pipes) p.up.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('nats pubsub_persistent: publishing right after a stream closes', () => {
  const namespace = uniqueNamespace('natsclose');
  const stream = new Names(namespace, 'PRISM').durableTopicsStream;
  const relay = new Relay();
  let handle: PluginHandle;
  let client: ReturnType<typeof persistentClient>;
  // Another proxy replica (its own, direct connection) publishes: nothing orders its messages after our close.
  let replica: PluginHandle;
  let other: ReturnType<typeof persistentClient>;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    await relay.start(new URL(testServerUrl('nats')));
    // The default ack wait (30 s): a message lost into a closed stream would take that long to return.
    handle = await instantiatePlugin(plugin, { servers: [`nats://127.0.0.1:${relay.port}`] }, { namespace });
    client = persistentClient(handle.get(PubSubPersistent)!, namespace);
    replica = await instantiatePlugin(plugin, { servers: [testServerUrl('nats')] }, { namespace });
    other = persistentClient(replica.get(PubSubPersistent)!, namespace);
    nc = await connect({ servers: testServerUrl('nats') });
    jsm = await nc.jetstreamManager();
  });
  afterAll(async () => {
    relay.release();
    await handle?.close();
    await replica?.close();
    await nc?.close();
    await relay.stop();
  });

  /**
   * Opens a stream on A, waits until its pull request is pending at the server, closes it with A's
   * outgoing bytes held, publishes m1 from the replica and waits until the server handed m1 to the closed
   * stream's request; then publishes m2 and m3.
   */
  async function raceIntoClosedStream(topic: string): Promise<string[]> {
    const consumer = fitName(`${encodeToken(topic)}__${encodeToken('sub')}`);
    const first = await client.open(topic, 'sub').ready();
    const m0 = await other.publish(topic, utf8('m0'));
    await first.until('m0', (ms) => ms.some((m) => m.message?.id === m0));
    await first.ackNew();
    await pollUntil('the stream pull request to be pending', async () => {
      const info = await jsm.consumers.info(stream, consumer);
      return info.num_waiting > 0 && info.num_ack_pending === 0;
    });
    relay.hold();
    try {
      await first.cancel();
      const m1 = await other.publish(topic, utf8('m1'));
      await pollUntil('the server to hand m1 to the closed stream', async () => {
        const info = await jsm.consumers.info(stream, consumer);
        return info.num_pending === 0 && info.num_ack_pending === 1;
      });
      return [m1, await other.publish(topic, utf8('m2')), await other.publish(topic, utf8('m3'))];
    } finally {
      relay.release();
    }
  }

  it.each([0, 1, 2])(
    'round %i: reopened on the same instance, the stream gets them at once, in order, as first deliveries',
    async (round) => {
      const topic = `close-race-${round}`;
      const ids = await raceIntoClosedStream(topic);
      const started = Date.now();
      const second = await client.open(topic, 'sub').ready();
      try {
        const got = await second.until('m1, m2 and m3', (ms) => ms.length >= 3, 3_000);
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(got.map((m) => text(m.message!.payload))).toEqual(['m1', 'm2', 'm3']);
        expect(got.map((m) => m.message!.id)).toEqual(ids);
        expect(got.map((m) => m.deliveryCount)).toEqual([1, 1, 1]);
        expect(await second.ackNew()).toBe(3);
      } finally {
        await second.cancel();
      }
    },
  );

  it('reopened on another replica, the stream gets the held message once the hold ends', async () => {
    const topic = 'close-race-elsewhere';
    const ids = await raceIntoClosedStream(topic);
    const started = Date.now();
    const second = await other.open(topic, 'sub').ready();
    try {
      // A gives m1 back (nak) after HANDOFF_HOLD_MS, far below the 30 s ack wait.
      const got = await second.until('m1, m2 and m3', (ms) => ms.length >= 3, HANDOFF_HOLD_MS + 2_500);
      expect(Date.now() - started).toBeLessThan(HANDOFF_HOLD_MS + 2_500);
      expect(got).toHaveLength(3);
      const byId = new Map(got.map((m) => [m.message!.id, m]));
      expect([...byId.keys()].sort()).toEqual([...ids].sort());
      // First deliveries in order; m1 was delivered once before (to A's closed stream): a redelivery.
      expect(got.filter((m) => m.message!.id !== ids[0]).map((m) => text(m.message!.payload))).toEqual([
        'm2',
        'm3',
      ]);
      expect(byId.get(ids[0]!)!.deliveryCount).toBe(2);
      expect(await second.ackNew()).toBe(3);
    } finally {
      await second.cancel();
    }
  });
});
