import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { pause, pollUntil, StreamCollector } from '@prism/pubsub-basic/conformance';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { streamClient } from '@prism/stream-basic/conformance';
import {
  GroupStart,
  ReadGroupRequestSchema,
  type ReadGroupResponse,
  StreamConsumerGroups,
} from '@prism/stream-consumer-groups';
import { groupClient } from '@prism/stream-consumer-groups/conformance';
import { testServerUrl } from '@prism/testing';
import { createClient } from 'redis';
import plugin from './index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

// max_in_flight is what Redis says is pending with the member (XPENDING … consumer), not a local count that
// acks of other groups, acks through other replicas or the claim timeout could shrink.
describe('redis consumer groups: max_in_flight as seen in Redis', () => {
  const raw = createClient({ url: testServerUrl('redis') });
  const handles: PluginHandle[] = [];
  const streams: StreamCollector<ReadGroupResponse>[] = [];
  const open = async (namespace: string) => {
    const h = await instantiatePlugin(plugin, { url: testServerUrl('redis') }, { namespace });
    handles.push(h);
    return h;
  };
  beforeAll(async () => {
    await raw.connect();
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.cancel()));
    await Promise.all(handles.map((h) => h.close()));
    await raw.close();
  });

  it('never has more than max_in_flight entries pending with a member, whoever acks', async () => {
    const ns = uniqueNamespace('rg');
    const h = await open(ns);
    const s = streamClient(h.get(StreamBasic)!, ns);
    for (let i = 0; i < 6; i++) await s.append('jobs', utf8(`j${i}`));
    const impl = h.get(StreamConsumerGroups)!;
    const read = (group: string, maxInFlight: number) => {
      const c = new StreamCollector<ReadGroupResponse>(
        (ctx) =>
          impl.readGroup(
            create(ReadGroupRequestSchema, {
              namespace: ns,
              stream: 'jobs',
              group,
              consumer: 'c1',
              start: GroupStart.EARLIEST,
              maxInFlight,
            }),
            ctx,
          ) as AsyncIterable<ReadGroupResponse>,
      );
      streams.push(c);
      return c;
    };
    const limited = read('limited', 2);
    const other = read('other', 10);
    await other.atLeast(6);
    await limited.atLeast(2);
    // The other group acks the same entry ids, through a second instance (another proxy replica).
    const replica = await open(ns);
    await groupClient(replica.get(StreamConsumerGroups)!, ns).ack(
      'jobs',
      'other',
      other.items.map((r) => r.ackId),
    );
    await pause(1000);
    expect(limited.items).toHaveLength(2);
    const key = `${ns}:\u0000s\u0000jobs`;
    const pendingWith = async (group: string) =>
      (await raw.xPendingRange(key, group, '-', '+', 100, { consumer: 'c1' })).length;
    expect(await pendingWith('limited')).toBe(2);
    expect(await pendingWith('other')).toBe(0);
    // Its own ack through the replica frees exactly one slot.
    await groupClient(replica.get(StreamConsumerGroups)!, ns).ack('jobs', 'limited', [
      limited.items[0]!.ackId,
    ]);
    await pollUntil('a third entry', () => limited.items.length >= 3);
    await pause(500);
    expect(limited.items).toHaveLength(3);
    expect(await pendingWith('limited')).toBe(2);
  });
});
