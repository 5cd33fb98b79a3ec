import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { CONFORMANCE_LIMITS, expectCode, kvBasic, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  CountRequestSchema,
  DEFAULT_PAGE_SIZE,
  KeyValueScan,
  type KeyValueScanImpl,
  MAX_PAGE_SIZE,
  ScanKeysRequestSchema,
  ScanRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Options of one Scan/ScanKeys call. */
export interface ScanOptions {
  cursor?: string;
  pageSize?: number;
  limit?: number;
  /** Stop reading the stream after this many pages (the client walks away). */
  maxPages?: number;
}

/** One page as the suite sees it, with proto defaults filled in. */
export interface Page<T> {
  items: T[];
  nextCursor: string;
}

async function collect<R, T>(
  stream: AsyncIterable<R>,
  map: (r: R) => Page<T>,
  maxPages = Number.POSITIVE_INFINITY,
): Promise<Page<T>[]> {
  const pages: Page<T>[] = [];
  for await (const res of stream) {
    pages.push(map(res));
    if (pages.length >= maxPages) break;
  }
  return pages;
}

/** Small typed client over a keyvalue_scan implementation, used by this and other suites. */
export function kvScan(impl: KeyValueScanImpl, namespace: string) {
  const req = (prefix: string, o: ScanOptions) => ({
    namespace,
    prefix,
    cursor: o.cursor ?? '',
    pageSize: o.pageSize ?? 0,
    limit: o.limit ?? 0,
  });
  return {
    /** Scan pages of key/value pairs. */
    scan: (prefix: string, o: ScanOptions = {}) =>
      collect(
        impl.scan(create(ScanRequestSchema, req(prefix, o)), ctx),
        (r) => ({
          items: (r.items ?? []).map((i) => ({ key: i.key ?? '', value: i.value ?? new Uint8Array() })),
          nextCursor: r.nextCursor ?? '',
        }),
        o.maxPages,
      ),
    /** ScanKeys pages. */
    scanKeys: (prefix: string, o: ScanOptions = {}) =>
      collect(
        impl.scanKeys(create(ScanKeysRequestSchema, req(prefix, o)), ctx),
        (r) => ({ items: [...(r.keys ?? [])], nextCursor: r.nextCursor ?? '' }),
        o.maxPages,
      ),
    /** All keys of a complete ScanKeys, in the order returned. */
    keys: async (prefix: string, o: ScanOptions = {}) =>
      (
        await collect(impl.scanKeys(create(ScanKeysRequestSchema, req(prefix, o)), ctx), (r) => ({
          items: [...(r.keys ?? [])],
          nextCursor: r.nextCursor ?? '',
        }))
      ).flatMap((p) => p.items),
    count: async (prefix: string) =>
      Number((await impl.count(create(CountRequestSchema, { namespace, prefix }), ctx)).count ?? 0),
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const sorted = (keys: readonly string[]) => [...keys].sort();

/** Checks the stream shape: pages within the size, only the last one without a cursor. */
function expectWellFormed<T>(pages: Page<T>[], pageSize: number): void {
  expect(pages.length).toBeGreaterThan(0);
  pages.forEach((p, i) => {
    expect(p.items.length).toBeLessThanOrEqual(pageSize);
    if (i < pages.length - 1) expect(p.nextCursor).not.toBe('');
  });
  expect(pages.at(-1)?.nextCursor).toBe('');
}

/** Keys with characters that glob (Redis MATCH), LIKE and regex engines would interpret. */
const LITERAL_KEYS = [
  'a*',
  'a*b',
  'ab',
  'abc',
  'a?',
  'a?x',
  'a[1]',
  'a1',
  '50%',
  '50%off',
  '500',
  'a_',
  'a_b',
  'a\\',
  'a\\b',
  'a.',
  'a.b',
  'a^',
];

/**
 * The keyvalue_scan conformance suite: literal prefixes, cursor pages that neither overlap nor miss
 * keys, limits, Count and namespace isolation. The adapter must also implement keyvalue_basic (used
 * to write the keys).
 */
export function describeKeyValueScanConformance(label: string, factory: PluginFactory): void {
  describe(`keyvalue_scan conformance: ${label}`, () => {
    let handle: PluginHandle;
    let kv: ReturnType<typeof kvBasic>;
    let scan: ReturnType<typeof kvScan>;
    const namespace = uniqueNamespace(label);
    const PAGED = Array.from({ length: 260 }, (_, i) => `page/${String(i).padStart(4, '0')}`);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const basic = handle.get(KeyValueBasic);
      const impl = handle.get(KeyValueScan);
      if (!basic || !impl) throw new Error(`${label} must implement keyvalue_basic and keyvalue_scan`);
      kv = kvBasic(basic, namespace);
      scan = kvScan(impl, namespace);
      for (const key of LITERAL_KEYS) await kv.set(`lit/${key}`, bytes(key));
      await Promise.all(PAGED.map((key) => kv.set(key, bytes(key))));
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('takes the prefix literally: no glob, LIKE or regex characters', async () => {
      const cases: [string, string[]][] = [
        ['a*', ['a*', 'a*b']],
        ['a?', ['a?', 'a?x']],
        ['a[', ['a[1]']],
        ['50%', ['50%', '50%off']],
        ['a_', ['a_', 'a_b']],
        ['a\\', ['a\\', 'a\\b']],
        ['a.', ['a.', 'a.b']],
        ['a^', ['a^']],
        ['ab', ['ab', 'abc']],
      ];
      for (const [prefix, want] of cases) {
        const expected = want.map((k) => `lit/${k}`);
        expect(sorted(await scan.keys(`lit/${prefix}`))).toEqual(sorted(expected));
        expect(await scan.count(`lit/${prefix}`)).toBe(expected.length);
        const pairs = (await scan.scan(`lit/${prefix}`)).flatMap((p) => p.items);
        expect(sorted(pairs.map((p) => p.key))).toEqual(sorted(expected));
      }
      expect(await scan.count('lit/')).toBe(LITERAL_KEYS.length);
    });

    it('returns every key of the namespace, and only those, for the empty prefix', async () => {
      const ns = `${namespace}-all`;
      const fresh = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const freshKv = kvBasic(fresh.get(KeyValueBasic)!, ns);
        const freshScan = kvScan(fresh.get(KeyValueScan)!, ns);
        const keys = ['x', 'y/1', 'z:2', '键'];
        for (const key of keys) await freshKv.set(key, bytes(key));
        expect(sorted(await freshScan.keys(''))).toEqual(sorted(keys));
        expect(await freshScan.count('')).toBe(keys.length);
        expect(await scan.count('')).toBe(LITERAL_KEYS.length + PAGED.length);
      } finally {
        await fresh.close();
      }
    });

    it('pages with small page sizes without overlap or gaps (Scan and ScanKeys)', async () => {
      const keyPages = await scan.scanKeys('page/', { pageSize: 7 });
      expectWellFormed(keyPages, 7);
      const keys = keyPages.flatMap((p) => p.items);
      expect(new Set(keys).size).toBe(keys.length);
      expect(sorted(keys)).toEqual(PAGED);

      const pairPages = await scan.scan('page/', { pageSize: 9 });
      expectWellFormed(pairPages, 9);
      const pairs = pairPages.flatMap((p) => p.items);
      expect(new Set(pairs.map((p) => p.key)).size).toBe(pairs.length);
      expect(sorted(pairs.map((p) => p.key))).toEqual(PAGED);
      for (const { key, value } of pairs) expect(value).toEqual(bytes(key));
    });

    it('resumes a new call from a page cursor exactly after that page', async () => {
      const head = await scan.scanKeys('page/', { pageSize: 10, maxPages: 3 });
      expect(head).toHaveLength(3);
      const cursor = head[2]!.nextCursor;
      expect(cursor).not.toBe('');
      const seen = head.flatMap((p) => p.items);
      const rest = await scan.scanKeys('page/', { pageSize: 50, cursor });
      expectWellFormed(rest, 50);
      const all = [...seen, ...rest.flatMap((p) => p.items)];
      expect(new Set(all).size).toBe(all.length);
      expect(sorted(all)).toEqual(PAGED);
      // The same cursor works again: cursors are stateless resume points, not server-side sessions.
      const again = await scan.keys('page/', { pageSize: 50, cursor });
      expect(sorted(again)).toEqual(sorted(rest.flatMap((p) => p.items)));
    });

    it('uses the default page size for page_size 0 and accepts the maximum', async () => {
      const pages = await scan.scanKeys('page/');
      expectWellFormed(pages, DEFAULT_PAGE_SIZE);
      expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(PAGED.length / DEFAULT_PAGE_SIZE));
      const one = await scan.scanKeys('page/', { pageSize: MAX_PAGE_SIZE });
      expectWellFormed(one, MAX_PAGE_SIZE);
      expect(sorted(one.flatMap((p) => p.items))).toEqual(PAGED);
    });

    it('caps the total with limit, and ends with an empty cursor', async () => {
      const pages = await scan.scanKeys('page/', { pageSize: 10, limit: 25 });
      expectWellFormed(pages, 10);
      const keys = pages.flatMap((p) => p.items);
      expect(keys).toHaveLength(25);
      expect(new Set(keys).size).toBe(25);
      for (const key of keys) expect(key.startsWith('page/')).toBe(true);
      const pairs = (await scan.scan('page/', { pageSize: 100, limit: 3 })).flatMap((p) => p.items);
      expect(pairs).toHaveLength(3);
      expect(await scan.keys('lit/a*', { limit: 1000 })).toHaveLength(2);
    });

    it('completes with no items when nothing matches', async () => {
      const pages = await scan.scan('no-such-prefix/');
      expect(pages.flatMap((p) => p.items)).toEqual([]);
      if (pages.length > 0) expect(pages.at(-1)?.nextCursor).toBe('');
      expect(await scan.count('no-such-prefix/')).toBe(0);
    });

    it('returns exact binary values, including empty ones', async () => {
      const values: Record<string, Uint8Array> = {
        'bin/all': Uint8Array.from({ length: 256 }, (_, i) => i),
        'bin/empty': new Uint8Array(),
        'bin/nul': Uint8Array.of(0, 0, 0),
        'bin/ff': Uint8Array.of(0xff, 0xfe, 0x00, 0xff),
      };
      for (const [key, value] of Object.entries(values)) await kv.set(key, value);
      const pairs = (await scan.scan('bin/', { pageSize: 3 })).flatMap((p) => p.items);
      expect(pairs).toHaveLength(4);
      for (const { key, value } of pairs) expect(value).toEqual(values[key]);
    });

    it('never misses a key that stays unchanged while others are written and deleted mid-scan', async () => {
      const stable = Array.from({ length: 60 }, (_, i) => `mut/${String(i).padStart(3, '0')}`);
      for (const key of stable) await kv.set(key, bytes(key));
      const seen: string[] = [];
      let cursor = '';
      let round = 0;
      do {
        const [page] = await scan.scanKeys('mut/', { pageSize: 7, cursor, maxPages: 1 });
        if (!page) break;
        seen.push(...page.items);
        cursor = page.nextCursor;
        // Between pages: delete a key already returned and add keys before and after the cursor.
        if (page.items[0]) await kv.delete(page.items[0]);
        await kv.set(`mut/!${round}`, bytes('new'));
        await kv.set(`mut/~${round}`, bytes('new'));
        round++;
      } while (cursor !== '' && round < 100);
      expect(cursor).toBe('');
      const seenStable = seen.filter((k) => stable.includes(k));
      expect(new Set(seenStable).size).toBe(seenStable.length);
      expect(sorted(seenStable)).toEqual(stable);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('stops listing and counting deleted keys', async () => {
      await kv.set('del/a', bytes('1'));
      await kv.set('del/b', bytes('2'));
      expect(await scan.count('del/')).toBe(2);
      await kv.delete('del/a');
      expect(await scan.keys('del/')).toEqual(['del/b']);
      expect(await scan.count('del/')).toBe(1);
    });

    it('isolates namespaces in Scan and Count', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const otherKv = kvBasic(other.get(KeyValueBasic)!, ns);
        const otherScan = kvScan(other.get(KeyValueScan)!, ns);
        await otherKv.set('page/9999', bytes('theirs'));
        await otherKv.set('iso/only-theirs', bytes('theirs'));
        expect(await otherScan.keys('page/')).toEqual(['page/9999']);
        expect(await otherScan.count('')).toBe(2);
        expect(await scan.count('page/')).toBe(PAGED.length);
        expect(await scan.keys('iso/')).toEqual([]);
        const mine = (await scan.scan('page/9')).flatMap((p) => p.items);
        expect(mine.map((p) => p.key)).not.toContain('page/9999');
      } finally {
        await other.close();
      }
    });

    it('rejects page_size over the maximum, a bad cursor and an over-limit prefix with INVALID_ARGUMENT', async () => {
      const err = await expectCode(
        () => scan.scan('page/', { pageSize: MAX_PAGE_SIZE + 1 }),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/page_size/);
      await expectCode(() => scan.scanKeys('page/', { pageSize: MAX_PAGE_SIZE + 1 }), Code.InvalidArgument);
      await expectCode(() => scan.scanKeys('page/', { cursor: '%%not a cursor%%' }), Code.InvalidArgument);
      await expectCode(() => scan.scan('page/', { cursor: '%%not a cursor%%' }), Code.InvalidArgument);
      const longPrefix = 'p'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1);
      await expectCode(() => scan.count(longPrefix), Code.InvalidArgument);
      await expectCode(() => scan.scanKeys(longPrefix), Code.InvalidArgument);
    });
  });
}

