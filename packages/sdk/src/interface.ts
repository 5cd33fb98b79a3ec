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

/** One interface flavour: its generated service and the input rules every implementation shares. */
export interface InterfaceDefinition<S extends DescService = DescService> {
  /** Short flavour name as used in YAML `needs` and docs, e.g. `keyvalue_basic`. */
  readonly name: string;
  /** The generated service descriptor. */
  readonly service: S;
  /** Input validation shared by every implementation. */
  readonly validate: Validators<S>;
}

/** Declares an interface flavour (done once, in its contract package). */
export function defineInterface<S extends DescService>(
  name: string,
  service: S,
  validate: Validators<S> = {},
): InterfaceDefinition<S> {
  return Object.freeze({ name, service, validate });
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
