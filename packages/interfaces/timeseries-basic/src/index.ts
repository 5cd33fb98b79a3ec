import {
  type QueryRequest,
  type SeriesSelector,
  TimeSeriesBasicInterface,
  type WriteRequest,
} from '@prism/proto/prism/timeseries/v1/timeseries_basic_pb';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/timeseries/v1/timeseries_basic_pb';

/** Most characters (code points) in a series name. */
export const MAX_SERIES_CHARS = 256;
/** Most tags on one point or selector. */
export const MAX_TAGS = 32;
/** Most characters (code points) in a tag name. */
export const MAX_TAG_NAME_CHARS = 256;
/** Most UTF-8 bytes in a tag value. */
export const MAX_TAG_VALUE_BYTES = 1024;
/** Most points one Write may carry. */
export const MAX_POINTS_PER_WRITE = 10_000;
/** Points per streamed Query batch when a request leaves `batch_size` at 0. */
export const DEFAULT_BATCH_SIZE = 1000;
/** Largest `batch_size` a request may ask for. */
export const MAX_BATCH_SIZE = 10_000;
/** Nanoseconds per millisecond, as a bigint (timestamps stay bigint: ns since the epoch exceed 2^53). */
export const NS_PER_MS = 1_000_000n;

/** A tag set as the generated messages carry it (tag name → value). */
export type Tags = { readonly [name: string]: string };
/** The parts of a point the shared helpers read (a generated `Point` fits). */
export interface PointLike {
  readonly series: string;
  readonly tags: Tags;
  readonly timestampNs: bigint;
  readonly value: number;
}

// Control characters (C0, DEL, C1): series and tag names must not contain them.
const CONTROL = /\p{Cc}/u;

/** Counts code points, the "characters" of the protos' limits. */
function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Throws INVALID_ARGUMENT unless `name` is 1..`max` characters without control characters. */
function checkName(name: string, max: number, field: string, what: string): void {
  if (name.length === 0)
    throw invalidArgument(`${field} must not be empty (a ${what} is 1..${max} characters)`);
  if (name.length > max) {
    const n = charCount(name);
    if (n > max) throw invalidArgument(`${field} is ${n} characters; a ${what} is at most ${max}`);
  }
  if (CONTROL.test(name))
    throw invalidArgument(`${field} must not contain control characters (U+0000..U+001F, U+007F..U+009F)`);
}

/** Throws INVALID_ARGUMENT unless `series` is a valid series name: 1..256 characters, no control characters. */
export function checkSeries(series: string, field = 'series'): void {
  checkName(series, MAX_SERIES_CHARS, field, 'series name');
}

/** Throws INVALID_ARGUMENT unless `name` is a valid tag name: 1..256 characters, no control characters. */
export function checkTagName(name: string, field: string): void {
  checkName(name, MAX_TAG_NAME_CHARS, field, 'tag name');
}

/** Throws INVALID_ARGUMENT unless `tags` has at most 32 tags with valid names and values of at most 1024 bytes. */
export function checkTags(tags: Tags, field = 'tags'): void {
  const names = Object.keys(tags);
  if (names.length > MAX_TAGS)
    throw invalidArgument(`${field} has ${names.length} tags; at most ${MAX_TAGS}`);
  for (const name of names) {
    const path = `${field}[${JSON.stringify(name)}]`;
    checkTagName(name, path);
    const value = tags[name]!;
    if (value.length * 3 > MAX_TAG_VALUE_BYTES) {
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes > MAX_TAG_VALUE_BYTES)
        throw invalidArgument(`${path} is ${bytes} bytes; a tag value is at most ${MAX_TAG_VALUE_BYTES}`);
    }
  }
}

/** Throws INVALID_ARGUMENT unless `value` is finite (NaN and ±Infinity are rejected). */
export function checkFiniteValue(value: number, field = 'value'): void {
  if (!Number.isFinite(value)) throw invalidArgument(`${field} must be a finite number (got ${value})`);
}

