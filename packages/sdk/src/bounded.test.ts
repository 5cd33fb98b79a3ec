import { describe, expect, it } from '@jest/globals';
import { BackendTimeouts, type StallInfo } from './bounded.js';
import { Code, ConnectError } from './errors.js';

const never = () => new Promise<never>(() => {});
const later = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms));

async function failure(p: Promise<unknown>): Promise<{ err: ConnectError; ms: number }> {
  const t0 = Date.now();
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  return { err: err as ConnectError, ms: Date.now() - t0 };
}

describe('BackendTimeouts', () => {
  it('passes answers and errors through untouched', async () => {
    const b = new BackendTimeouts({ where: 'test backend', timeoutMs: 1000 });
    await expect(b.run(Promise.resolve(7))).resolves.toBe(7);
    const boom = new Error('boom');
    await expect(b.run(Promise.reject(boom))).rejects.toBe(boom);
    expect(b.size).toBe(0);
  });

  it('fails a hung operation with UNAVAILABLE at the adapter timeout, naming backend and setting', async () => {
    const stalls: StallInfo[] = [];
    const b = new BackendTimeouts({
      where: 'redis backend of namespace "ns"',
      timeoutMs: 100,
      setting: 'command_timeout_ms',
      onTimeout: (i) => stalls.push(i),
    });
    const { err, ms } = await failure(b.run(never()));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(
      /redis backend of namespace "ns" did not answer within 100 ms \(command_timeout_ms\)/,
    );
    expect(ms).toBeGreaterThanOrEqual(95);
    expect(ms).toBeLessThan(400);
    expect(stalls).toEqual([{ expired: 1, wedged: true }]);
    expect(b.size).toBe(0);
  });

  it('fails with DEADLINE_EXCEEDED at an earlier client deadline, and at once when it has passed', async () => {
    const stalls: StallInfo[] = [];
    const b = new BackendTimeouts({ where: 'pg', timeoutMs: 5000, onTimeout: (i) => stalls.push(i) });
    const { err, ms } = await failure(b.run(never(), { deadline: Date.now() + 120 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(ms).toBeGreaterThanOrEqual(110);
    expect(ms).toBeLessThan(500);
    const past = await failure(b.run(never(), { deadline: Date.now() - 1 }));
    expect(past.err.code).toBe(Code.DeadlineExceeded);
    expect(past.ms).toBeLessThan(20);
    // The client's deadline says nothing about the backend: no recycle hint.
    expect(stalls).toEqual([]);
  });

  it('uses the adapter timeout when the client deadline is later, and extraMs for blocking operations', async () => {
    const b = new BackendTimeouts({ where: 'x', timeoutMs: 80 });
    const late = await failure(b.run(never(), { deadline: Date.now() + 10_000 }));
    expect(late.err.code).toBe(Code.Unavailable);
    expect(late.ms).toBeLessThan(400);
    const t0 = Date.now();
    await expect(b.run(later(150, 'ok'), undefined, { extraMs: 200 })).resolves.toBe('ok');
    const blocked = await failure(b.run(never(), undefined, { extraMs: 100 }));
    expect(blocked.err.code).toBe(Code.Unavailable);
    expect(blocked.ms).toBeGreaterThanOrEqual(170);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('says "not wedged" when other operations were answered while one hung, and runs onExpire', async () => {
    const stalls: StallInfo[] = [];
    const b = new BackendTimeouts({ where: 'x', timeoutMs: 150, onTimeout: (i) => stalls.push(i) });
    const expired: string[] = [];
    const hung = failure(b.run(never(), undefined, { onExpire: (e) => expired.push(e.rawMessage) }));
    await b.run(later(20, 1));
    expect((await hung).err.code).toBe(Code.Unavailable);
    expect(stalls).toEqual([{ expired: 1, wedged: false }]);
    expect(expired).toHaveLength(1);
  });

  it('drops the late answer of an expired operation without an unhandled rejection', async () => {
    const b = new BackendTimeouts({ where: 'x', timeoutMs: 30 });
    let fail: (e: Error) => void = () => {};
    const work = new Promise<never>((_, reject) => {
      fail = reject;
    });
    expect((await failure(b.run(work))).err.code).toBe(Code.Unavailable);
    fail(new Error('late'));
    await later(10, undefined);
    expect(b.size).toBe(0);
  });

  it('handles many concurrent operations with one sweeper', async () => {
    const b = new BackendTimeouts({ where: 'x', timeoutMs: 100 });
    const ok = Array.from({ length: 1000 }, (_, i) => b.run(later(i % 20, i)));
    const hung = Array.from({ length: 100 }, () => failure(b.run(never())));
    expect((await Promise.all(ok)).length).toBe(1000);
    for (const h of await Promise.all(hung)) expect(h.err.code).toBe(Code.Unavailable);
    expect(b.size).toBe(0);
  });
});
