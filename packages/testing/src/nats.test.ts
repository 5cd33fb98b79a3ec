import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type NatsTestServer, startNats } from './nats.js';
import { isListening, tcpExchange } from './ports.js';
import { isAlive } from './process.js';

describe('startNats', () => {
  let nats: NatsTestServer;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    await nats?.dispose();
  });

  it('runs nats-server with JetStream on 127.0.0.1', async () => {
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    const info = await tcpExchange('127.0.0.1', nats.port, undefined, /\r\n/);
    expect(info).toMatch(/^INFO \{.*"jetstream":true/);
    const jsz = (await (await fetch(`${nats.monitorUrl}/jsz`)).json()) as { config?: { store_dir?: string } };
    expect(jsz.config?.store_dir).toContain(nats.dir);
  });

  it('answers PING with PONG over the client protocol', async () => {
    const reply = await tcpExchange(
      '127.0.0.1',
      nats.port,
      'CONNECT {"verbose":false}\r\nPING\r\n',
      /PONG\r\n/,
    );
    expect(reply).toMatch(/PONG\r\n$/);
  });

  it('stops and restarts on the same ports', async () => {
    const pid = nats.pid!;
    await nats.stop();
    expect(isAlive(pid)).toBe(false);
    expect(await isListening('127.0.0.1', nats.port)).toBe(false);
    await nats.restart();
    expect((await fetch(`${nats.monitorUrl}/healthz`)).ok).toBe(true);
  });
});
