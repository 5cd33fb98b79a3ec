import { describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { type AccessMap, defineInterface, permissionOf } from './interface.js';

describe('defineInterface', () => {
  it('keeps the permission of every method', () => {
    const kv = defineInterface('keyvalue_basic', KeyValueBasicInterface, {
      set: 'write',
      get: 'read',
      delete: 'write',
      exists: 'read',
    });
    expect(permissionOf(kv, KeyValueBasicInterface.method.get)).toBe('read');
    expect(permissionOf(kv, KeyValueBasicInterface.method.set)).toBe('write');
  });

  it('refuses a flavour that leaves a method unclassified (the type already does; this catches casts)', () => {
    const partial = { set: 'write', get: 'read' } as unknown as AccessMap<typeof KeyValueBasicInterface>;
    expect(() => defineInterface('keyvalue_basic', KeyValueBasicInterface, partial)).toThrow(
      'defineInterface(keyvalue_basic): method Delete has no permission (read, write or admin)',
    );
  });
});
