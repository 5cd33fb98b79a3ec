import { type Code, ConnectError } from '@connectrpc/connect';

/**
 * The Connect code a call fails with: awaits a unary call, or drains a server stream. Throws when the call
 * succeeds, so a test cannot pass on a call that should have been refused.
 */
export async function codeOf(call: Promise<unknown> | AsyncIterable<unknown>): Promise<Code> {
  try {
    if (Symbol.asyncIterator in call) for await (const _ of call);
    else await call;
  } catch (err) {
    return ConnectError.from(err).code;
  }
  throw new Error('expected the call to fail');
}
