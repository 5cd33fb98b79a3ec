import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  DeleteRequestSchema,
  DocumentBasic,
  type DocumentBasicImpl,
  GetRequestSchema,
  PatchRequestSchema,
  PutRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a document_basic implementation, used by this and other suites. */
export function documentBasic(impl: DocumentBasicImpl, namespace: string) {
  const v = (n: number | bigint | undefined) => (n === undefined ? undefined : BigInt(n));
  return {
    put: async (id: string, json: string | object, expectedVersion?: number | bigint) =>
      Number(
        (
          await impl.put(
            create(PutRequestSchema, {
              namespace,
              id,
              json: typeof json === 'string' ? json : JSON.stringify(json),
              expectedVersion: v(expectedVersion),
            }),
            ctx,
          )
        ).version ?? 0,
      ),
    get: async (id: string) => {
      const res = await impl.get(create(GetRequestSchema, { namespace, id }), ctx);
      if (!res.found) return undefined;
      return {
        id: res.document?.id ?? '',
        json: res.document?.json ?? '',
        version: Number(res.document?.version ?? 0),
      };
    },
    patch: async (id: string, mergePatch: string | object, expectedVersion?: number | bigint) => {
      const res = await impl.patch(
        create(PatchRequestSchema, {
          namespace,
          id,
          mergePatch: typeof mergePatch === 'string' ? mergePatch : JSON.stringify(mergePatch),
          expectedVersion: v(expectedVersion),
        }),
        ctx,
      );
      return {
        id: res.document?.id ?? '',
        json: res.document?.json ?? '',
        version: Number(res.document?.version ?? 0),
      };
    },
    delete: async (id: string, expectedVersion?: number | bigint) =>
      (
        await impl.delete(
          create(DeleteRequestSchema, { namespace, id, expectedVersion: v(expectedVersion) }),
          ctx,
        )
      ).deleted ?? false,
  };
}

