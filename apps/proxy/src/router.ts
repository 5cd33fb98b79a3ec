import type { DescService } from '@bufbuild/protobuf';
import type { ConnectRouter, ServiceImpl } from '@connectrpc/connect';
import {
  type AnyImpl,
  type CallContext,
  type InterfaceDefinition,
  invalidArgument,
  notFound,
  unimplemented,
} from '@prism/sdk';
import { describeServices, type NamespaceTable } from './namespaces.js';

type Method = (request: { namespace: string }, ctx: CallContext) => unknown;

/** Counts open server streams so a drain can tell unary calls (waited for) from subscriptions (ended). */
export class StreamCounter {
  active = 0;
}

/** The implementation serving `iface` for a namespace, or the Connect error a caller should get. */
export function resolve(table: NamespaceTable, iface: InterfaceDefinition, namespace: string): AnyImpl {
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
  return impl;
}

/**
 * Mounts every interface service once. Each method resolves the request's namespace to its runtime
 * and forwards the call; the router never knows which backend or deployment mode answers.
 */
export function mountInterfaces(
  router: ConnectRouter,
  table: NamespaceTable,
  interfaces: readonly InterfaceDefinition[],
  streams: StreamCounter,
): void {
  for (const iface of interfaces) {
    const impl: Record<string, Method> = {};
    for (const method of iface.service.methods) {
      const name = method.localName;
      if (method.methodKind === 'server_streaming') {
        impl[name] = async function* (request, ctx) {
          const target = resolve(table, iface, request.namespace)[name] as unknown as Method;
          streams.active++;
          try {
            yield* target(request, ctx) as AsyncIterable<unknown>;
          } finally {
            streams.active--;
          }
        } as Method;
      } else {
        impl[name] = (request, ctx) =>
          (resolve(table, iface, request.namespace)[name] as unknown as Method)(request, ctx);
      }
    }
    router.service(iface.service, impl as unknown as ServiceImpl<DescService>);
  }
}
