// Credentials against a private nats-server that requires user/password (an `authorization` block it
// reloads on SIGHUP): the seeds' authentication suite in_process, plus NATS specifics. Sidecar and remote
// modes run in apps/proxy.

import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace, utf8 } from '@prism/pubsub-basic/conformance';
import { Code, ConnectError, createLogger, instantiatePlugin } from '@prism/sdk';
import { AppendRequestSchema, StreamBasic } from '@prism/stream-basic';
import { type NatsTestServer, startNats } from '@prism/testing';
import { type AuthSuiteFactory, captureLogs, describeAuthenticationSuite } from '@prism/testing/auth-suite';
import plugin from './index.js';

const USER = 'prism_app';
let nats: NatsTestServer;
let password = `pw-${randomBytes(8).toString('hex')}`;
const logs = captureLogs();
const logger = createLogger({ name: 'nats-auth', level: 'debug', stream: logs.stream });

beforeAll(async () => {
  nats = await startNats({ auth: { user: USER, password } });
});
afterAll(async () => {
  await nats?.dispose();
});

/** Client connections the server attributes to `user` (monitoring /connz?auth=1). */
async function connectionsOf(user: string): Promise<number> {
  const res = await fetch(`${nats.monitorUrl}/connz?auth=1`);
  const body = (await res.json()) as { connections?: { authorized_user?: string }[] };
  return (body.connections ?? []).filter((c) => c.authorized_user === user).length;
}

const start: AuthSuiteFactory['start'] = async (creds) => {
  const namespace = uniqueNamespace('natsauth');
  const config = {
    servers: [nats.url],
    user: creds.user,
    ...(creds.password ? { password: creds.password } : {}),
    storage: 'memory',
    connect_timeout_ms: 2000,
    reconnect: { enabled: true, max_attempts: -1, wait_ms: 100 },
  };
  const h = await instantiatePlugin(plugin, config, { namespace, logger });
  const stream = h.get(StreamBasic)!;
  return {
    op: async (i) => {
      await stream.append(create(AppendRequestSchema, { namespace, stream: 's', payload: utf8(String(i)) }), {
        signal: AbortSignal.timeout(10_000),
      });
    },
    close: () => h.close(),
  };
};

describeAuthenticationSuite('nats (in_process, user/password)', {
  valid: () => ({ user: USER, password }),
  pooled: false, // one connection per instance: the suite starts five
  start,
  rotate: async () => {
    password = `pw-${randomBytes(8).toString('hex')}`;
    await nats.setPassword(password);
  },
  sessions: connectionsOf,
  logs: () => logs.text() + nats.logs(),
});

describe('nats credentials: backend specifics', () => {
  const namespace = uniqueNamespace('natsauth');

  it('answers INVALID_ARGUMENT when the server requires credentials and none are configured', async () => {
    const err = await instantiatePlugin(plugin, { servers: [nats.url] }, { namespace, logger }).then(
      async (h) => {
        await h.close();
        throw new Error('start should have failed');
      },
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[err.code]).toBe('InvalidArgument');
    expect(err.rawMessage).toMatch(/requires credentials but none are configured/);
  });

  it('rejects a config with both token and user', async () => {
    await expect(
      instantiatePlugin(plugin, { servers: [nats.url], user: 'a', password: 'b', token: 't' }, { namespace }),
    ).rejects.toThrow(/token or user/);
  });
});
