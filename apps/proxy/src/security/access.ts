import { Code, ConnectError } from '@connectrpc/connect';
import type { AccessRule } from '@prism/config';
import { type Middleware, type Permission, type Principal, permissionOf } from '@prism/sdk';
import type { NamespaceTable } from '../namespaces.js';
import { ANONYMOUS } from './authenticate.js';

/** Who holds one permission, as sets (checking a call is a few lookups). */
interface Holders {
  any: boolean;
  anonymous: boolean;
  subjects: Set<string>;
  groups: Set<string>;
}

type Compiled = Readonly<Record<Permission, Holders>>;

const holders = (): Holders => ({ any: false, anonymous: false, subjects: new Set(), groups: new Set() });

/** `admin` includes `read` and `write`. */
const GRANTS: Readonly<Record<Permission, readonly Permission[]>> = {
  read: ['read'],
  write: ['write'],
  admin: ['admin', 'read', 'write'],
};

function compile(rules: readonly AccessRule[]): Compiled {
  const out: Compiled = { read: holders(), write: holders(), admin: holders() };
  for (const rule of rules)
    for (const granted of rule.permissions)
      for (const p of GRANTS[granted]) {
        const h = out[p];
        for (const who of rule.principals) {
          if (who === '*') h.any = true;
          else if (who === 'anonymous') h.anonymous = true;
          else if (who.startsWith('group:')) h.groups.add(who.slice(6));
          else h.subjects.add(who.startsWith('sub:') ? who.slice(4) : who); // spiffe://… is a subject
        }
      }
  return out;
}

function holds(h: Holders, p: Principal): boolean {
  if (p === ANONYMOUS || p.provider === 'anonymous') return h.anonymous;
  if (h.any || h.subjects.has(p.subject)) return true;
  for (const g of p.groups) if (h.groups.has(g)) return true;
  return false;
}

/**
 * Access rules of the proxy (`proxy.access`, for every namespace) and of each namespace (`access:`).
 * Without a grant, a call is denied: default deny.
 */
export class AccessPolicy {
  private readonly proxy: Compiled;
  // Keyed by the rules array, so a reload (new NamespaceConfig) compiles its rules once.
  private readonly compiled = new WeakMap<readonly AccessRule[], Compiled>();

  constructor(proxyRules: readonly AccessRule[]) {
    this.proxy = compile(proxyRules);
  }

  /** True when `principal` holds `permission` on the proxy surface (`proxy.access`). */
  allowsProxy(principal: Principal, permission: Permission): boolean {
    return holds(this.proxy[permission], principal);
  }

  /** True when `principal` holds `permission` on a namespace with `rules` (absent: unknown namespace). */
  allows(rules: readonly AccessRule[] | undefined, principal: Principal, permission: Permission): boolean {
    if (this.allowsProxy(principal, permission)) return true;
    if (!rules?.length) return false;
    let c = this.compiled.get(rules);
    if (!c) {
      c = compile(rules);
      this.compiled.set(rules, c);
    }
    return holds(c[permission], principal);
  }
}

/**
 * The authorization middleware: the method's permission (classified in its contract package) must be
 * granted on the namespace. An unknown namespace has no grants, so a caller without access gets the same
 * PERMISSION_DENIED for it as for a forbidden one: namespace names do not leak. Callers with the
 * permission through `proxy.access` learn that it does not exist (NOT_FOUND, from the router).
 */
export function authorize(policy: AccessPolicy, table: NamespaceTable): Middleware {
  return (next) => (call) => {
    const principal = call.principal;
    if (principal === undefined)
      throw new ConnectError('no principal: authentication did not run', Code.Internal);
    // No namespace: the router answers INVALID_ARGUMENT, which reveals nothing.
    if (call.namespace === '') return next(call);
    const permission = permissionOf(call.definition, call.method);
    if (!policy.allows(table.get(call.namespace)?.config.access, principal, permission))
      throw new ConnectError(
        `${describe(principal)} has no ${permission} permission on namespace "${call.namespace}" (${call.procedure})`,
        Code.PermissionDenied,
      );
    return next(call);
  };
}

/** How a principal is named in errors and logs. */
export function describe(p: Principal): string {
  return p.provider === 'anonymous'
    ? 'an anonymous caller'
    : `principal "${p.subject}" (provider ${p.provider})`;
}
