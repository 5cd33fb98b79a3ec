import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import { tx } from './conformance.js';
import {
  conditionFailed,
  conditionHolds,
  KeyValueTransactional,
  MAX_TRANSACTION_OPS,
  TransactConditionSchema,
  TransactRequestSchema,
} from './index.js';

function errorOf(fn: () => void): ConnectError | undefined {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
}

const validate = (init: MessageInitShape<typeof TransactRequestSchema>) =>
  errorOf(() =>
    KeyValueTransactional.validate.transact?.(create(TransactRequestSchema, init), DEFAULT_LIMITS),
  );
const b = (s: string) => new TextEncoder().encode(s);

describe('KeyValueTransactional validator', () => {
  it('accepts sets, deletes and every kind of condition', () => {
    expect(
      validate({
        operations: [tx.set('a', b('1')), tx.set('b', b('2'), 1000), tx.del('c')],
        conditions: [tx.exists('a'), tx.exists('b', false), tx.etag('c', 'e'), tx.value('a', b(''))],
      }),
    ).toBeUndefined();
  });

  it('requires 1..MAX operations and at most MAX conditions', () => {
    expect(validate({ operations: [] })?.code).toBe(Code.InvalidArgument);
    const many = Array.from({ length: MAX_TRANSACTION_OPS + 1 }, () => tx.del('k'));
    expect(validate({ operations: many })?.code).toBe(Code.InvalidArgument);
    const conds = Array.from({ length: MAX_TRANSACTION_OPS + 1 }, () => tx.exists('k'));
    expect(validate({ operations: [tx.del('k')], conditions: conds })?.code).toBe(Code.InvalidArgument);
  });

  it('names the offending field', () => {
    expect(validate({ operations: [tx.del('k'), tx.set('', b('x'))] })?.rawMessage).toContain(
      'operations[1].set.key',
    );
    expect(validate({ operations: [tx.del('')] })?.rawMessage).toContain('operations[0].delete.key');
    expect(validate({ operations: [{}] })?.rawMessage).toContain('operations[0] must set one kind');
    expect(validate({ operations: [tx.set('k', b('x'), -5)] })?.rawMessage).toContain('ttl_ms');
    expect(validate({ operations: [tx.del('k')], conditions: [{ key: 'k' }] })?.rawMessage).toContain(
      'conditions[0]',
    );
    expect(validate({ operations: [tx.del('k')], conditions: [tx.etag('k', '')] })?.rawMessage).toContain(
      'etag',
    );
  });
});

describe('conditionHolds', () => {
  const cond = (init: MessageInitShape<typeof TransactConditionSchema>) =>
    create(TransactConditionSchema, init);
  it('evaluates exists, etag and value checks', () => {
    expect(conditionHolds(cond(tx.exists('k')), { exists: true })).toBe(true);
    expect(conditionHolds(cond(tx.exists('k', false)), { exists: true })).toBe(false);
    expect(conditionHolds(cond(tx.etag('k', 'e1')), { exists: true, etag: 'e1' })).toBe(true);
    expect(conditionHolds(cond(tx.etag('k', 'e1')), { exists: false, etag: 'e1' })).toBe(false);
    expect(conditionHolds(cond(tx.value('k', b('v'))), { exists: true, value: b('v') })).toBe(true);
    expect(conditionHolds(cond(tx.value('k', b('v'))), { exists: true, value: b('w') })).toBe(false);
    expect(conditionHolds(cond(tx.value('k', b(''))), { exists: false })).toBe(false);
  });

  it('builds an ABORTED error naming the condition', () => {
    const err = ConnectError.from(conditionFailed(2, cond(tx.exists('acct', false))));
    expect(err.code).toBe(Code.Aborted);
    expect(err.rawMessage).toBe('conditions[2] failed (key "acct" must not exist); nothing was applied');
  });
});
