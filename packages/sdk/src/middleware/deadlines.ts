import { Code, ConnectError } from '@connectrpc/connect';
import type { Call } from '../call.js';
import { isPromise, type Middleware } from '../pipeline.js';

/** The error of a call whose deadline passed. */
function deadlineError(call: Call): ConnectError {
  const err = call.goneReason();
  return err.code === Code.DeadlineExceeded
    ? err
    : new ConnectError(
        `deadline exceeded: ${call.procedure} on namespace "${call.namespace}"`,
        Code.DeadlineExceeded,
      );
}

/**
 * Enforces `call.deadline`: at the deadline the call is aborted (the implementation's signal fires) and a
 * unary call answers DEADLINE_EXCEEDED at once, whether or not the backend has answered yet.
 */
export const deadlines: Middleware = (next) => (call) => {
  const deadline = call.deadline;
  if (deadline === undefined) return next(call);
  const remaining = deadline - Date.now();
  if (remaining <= 0) {
    const err = deadlineError(call);
    call.abort(err);
    throw err;
  }
  if (call.kind !== 'unary') {
    const timer = setTimeout(() => call.abort(deadlineError(call)), remaining);
    call.onEnd(() => clearTimeout(timer));
    return next(call);
  }
  const out = next(call);
  if (!isPromise(out)) return out;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = deadlineError(call);
      call.abort(err);
      reject(err);
    }, remaining);
    out.then(
      (res) => {
        clearTimeout(timer);
        resolve(res);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
};
