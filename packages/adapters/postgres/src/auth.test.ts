// The seeds' authentication suite against a private PostgreSQL that requires scram-sha-256 for the
// application role (pg_hba.conf), in_process: the adapter package called directly. Sidecar and remote
// modes run in apps/proxy.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { kvBasic } from '@prism/keyvalue-basic/conformance';
import { Code, ConnectError, createLogger, instantiatePlugin } from '@prism/sdk';
import { type PostgresTestServer, startPostgres } from '@prism/testing';
import { type AuthSuiteFactory, captureLogs, describeAuthenticationSuite } from '@prism/testing/auth-suite';
import plugin from './index.js';

const USER = 'prism_app';
let pg: PostgresTestServer;
let password = `pw-${randomBytes(8).toString('hex')}`;
const logs = captureLogs();
const logger = createLogger({ name: 'postgres-auth', level: 'debug', stream: logs.stream });
const schema = () => `auth_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  pg = await startPostgres({ auth: { user: USER, password } });
});
afterAll(async () => {
  await pg?.dispose();
});

/** Sessions PostgreSQL holds for `user` (pg_stat_activity.usename). */
const sessionsOf = async (user: string) =>
  Number(await pg.query(`SELECT count(*) FROM pg_stat_activity WHERE usename = '${user}'`));

const factory: AuthSuiteFactory = {
  valid: () => ({ user: USER, password }),
  pooled: true,
  start: async (creds, opts) => {
    const namespace = `auth-${randomBytes(4).toString('hex')}`;
    const config = {
      url: pg.authUrl,
      user: creds.user,
      ...(creds.password ? { password: creds.password } : {}),
      schema: schema(),
      connect_timeout_ms: 3000,
      pool_size: opts?.poolSize ?? 2,
    };
    const h = await instantiatePlugin(plugin, config, { namespace, logger });
    const kv = kvBasic(h.get(KeyValueBasic)!, namespace);
    return {
      op: async (i) => {
        await kv.set(`k${i}`, new TextEncoder().encode(String(i)));
        await kv.get(`k${i}`);
      },
      close: () => h.close(),
    };
  },
  rotate: async () => {
    password = `pw-${randomBytes(8).toString('hex')}`;
    await pg.setPassword(password);
  },
  sessions: sessionsOf,
  logs: () => logs.text() + pg.logs(),
};

describeAuthenticationSuite('postgres (in_process, scram-sha-256)', factory);

describe('postgres credentials: backend specifics', () => {
  it('the pool connects as the configured role (pg_stat_activity.usename)', async () => {
    const namespace = 'usename';
    const h = await instantiatePlugin(
      plugin,
      { url: pg.authUrl, password, schema: schema(), pool_size: 5 },
      { namespace, logger },
    );
    try {
      const kv = kvBasic(h.get(KeyValueBasic)!, namespace);
      await Promise.all(Array.from({ length: 10 }, (_, i) => kv.set(`k${i}`, new Uint8Array([i]))));
      const rows = await pg.query(
        `SELECT usename FROM pg_stat_activity WHERE application_name = 'prism:${namespace}'`,
      );
      const users = rows.trim().split('\n');
      expect(users.length).toBeGreaterThanOrEqual(2);
      expect(new Set(users)).toEqual(new Set([USER]));
    } finally {
      await h.close();
    }
  });

  it('answers INVALID_ARGUMENT when the server asks for a password and none is configured', async () => {
    const err = await instantiatePlugin(
      plugin,
      { url: pg.authUrl, schema: schema() },
      { namespace: 'nopw', logger },
    ).then(
      async (h) => {
        await h.close();
        throw new Error('start should have failed');
      },
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[err.code]).toBe('InvalidArgument');
    expect(err.rawMessage).toMatch(/no password is configured/);
    expect(err.rawMessage).toContain(USER);
  });

  it('never echoes a password given in the URL', async () => {
    const wrong = `url-${randomBytes(6).toString('hex')}`;
    const url = pg.authUrl!.replace(`${USER}@`, `${USER}:${wrong}@`);
    const err = await instantiatePlugin(
      plugin,
      { url, schema: schema() },
      { namespace: 'urlpw', logger },
    ).then(
      async (h) => {
        await h.close();
        throw new Error('start should have failed');
      },
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[err.code]).toBe('Unauthenticated');
    expect(err.message).not.toContain(wrong);
  });
});