/** The document_basic conformance suite: versions, canonical form, merge patches and input rules. */
export function describeDocumentBasicConformance(label: string, factory: PluginFactory): void {
  describe(`document_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let other: PluginHandle;
    let docs: ReturnType<typeof documentBasic>;
    const namespace = uniqueNamespace(label);
    const otherNamespace = uniqueNamespace(`${label}-other`);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(DocumentBasic);
      if (!impl) throw new Error(`${label} does not implement document_basic`);
      docs = documentBasic(impl, namespace);
      other = await factory({ namespace: otherNamespace, limits: CONFORMANCE_LIMITS });
    });
    afterAll(async () => {
      await handle?.close();
      await other?.close();
    });

    it('puts and gets a document: version 1, then +1 per write', async () => {
      expect(await docs.get('d1')).toBeUndefined();
      expect(await docs.put('d1', { a: 1 })).toBe(1);
      expect(await docs.get('d1')).toEqual({ id: 'd1', json: '{"a":1}', version: 1 });
      expect(await docs.put('d1', { a: 2 })).toBe(2);
      expect(await docs.put('d1', { a: 3 })).toBe(3);
      expect(await docs.get('d1')).toEqual({ id: 'd1', json: '{"a":3}', version: 3 });
    });

    it('stores the canonical form: no whitespace, JS numbers, last duplicate wins, member order kept', async () => {
      await docs.put(
        'canon',
        '{ "b" : 1,\n "a" : [1, 2.50, 1e3, -0.0, 1E21, 0.0000001],  "s":"\\u00e9\\n", "b": 2 }',
      );
      expect((await docs.get('canon'))?.json).toBe('{"b":2,"a":[1,2.5,1000,0,1e+21,1e-7],"s":"é\\n"}');
      await docs.put('nested', '{"z":{"y":{"x":[{"w":null}]}},"a":true}');
      expect((await docs.get('nested'))?.json).toBe('{"z":{"y":{"x":[{"w":null}]}},"a":true}');
    });

    it('keeps unicode ids and members, and a member named __proto__, intact', async () => {
      const id = 'ümlaut/😀 id';
      await docs.put(id, '{"__proto__":{"x":1},"ключ":"値","emoji":"😀"}');
      expect(await docs.get(id)).toEqual({
        id,
        json: '{"__proto__":{"x":1},"ключ":"値","emoji":"😀"}',
        version: 1,
      });
      const p = await docs.patch(id, '{"__proto__":{"y":2}}');
      expect(p.json).toBe('{"__proto__":{"x":1,"y":2},"ключ":"値","emoji":"😀"}');
    });

    it('rejects text that is not JSON with the parser position, and JSON that is not an object', async () => {
      const e = await expectCode(() => docs.put('bad', '{"a": 1,}'), Code.InvalidArgument);
      expect(e.rawMessage).toMatch(/json/i);
      expect(e.rawMessage).toMatch(/position|line|column/i);
      await expectCode(() => docs.put('bad', ''), Code.InvalidArgument);
      for (const text of ['[1,2]', '"s"', '5', 'null', 'true']) {
        const err = await expectCode(() => docs.put('bad', text), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/object/);
      }
      expect(await docs.get('bad')).toBeUndefined();
    });

    it('rejects bad ids: empty, too long, control characters', async () => {
      await expectCode(() => docs.put('', {}), Code.InvalidArgument);
      await expectCode(
        () => docs.put('x'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1), {}),
        Code.InvalidArgument,
      );
      await expectCode(() => docs.put('a\nb', {}), Code.InvalidArgument);
      await expectCode(() => docs.get(''), Code.InvalidArgument);
      await expectCode(() => docs.delete('\u0000'), Code.InvalidArgument);
      await expectCode(() => docs.patch('', {}), Code.InvalidArgument);
    });

    it('enforces the size limit on documents and on patch results', async () => {
      const big = 'x'.repeat(CONFORMANCE_LIMITS.maxValueBytes);
      const e = await expectCode(() => docs.put('big', { s: big }), Code.InvalidArgument);
      expect(e.rawMessage).toContain(String(CONFORMANCE_LIMITS.maxValueBytes));
      const half = 'y'.repeat(CONFORMANCE_LIMITS.maxValueBytes / 2 + 16);
      expect(await docs.put('big', { a: half })).toBe(1);
      await expectCode(() => docs.patch('big', { b: half }), Code.InvalidArgument);
      expect((await docs.get('big'))?.version).toBe(1);
      expect(await docs.delete('big')).toBe(true);
    });

    it('checks expected_version: 0 = create only, a mismatch is ABORTED naming both versions', async () => {
      expect(await docs.put('v', { n: 1 }, 0)).toBe(1);
      let e = await expectCode(() => docs.put('v', { n: 2 }, 0), Code.Aborted);
      expect(e.rawMessage).toMatch(/version 1/);
      e = await expectCode(() => docs.put('v', { n: 2 }, 7), Code.Aborted);
      expect(e.rawMessage).toMatch(/7/);
      expect(e.rawMessage).toMatch(/version 1/);
      expect(await docs.put('v', { n: 2 }, 1)).toBe(2);
      await expectCode(() => docs.put('v-missing', { n: 1 }, 3), Code.Aborted);
      expect(await docs.get('v-missing')).toBeUndefined();
      expect(await docs.get('v')).toEqual({ id: 'v', json: '{"n":2}', version: 2 });
    });

    it('patches with RFC 7386 merge semantics: null removes, objects merge, the rest replaces', async () => {
      await docs.put('p', { a: 1, b: { c: 2, d: { e: 3 } }, arr: [1, 2], keep: 'k' });
      const r = await docs.patch('p', {
        a: null,
        b: { d: { f: 4 }, c: null },
        arr: [3],
        n: { x: null, y: 1 },
      });
      expect(r).toEqual({
        id: 'p',
        json: '{"b":{"d":{"e":3,"f":4}},"arr":[3],"keep":"k","n":{"y":1}}',
        version: 2,
      });
      expect(await docs.get('p')).toEqual(r);
      const s = await docs.patch('p', { b: 'scalar' }, 2);
      expect(s.json).toBe('{"b":"scalar","arr":[3],"keep":"k","n":{"y":1}}');
      expect(s.version).toBe(3);
      expect((await docs.patch('p', { b: { again: true } })).json).toBe(
        '{"b":{"again":true},"arr":[3],"keep":"k","n":{"y":1}}',
      );
    });

    it('Patch: NOT_FOUND when missing, INVALID_ARGUMENT for a non-object patch, ABORTED on a version mismatch', async () => {
      await expectCode(() => docs.patch('p-missing', { a: 1 }), Code.NotFound);
      await docs.put('p2', { a: 1 });
      await expectCode(() => docs.patch('p2', '[1]'), Code.InvalidArgument);
      await expectCode(() => docs.patch('p2', 'null'), Code.InvalidArgument);
      await expectCode(() => docs.patch('p2', '{"a":'), Code.InvalidArgument);
      const e = await expectCode(() => docs.patch('p2', { a: 2 }, 5), Code.Aborted);
      expect(e.rawMessage).toMatch(/5/);
      expect(e.rawMessage).toMatch(/version 1/);
      expect(await docs.get('p2')).toEqual({ id: 'p2', json: '{"a":1}', version: 1 });
      expect((await docs.patch('p2', {}, 1)).version).toBe(2);
    });

    it('deletes: deleted=false when missing; expected_version is checked; a new document starts at 1', async () => {
      await docs.put('del', { a: 1 });
      await docs.put('del', { a: 2 });
      await expectCode(() => docs.delete('del', 1), Code.Aborted);
      await expectCode(() => docs.delete('del', 0), Code.Aborted);
      expect(await docs.delete('del', 2)).toBe(true);
      expect(await docs.get('del')).toBeUndefined();
      expect(await docs.delete('del')).toBe(false);
      expect(await docs.delete('del', 0)).toBe(false);
      await expectCode(() => docs.delete('del', 3), Code.Aborted);
      expect(await docs.put('del', { a: 3 })).toBe(1);
    });

    it('keeps namespaces apart', async () => {
      const impl = other.get(DocumentBasic);
      if (!impl) throw new Error(`${label} does not implement document_basic`);
      const elsewhere = documentBasic(impl, otherNamespace);
      await docs.put('shared-id', { here: true });
      expect(await elsewhere.get('shared-id')).toBeUndefined();
      expect(await elsewhere.put('shared-id', { there: true })).toBe(1);
      expect((await docs.get('shared-id'))?.json).toBe('{"here":true}');
      expect(await elsewhere.delete('shared-id')).toBe(true);
      expect(await docs.get('shared-id')).toBeDefined();
    });
  });
}
