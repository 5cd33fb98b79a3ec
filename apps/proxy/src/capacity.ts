import { Code, ConnectError } from '@connectrpc/connect';
import type { Middleware } from '@prism/sdk';

/**
 * Caps the server streams (subscriptions, scans) open in this proxy process at once
 * (`proxy.connections.max_open_streams`): one more gets RESOURCE_EXHAUSTED, so many clients
 * subscribing cannot take the memory that every open stream holds.
 */
export function streamCap(max: number): Middleware {
  let open = 0;
  return (next) => (call) => {
    if (call.kind !== 'server_streaming') return next(call);
    if (open >= max)
      throw new ConnectError(
        `the proxy has its limit of ${max} open streams (proxy.connections.max_open_streams); retry shortly or on another replica`,
        Code.ResourceExhausted,
        { 'retry-after': '1' },
      );
    open++;
    call.onEnd(() => open--);
    return next(call);
  };
}
