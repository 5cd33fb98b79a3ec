import {
  type AnyImpl,
  type Call,
  type InterfaceDefinition,
  invalidArgument,
  type Next,
  notFound,
  unimplemented,
} from '@prism/sdk';
import { describeServices, type NamespaceRuntime, type NamespaceTable } from './namespaces.js';

type Method = (request: unknown, ctx: Call) => unknown;

/** The runtime and implementation serving `iface` for a namespace, or the Connect error a caller should get. */
export function resolve(
  table: NamespaceTable,
  iface: InterfaceDefinition,
  namespace: string,
): { runtime: NamespaceRuntime; impl: AnyImpl } {
  const runtime = table.get(namespace);
  if (!runtime) {
    if (namespace === '')
      throw invalidArgument('namespace is required: set the "namespace" field of the request');
    throw notFound(`namespace "${namespace}" is not configured on this proxy`);
  }
  const impl = runtime.handle.interfaces.get(iface.service.typeName);
  if (!impl)
    throw unimplemented(
      `namespace "${namespace}" is served by backend "${runtime.backendType}", which does not implement ${iface.name} (${iface.service.typeName}); it implements: ${describeServices(runtime.handle.interfaces)}`,
    );
  return { runtime, impl };
}

/**
 * The pipeline's terminal: resolves the call's namespace to its runtime and calls the implementation,
 * counting the call on that runtime so a reload can drain it. The router never knows which backend or
 * deployment mode answers. Resolution runs last, after every middleware (authentication first), so a
 * caller learns nothing about which namespaces exist before it is allowed to.
 */
export function createRouter(table: NamespaceTable): Next {
  return (call) => {
    const { runtime, impl } = resolve(table, call.definition, call.namespace);
    const fn = impl[call.method.localName] as unknown as Method;
    runtime.inflight.enter();
    call.onEnd(() => runtime.inflight.leave());
    return fn(call.request, call);
  };
}
