import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import {
  AddRequestSchema,
  effectiveBatchSize,
  IsMemberRequestSchema,
  inBatches,
  MAX_BATCH_SIZE,
  MAX_MEMBERS_PER_CALL,
  MembersRequestSchema,
  RemoveRequestSchema,
  SetBasic,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('SetBasic validators', () => {
  const v = SetBasic.validate;
  const limits = { maxKeyBytes: 16, maxValueBytes: 4 };
  it('accepts one or more members within the limit, including the empty member', () => {
    const req = create(AddRequestSchema, { key: 'k', members: [new Uint8Array(), new Uint8Array(4)] });
    expect(errorOf(() => v.add?.(req, limits))).toBeUndefined();
  });
  it('rejects Add and Remove without members', () => {
    const add = errorOf(() => v.add?.(create(AddRequestSchema, { key: 'k' }), limits));
    expect(add?.code).toBe(Code.InvalidArgument);
    expect(add?.rawMessage).toMatch(/members/);
    const remove = errorOf(() => v.remove?.(create(RemoveRequestSchema, { key: 'k' }), limits));
    expect(remove?.rawMessage).toMatch(/members/);
  });
  it('names the over-limit member by index and caps the member count', () => {
    const req = create(RemoveRequestSchema, { key: 'k', members: [new Uint8Array(1), new Uint8Array(5)] });
    expect(errorOf(() => v.remove?.(req, limits))?.rawMessage).toMatch(/members\[1\]/);
    const many = create(AddRequestSchema, {
      key: 'k',
      members: Array.from({ length: MAX_MEMBERS_PER_CALL + 1 }, () => new Uint8Array()),
    });
    expect(errorOf(() => v.add?.(many, limits))?.code).toBe(Code.InvalidArgument);
    const im = create(IsMemberRequestSchema, { key: 'k', member: new Uint8Array(5) });
    expect(errorOf(() => v.isMember?.(im, limits))?.rawMessage).toMatch(/member/);
  });
  it('checks the key and the batch size of Members', () => {
    expect(errorOf(() => v.members?.(create(MembersRequestSchema, { key: '' }), limits))?.code).toBe(
      Code.InvalidArgument,
    );
    const big = create(MembersRequestSchema, { key: 'k', batchSize: MAX_BATCH_SIZE + 1 });
    expect(errorOf(() => v.members?.(big, limits))?.rawMessage).toMatch(/batch_size/);
    const max = create(MembersRequestSchema, { key: 'k', batchSize: MAX_BATCH_SIZE });
    expect(errorOf(() => v.members?.(max, limits))).toBeUndefined();
  });
});

describe('inBatches', () => {
  const signal = new AbortController().signal;
  it('splits into batches of the size, the last one shorter, and nothing for no members', async () => {
    const members = Array.from({ length: 7 }, (_, i) => Uint8Array.of(i));
    const sizes: number[] = [];
    for await (const b of inBatches(members, 3, signal)) sizes.push(b.members.length);
    expect(sizes).toEqual([3, 3, 1]);
    const none: unknown[] = [];
    for await (const b of inBatches([], 3, signal)) none.push(b);
    expect(none).toEqual([]);
  });
  it('resolves batch_size 0 to the default', () => {
    expect(effectiveBatchSize(0)).toBe(100);
    expect(effectiveBatchSize(5)).toBe(5);
  });
});
