import { describe, expect, it } from '@jest/globals';
import { TokenBucket } from './limits.js';

describe('TokenBucket', () => {
  it('grants a burst, then one token per 1/rate seconds, and says how long to wait', () => {
    const b = new TokenBucket(50, 5, 0);
    for (let i = 0; i < 5; i++) expect(b.take(0)).toBe(0);
    expect(b.take(0)).toBe(20); // 1 token at 50/s takes 20 ms
    expect(b.take(10)).toBe(10);
    expect(b.take(20)).toBe(0);
    expect(b.take(20)).toBe(20);
  });

  it('never holds more than the burst, however long it idles', () => {
    const b = new TokenBucket(10, 2, 0);
    expect(b.full(0)).toBe(true);
    b.take(0);
    expect(b.full(0)).toBe(false);
    expect(b.full(100)).toBe(true);
    expect([b.take(60_000), b.take(60_000), b.take(60_000)]).toEqual([0, 0, 100]);
  });

  it('admits requests_per_second over a second of steady load', () => {
    const b = new TokenBucket(50, 50, 0);
    let ok = 0;
    for (let t = 0; t < 1000; t += 5) if (b.take(t) === 0) ok++; // 200 req/s
    expect(ok).toBeGreaterThanOrEqual(50 + 49);
    expect(ok).toBeLessThanOrEqual(50 + 50);
  });
});
