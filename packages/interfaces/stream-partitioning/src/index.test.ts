import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  AppendPartitionedRequestSchema,
  CreatePartitionedStreamRequestSchema,
  murmur2,
  partitionForKey,
  ReadPartitionedGroupRequestSchema,
  ReadPartitionRequestSchema,
  StreamPartitioning,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('murmur2 (Kafka default partitioner)', () => {
  it("matches the vectors of Kafka's UtilsTest", () => {
    const cases: [string | Uint8Array, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      [Uint8Array.of(0x61, 0x62, 0x63), 479470107],
    ];
    for (const [input, want] of cases)
      expect(murmur2(typeof input === 'string' ? utf8(input) : input)).toBe(want);
  });
  it('maps keys to a stable partition in range', () => {
    for (let i = 0; i < 200; i++) {
      const p = partitionForKey(utf8(`key-${i}`), 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
      expect(partitionForKey(utf8(`key-${i}`), 7)).toBe(p);
    }
    expect(partitionForKey(new Uint8Array(), 1)).toBe(0);
    expect(() => partitionForKey(utf8('k'), 0)).toThrow(RangeError);
  });
});

describe('StreamPartitioning validators', () => {
  const v = StreamPartitioning.validate;
  const limits = { ...DEFAULT_LIMITS, maxKeyBytes: 8, maxValueBytes: 16 };
  const code = (fn: () => void) => errorOf(fn)?.code;
  it('checks the partition count of CreatePartitionedStream', () => {
    for (const partitions of [0, 1025])
      expect(
        errorOf(() =>
          v.createPartitionedStream?.(
            create(CreatePartitionedStreamRequestSchema, { stream: 's', partitions }),
            limits,
          ),
        )?.rawMessage,
      ).toMatch(/partitions/);
    expect(
      code(() =>
        v.createPartitionedStream?.(
          create(CreatePartitionedStreamRequestSchema, { stream: 's', partitions: 8 }),
          limits,
        ),
      ),
    ).toBeUndefined();
  });
  it('requires a route and bounds the key, the partition and the payload', () => {
    const append = (init: Parameters<typeof create<typeof AppendPartitionedRequestSchema>>[1]) =>
      errorOf(() =>
        v.appendPartitioned?.(create(AppendPartitionedRequestSchema, { stream: 's', ...init }), limits),
      );
    expect(append({})?.rawMessage).toMatch(/route/);
    expect(append({ route: { case: 'key', value: new Uint8Array(9) } })?.rawMessage).toMatch(/key/);
    expect(append({ route: { case: 'partition', value: 1024 } })?.rawMessage).toMatch(/partition/);
    expect(
      append({ route: { case: 'key', value: new Uint8Array() }, payload: new Uint8Array(17) })?.rawMessage,
    ).toMatch(/payload/);
    expect(append({ route: { case: 'key', value: new Uint8Array() } })).toBeUndefined();
    expect(append({ route: { case: 'partition', value: 0 } })).toBeUndefined();
  });
  it('checks streams, partitions and group fields', () => {
    expect(
      code(() => v.readPartition?.(create(ReadPartitionRequestSchema, { stream: 'a..b' }), limits)),
    ).toBe(Code.InvalidArgument);
    const group = (init: Parameters<typeof create<typeof ReadPartitionedGroupRequestSchema>>[1]) =>
      errorOf(() =>
        v.readPartitionedGroup?.(
          create(ReadPartitionedGroupRequestSchema, { stream: 's', group: 'g', consumer: 'c', ...init }),
          limits,
        ),
      )?.rawMessage;
    expect(group({ group: 'bad group' })).toMatch(/group/);
    expect(group({ consumer: '' })).toMatch(/consumer/);
    expect(group({ maxInFlight: 1001 })).toMatch(/max_in_flight/);
    expect(group({ claimTimeoutMs: -1n })).toMatch(/claim_timeout_ms/);
    expect(group({})).toBeUndefined();
  });
});
