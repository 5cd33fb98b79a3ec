import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { PubSubBasic } from '@prism/pubsub-basic';
import {
  ALL_BYTES,
  DEFAULT_DEADLINE_MS,
  expectCode,
  INVALID_TOPICS,
  MESSAGING_CONFORMANCE_LIMITS,
  MessageSubscription,
  type MessagingSuiteOptions,
  pubsubBasic,
  SAMPLE_METADATA,
  sameBytes,
  text,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import { Code, compileFilter, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  FilterSchema,
  PubSubFiltering,
  type PubSubFilteringImpl,
  SubscribeFilteredRequestSchema,
  SubscribeFilteredResponseSchema,
} from './index.js';

/** A filter as written in tests and clients (init shape). */
export type FilterInit = MessageInitShape<typeof FilterSchema>;

/** Builders for filters (init shapes), for tests and clients. */
export const F = {
  eq: (field: string, value: string): FilterInit => ({ condition: { case: 'eq', value: { field, value } } }),
  ne: (field: string, value: string): FilterInit => ({ condition: { case: 'ne', value: { field, value } } }),
  lt: (field: string, value: number): FilterInit => ({ condition: { case: 'lt', value: { field, value } } }),
  le: (field: string, value: number): FilterInit => ({ condition: { case: 'le', value: { field, value } } }),
  gt: (field: string, value: number): FilterInit => ({ condition: { case: 'gt', value: { field, value } } }),
  ge: (field: string, value: number): FilterInit => ({ condition: { case: 'ge', value: { field, value } } }),
  startswith: (field: string, prefix: string): FilterInit => ({
    condition: { case: 'startswith', value: { field, prefix } },
  }),
  in: (field: string, values: string[]): FilterInit => ({
    condition: { case: 'in', value: { field, values } },
  }),
  exists: (field: string): FilterInit => ({ condition: { case: 'exists', value: { field } } }),
  and: (...filters: FilterInit[]): FilterInit => ({ condition: { case: 'and', value: { filters } } }),
  or: (...filters: FilterInit[]): FilterInit => ({ condition: { case: 'or', value: { filters } } }),
  not: (value: FilterInit): FilterInit => ({ condition: { case: 'not', value } }),
};

/** Small typed client over a pubsub_filtering implementation. */
export function pubsubFiltering(impl: PubSubFilteringImpl, namespace: string) {
  const open = (topic: string, filter: FilterInit | undefined) =>
    new MessageSubscription((c) =>
      (async function* () {
        const req = create(SubscribeFilteredRequestSchema, { namespace, topic, filter });
        for await (const r of impl.subscribeFiltered(req, c))
          yield create(SubscribeFilteredResponseSchema, r);
      })(),
    );
  return { open, subscribe: (topic: string, filter: FilterInit) => open(topic, filter).ready() };
}

/**
 * Options of the pubsub_filtering suite: the messaging suites' options, of which only `deadlineMs` applies (the
 * flavour needs metadata, so `metadata: false` is not supported; nothing is durable, so `durable` is moot).
 */
export type PubSubFilteringSuiteOptions = MessagingSuiteOptions;

/**
 * The pubsub_filtering conformance suite. `factory` must create instances of a plugin implementing
 * pubsub_filtering and pubsub_basic (whose Publish feeds it) against a real backend.
 */
export function describePubSubFilteringConformance(
  label: string,
  factory: PluginFactory,
  options: PubSubFilteringSuiteOptions = {},
): void {
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  jest.setTimeout(6 * deadline);
  describe(`pubsub_filtering conformance: ${label}`, () => {
    let handle: PluginHandle;
    let pf: ReturnType<typeof pubsubFiltering>;
    let ps: ReturnType<typeof pubsubBasic>;
    const namespace = uniqueNamespace(label);
    const open: MessageSubscription[] = [];
    const sub = async (topic: string, filter: FilterInit) => {
      const s = pf.open(topic, filter);
      open.push(s);
      return s.ready(deadline);
    };
    /** Publishes a `fence` marker (matched by {@link withFence} filters) and waits for it at `subs`: everything published before it has been evaluated. */
    const fence = async (topic: string, subs: MessageSubscription[]) => {
      const id = await ps.publish(topic, utf8('fence'), { fence: '1' });
      for (const s of subs) await s.waitForId(id, deadline);
    };
    const withFence = (filter: FilterInit) => F.or(filter, F.exists('fence'));
    const payloads = (s: MessageSubscription) =>
      s.messages.map((m) => text(m.payload)).filter((p) => p !== 'fence');

    beforeAll(async () => {
      handle = await factory({ namespace, limits: MESSAGING_CONFORMANCE_LIMITS });
      const impl = handle.get(PubSubFiltering);
      if (!impl) throw new Error(`${label} does not implement pubsub_filtering`);
      const basic = handle.get(PubSubBasic);
      if (!basic)
        throw new Error(`${label} implements pubsub_filtering without pubsub_basic, whose Publish feeds it`);
      pf = pubsubFiltering(impl, namespace);
      ps = pubsubBasic(basic, namespace);
    });
    afterAll(async () => {
      await Promise.all(open.map((s) => s.cancel().catch(() => {})));
      await handle?.close();
    });

    it('delivers only matching messages, complete and in publish order', async () => {
      const s = await sub('orders', F.eq('region', 'eu'));
      const all = await ps.subscribe('orders');
      open.push(all);
      const before = Date.now();
      const published: { id: string; region?: string }[] = [];
      for (let i = 0; i < 30; i++) {
        const region = ['eu', 'us', 'EU', undefined, 'eu-west'][i % 5];
        const metadata: Record<string, string> = region === undefined ? {} : { region, n: String(i) };
        published.push({ id: await ps.publish('orders', utf8(`o${i}`), metadata), region });
      }
      const wanted = published.filter((p) => p.region === 'eu').map((p) => p.id);
      await all.atLeast(30, 'all 30 messages at an unfiltered subscriber', deadline);
      await s.waitForId(wanted.at(-1)!, deadline);
      expect(s.messages.map((m) => m.id)).toEqual(wanted);
      const m = s.messages[0]!;
      expect(m.topic).toBe('orders');
      expect(text(m.payload)).toBe('o0');
      expect(m.metadata).toEqual({ region: 'eu', n: '0' });
      expect(Number(m.timestampMs)).toBeGreaterThan(before - 60_000);
      expect(s.cases[0]).toBe('subscribed');
      expect(s.cases.filter((c) => c === 'subscribed')).toHaveLength(1);
    });

    it('evaluates every operator server-side exactly as the filter language defines', async () => {
      const messages: Record<string, string>[] = [
        { region: 'eu-west', priority: '7', tier: 'gold' },
        { region: 'us-east', priority: '10', tier: 'silver' },
        { region: 'eu-north', priority: 'high', tier: '' },
        { region: 'ap', priority: '-2.5e1' },
        { priority: '3' },
        {},
        { region: 'eu', priority: '5', test: '1' },
        { 'x.version': '2', note: 'grüße ✓' },
      ];
      const filters: [string, FilterInit, number[]][] = [
        ['eq', F.eq('region', 'eu-west'), [0]],
        ['ne', F.ne('region', 'eu-west'), [1, 2, 3, 4, 5, 6, 7]],
        ['lt (numeric, not lexicographic)', F.lt('priority', 8), [0, 3, 4, 6]],
        ['le', F.le('priority', 5), [3, 4, 6]],
        ['gt', F.gt('priority', 7), [1]],
        ['ge', F.ge('priority', 7), [0, 1]],
        ['startswith', F.startswith('region', 'eu'), [0, 2, 6]],
        ['in', F.in('tier', ['gold', '']), [0, 2]],
        ['exists', F.exists('tier'), [0, 1, 2]],
        ['not exists', F.not(F.exists('region')), [4, 5, 7]],
        ['and', F.and(F.startswith('region', 'eu'), F.ge('priority', 5), F.not(F.exists('test'))), [0]],
        ['or', F.or(F.eq('tier', 'silver'), F.lt('priority', 0)), [1, 3]],
        ['unicode value and dotted key', F.eq('note', 'grüße ✓'), [7]],
        ['dotted key exists', F.exists('x.version'), [7]],
      ];
      const subs = await Promise.all(filters.map(([, filter]) => sub('ops', withFence(filter))));
      const ids: string[] = [];
      for (const [i, metadata] of messages.entries())
        ids.push(await ps.publish('ops', utf8(`m${i}`), metadata));
      await fence('ops', subs);
      filters.forEach(([name, filter, expected], i) => {
        const got = subs[i]!.messages.filter((m) => text(m.payload) !== 'fence').map((m) => m.id);
        // The expectations are written out, and they must agree with the reference evaluator.
        const reference = messages.flatMap((md, j) =>
          compileFilter(create(FilterSchema, filter))(md) ? [j] : [],
        );
        expect({ name, indexes: reference }).toEqual({ name, indexes: expected });
        expect({ name, ids: got }).toEqual({ name, ids: expected.map((j) => ids[j]) });
      });
    });

    it('serves several subscriptions with different filters on one topic at once', async () => {
      const even = await sub('multi', withFence(F.in('parity', ['even'])));
      const odd = await sub('multi', withFence(F.eq('parity', 'odd')));
      const none = await sub('multi', withFence(F.eq('parity', 'neither')));
      for (let i = 0; i < 20; i++)
        await ps.publish('multi', utf8(String(i)), { parity: i % 2 ? 'odd' : 'even' });
      await fence('multi', [even, odd, none]);
      expect(payloads(even)).toEqual(['0', '2', '4', '6', '8', '10', '12', '14', '16', '18']);
      expect(payloads(odd)).toEqual(['1', '3', '5', '7', '9', '11', '13', '15', '17', '19']);
      expect(payloads(none)).toEqual([]);
    });

    it('keeps each publisher in order when 5 publish concurrently', async () => {
      const s = await sub('concurrent', withFence(F.ne('skip', 'yes')));
      await Promise.all(
        Array.from({ length: 5 }, async (_, p) => {
          for (let i = 0; i < 20; i++)
            await ps.publish('concurrent', utf8(`${p}:${i}`), { skip: i % 2 ? 'yes' : 'no', p: String(p) });
        }),
      );
      await fence('concurrent', [s]);
      const got = payloads(s);
      expect(got).toHaveLength(50);
      for (let p = 0; p < 5; p++)
        expect(got.filter((t) => t.startsWith(`${p}:`))).toEqual(
          Array.from({ length: 10 }, (_, i) => `${p}:${i * 2}`),
        );
    });

    it('matches on exact topics only (not longer, shorter or other topics)', async () => {
      const s = await sub('exact.topic', F.eq('k', 'v'));
      await ps.publish('exact', utf8('shorter'), { k: 'v' });
      await ps.publish('exact.topic.sub', utf8('longer'), { k: 'v' });
      await ps.publish('other', utf8('other'), { k: 'v' });
      const id = await ps.publish('exact.topic', utf8('mine'), { k: 'v' });
      await s.waitForId(id, deadline);
      expect(s.messages.map((m) => text(m.payload))).toEqual(['mine']);
    });

    it('keeps binary payloads and metadata intact, and delivers a payload at the namespace limit', async () => {
      const s = await sub('binary', F.exists('content-type'));
      const max = MESSAGING_CONFORMANCE_LIMITS.maxValueBytes!;
      const large = Uint8Array.from({ length: max }, (_, i) => (i * 7) & 0xff);
      const a = await ps.publish('binary', ALL_BYTES, { ...SAMPLE_METADATA });
      const b = await ps.publish('binary', new Uint8Array(), { 'content-type': 'empty' });
      const c = await ps.publish('binary', large, { 'content-type': 'large' });
      await s.atLeast(3, '3 binary messages', deadline);
      const byId = new Map(s.messages.map((m) => [m.id, m]));
      expect(sameBytes(byId.get(a)!.payload, ALL_BYTES)).toBe(true);
      expect(byId.get(a)!.metadata).toEqual(SAMPLE_METADATA);
      expect(byId.get(b)!.payload.byteLength).toBe(0);
      expect(sameBytes(byId.get(c)!.payload, large)).toBe(true);
    });

    it('delivers nothing after unsubscribe (the stream is cancelled), while others still receive', async () => {
      const leaving = await sub('leave', F.exists('k'));
      const staying = await sub('leave', F.exists('k'));
      const firstId = await ps.publish('leave', utf8('before'), { k: '1' });
      await leaving.waitForId(firstId, deadline);
      await leaving.cancel(deadline);
      expect(leaving.ended).toBe(true);
      const afterId = await ps.publish('leave', utf8('after'), { k: '1' });
      await staying.waitForId(afterId, deadline);
      expect(leaving.messages.map((m) => m.id)).toEqual([firstId]);
    });

    it('isolates namespaces sharing the backend', async () => {
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: MESSAGING_CONFORMANCE_LIMITS });
      try {
        const otherPf = pubsubFiltering(other.get(PubSubFiltering)!, otherNs);
        const otherPs = pubsubBasic(other.get(PubSubBasic)!, otherNs);
        const theirs = await otherPf.subscribe('shared', F.exists('k'));
        const mine = await sub('shared', F.exists('k'));
        await ps.publish('shared', utf8('mine'), { k: '1' });
        const theirId = await otherPs.publish('shared', utf8('theirs'), { k: '1' });
        await theirs.waitForId(theirId, deadline);
        await mine.atLeast(1, 'my message', deadline);
        expect(theirs.messages.map((m) => text(m.payload))).toEqual(['theirs']);
        expect(mine.messages.map((m) => text(m.payload))).toEqual(['mine']);
        await theirs.cancel();
      } finally {
        await other.close();
      }
    });

    it('rejects invalid topics and filters with INVALID_ARGUMENT naming the field', async () => {
      for (const topic of INVALID_TOPICS)
        await expectCode(() => pf.open(topic, F.exists('k')).ready(deadline), Code.InvalidArgument);
      const missing = await expectCode(() => pf.open('t', undefined).ready(deadline), Code.InvalidArgument);
      expect(missing.rawMessage).toMatch(/filter/);
      const empty = await expectCode(() => pf.open('t', {}).ready(deadline), Code.InvalidArgument);
      expect(empty.rawMessage).toMatch(/^filter: no condition set/);
      const path = await expectCode(
        () => pf.open('t', F.and(F.eq('a', '1'), F.lt('', 3))).ready(deadline),
        Code.InvalidArgument,
      );
      expect(path.rawMessage).toMatch(/filter\.and\[1\]\.lt: field is required/);
      const nan = await expectCode(
        () => pf.open('t', F.gt('p', Number.NaN)).ready(deadline),
        Code.InvalidArgument,
      );
      expect(nan.rawMessage).toMatch(/filter\.gt/);
      let deep = F.exists('k');
      for (let i = 0; i < 16; i++) deep = F.not(deep);
      const tooDeep = await expectCode(() => pf.open('t', deep).ready(deadline), Code.InvalidArgument);
      expect(tooDeep.rawMessage).toMatch(/deeper than 16/);
      await expectCode(() => pf.open('t', F.in('k', [])).ready(deadline), Code.InvalidArgument);
      await expectCode(() => pf.open('t', F.or()).ready(deadline), Code.InvalidArgument);
    });
  });
}
