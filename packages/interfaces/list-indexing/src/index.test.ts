import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import {
  IndexRequestSchema,
  InsertPosition,
  InsertRequestSchema,
  ListIndexing,
  RemoveRequestSchema,
  resolveIndex,
  SetIndexRequestSchema,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('ListIndexing validators', () => {
  const v = ListIndexing.validate;
  const limits = { maxKeyBytes: 16, maxValueBytes: 4 };
  it('checks the key on every method', () => {
    expect(errorOf(() => v.index?.(create(IndexRequestSchema, { key: '' }), limits))?.code).toBe(
      Code.InvalidArgument,
    );
    expect(
      errorOf(() => v.remove?.(create(RemoveRequestSchema, { key: 'k'.repeat(17) }), limits))?.code,
    ).toBe(Code.InvalidArgument);
    expect(
      errorOf(() => v.index?.(create(IndexRequestSchema, { key: 'k', index: -5n }), limits)),
    ).toBeUndefined();
  });
  it('names an over-limit value or pivot', () => {
    const big = new Uint8Array(5);
    expect(
      errorOf(() => v.setIndex?.(create(SetIndexRequestSchema, { key: 'k', value: big }), limits))
        ?.rawMessage,
    ).toMatch(/^value/);
    const ins = create(InsertRequestSchema, { key: 'k', position: InsertPosition.AFTER, pivot: big });
    expect(errorOf(() => v.insert?.(ins, limits))?.rawMessage).toMatch(/^pivot/);
  });
  it('requires BEFORE or AFTER', () => {
    const err = errorOf(() => v.insert?.(create(InsertRequestSchema, { key: 'k' }), limits));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/position/);
    const ok = create(InsertRequestSchema, { key: 'k', position: InsertPosition.BEFORE });
    expect(errorOf(() => v.insert?.(ok, limits))).toBeUndefined();
  });
});

describe('resolveIndex', () => {
  it('resolves negative indexes from the tail and rejects out-of-range ones', () => {
    expect(resolveIndex(0n, 3)).toBe(0);
    expect(resolveIndex(-1n, 3)).toBe(2);
    expect(resolveIndex(-3n, 3)).toBe(0);
    expect(resolveIndex(3n, 3)).toBeUndefined();
    expect(resolveIndex(-4n, 3)).toBeUndefined();
    expect(resolveIndex(0n, 0)).toBeUndefined();
    expect(resolveIndex(2n ** 63n - 1n, 3)).toBeUndefined();
  });
});
