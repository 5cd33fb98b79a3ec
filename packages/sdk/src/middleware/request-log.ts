import { Code } from '@connectrpc/connect';
import { codeName } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Middleware } from '../pipeline.js';
import { traceFields } from './tracing.js';

/** Codes that point at the server or a backend rather than at the caller. */
const SERVER_SIDE = new Set([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unavailable]);

/**
 * Logs each call's outcome with its request id and trace ids: server-side failures at warn, every call at
 * debug (only when debug is on: the check is one comparison).
 */
export function requestLog(logger: Logger): Middleware {
  return (next) => (call) => {
    const debug = logger.isLevelEnabled('debug');
    const t0 = performance.now();
    call.onEnd((err) => {
      if (!debug && !(err && SERVER_SIDE.has(err.code))) return;
      const fields = {
        request_id: call.requestId,
        ...traceFields(call),
        namespace: call.namespace,
        procedure: call.procedure,
        code: codeName(err?.code),
        duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
        ...(call.peer ? { peer: call.peer } : {}),
      };
      if (err && SERVER_SIDE.has(err.code)) logger.warn({ ...fields, err: err.rawMessage }, 'call failed');
      else logger.debug(fields, 'call');
    });
    return next(call);
  };
}
