import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { ListBasic } from '@prism/list-basic';
import { listBasic } from '@prism/list-basic/conformance';
import { Code, ConnectError, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  BlockingPopLeftRequestSchema,
  BlockingPopRightRequestSchema,
  ListBlocking,
  type ListBlockingImpl,
  MAX_BLOCKING_KEYS,
  MAX_BLOCKING_TIMEOUT_MS,
} from './index.js';

/** Options of one blocking pop call. */
export interface BlockingCallOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
  /** The call deadline (ms since the epoch). */
  deadline?: number;
}

/** One blocking pop answer as the suite sees it, with proto defaults filled in. */
export interface BlockingPopped {
  found: boolean;
  key: string;
  value: Uint8Array;
}

/** Small typed client over a list_blocking implementation, used by this and other suites. */
export function listBlocking(impl: ListBlockingImpl, namespace: string) {
  const context = (o: BlockingCallOptions) => ({
    signal: o.signal ?? new AbortController().signal,
    ...(o.deadline === undefined ? {} : { deadline: o.deadline }),
  });
  const popped = (r: { found?: boolean; key?: string; value?: Uint8Array }): BlockingPopped => ({
    found: r.found ?? false,
    key: r.key ?? '',
    value: r.value ?? new Uint8Array(),
  });
  return {
    popLeft: async (keys: string[], timeoutMs: number | bigint, o: BlockingCallOptions = {}) =>
      popped(
        await impl.blockingPopLeft(
          create(BlockingPopLeftRequestSchema, { namespace, keys, timeoutMs: BigInt(timeoutMs) }),
          context(o),
        ),
      ),
    popRight: async (keys: string[], timeoutMs: number | bigint, o: BlockingCallOptions = {}) =>
      popped(
        await impl.blockingPopRight(
          create(BlockingPopRightRequestSchema, { namespace, keys, timeoutMs: BigInt(timeoutMs) }),
          context(o),
        ),
      ),
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const NOTHING: BlockingPopped = { found: false, key: '', value: new Uint8Array() };
/** Time given to a waiter to reach the backend before the next step relies on it waiting. */
const SETTLE_MS = 200;

/** Tracks whether a promise settled yet, without consuming its outcome. */
function watch<T>(p: Promise<T>) {
  const state = { settled: false };
  p.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

/**
 * The list_blocking conformance suite: immediate pops in key order, server-side waits woken by list_basic
 * pushes (which the adapter must declare too), timeouts and deadlines (found=false), first-come-first-served
 * fairness, exactly-one delivery, cancellation that loses nothing, and input checks.
 */
export function describeListBlockingConformance(label: string, factory: PluginFactory): void {
  describe(`list_blocking conformance: ${label}`, () => {
    let handle: PluginHandle;
    let list: ReturnType<typeof listBasic>;
    let bl: ReturnType<typeof listBlocking>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(ListBlocking);
      if (!impl) throw new Error(`${label} does not implement list_blocking`);
      const basic = handle.get(ListBasic);
      if (!basic) throw new Error(`${label} implements list_blocking without list_basic`);
      bl = listBlocking(impl, namespace);
      list = listBasic(basic, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('pops at once from the first non-empty key, in the order the keys are given', async () => {
      await list.pushRight('now-b', bytes('b1'), bytes('b2'));
      await list.pushRight('now-c', bytes('c1'), bytes('c2'));
      const t0 = Date.now();
      expect(await bl.popLeft(['now-a', 'now-b', 'now-c'], 5000)).toEqual({
        found: true,
        key: 'now-b',
        value: bytes('b1'),
      });
      expect(await bl.popRight(['now-c', 'now-b'], 5000)).toEqual({
        found: true,
        key: 'now-c',
        value: bytes('c2'),
      });
      expect(await bl.popRight(['now-b'], 0, { deadline: Date.now() + 5000 })).toEqual({
        found: true,
        key: 'now-b',
        value: bytes('b2'),
      });
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(await list.length('now-b')).toBe(0);
      expect(await list.length('now-c')).toBe(1);
    });

    it('waits for a push to any of its keys and answers which key it popped from', async () => {
      const pending = bl.popLeft(['wait-1', 'wait-2'], 10_000);
      const state = watch(pending);
      await sleep(SETTLE_MS);
      expect(state.settled).toBe(false);
      expect(await list.pushRight('wait-2', bytes('x'), bytes('y'))).toBe(2);
      expect(await pending).toEqual({ found: true, key: 'wait-2', value: bytes('x') });
      expect(await list.popLeft('wait-2')).toEqual({ found: true, value: bytes('y') });
    });

    it('answers found=false when timeout_ms passes without a value', async () => {
      const t0 = Date.now();
      expect(await bl.popLeft(['idle'], 300)).toEqual(NOTHING);
      expect(await bl.popRight(['idle', 'idle-2'], 300)).toEqual(NOTHING);
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(550);
      expect(elapsed).toBeLessThan(5000);
      expect(await list.length('idle')).toBe(0);
    });

    it('ends the wait at the call deadline with found=false (timeout_ms 0 waits until the deadline)', async () => {
      const t0 = Date.now();
      expect(await bl.popLeft(['deadline'], 0, { deadline: t0 + 400 })).toEqual(NOTHING);
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(300);
      expect(elapsed).toBeLessThan(5000);
      const t1 = Date.now();
      expect(await bl.popLeft(['deadline'], 60_000, { deadline: t1 + 300 })).toEqual(NOTHING);
      expect(Date.now() - t1).toBeLessThan(5000);
    });

    it('serves waiters first come, first served, one value each, in push order', async () => {
      const waiters: Promise<BlockingPopped>[] = [];
      for (let i = 0; i < 3; i++) {
        waiters.push(bl.popLeft(['fifo'], 10_000));
        await sleep(SETTLE_MS);
      }
      expect(await list.pushRight('fifo', bytes('v0'), bytes('v1'), bytes('v2'))).toBe(3);
      const got = await Promise.all(waiters);
      expect(got.map((g) => [g.key, text(g.value)])).toEqual([
        ['fifo', 'v0'],
        ['fifo', 'v1'],
        ['fifo', 'v2'],
      ]);
      // One push at a time: still the longest waiter first.
      const again: Promise<BlockingPopped>[] = [];
      for (let i = 0; i < 3; i++) {
        again.push(bl.popRight(['fifo-2', `fifo-other-${i}`], 10_000));
        await sleep(SETTLE_MS);
      }
      for (let i = 0; i < 3; i++) {
        await list.pushLeft('fifo-2', bytes(`w${i}`));
        expect(text((await again[i]!).value)).toBe(`w${i}`);
      }
      expect(await list.length('fifo')).toBe(0);
      expect(await list.length('fifo-2')).toBe(0);
    });

    it('pops each waiter from its own end', async () => {
      const left = bl.popLeft(['ends'], 10_000);
      await sleep(SETTLE_MS);
      const right = bl.popRight(['ends'], 10_000);
      await sleep(SETTLE_MS);
      await list.pushRight('ends', bytes('a'), bytes('b'), bytes('c'));
      expect(await left).toEqual({ found: true, key: 'ends', value: bytes('a') });
      expect(await right).toEqual({ found: true, key: 'ends', value: bytes('c') });
      expect(await list.popLeft('ends')).toEqual({ found: true, value: bytes('b') });
    });

    it('hands each pushed value to exactly one waiter', async () => {
      const waiters = Array.from({ length: 5 }, () => bl.popLeft(['once'], 2500));
      await sleep(SETTLE_MS * 2);
      await list.pushRight('once', bytes('1'), bytes('2'));
      await list.pushLeft('once', bytes('3'));
      const got = await Promise.all(waiters);
      const found = got.filter((g) => g.found);
      expect(found.map((g) => text(g.value)).sort()).toEqual(['1', '2', '3']);
      expect(got.filter((g) => !g.found)).toEqual([NOTHING, NOTHING]);
      expect(await list.length('once')).toBe(0);
    });

    it('a call cancelled while waiting fails with CANCELED and takes nothing; the next waiter is served', async () => {
      const ac = new AbortController();
      const cancelled = bl.popLeft(['cancel'], 10_000, { signal: ac.signal });
      await sleep(SETTLE_MS);
      const next = bl.popLeft(['cancel'], 10_000);
      await sleep(SETTLE_MS);
      ac.abort();
      await expectCode(() => cancelled, Code.Canceled);
      await list.pushRight('cancel', bytes('kept'));
      expect(await next).toEqual({ found: true, key: 'cancel', value: bytes('kept') });
      const ac2 = new AbortController();
      const alone = bl.popRight(['cancel-2'], 10_000, { signal: ac2.signal });
      await sleep(SETTLE_MS);
      ac2.abort();
      await expectCode(() => alone, Code.Canceled);
      await list.pushRight('cancel-2', bytes('stays'));
      await sleep(SETTLE_MS);
      expect(await list.popLeft('cancel-2')).toEqual({ found: true, value: bytes('stays') });
    });

    it('a call already cancelled when it starts pops nothing', async () => {
      await list.pushRight('pre-cancel', bytes('v'));
      const ac = new AbortController();
      ac.abort();
      await expectCode(() => bl.popLeft(['pre-cancel'], 1000, { signal: ac.signal }), Code.Canceled);
      expect(await list.length('pre-cancel')).toBe(1);
    });

    it('loses no value when a waiter is cancelled as the value arrives', async () => {
      for (let i = 0; i < 8; i++) {
        const key = `race-${i}`;
        const ac = new AbortController();
        const waiter = bl.popLeft([key], 10_000, { signal: ac.signal });
        await sleep(i === 0 ? SETTLE_MS : 50);
        const push = list.pushRight(key, bytes(`v${i}`));
        if (i % 2) await sleep(i % 4); // vary which of the two gets there first
        ac.abort();
        await push;
        let delivered = 0;
        try {
          const r = await waiter;
          expect(r).toEqual({ found: true, key, value: bytes(`v${i}`) });
          delivered = 1;
        } catch (err) {
          expect(Code[ConnectError.from(err).code]).toBe(Code[Code.Canceled]);
        }
        await sleep(50); // a value taken and put back must be back by now
        expect({ i, total: delivered + (await list.length(key)) }).toEqual({ i, total: 1 });
      }
    });

    it('does not hold up other calls while waiting', async () => {
      const ac = new AbortController();
      const waiters = Array.from({ length: 4 }, (_, i) =>
        bl.popLeft([`blocked-${i}`], 10_000, { signal: ac.signal }),
      );
      await sleep(SETTLE_MS);
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) await list.pushRight('free', bytes(`${i}`));
      expect(await list.length('free')).toBe(20);
      expect(await bl.popLeft(['free'], 1000)).toEqual({ found: true, key: 'free', value: bytes('0') });
      expect(Date.now() - t0).toBeLessThan(2000);
      ac.abort();
      await Promise.all(waiters.map((w) => expectCode(() => w, Code.Canceled)));
    });

    it('keeps binary values and unicode keys intact', async () => {
      const value = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
      const pending = bl.popRight(['ключ-⏳', 'other'], 10_000);
      await sleep(SETTLE_MS);
      await list.pushRight('ключ-⏳', new Uint8Array(), value);
      expect(await pending).toEqual({ found: true, key: 'ключ-⏳', value });
      expect(await bl.popLeft(['other', 'ключ-⏳'], 1000)).toEqual({
        found: true,
        key: 'ключ-⏳',
        value: new Uint8Array(),
      });
    });

    it('rejects bad keys and timeouts with INVALID_ARGUMENT naming the field', async () => {
      for (const pop of [bl.popLeft, bl.popRight]) {
        expect((await expectCode(() => pop([], 100), Code.InvalidArgument)).rawMessage).toMatch(/keys/);
        expect((await expectCode(() => pop(['a', ''], 100), Code.InvalidArgument)).rawMessage).toMatch(
          /keys\[1\]/,
        );
        const long = 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1);
        expect((await expectCode(() => pop([long], 100), Code.InvalidArgument)).rawMessage).toMatch(
          /keys\[0\]/,
        );
        const many = Array.from({ length: MAX_BLOCKING_KEYS + 1 }, (_, i) => `k${i}`);
        expect((await expectCode(() => pop(many, 100), Code.InvalidArgument)).rawMessage).toMatch(/keys/);
        expect((await expectCode(() => pop(['a'], -1), Code.InvalidArgument)).rawMessage).toMatch(
          /timeout_ms/,
        );
        expect(
          (await expectCode(() => pop(['a'], MAX_BLOCKING_TIMEOUT_MS + 1), Code.InvalidArgument)).rawMessage,
        ).toMatch(/timeout_ms/);
      }
    });

    it('isolates namespaces: a push in another namespace does not wake a waiter here', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const otherList = listBasic(other.get(ListBasic)!, ns);
        const otherBl = listBlocking(other.get(ListBlocking)!, ns);
        const pending = bl.popLeft(['shared'], 800);
        await sleep(SETTLE_MS);
        await otherList.pushRight('shared', bytes('theirs'));
        expect(await pending).toEqual(NOTHING);
        expect(await otherList.length('shared')).toBe(1);
        await list.pushRight('shared', bytes('mine'));
        expect(await otherBl.popLeft(['shared'], 1000)).toEqual({
          found: true,
          key: 'shared',
          value: bytes('theirs'),
        });
        expect(await otherBl.popLeft(['shared'], 200)).toEqual(NOTHING);
        expect(await list.length('shared')).toBe(1);
      } finally {
        await other.close();
      }
    });
  });
}
