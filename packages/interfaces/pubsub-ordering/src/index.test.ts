import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  checkOrderingKey,
  keySet,
  PublishOrderedRequestSchema,
  PubSubOrdering,
  SubscribeOrderedRequestSchema,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('PubSubOrdering validators', () => {
  const v = PubSubOrdering.validate;
  const publish = (orderingKey: string, payload = new Uint8Array(1)) =>
    errorOf(() =>
      v.publishOrdered?.(create(PublishOrderedRequestSchema, { topic: 't', orderingKey, payload }), {
        ...DEFAULT_LIMITS,
        maxValueBytes: 4,
      }),
    );
  const subscribe = (orderingKeys: string[], topic = 't') =>
    errorOf(() =>
      v.subscribeOrdered?.(create(SubscribeOrderedRequestSchema, { topic, orderingKeys }), DEFAULT_LIMITS),
    );

  it('accepts unicode keys up to 256 UTF-8 bytes', () => {
    expect(publish('订单/7 ✓')).toBeUndefined();
    expect(publish('x'.repeat(256))).toBeUndefined();
    expect(publish(`${'ü'.repeat(127)}k`)).toBeUndefined();
  });
  it('rejects empty, too long and control-character keys, naming ordering_key', () => {
    for (const key of ['', 'x'.repeat(257), 'ü'.repeat(129), 'a\nb', '\u0000', '\u007f']) {
      const err = publish(key);
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(/ordering_key/);
    }
  });
  it('checks the payload against the namespace limit', () => {
    expect(publish('k', new Uint8Array(5))?.rawMessage).toMatch(/payload/);
  });
  it('checks subscription keys by index and their count', () => {
    expect(subscribe([])).toBeUndefined();
    expect(subscribe(['a', 'a'])).toBeUndefined();
    expect(subscribe(['a', ''])?.rawMessage).toMatch(/ordering_keys\[1\]/);
    expect(subscribe(Array.from({ length: 101 }, (_, i) => `k${i}`))?.rawMessage).toMatch(/at most 100/);
    expect(subscribe([], 'bad..topic')?.code).toBe(Code.InvalidArgument);
  });
  it('keySet is undefined for all keys and deduplicates', () => {
    expect(keySet([])).toBeUndefined();
    expect([...(keySet(['a', 'b', 'a']) ?? [])]).toEqual(['a', 'b']);
  });
  it('checkOrderingKey uses the given field name', () => {
    expect(errorOf(() => checkOrderingKey('', 'keys[3]'))?.rawMessage).toMatch(/keys\[3\]/);
  });
});
