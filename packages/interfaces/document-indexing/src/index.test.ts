import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { FilterSchema } from '@prism/proto/prism/common/v1/filter_pb';
import { Code, ConnectError } from '@prism/sdk';
import {
  CreateIndexRequestSchema,
  checkPathSyntax,
  DocumentIndexing,
  DropIndexRequestSchema,
  ExplainRequestSchema,
  indexNameTaken,
  samePaths,
} from './index.js';

const errorOf = (fn: () => unknown): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};
const limits = { maxKeyBytes: 8, maxValueBytes: 32 };
const v = DocumentIndexing.validate;
const createReq = (name: string, paths: string[]) =>
  create(CreateIndexRequestSchema, { index: { name, paths } });

describe('DocumentIndexing validators', () => {
  it('checks index names: 1..48 of [a-z0-9_], starting with a letter', () => {
    for (const name of ['a', 'by_city', 'x'.repeat(48), 'a1_'])
      expect(errorOf(() => v.createIndex?.(createReq(name, ['p']), limits))).toBeUndefined();
    for (const name of ['', 'A', '1a', '_a', 'a-b', 'a b', 'x'.repeat(49)])
      expect(errorOf(() => v.createIndex?.(createReq(name, ['p']), limits))?.rawMessage).toMatch(
        /^index\.name/,
      );
    expect(errorOf(() => v.dropIndex?.(create(DropIndexRequestSchema, { name: 'Bad' }), limits))?.code).toBe(
      Code.InvalidArgument,
    );
    expect(errorOf(() => v.createIndex?.(create(CreateIndexRequestSchema, {}), limits))?.rawMessage).toBe(
      'index is required',
    );
  });
  it('checks paths: 1..8, distinct, each a field path', () => {
    expect(errorOf(() => v.createIndex?.(createReq('i', []), limits))?.rawMessage).toMatch(/at least one/);
    expect(
      errorOf(() =>
        v.createIndex?.(
          createReq(
            'i',
            Array.from({ length: 9 }, (_, i) => `p${i}`),
          ),
          limits,
        ),
      )?.rawMessage,
    ).toMatch(/9 paths; at most 8/);
    expect(errorOf(() => v.createIndex?.(createReq('i', ['a', 'a']), limits))?.rawMessage).toMatch(
      /listed twice/,
    );
    expect(errorOf(() => v.createIndex?.(createReq('i', ['a', 'b..c']), limits))?.rawMessage).toMatch(
      /^index\.paths\[1\]/,
    );
    expect(errorOf(() => v.createIndex?.(createReq('i', ['a\\.b', 'c\\\\']), limits))).toBeUndefined();
  });
  it('checks the Explain filter and sort', () => {
    const bad = create(FilterSchema, { condition: { case: 'eq', value: { field: 'a.', value: 'x' } } });
    expect(
      errorOf(() => v.explain?.(create(ExplainRequestSchema, { filter: bad }), limits))?.rawMessage,
    ).toMatch(/^filter\.eq: field/);
    expect(
      errorOf(() => v.explain?.(create(ExplainRequestSchema, { sort: [{ path: '' }] }), limits))?.code,
    ).toBe(Code.InvalidArgument);
    expect(
      errorOf(() => v.explain?.(create(ExplainRequestSchema, { sort: [{ path: '_id' }] }), limits)),
    ).toBeUndefined();
  });
});

describe('index helpers', () => {
  it('accepts the path syntax of document_query', () => {
    for (const ok of ['a', 'a.b', 'a\\.b', 'a\\\\', 'é.😀'])
      expect(errorOf(() => checkPathSyntax(ok, 'p'))).toBeUndefined();
    for (const bad of ['', '.', 'a.', 'a..b', 'a\\', 'a\\b', 'a\u0001'])
      expect(errorOf(() => checkPathSyntax(bad, 'p'))?.code).toBe(Code.InvalidArgument);
  });
  it('compares declarations by paths in order, and names the existing paths when a name is taken', () => {
    expect(samePaths(['a', 'b'], ['a', 'b'])).toBe(true);
    expect(samePaths(['a', 'b'], ['b', 'a'])).toBe(false);
    const e = ConnectError.from(indexNameTaken('i', ['a', 'b']));
    expect(e.code).toBe(Code.AlreadyExists);
    expect(e.rawMessage).toContain('[a, b]');
  });
});
