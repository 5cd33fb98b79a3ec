import { describe, expect, it } from '@jest/globals';
import { findBinary, MissingBinaryError } from './binaries.js';
import { testServerLogs, testServerUrl } from './env.js';
import { freePort, isListening, tcpExchange } from './ports.js';
import { waitUntil } from './process.js';

describe('findBinary', () => {
  it('names the exact apt-get line when a binary is missing', () => {
    let err: unknown;
    try {
      findBinary('prism-no-such-server', 'prism-no-such-package', ['/nonexistent']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MissingBinaryError);
    expect((err as Error).message).toContain('apt-get install -y prism-no-such-package');
  });
});

describe('waitUntil', () => {
  it('polls until the probe succeeds, treating errors as "not yet"', async () => {
    let calls = 0;
    await waitUntil(
      () => {
        calls++;
        if (calls < 3) throw new Error('not yet');
        return calls >= 4;
      },
      { intervalMs: 1 },
    );
    expect(calls).toBe(4);
  });

  it('fails with what it waited for and the last error', async () => {
    await expect(
      waitUntil(() => Promise.reject(new Error('refused')), {
        timeoutMs: 20,
        intervalMs: 1,
        what: 'the thing',
      }),
    ).rejects.toThrow(/waiting for the thing \(last error: refused\)/);
  });

  it('fails at once when abortIf reports a reason', async () => {
    await expect(waitUntil(() => false, { abortIf: () => 'process died', what: 'x' })).rejects.toThrow(
      'x: process died',
    );
  });
});

describe('freePort', () => {
  it('returns a port nothing listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await isListening('127.0.0.1', port)).toBe(false);
  });
});

describe('jest glue (globalSetup started one server per kind for this run)', () => {
  it('publishes the redis URL and the server answers', async () => {
    const url = new URL(testServerUrl('redis'));
    expect(await tcpExchange(url.hostname, Number(url.port), 'PING\r\n', /\r\n/)).toBe('+PONG\r\n');
    expect(testServerLogs('redis')).toMatch(/Ready to accept connections/);
  });

  it('publishes the postgres and nats URLs', async () => {
    expect(testServerUrl('postgres')).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(process.env.PRISM_TEST_PG_URL).toBe(testServerUrl('postgres'));
    const nats = new URL(testServerUrl('nats'));
    expect(await tcpExchange(nats.hostname, Number(nats.port), undefined, /\r\n/)).toMatch(/^INFO /);
    const health = await fetch(`${process.env.PRISM_TEST_NATS_MONITOR_URL}/healthz`);
    expect(health.ok).toBe(true);
  });

  it('explains how to fix a missing server', () => {
    expect(() => testServerUrl('kafka')).toThrow(
      /PRISM_TEST_KAFKA_URL is not set.*withTestServers\(preset, \['kafka'\]\)/,
    );
  });
});
