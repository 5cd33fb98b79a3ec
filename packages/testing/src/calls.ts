/** The context an adapter's implementation receives, without a client deadline. */
export function noDeadline(): { signal: AbortSignal } {
  return { signal: new AbortController().signal };
}

/** The same with a client deadline `ms` from now. */
export function deadlineIn(ms: number): { signal: AbortSignal; deadline: number } {
  return { signal: new AbortController().signal, deadline: Date.now() + ms };
}

/** How a call ended: 'ok' or its Connect code (a number, as `Code` of @connectrpc/connect), when, and why. */
export interface CallOutcome {
  readonly code: number | 'ok';
  readonly ms: number;
  readonly message: string;
}

/** Runs `fn` and reports how it ended and how long it took (errors without a Connect code count as UNKNOWN, 2). */
export async function callOutcome(fn: () => unknown): Promise<CallOutcome> {
  const t0 = Date.now();
  try {
    await fn();
    return { code: 'ok', ms: Date.now() - t0, message: '' };
  } catch (err) {
    const e = err as { code?: unknown; rawMessage?: unknown; message?: unknown };
    return {
      code: typeof e.code === 'number' ? e.code : 2,
      ms: Date.now() - t0,
      message: String(e.rawMessage ?? e.message ?? err),
    };
  }
}
