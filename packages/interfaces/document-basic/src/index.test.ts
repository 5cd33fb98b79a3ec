import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import {
  applyMergePatch,
  canonicalJson,
  DeleteRequestSchema,
  DocumentBasic,
  type JsonValue,
  PatchRequestSchema,
  PutRequestSchema,
  parseJsonObject,
  patchDocument,
  prepareDocument,
  versionMatches,
  versionMismatch,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

const limits = { maxKeyBytes: 8, maxValueBytes: 32 };

describe('DocumentBasic validators', () => {
  const v = DocumentBasic.validate;
  it('checks ids: empty, too long, control characters', () => {
    for (const id of ['', 'x'.repeat(9), 'a\tb', 'a\u0000'])
      expect(errorOf(() => v.put?.(create(PutRequestSchema, { id, json: '{}' }), limits))?.code).toBe(
        Code.InvalidArgument,
      );
    expect(errorOf(() => v.delete?.(create(DeleteRequestSchema, { id: 'ok' }), limits))).toBeUndefined();
  });
  it('requires a JSON object within the size limit, naming the parser position', () => {
    const put = (json: string) => errorOf(() => v.put?.(create(PutRequestSchema, { id: 'd', json }), limits));
    expect(put('{"a":1}')).toBeUndefined();
    expect(put('{"a":')?.rawMessage).toMatch(/json is not valid JSON: .*(position|end)/i);
    expect(put('[1]')?.rawMessage).toBe('json must be a JSON object (got an array)');
    expect(put('null')?.rawMessage).toBe('json must be a JSON object (got null)');
    expect(put('"s"')?.rawMessage).toBe('json must be a JSON object (got a string)');
    expect(put(JSON.stringify({ s: 'x'.repeat(40) }))?.rawMessage).toMatch(
      /json is \d+ bytes; the namespace allows at most 32/,
    );
  });
  it('requires the merge patch to be a JSON object', () => {
    const patch = (mergePatch: string) =>
      errorOf(() => v.patch?.(create(PatchRequestSchema, { id: 'd', mergePatch }), limits));
    expect(patch('{"a":null}')).toBeUndefined();
    expect(patch('')?.rawMessage).toMatch(/^merge_patch is not valid JSON/);
    expect(patch('5')?.rawMessage).toBe('merge_patch must be a JSON object (got a number)');
  });
});

describe('document helpers', () => {
  it('canonicalises as JSON.parse + JSON.stringify', () => {
    expect(canonicalJson('{ "b": 1e3, "a": [ 1.50 ], "b": -0 }')).toBe('{"b":0,"a":[1.5]}');
    expect(prepareDocument(' {"x" : true} ', limits)).toEqual({ doc: { x: true }, json: '{"x":true}' });
    expect(
      errorOf(() => prepareDocument(`{"n":1e20}`, { ...limits, maxValueBytes: 20 }))?.rawMessage,
    ).toMatch(/27 bytes/);
  });
  it('merges as RFC 7386 (its appendix A examples)', () => {
    const cases: [JsonValue, JsonValue, JsonValue][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [
        ['a', 'b'],
        ['c', 'd'],
        ['c', 'd'],
      ],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases) expect(applyMergePatch(target, patch)).toEqual(result);
    const proto = applyMergePatch({}, JSON.parse('{"__proto__":{"x":1}}')) as object;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(JSON.stringify(proto)).toBe('{"__proto__":{"x":1}}');
  });
  it('patches stored text and checks the size of the result', () => {
    expect(patchDocument('{"a":1,"b":{"c":2}}', '{"b":{"c":null,"d":3}}', limits).json).toBe(
      '{"a":1,"b":{"d":3}}',
    );
    expect(
      errorOf(() => patchDocument('{}', JSON.stringify({ s: 'x'.repeat(40) }), limits))?.rawMessage,
    ).toMatch(/^patched document is \d+ bytes/);
    expect(errorOf(() => parseJsonObject('[]', 'merge_patch'))?.code).toBe(Code.InvalidArgument);
  });
  it('matches versions: unset = any, 0 = missing, n = exactly n; and names both in the error', () => {
    expect(versionMatches(undefined, 3n)).toBe(true);
    expect(versionMatches(0n, undefined)).toBe(true);
    expect(versionMatches(0n, 1n)).toBe(false);
    expect(versionMatches(2n, 2n)).toBe(true);
    expect(versionMatches(2n, undefined)).toBe(false);
    const e = ConnectError.from(versionMismatch('d', 2n, 5n));
    expect(e.code).toBe(Code.Aborted);
    expect(e.rawMessage).toBe(
      'document "d": expected version 2, but it is at version 5; read it again and retry',
    );
    expect(ConnectError.from(versionMismatch('d', 0n, 1n)).rawMessage).toMatch(/expected it not to exist/);
  });
});
