import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import { LengthRequestSchema, ListBasic, PushLeftRequestSchema, PushRightRequestSchema } from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('ListBasic validators', () => {
  const v = ListBasic.validate;
  const limits = { maxKeyBytes: 16, maxValueBytes: 4 };
  it('accepts pushes of one or more values within the limit, including empty values', () => {
    const req = create(PushRightRequestSchema, { key: 'k', values: [new Uint8Array(), new Uint8Array(4)] });
    expect(errorOf(() => v.pushRight?.(req, limits))).toBeUndefined();
  });
  it('rejects a push without values', () => {
    const err = errorOf(() => v.pushLeft?.(create(PushLeftRequestSchema, { key: 'k' }), limits));
    expect(err?.code).toBe(Code.InvalidArgument);
  });
  it('names the over-limit value by index', () => {
    const req = create(PushLeftRequestSchema, { key: 'k', values: [new Uint8Array(1), new Uint8Array(5)] });
    const err = errorOf(() => v.pushLeft?.(req, limits));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/values\[1\]/);
  });
  it('checks the key on every method', () => {
    expect(errorOf(() => v.length?.(create(LengthRequestSchema, { key: '' }), DEFAULT_LIMITS))?.code).toBe(
      Code.InvalidArgument,
    );
  });
});
