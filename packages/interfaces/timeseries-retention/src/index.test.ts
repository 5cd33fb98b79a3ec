import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  MAX_RETENTION_MS,
  MIN_RETENTION_MS,
  retentionCutoffNs,
  SetRetentionRequestSchema,
  TimeSeriesRetention,
} from './index.js';

const validate = (retentionMs: bigint) => {
  try {
    TimeSeriesRetention.validate.setRetention?.(
      create(SetRetentionRequestSchema, { retentionMs }),
      DEFAULT_LIMITS,
    );
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('TimeSeriesRetention validators', () => {
  it('accepts 0 (forever) and one minute..100 years', () => {
    for (const ms of [0n, 60_000n, 3_600_000n, MAX_RETENTION_MS]) expect(validate(ms)).toBeUndefined();
    expect(MIN_RETENTION_MS).toBe(60_000n);
    expect(MAX_RETENTION_MS).toBe(3_155_760_000_000n);
  });
  it('rejects anything else naming retention_ms', () => {
    for (const ms of [1n, 59_999n, MAX_RETENTION_MS + 1n, 2n ** 64n - 1n]) {
      const err = validate(ms);
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(/^retention_ms is \d+; 0 \(keep forever\) or 60000\.\./);
    }
  });
  it('re-exports the cutoff helper', () => {
    expect(retentionCutoffNs(60_000n, 120_000)).toBe(60_000_000_000n);
  });
  it('needs admin to set and read to get', () => {
    expect(TimeSeriesRetention.access).toEqual({ setRetention: 'admin', getRetention: 'read' });
  });
});
