import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import { checkPriority, EnqueueWithPriorityRequestSchema, MAX_PRIORITY, QueuePriority } from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('QueuePriority validators', () => {
  const v = QueuePriority.validate.enqueueWithPriority!;
  const limits = { ...DEFAULT_LIMITS, maxValueBytes: 4 };
  const req = (init: Parameters<typeof create<typeof EnqueueWithPriorityRequestSchema>>[1]) =>
    create(EnqueueWithPriorityRequestSchema, { queue: 'jobs', ...init });

  it('accepts every priority 0..9 (9 highest), empty payloads and valid metadata', () => {
    expect(MAX_PRIORITY).toBe(9);
    for (let priority = 0; priority <= 9; priority++)
      expect(errorOf(() => v(req({ priority, metadata: { 'content-type': 'x' } }), limits))).toBeUndefined();
  });
  it('rejects priorities above 9, naming the field and the range', () => {
    for (const priority of [10, 99, 4_294_967_295]) {
      const err = errorOf(() => v(req({ priority }), limits));
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(/priority is \d+; use 0\.\.9/);
    }
    expect(errorOf(() => checkPriority(-1))?.code).toBe(Code.InvalidArgument);
    expect(errorOf(() => checkPriority(1.5))?.code).toBe(Code.InvalidArgument);
  });
  it('applies the queue_basic rules to queue, payload and metadata', () => {
    expect(errorOf(() => v(req({ queue: '' }), limits))?.rawMessage).toMatch(/queue/);
    expect(errorOf(() => v(req({ queue: 'a..b' }), limits))?.rawMessage).toMatch(/queue/);
    expect(errorOf(() => v(req({ payload: new Uint8Array(5) }), limits))?.rawMessage).toMatch(/payload/);
    expect(errorOf(() => v(req({ metadata: { 'prism-x': 'y' } }), limits))?.rawMessage).toMatch(/metadata/);
  });
});
