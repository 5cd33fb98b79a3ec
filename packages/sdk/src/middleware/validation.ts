import type { Call } from '../call.js';
import type { Limits } from '../limits.js';
import type { Middleware } from '../pipeline.js';

type Validator = (request: unknown, limits: Limits) => void;

/** Runs the interface's input checks (see `defineInterface`) before the implementation sees a request. */
export function validation(limits: Limits | ((call: Call) => Limits)): Middleware {
  const limitsOf = typeof limits === 'function' ? limits : () => limits;
  return (next) => (call) => {
    const validate = (call.definition.validate as Record<string, Validator | undefined>)[
      call.method.localName
    ];
    validate?.(call.request, limitsOf(call));
    return next(call);
  };
}
