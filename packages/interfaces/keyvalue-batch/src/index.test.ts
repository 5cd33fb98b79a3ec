import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  BatchDeleteRequestSchema,
  BatchGetRequestSchema,
  BatchSetRequestSchema,
  batchDeleteFlags,
  KeyValueBatch,
  MAX_BATCH_KEYS,
} from './index.js';

function errorOf(fn: () => void): ConnectError | undefined {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
}

const v = KeyValueBatch.validate;
const small = { maxKeyBytes: 8, maxValueBytes: 4 };

describe('KeyValueBatch validators', () => {
  it('accepts empty and full batches', () => {
    expect(
      errorOf(() => v.batchGet?.(create(BatchGetRequestSchema, { keys: [] }), DEFAULT_LIMITS)),
    ).toBeUndefined();
    const keys = Array.from({ length: MAX_BATCH_KEYS }, (_, i) => `k${i}`);
    expect(
      errorOf(() => v.batchDelete?.(create(BatchDeleteRequestSchema, { keys }), DEFAULT_LIMITS)),
    ).toBeUndefined();
  });

  it('rejects more than MAX_BATCH_KEYS keys', () => {
    const keys = Array.from({ length: MAX_BATCH_KEYS + 1 }, (_, i) => `k${i}`);
    const err = errorOf(() => v.batchGet?.(create(BatchGetRequestSchema, { keys }), DEFAULT_LIMITS));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/at most 1000/);
  });

  it('names the index of a bad key or value', () => {
    const bad = create(BatchSetRequestSchema, {
      entries: [
        { key: 'ok', value: new Uint8Array(1) },
        { key: 'ok2', value: new Uint8Array(5) },
      ],
    });
    const err = errorOf(() => v.batchSet?.(bad, small));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/entries\[1\]\.value/);
    const emptyKey = errorOf(() =>
      v.batchDelete?.(create(BatchDeleteRequestSchema, { keys: ['a', ''] }), small),
    );
    expect(emptyKey?.rawMessage).toMatch(/keys\[1\]/);
  });
});

describe('batchDeleteFlags', () => {
  it('marks only the first occurrence of existing keys', () => {
    expect(batchDeleteFlags(['a', 'b', 'a', 'c'], new Set(['a', 'c']))).toEqual([true, false, false, true]);
  });
});
