import type { DescMethod, DescService } from '@bufbuild/protobuf';
import {
  type ConnectRouter,
  createContextKey,
  type HandlerContext,
  type ServiceImpl,
} from '@connectrpc/connect';
import { Call } from '../call.js';
import type { InterfaceDefinition } from '../interface.js';
import type { Pipeline } from '../pipeline.js';
import type { ClientCertificate } from './client-certificate.js';

/** The caller's address, set by `connectNodeAdapter({ contextValues })` so connect-node calls know their peer. */
export const PEER_ADDRESS = createContextKey<string | undefined>(undefined, { description: 'peer address' });

/** The caller's TLS client certificate, set like {@link PEER_ADDRESS} (see `clientCertificateOf`). */
export const CLIENT_CERTIFICATE = createContextKey<ClientCertificate | undefined>(undefined, {
  description: 'client certificate',
});

/** A {@link Call} for a call that connect-node decoded (its deadline and cancellation carried over). */
export function callFromHandler(
  definition: InterfaceDefinition,
  method: DescMethod,
  request: { namespace?: string },
  ctx: HandlerContext,
): Call {
  const timeoutMs = ctx.timeoutMs();
  return new Call({
    namespace: request.namespace ?? '',
    definition,
    method,
    request,
    deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
    headers: ctx.requestHeader,
    peer: ctx.values.get(PEER_ADDRESS),
    clientCert: ctx.values.get(CLIENT_CERTIFICATE),
    parent: ctx,
  });
}

/**
 * Mounts every method of `interfaces` on a connect-node router so that each call (JSON, compressed,
 * streaming: whatever the unary fast path leaves) runs through `pipeline`.
 */
export function mountPipeline(
  router: ConnectRouter,
  interfaces: readonly InterfaceDefinition[],
  pipeline: Pipeline,
): void {
  type Handler = (request: { namespace?: string }, ctx: HandlerContext) => unknown;
  for (const definition of interfaces) {
    const impl: Record<string, Handler> = {};
    for (const method of definition.service.methods as readonly DescMethod[]) {
      impl[method.localName] =
        method.methodKind === 'server_streaming'
          ? (request, ctx) => pipeline.stream(callFromHandler(definition, method, request, ctx))
          : (request, ctx) => pipeline.unary(callFromHandler(definition, method, request, ctx));
    }
    router.service(definition.service, impl as unknown as ServiceImpl<DescService>);
  }
}
