import type {
  DescMethod,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from '@bufbuild/protobuf';
import type { CallContext } from './call.js';
import type { Limits } from './limits.js';

/** The TypeScript shape of one RPC, derived from its protobuf descriptor. */
export type MethodImpl<M extends DescMethod> =
  M extends DescMethodUnary<infer I, infer O>
    ? (request: MessageShape<I>, ctx: CallContext) => Promise<MessageInitShape<O>> | MessageInitShape<O>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageShape<I>, ctx: CallContext) => AsyncIterable<MessageInitShape<O>>
      : never;

/** The contract an adapter implements for one interface flavour: one function per RPC of the service. */
export type InterfaceImpl<S extends DescService> = {
  [K in keyof S['method']]: MethodImpl<S['method'][K]>;
};

/** Request shape of one RPC of a service. */
export type RequestOf<S extends DescService, K extends keyof S['method']> = S['method'][K] extends {
  input: infer I extends DescMethod['input'];
}
  ? MessageShape<I>
  : never;

/** Input checks run before the adapter sees a request; they throw INVALID_ARGUMENT. */
export type Validators<S extends DescService> = {
  [K in keyof S['method']]?: (request: RequestOf<S, K>, limits: Limits) => void;
};

/**
 * The permission a method needs: `read` leaves the namespace's data as it is (Get, Scan, Subscribe,
 * Receive, Read), `write` changes it (Set, Delete, Publish, Enqueue, Ack, Append, Transact), `admin`
 * changes how the namespace behaves for everyone (e.g. ConfigureDeadLetter). `admin` implies both others.
 */
export type Permission = 'read' | 'write' | 'admin';

/** Every method of a service with the permission it needs; a missing method is a compile error. */
export type AccessMap<S extends DescService> = { readonly [K in keyof S['method']]: Permission };

/** One interface flavour: its generated service and the input rules every implementation shares. */
export interface InterfaceDefinition<S extends DescService = DescService> {
  /** Short flavour name as used in YAML `needs` and docs, e.g. `keyvalue_basic`. */
  readonly name: string;
  /** The generated service descriptor. */
  readonly service: S;
  /** The permission each method needs (method local name → permission). */
  readonly access: AccessMap<S>;
  /** Input validation shared by every implementation. */
  readonly validate: Validators<S>;
}

/**
 * Declares an interface flavour (done once, in its contract package): the service, the permission
 * each method needs, and the input checks every implementation shares.
 */
export function defineInterface<S extends DescService>(
  name: string,
  service: S,
  access: AccessMap<S>,
  validate: Validators<S> = {},
): InterfaceDefinition<S> {
  for (const method of service.methods)
    if (!(method.localName in access))
      throw new Error(
        `defineInterface(${name}): method ${method.name} has no permission (read, write or admin)`,
      );
  return Object.freeze({ name, service, access: Object.freeze({ ...access }), validate });
}

/** The permission `method` of `iface` needs (methods of a definition built without one: `admin`). */
export function permissionOf(iface: InterfaceDefinition, method: DescMethod): Permission {
  return (iface.access as Readonly<Record<string, Permission>>)[method.localName] ?? 'admin';
}

/** A type-erased implementation: method local name → function. Used by routers and transports. */
export type AnyImpl = Readonly<Record<string, (request: never, ctx: CallContext) => unknown>>;

/** An implementation bound to its interface; built with {@link implement}. */
export interface Binding {
  readonly iface: InterfaceDefinition;
  readonly impl: AnyImpl;
}

/** Binds an implementation to an interface flavour, type-checking it against the generated service. */
export function implement<S extends DescService>(
  iface: InterfaceDefinition<S>,
  impl: InterfaceImpl<S>,
): Binding {
  return { iface: iface as unknown as InterfaceDefinition, impl: impl as unknown as AnyImpl };
}
