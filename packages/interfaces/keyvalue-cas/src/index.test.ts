import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  CompareAndDeleteRequestSchema,
  CompareAndSetRequestSchema,
  etagMismatch,
  KeyValueCAS,
  keyExists,
  MAX_ETAG_LENGTH,
  newEtag,
} from './index.js';

function codeOf(fn: () => void): Code | undefined {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err).code;
  }
  return undefined;
}

const v = KeyValueCAS.validate;

describe('KeyValueCAS validators', () => {
  it('accepts unconditional, etag and create-only writes', () => {
    for (const extra of [{}, { expectedEtag: 'e1' }, { createOnly: true }]) {
      const req = create(CompareAndSetRequestSchema, { key: 'k', ...extra });
      expect(codeOf(() => v.compareAndSet?.(req, DEFAULT_LIMITS))).toBeUndefined();
    }
  });

  it('rejects expected_etag together with create_only', () => {
    const req = create(CompareAndSetRequestSchema, { key: 'k', expectedEtag: 'e', createOnly: true });
    expect(codeOf(() => v.compareAndSet?.(req, DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
  });

  it('requires an etag for CompareAndDelete and bounds its length', () => {
    const none = create(CompareAndDeleteRequestSchema, { key: 'k' });
    expect(codeOf(() => v.compareAndDelete?.(none, DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
    const long = create(CompareAndDeleteRequestSchema, {
      key: 'k',
      expectedEtag: 'e'.repeat(MAX_ETAG_LENGTH + 1),
    });
    expect(codeOf(() => v.compareAndDelete?.(long, DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
  });

  it('checks keys and values', () => {
    const req = create(CompareAndSetRequestSchema, { key: '', value: new Uint8Array() });
    expect(codeOf(() => v.compareAndSet?.(req, DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
    const big = create(CompareAndSetRequestSchema, { key: 'k', value: new Uint8Array(5) });
    expect(codeOf(() => v.compareAndSet?.(big, { maxKeyBytes: 10, maxValueBytes: 4 }))).toBe(
      Code.InvalidArgument,
    );
  });
});

describe('helpers', () => {
  it('makes distinct, URL-safe etags', () => {
    const tags = new Set(Array.from({ length: 1000 }, newEtag));
    expect(tags.size).toBe(1000);
    for (const t of tags) expect(t).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('maps mismatches to ABORTED and create conflicts to ALREADY_EXISTS', () => {
    expect(ConnectError.from(etagMismatch('k', true)).code).toBe(Code.Aborted);
    expect(ConnectError.from(etagMismatch('k', false)).rawMessage).toMatch(/does not exist/);
    expect(ConnectError.from(keyExists('k')).code).toBe(Code.AlreadyExists);
  });
});