/** How an adapter's keyset cursors look, for {@link describeScanCursorValidation}. */
export interface CursorFormat {
  /** A cursor as the adapter encodes one (it resumes strictly after `key`), with any key. */
  forge(key: string): string;
  /** A cursor in the adapter's framing whose key no request could carry (empty, or invalid UTF-8). */
  readonly malformed: string;
}

/**
 * Scan cursors come back from clients: a forged one must be INVALID_ARGUMENT, never a resume point
 * outside the scan (another prefix) or a key no request could carry (NUL, empty, longer than
 * max_key_bytes, not canonical). For adapters whose cursor is the last key of the page.
 */
export function describeScanCursorValidation(
  label: string,
  factory: PluginFactory,
  format: CursorFormat,
): void {
  const { forge } = format;
  describe(`${label}: scan cursors are validated`, () => {
    let handle: PluginHandle;
    const namespace = uniqueNamespace('cursor');
    beforeAll(async () => {
      handle = await factory({ namespace, limits: { maxKeyBytes: 16, maxValueBytes: 1024 } });
      const kv = kvBasic(handle.get(KeyValueBasic)!, namespace);
      for (const k of ['a/1', 'a/2', 'a/3', 'b/1']) await kv.set(k, new Uint8Array([1]));
    }, 60_000);
    afterAll(async () => {
      await handle?.close();
    });

    const scanKeys = async (prefix: string, cursor: string, pageSize = 0) => {
      const pages: { keys: string[]; next: string }[] = [];
      for await (const page of handle
        .get(KeyValueScan)!
        .scanKeys(create(ScanKeysRequestSchema, { namespace, prefix, cursor, pageSize }), ctx))
        pages.push({ keys: page.keys ?? [], next: page.nextCursor ?? '' });
      return pages;
    };

    it('resumes from genuine and well-formed cursors of the prefix', async () => {
      const [first] = await scanKeys('a/', '', 1);
      expect(first!.keys).toEqual(['a/1']);
      expect((await scanKeys('a/', first!.next)).flatMap((p) => p.keys)).toEqual(['a/2', 'a/3']);
      expect((await scanKeys('a/', forge('a/2'))).flatMap((p) => p.keys)).toEqual(['a/3']);
    });

    it('rejects a cursor naming a key longer than the namespace allows (max_key_bytes 16)', async () => {
      await expectCode(() => scanKeys('a/', forge(`a/${'x'.repeat(15)}`)), Code.InvalidArgument);
      expect((await scanKeys('a/', forge('a/2'))).flatMap((p) => p.keys)).toEqual(['a/3']);
    });

    it('rejects a cursor outside the prefix, with NUL, empty, or not canonical', async () => {
      for (const cursor of [
        forge('b/0'),
        forge('a'),
        forge('a/\u0000x'),
        format.malformed,
        `${forge('a/2')}=`,
        '%%',
      ])
        await expectCode(() => scanKeys('a/', cursor), Code.InvalidArgument);
      const [first] = await scanKeys('a/', '', 1);
      await expectCode(() => scanKeys('b/', first!.next), Code.InvalidArgument);
    });
  });
}
