import { describe, expect, it } from '@jest/globals';
import { Recorder } from './recorder.js';
import { failureCode, runLoop } from './scheduler.js';

describe('runLoop, closed loop', () => {
  it('keeps `concurrency` calls in flight and records successes and failures by code', async () => {
    let inflight = 0;
    let maxInflight = 0;
    let calls = 0;
    const op = async () => {
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      await new Promise((r) => setImmediate(r));
      inflight--;
      calls++;
      if (calls % 10 === 0) return 'UNAVAILABLE';
      if (calls % 25 === 0) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return undefined;
    };
    const rec = new Recorder();
    const out = await runLoop(op, rec, { concurrency: 4, durationS: 0.2, warmupS: 0 });
    expect(maxInflight).toBe(4);
    expect(rec.total).toBeGreaterThan(0);
    expect(rec.errors.get('UNAVAILABLE')).toBeGreaterThan(0);
    expect(rec.ok + [...rec.errors.values()].reduce((a, b) => a + b, 0)).toBe(rec.total);
    expect(out.notSent).toBe(0);
  });

  it('forgets what happened during warmup', async () => {
    let calls = 0;
    const rec = new Recorder();
    await runLoop(async () => (++calls <= 1 ? 'INTERNAL' : undefined), rec, {
      concurrency: 1,
      durationS: 0.1,
      warmupS: 0.1,
    });
    expect(rec.errors.size).toBe(0);
    expect(rec.ok).toBeLessThan(calls);
  });

  it('rejects a concurrency below 1', async () => {
    await expect(
      runLoop(async () => undefined, new Recorder(), { concurrency: 0, durationS: 0.1, warmupS: 0 }),
    ).rejects.toThrow(/concurrency/);
  });
});

describe('runLoop, open loop', () => {
  it('sends at the given rate and never more than the cap in flight', async () => {
    let inflight = 0;
    let maxInflight = 0;
    const rec = new Recorder();
    await runLoop(
      async () => {
        inflight++;
        maxInflight = Math.max(maxInflight, inflight);
        await new Promise((r) => setTimeout(r, 5));
        inflight--;
        return undefined;
      },
      rec,
      { concurrency: 3, durationS: 0.3, warmupS: 0, rps: 200 },
    );
    expect(maxInflight).toBeLessThanOrEqual(3);
    expect(rec.ok).toBeGreaterThan(0);
  });

  it('measures latency from the intended send time: a stalled target shows up in the percentiles', async () => {
    // The first call stalls until the run is over; every later call is due meanwhile but cannot be sent
    // (cap 1). Its latency counts from when it was DUE, so it is at least the whole run.
    let release: () => void = () => {};
    let first = true;
    const rec = new Recorder();
    const started = performance.now();
    const run = runLoop(
      () => {
        if (!first) return Promise.resolve(undefined);
        first = false;
        return new Promise<undefined>((r) => {
          release = () => r(undefined);
        });
      },
      rec,
      { concurrency: 1, durationS: 0.2, warmupS: 0, rps: 100 },
    );
    await new Promise((r) => setTimeout(r, 250));
    const stalledFor = performance.now() - started;
    release();
    const out = await run;
    expect(rec.ok).toBe(1);
    expect(out.notSent).toBeGreaterThan(0);
    expect(rec.histogram.summary().max).toBeGreaterThanOrEqual(stalledFor * 0.9);
  });
});

describe('failureCode', () => {
  it('uses an error code when there is one, TRANSPORT otherwise', () => {
    expect(failureCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(failureCode(new Error('x'))).toBe('TRANSPORT');
    expect(failureCode(undefined)).toBe('TRANSPORT');
  });
});
