import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { PubSubBasic } from '@prism/pubsub-basic';
import {
  DEFAULT_DEADLINE_MS,
  expectCode,
  MESSAGING_CONFORMANCE_LIMITS,
  MessageSubscription,
  type MessagingSuiteOptions,
  pubsubBasic,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  PubSubWildcards,
  type PubSubWildcardsImpl,
  SubscribePatternRequestSchema,
  SubscribePatternResponseSchema,
} from './index.js';

/** Opens pattern subscriptions over a pubsub_wildcards implementation. */
export function pubsubWildcards(impl: PubSubWildcardsImpl, namespace: string) {
  const open = (pattern: string) =>
    new MessageSubscription((c) =>
      (async function* () {
        for await (const r of impl.subscribePattern(
          create(SubscribePatternRequestSchema, { namespace, pattern }),
          c,
        ))
          yield create(SubscribePatternResponseSchema, r);
      })(),
    );
  return { open, subscribe: (pattern: string) => open(pattern).ready() };
}

/**
 * The pubsub_wildcards conformance suite. The plugin must implement pubsub_basic too (its Publish feeds
 * pattern subscriptions).
 */
export function describePubSubWildcardsConformance(
  label: string,
  factory: PluginFactory,
  options: MessagingSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  // Several waits per test, each up to `deadline`: keep jest's per-test timeout above them.
  jest.setTimeout(4 * deadline);
  describe(`pubsub_wildcards conformance: ${label}`, () => {
    let handle: PluginHandle;
    let ps: ReturnType<typeof pubsubBasic>;
    let wc: ReturnType<typeof pubsubWildcards>;
    const namespace = uniqueNamespace(label);
    const open: MessageSubscription[] = [];
    const sub = async (pattern: string) => {
      const s = wc.open(pattern);
      open.push(s);
      return s.ready(deadline);
    };
    /** Publishes `others` first and then `sentinel`; once the sentinel arrived, returns the payloads seen. */
    const deliveredOf = async (s: MessageSubscription, topics: string[], sentinel: string) => {
      for (const t of topics) await ps.publish(t, utf8(t));
      const id = await ps.publish(sentinel, utf8(`sentinel:${sentinel}`));
      await s.waitForId(id, deadline);
      return s.messages.map((m) => m.topic);
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const wimpl = handle.get(PubSubWildcards);
      const bimpl = handle.get(PubSubBasic);
      if (!wimpl || !bimpl) throw new Error(`${label} must implement pubsub_wildcards and pubsub_basic`);
      ps = pubsubBasic(bimpl, namespace);
      wc = pubsubWildcards(wimpl, namespace);
    });
    afterAll(async () => {
      await Promise.all(open.map((s) => s.cancel().catch(() => {})));
      await handle?.close();
    });

    it('"*" matches exactly one token and messages carry the concrete topic', async () => {
      const s = await sub('orders.*');
      const seen = await deliveredOf(
        s,
        ['orders', 'orders.eu.created', 'other.eu', 'orders.eu'],
        'orders.us',
      );
      expect(seen).toEqual(['orders.eu', 'orders.us']);
      expect(text(s.messages[0]!.payload)).toBe('orders.eu');
    });

    it('">" matches one or more trailing tokens', async () => {
      const s = await sub('events.>');
      const seen = await deliveredOf(s, ['events', 'events.a', 'events.a.b.c', 'eventsx.a'], 'events.z');
      expect(seen).toEqual(['events.a', 'events.a.b.c', 'events.z']);
    });

    it('matches "*" in the middle and combined with ">"', async () => {
      const mid = await sub('a.*.c');
      expect(await deliveredOf(mid, ['a.b.d', 'a.b.c.d', 'a.c', 'a.x.c'], 'a.y.c')).toEqual([
        'a.x.c',
        'a.y.c',
      ]);
      const both = await sub('m.*.>');
      expect(await deliveredOf(both, ['m.x', 'n.x.y', 'm.x.y'], 'm.q.r.s')).toEqual(['m.x.y', 'm.q.r.s']);
    });

    it('treats a pattern without wildcards as an exact topic', async () => {
      const s = await sub('plain.topic');
      expect(await deliveredOf(s, ['plain', 'plain.topic.more'], 'plain.topic')).toEqual(['plain.topic']);
    });

    it('fans out to several pattern subscriptions and exact subscribers alike', async () => {
      const star = await sub('fan.*');
      const rest = await sub('fan.>');
      const exact = await ps.subscribe('fan.one');
      open.push(exact);
      const id = await ps.publish('fan.one', utf8('x'));
      for (const s of [star, rest, exact]) expect((await s.waitForId(id, deadline)).topic).toBe('fan.one');
    });

    it('delivers nothing after the pattern stream is cancelled', async () => {
      const leaving = await sub('bye.*');
      const staying = await sub('bye.*');
      const first = await ps.publish('bye.a', utf8('1'));
      await leaving.waitForId(first, deadline);
      await leaving.cancel(deadline);
      const count = leaving.messages.length;
      const after = await ps.publish('bye.b', utf8('2'));
      await staying.waitForId(after, deadline);
      expect(leaving.messages).toHaveLength(count);
    });

    it('isolates namespaces: ">" does not see another namespace', async () => {
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: MESSAGING_CONFORMANCE_LIMITS });
      try {
        const otherPs = pubsubBasic(other.get(PubSubBasic)!, otherNs);
        const mine = await sub('iso.>');
        await otherPs.publish('iso.theirs', utf8('theirs'));
        const id = await ps.publish('iso.mine', utf8('mine'));
        await mine.waitForId(id, deadline);
        expect(mine.messages.map((m) => m.topic)).toEqual(['iso.mine']);
      } finally {
        await other.close();
      }
    });

    it('rejects invalid patterns with INVALID_ARGUMENT', async () => {
      for (const pattern of [
        '',
        'a..b',
        '.a',
        'a.',
        'a.>.b',
        '>.a',
        'a*',
        'a.b*',
        'has space',
        'x'.repeat(129),
      ])
        await expectCode(() => wc.open(pattern).ready(deadline), Code.InvalidArgument);
    });
  });
}