/** Checks one point: series name, tags and a finite value, naming fields under `field`. */
export function checkPoint(point: PointLike, field = 'point'): void {
  checkSeries(point.series, `${field}.series`);
  checkTags(point.tags, `${field}.tags`);
  checkFiniteValue(point.value, `${field}.value`);
}

/** Checks a batch of 1..10000 points, naming the first bad one (`points[3].value: ...`). */
export function checkPoints(points: readonly PointLike[], field = 'points'): void {
  if (points.length === 0) throw invalidArgument(`${field} must contain at least one point`);
  if (points.length > MAX_POINTS_PER_WRITE)
    throw invalidArgument(`${field} has ${points.length} points; at most ${MAX_POINTS_PER_WRITE} per Write`);
  for (let i = 0; i < points.length; i++) checkPoint(points[i]!, `${field}[${i}]`);
}

/** Checks a selector: a valid series name and valid tags. */
export function checkSelector(selector: SeriesSelector | undefined, field = 'selector'): void {
  if (!selector) throw invalidArgument(`${field} is required (a series name and optional tags)`);
  checkSeries(selector.series, `${field}.series`);
  checkTags(selector.tags, `${field}.tags`);
}

/** Throws INVALID_ARGUMENT unless start_ns < end_ns. */
export function checkTimeRange(startNs: bigint, endNs: bigint): void {
  if (startNs >= endNs)
    throw invalidArgument(
      `start_ns (${startNs}) must be less than end_ns (${endNs}); the range is [start_ns, end_ns)`,
    );
}

/** Throws INVALID_ARGUMENT when `batch_size` exceeds {@link MAX_BATCH_SIZE}. */
export function checkBatchSize(batchSize: number): void {
  if (batchSize > MAX_BATCH_SIZE)
    throw invalidArgument(
      `batch_size is ${batchSize}; at most ${MAX_BATCH_SIZE} (0 means ${DEFAULT_BATCH_SIZE})`,
    );
}

/** The batch size a Query asks for, resolved against the default, so every backend batches alike. */
export const effectiveBatchSize = (batchSize: number): number =>
  batchSize === 0 ? DEFAULT_BATCH_SIZE : batchSize;

// ---- Canonical tag order -------------------------------------------------------------------------------

/**
 * Compares two strings by code point, which is the byte order of their UTF-8 encodings (JS `<` compares
 * UTF-16 units, which puts U+E000..U+FFFF after astral characters). PostgreSQL `COLLATE "C"`, SQLite
 * BINARY and ClickHouse String compare the same way.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (half of an astral code point, >= U+10000) sorts after every BMP unit that is not one.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

// Structure marks of a tag key. Escaped content never holds U+0000 and starts a U+0001 only as an escape
// (U+0001 U+0003 / U+0001 U+0004), so: end < SUFFIX < PAIR_SEPARATOR < any content, which makes the byte
// order of tag keys the proto's order of tag sets.
const SUFFIX = '\u0001\u0001';
const PAIR_SEPARATOR = '\u0001\u0002';
// U+0001 first, so the U+0001 the second replacement adds is not escaped again.
const escapePair = (pair: string) =>
  pair.replaceAll('\u0001', '\u0001\u0004').replaceAll('\u0000', '\u0001\u0003');

/** The tag names of a tag set in canonical order (by code point, i.e. UTF-8 byte order). */
export function sortedTagNames(tags: Tags): string[] {
  return Object.keys(tags).sort(compareCodePoints);
}

/**
 * The canonical string of a tag set, for identity and ordering: tags sorted by name, each as "name=value",
 * joined by U+0001 U+0002 (U+0000 and U+0001 in values are escaped). Comparing two keys with
 * {@link compareCodePoints} (or bytewise as UTF-8) orders tag sets as the proto says: pair by pair, each
 * pair as "name=value" bytes, a prefix first. Names may contain "=", so "a=b"→"c" and "a"→"b=c" give the
 * same pair; a suffix of the name lengths keeps such keys distinct (and orders those ties). The key holds
 * no U+0000, so it fits PostgreSQL text. No tags = "".
 */
