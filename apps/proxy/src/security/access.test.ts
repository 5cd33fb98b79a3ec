import { describe, expect, it } from '@jest/globals';
import type { AccessRule } from '@prism/config';
import type { Principal } from '@prism/sdk';
import { AccessPolicy } from './access.js';
import { ANONYMOUS } from './authenticate.js';

const who = (subject: string, groups: string[] = [], provider = 'jwt'): Principal => ({
  subject,
  groups,
  provider,
});
const rules: AccessRule[] = [
  { principals: ['group:readers', 'sub:carol'], permissions: ['read'] },
  { principals: ['sub:writer'], permissions: ['write'] },
  { principals: ['spiffe://prism.test/ops'], permissions: ['admin'] },
];

describe('AccessPolicy', () => {
  const policy = new AccessPolicy([]);

  it('grants by subject, group and SPIFFE id; admin implies read and write', () => {
    expect(policy.allows(rules, who('x', ['readers']), 'read')).toBe(true);
    expect(policy.allows(rules, who('carol'), 'read')).toBe(true);
    expect(policy.allows(rules, who('x', ['readers']), 'write')).toBe(false);
    expect(policy.allows(rules, who('writer'), 'write')).toBe(true);
    expect(policy.allows(rules, who('writer'), 'read')).toBe(false); // write does not imply read
    const ops = who('spiffe://prism.test/ops', [], 'certs');
    for (const p of ['read', 'write', 'admin'] as const) expect(policy.allows(rules, ops, p)).toBe(true);
  });

  it('denies by default: no rules, an unknown namespace, a stranger', () => {
    expect(policy.allows([], who('carol'), 'read')).toBe(false);
    expect(policy.allows(undefined, who('carol'), 'read')).toBe(false);
    expect(policy.allows(rules, who('mallory', ['writers']), 'read')).toBe(false);
  });

  it('"*" is any authenticated caller, never the anonymous one; "anonymous" is only that', () => {
    const open: AccessRule[] = [{ principals: ['*'], permissions: ['read'] }];
    expect(policy.allows(open, who('anyone'), 'read')).toBe(true);
    expect(policy.allows(open, ANONYMOUS, 'read')).toBe(false);
    const anon: AccessRule[] = [{ principals: ['anonymous'], permissions: ['read'] }];
    expect(policy.allows(anon, ANONYMOUS, 'read')).toBe(true);
    expect(policy.allows(anon, who('anyone'), 'read')).toBe(false);
  });

  it('proxy.access rules apply to every namespace, unknown ones included', () => {
    const global = new AccessPolicy([{ principals: ['group:sre'], permissions: ['admin'] }]);
    expect(global.allows(undefined, who('s', ['sre']), 'write')).toBe(true);
    expect(global.allowsProxy(who('s', ['sre']), 'admin')).toBe(true);
    expect(global.allowsProxy(who('carol'), 'admin')).toBe(false);
  });
});
