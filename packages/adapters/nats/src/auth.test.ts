// Credentials against a private nats-server that requires user/password: the right ones work, wrong
// ones fail the start with a clear message that never echoes the password.

import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace, utf8 } from '@prism/pubsub-basic/conformance';
import { Code, ConnectError, instantiatePlugin } from '@prism/sdk';
import { AppendRequestSchema, StreamBasic } from '@prism/stream-basic';
import { findBinary, makeTempDir, startManagedServer, type TestServer, tcpExchange } from '@prism/testing';
import plugin from './index.js';

describe('nats credentials', () => {
  let server: TestServer;
  const namespace = uniqueNamespace('natsauth');

  beforeAll(async () => {
    const bin = findBinary('nats-server', 'nats-server', ['/usr/sbin', '/usr/bin', '/usr/local/bin']);
    const dir = makeTempDir('nats-auth');
    server = await startManagedServer({
      kind: 'nats',
      dir,
      command: (port) => ({
        cmd: bin,
        args: [
          '-js',
          '-a',
          '127.0.0.1',
          '-p',
          String(port),
          '-sd',
          `${dir}/js`,
          '--user',
          'prism',
          '--pass',
          's3cret',
        ],
      }),
      probe: async (port) =>
        (await tcpExchange('127.0.0.1', port, undefined, /^INFO .*\r\n/)).startsWith('INFO '),
      url: (port) => `nats://127.0.0.1:${port}`,
    });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('connects with user/password and uses JetStream', async () => {
    const h = await instantiatePlugin(
      plugin,
      { servers: [server.url], user: 'prism', password: 's3cret' },
      { namespace },
    );
    try {
      const r = await h
        .get(StreamBasic)!
        .append(create(AppendRequestSchema, { namespace, stream: 's', payload: utf8('x') }), {
          signal: new AbortController().signal,
        });
      expect(r.offset).toBe(1n);
    } finally {
      await h.close();
    }
  });

  it('fails to start with wrong credentials, without leaking the password', async () => {
    const err = await instantiatePlugin(
      plugin,
      { servers: [server.url], user: 'prism', password: 'wrong-pass' },
      { namespace },
    ).then(
      async (h) => {
        await h.close();
        throw new Error('start should have failed');
      },
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[err.code]).toBe('Unavailable');
    expect(err.rawMessage).toMatch(/credentials/);
    expect(err.rawMessage).not.toContain('wrong-pass');
  });

  it('rejects a config with both token and user', async () => {
    await expect(
      instantiatePlugin(
        plugin,
        { servers: [server.url], user: 'a', password: 'b', token: 't' },
        { namespace },
      ),
    ).rejects.toThrow(/token or user/);
  });
});