export function tagKey(tags: Tags): string {
  const names = sortedTagNames(tags);
  let ambiguous = false;
  const pairs = names.map((name) => {
    if (name.includes('=')) ambiguous = true;
    return escapePair(`${name}=${tags[name]!}`);
  });
  const key = pairs.join(PAIR_SEPARATOR);
  return ambiguous ? `${key}${SUFFIX}${names.map((n) => n.length).join(',')}` : key;
}

/** Compares two tag sets in the proto's order (see {@link tagKey}). */
export const compareTags = (a: Tags, b: Tags): number => compareCodePoints(tagKey(a), tagKey(b));

/** Compares bigints for sorting. */
export const compareBigints = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Query's order: by timestamp, then by tag set (see {@link tagKey}). */
export function comparePoints(
  a: Pick<PointLike, 'tags' | 'timestampNs'>,
  b: Pick<PointLike, 'tags' | 'timestampNs'>,
): number {
  return compareBigints(a.timestampNs, b.timestampNs) || compareTags(a.tags, b.tags);
}

/** True when `tags` carries every tag of `wanted` with the same value (a subset match; none = any). */
export function matchesTags(tags: Tags, wanted: Tags): boolean {
  for (const name of Object.keys(wanted))
    if (!Object.hasOwn(tags, name) || tags[name] !== wanted[name]) return false;
  return true;
}

/** True when the point belongs to the selector's series and carries all of its tags. */
export function matchesSelector(
  point: Pick<PointLike, 'series' | 'tags'>,
  selector: { readonly series: string; readonly tags: Tags },
): boolean {
  return point.series === selector.series && matchesTags(point.tags, selector.tags);
}

/** True when two tag sets are equal (same names, same values). */
export function sameTags(a: Tags, b: Tags): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && matchesTags(b, a);
}

/** Floor division of bigints (toward -infinity, unlike `/`), for epoch-aligned buckets of negative times. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

// ---- Retention (held by timeseries_retention, enforced by every Write and read) -------------------------

/** The oldest timestamp a namespace with `retentionMs` keeps at `nowMs` (undefined = forever, i.e. 0). */
export function retentionCutoffNs(
  retentionMs: bigint | number,
  nowMs: number = Date.now(),
): bigint | undefined {
  const ms = BigInt(retentionMs);
  if (ms === 0n) return undefined;
  return (BigInt(Math.floor(nowMs)) - ms) * NS_PER_MS;
}

/** True when a point at `timestampNs` is within retention (visible) given the cutoff. */
export const withinRetention = (timestampNs: bigint, cutoffNs: bigint | undefined): boolean =>
  cutoffNs === undefined || timestampNs >= cutoffNs;

/**
 * Throws INVALID_ARGUMENT naming the first point older than the retention cutoff (Write rejects the whole
 * batch, as for any bad point).
 */
export function checkWriteRetention(
  points: readonly Pick<PointLike, 'timestampNs'>[],
  cutoffNs: bigint | undefined,
  retentionMs: bigint | number,
  field = 'points',
): void {
  if (cutoffNs === undefined) return;
  for (let i = 0; i < points.length; i++)
    if (points[i]!.timestampNs < cutoffNs)
      throw invalidArgument(
        `${field}[${i}].timestamp_ns (${points[i]!.timestampNs}) is older than the namespace's retention of ` +
          `${retentionMs} ms (the oldest accepted is ${cutoffNs})`,
      );
}

/** Splits `items` into consecutive batches of `size` (the last may be shorter; none when empty). */
export function* inBatches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function checkWrite(req: WriteRequest): void {
  checkPoints(req.points);
}

function checkQuery(req: QueryRequest): void {
  checkSelector(req.selector);
  checkTimeRange(req.startNs, req.endNs);
  checkBatchSize(req.batchSize);
}

/** The timeseries_basic flavour: batches of (series, tags, ns timestamp) → double points, read by range. */
export const TimeSeriesBasic = defineInterface(
  'timeseries_basic',
  TimeSeriesBasicInterface,
  { write: 'write', query: 'read' },
  { write: checkWrite, query: checkQuery },
);

/** What an adapter implements for timeseries_basic. */
export type TimeSeriesBasicImpl = InterfaceImpl<typeof TimeSeriesBasicInterface>;
