/** Options for {@link retry} and {@link backoffDelay}. */
export interface RetryOptions {
  /** Attempts after the first one. Default 5. */
  readonly retries?: number;
  /** First delay in ms. Default 50. */
  readonly minDelayMs?: number;
  /** Cap on one delay in ms. Default 5000. */
  readonly maxDelayMs?: number;
  /** Growth factor per attempt. Default 2. */
  readonly factor?: number;
  /** Decides whether an error is worth another attempt. Default: always. */
  readonly retryOn?: (err: unknown) => boolean;
  /** Stops waiting and rethrows when aborted. */
  readonly signal?: AbortSignal;
}

/** Delay before retry number `attempt` (0-based): exponential growth with full jitter, capped. */
export function backoffDelay(attempt: number, opts: RetryOptions = {}): number {
  const min = opts.minDelayMs ?? 50;
  const max = opts.maxDelayMs ?? 5000;
  const ceiling = Math.min(max, min * (opts.factor ?? 2) ** attempt);
  return Math.round(min / 2 + Math.random() * (ceiling - min / 2));
}

/** Resolves after `ms`, or rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `fn` until it succeeds, waiting with exponential backoff between attempts. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= retries || (opts.retryOn && !opts.retryOn(err))) throw err;
      await sleep(backoffDelay(attempt, opts), opts.signal);
    }
  }
}
