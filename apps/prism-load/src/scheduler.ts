import type { ProgressSample, Recorder } from './recorder.js';
import { startTicker } from './ticker.js';

/**
 * One operation against the target. Resolves undefined on success or with a status code name on failure
 * (e.g. `NOT_FOUND`); a rejection counts as a transport failure.
 */
export type Op = () => Promise<string | undefined>;

/** How long and how hard to drive an {@link Op}. */
export interface LoopOptions {
  /** Closed loop: workers each keeping one call in flight. Open loop: the cap on calls in flight. */
  readonly concurrency: number;
  readonly durationS: number;
  /** Seconds run first and then forgotten (JIT, connection setup, caches). */
  readonly warmupS: number;
  /** Open loop at this fixed rate (calls per second); omitted = closed loop. */
  readonly rps?: number;
  /** Called about once a second with live figures. */
  readonly onProgress?: (sample: ProgressSample) => void;
}

/** What a loop did besides what the recorder holds. */
export interface LoopOutcome {
  /** Measured seconds (after warmup). */
  readonly durationS: number;
  /** Open loop only: calls that were due but never sent because the target fell behind. */
  readonly notSent: number;
}

/** Maps a rejected operation to a status code name. */
export function failureCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code : 'TRANSPORT';
}

const now = () => performance.now();

/** Runs `op` closed- or open-loop for warmup + duration, recording into `rec`. */
export async function runLoop(op: Op, rec: Recorder, opts: LoopOptions): Promise<LoopOutcome> {
  if (opts.concurrency < 1) throw new Error('concurrency must be at least 1');
  const start = now();
  const warmupEnd = start + opts.warmupS * 1000;
  const end = warmupEnd + opts.durationS * 1000;
  let warm = false;
  // Checked inline (not on a timer) so even an op that never yields to the event loop ends its warmup.
  const clock = (): number => {
    const t = now();
    if (!warm && t >= warmupEnd) {
      warm = true;
      rec.reset();
    }
    return t;
  };
  clock();
  const progress = opts.onProgress
    ? setInterval(() => {
        if (warm) opts.onProgress?.(rec.sample());
      }, 1000)
    : undefined;
  try {
    const notSent =
      opts.rps === undefined
        ? await closedLoop(op, rec, opts.concurrency, end, clock)
        : await openLoop(op, rec, opts, end, clock);
    return { durationS: rec.elapsedS(), notSent };
  } finally {
    clearInterval(progress);
  }
}

/** `concurrency` workers, each sending its next call when the previous one finished. */
async function closedLoop(
  op: Op,
  rec: Recorder,
  concurrency: number,
  end: number,
  clock: () => number,
): Promise<number> {
  const worker = async () => {
    let n = 0;
    for (let t0 = clock(); t0 < end; ) {
      let code: string | undefined;
      try {
        code = await op();
      } catch (err) {
        code = failureCode(err);
      }
      const t1 = clock();
      if (code === undefined) rec.success(t1 - t0);
      else rec.failure(code);
      // In-process ops resolve without I/O: yield now and then so timers (progress) still run.
      if ((++n & 1023) === 0) {
        await new Promise((r) => setImmediate(r));
        t0 = clock();
      } else t0 = t1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return 0;
}

/**
 * Calls are due at fixed intervals whatever the target does; each latency is measured from the time
 * the call was DUE, not sent, so a stalled target shows up in the percentiles (no coordinated omission).
 */
function openLoop(
  op: Op,
  rec: Recorder,
  opts: LoopOptions,
  end: number,
  clock: () => number,
): Promise<number> {
  const interval = 1000 / (opts.rps as number);
  if (!(interval > 0) || !Number.isFinite(interval)) throw new Error('rps must be a positive number');
  const due: number[] = [];
  let head = 0;
  let inflight = 0;
  let next = now();
  let stopped = false;
  return new Promise<number>((resolve) => {
    const finishIfDone = () => {
      if (stopped && inflight === 0) resolve(due.length - head);
    };
    const completed = (intended: number, code: string | undefined) => {
      inflight--;
      if (code === undefined) rec.success(clock() - intended);
      else rec.failure(code);
      dispatch();
      finishIfDone();
    };
    const fire = (intended: number) => {
      inflight++;
      rec.sendLag.recordMs(now() - intended);
      let p: Promise<string | undefined>;
      try {
        p = op();
      } catch (err) {
        p = Promise.resolve(failureCode(err));
      }
      p.then(
        (code) => completed(intended, code),
        (err: unknown) => completed(intended, failureCode(err)),
      );
    };
    const dispatch = () => {
      if (stopped) return; // calls still queued at the end are reported as not sent
      while (inflight < opts.concurrency && head < due.length) fire(due[head++] as number);
      if (head > 4096 && head * 2 > due.length) {
        due.splice(0, head);
        head = 0;
      }
    };
    // Woken by a precise ticker thread (at least every 0.25 ms, or per call at lower rates).
    const ticker = startTicker(Math.min(interval, 0.25), () => tick());
    const tick = () => {
      if (stopped) return;
      const t = clock();
      while (next <= t && next < end) {
        due.push(next);
        next += interval;
      }
      dispatch();
      if (next >= end) {
        stopped = true;
        ticker.stop();
      }
      finishIfDone();
    };
    tick();
  });
}
