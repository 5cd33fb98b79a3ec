import { toConnectError } from '../errors.js';
import { isPromise, type Middleware } from '../pipeline.js';

/**
 * Maps anything an implementation throws (sync, rejected, or mid-stream) to a ConnectError with
 * `where` in its message (see `toConnectError`). Streams stay lazy: nothing runs before the first read.
 */
export function errorMapping(where: string): Middleware {
  const fail = (err: unknown): never => {
    throw toConnectError(err, where);
  };
  return (next) => (call) => {
    if (call.kind === 'server_streaming')
      return (async function* () {
        try {
          yield* (await next(call)) as AsyncIterable<unknown>;
        } catch (err) {
          fail(err);
        }
      })();
    let out: unknown;
    try {
      out = next(call);
    } catch (err) {
      return fail(err);
    }
    return isPromise(out) ? Promise.resolve(out).catch(fail) : out;
  };
}
