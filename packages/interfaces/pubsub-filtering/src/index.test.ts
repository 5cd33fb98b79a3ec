import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import { PubSubFiltering, SubscribeFilteredRequestSchema } from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('PubSubFiltering validators', () => {
  const check = (init: Parameters<typeof create<typeof SubscribeFilteredRequestSchema>>[1]) =>
    errorOf(() =>
      PubSubFiltering.validate.subscribeFiltered?.(
        create(SubscribeFilteredRequestSchema, init),
        DEFAULT_LIMITS,
      ),
    );
  const eq = { condition: { case: 'eq' as const, value: { field: 'a', value: '1' } } };

  it('accepts a topic with a valid filter', () => {
    expect(check({ topic: 'orders.eu', filter: eq })).toBeUndefined();
  });
  it('requires the filter', () => {
    const err = check({ topic: 't' });
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toBe('filter is required');
  });
  it('names the path of an invalid node', () => {
    const err = check({
      topic: 't',
      filter: {
        condition: {
          case: 'or',
          value: { filters: [eq, { condition: { case: 'gt', value: { field: '' } } }] },
        },
      },
    });
    expect(err?.rawMessage).toBe('filter.or[1].gt: field is required');
  });
  it('checks the topic (no wildcards)', () => {
    expect(check({ topic: 'a.*', filter: eq })?.rawMessage).toMatch(/topic/);
    expect(check({ topic: '', filter: eq })?.code).toBe(Code.InvalidArgument);
  });
});
