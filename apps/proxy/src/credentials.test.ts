// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the YAML below uses ${file:} references
// Backend credentials through the proxy, for sidecar and remote plugins: the seeds' authentication suite
// against a Redis with an ACL user and a PostgreSQL with scram-sha-256, the secret in a `${file:}`
// reference. Remote plugin servers run in this process and record every Initialize they get, so the test
// sees that the config blob never carries the secret (it arrives in `credentials`).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import postgresPlugin from '@prism/adapter-postgres';
import redisPlugin from '@prism/adapter-redis';
import { ConfigError } from '@prism/config';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { kvBasic } from '@prism/keyvalue-basic/conformance';
import type { InitializeRequest } from '@prism/proto/prism/plugin/v1/lifecycle_pb';
import { createLogger, type PluginDefinition, PluginHost } from '@prism/sdk';
import { type PostgresTestServer, type RedisTestServer, startPostgres, startRedis } from '@prism/testing';
import { type AuthSuiteFactory, captureLogs, describeAuthenticationSuite } from '@prism/testing/auth-suite';
import { startLoad, startTestProxy, waitFor } from './test-support.js';

// Sidecars log at debug to stderr, which the proxy forwards into its (captured) log.
process.env.PRISM_LOG_LEVEL = 'debug';
const logs = captureLogs();
const logger = createLogger({ name: 'credentials-test', level: 'debug', stream: logs.stream });
const USER = 'prism_app';
const secretsDir = mkdtempSync(join(tmpdir(), 'prism-secrets-'));
const fresh = () => `pw-${randomBytes(8).toString('hex')}`;
let redisPassword = fresh();
let pgPassword = fresh();
let redis: RedisTestServer;
let pg: PostgresTestServer;

/** A plugin server (the real PluginHost over HTTP/2) that records the Initialize requests it serves. */
class RecordingHost extends PluginHost {
  readonly seen: { configJson: string; credentials: Record<string, string> }[] = [];
  override initialize(req: InitializeRequest) {
    this.seen.push({ configJson: req.configJson, credentials: { ...req.credentials } });
    return super.initialize(req);
  }
}

async function serveRecording(def: PluginDefinition) {
  const host = new RecordingHost(def, logger);
  const server = http2.createServer(connectNodeAdapter({ routes: (router) => host.mount(router) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url,
    close: async () => {
      await host.closeAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let remoteRedis: Awaited<ReturnType<typeof serveRecording>>;
let remotePg: Awaited<ReturnType<typeof serveRecording>>;

beforeAll(async () => {
  [redis, pg, remoteRedis, remotePg] = await Promise.all([
    startRedis({ acl: { user: USER, password: redisPassword } }),
    startPostgres({ auth: { user: USER, password: pgPassword } }),
    serveRecording(redisPlugin),
    serveRecording(postgresPlugin),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([redis?.dispose(), pg?.dispose(), remoteRedis?.close(), remotePg?.close()]);
  rmSync(secretsDir, { recursive: true, force: true });
});

type Kind = 'redis' | 'postgres';
type Mode = 'sidecar' | 'remote';

/** Writes a secret file for one start and returns its `${file:}` reference. */
function secretRef(password: string): string {
  const file = join(secretsDir, `secret-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return `\${file:${file}}`;
}

/** The namespace YAML for one backend in one mode, with the password (if any) as a `${file:}` reference. */
function namespaceYaml(
  kind: Kind,
  mode: Mode,
  ns: string,
  user: string,
  ref: string | undefined,
  poolSize = 2,
) {
  const endpoint = kind === 'redis' ? remoteRedis.url : remotePg.url;
  const plugin = mode === 'remote' ? `{ mode: remote, endpoint: "${endpoint}" }` : '{ mode: sidecar }';
  const password = ref ? `, password: "${ref}"` : '';
  const config =
    kind === 'redis'
      ? `{ url: "${redis.url}", username: ${user}${password}, connect_timeout_ms: 2000 }`
      : `{ url: "${pg.authUrl}", user: ${user}${password}, schema: s_${ns.replaceAll('-', '_')}, pool_size: ${poolSize}, connect_timeout_ms: 3000 }`;
  return `  - name: ${ns}\n    pattern: keyvalue\n    backend: { type: ${kind}, plugin: ${plugin}, config: ${config} }\n`;
}

/** Connections the server attributes to `user`. */
async function sessionsOf(kind: Kind, user: string): Promise<number> {
  if (kind === 'postgres')
    return Number(await pg.query(`SELECT count(*) FROM pg_stat_activity WHERE usename = '${user}'`));
  const list = await redis.command('CLIENT', 'LIST');
  return list.split('\n').filter((l) => l.includes(` user=${user} `) && !l.includes(' cmd=client|list '))
    .length;
}

function proxyFactory(kind: Kind, mode: Mode): AuthSuiteFactory {
  const current = () => (kind === 'redis' ? redisPassword : pgPassword);
  return {
    valid: () => ({ user: USER, password: current() }),
    pooled: kind === 'postgres',
    start: async (creds, opts) => {
      const ns = `${kind.slice(0, 2)}-${mode}-${randomBytes(3).toString('hex')}`;
      const ref = creds.password === undefined ? undefined : secretRef(creds.password);
      const yaml = `namespaces:\n${namespaceYaml(kind, mode, ns, creds.user, ref, opts?.poolSize)}`;
      const test = await startTestProxy(yaml, { logger }).catch((err: unknown) => {
        // A sidecar's schema is known to the proxy, which refuses the config at load (what a
        // remote plugin answers with INVALID_ARGUMENT at Initialize).
        throw err instanceof ConfigError ? new ConnectError(err.message, Code.InvalidArgument) : err;
      });
      const kv = kvBasic(test.client(ns).get(KeyValueBasic)!, ns);
      return {
        op: async (i) => {
          await kv.set(`k${i}`, new TextEncoder().encode(String(i)));
          await kv.get(`k${i}`);
        },
        close: () => test.stop(),
      };
    },
    rotate: async () => {
      if (kind === 'redis') {
        redisPassword = fresh();
        await redis.setPassword(redisPassword);
      } else {
        pgPassword = fresh();
        await pg.setPassword(pgPassword);
      }
    },
    sessions: (user) => sessionsOf(kind, user),
    logs: () => logs.text(),
  };
}

describeAuthenticationSuite('redis via a remote plugin', proxyFactory('redis', 'remote'));
describeAuthenticationSuite('postgres via a remote plugin', proxyFactory('postgres', 'remote'));
describeAuthenticationSuite('redis as a sidecar', proxyFactory('redis', 'sidecar'));
describeAuthenticationSuite('postgres as a sidecar', proxyFactory('postgres', 'sidecar'));

describe('what a remote plugin receives in Initialize', () => {
  it('has the secret in credentials at its config path, never in the config blob', () => {
    for (const remote of [remoteRedis, remotePg]) {
      const withSecret = remote.host.seen.filter((s) => s.credentials.password !== undefined);
      expect(withSecret.length).toBeGreaterThan(0);
      for (const { configJson, credentials } of remote.host.seen) {
        const config = JSON.parse(configJson) as Record<string, unknown>;
        expect(config.password).toBeUndefined();
        expect(config.url).toBeDefined(); // literal values stay in the blob
        for (const secret of Object.values(credentials)) expect(configJson).not.toContain(secret);
      }
    }
  });
});

describe('rotation by hot reload (what SIGHUP runs)', () => {
  it.each(['in_process', 'remote', 'sidecar'] as const)(
    '%s: a changed secret swaps the namespace; calls in flight finish, new calls use the new secret',
    async (mode) => {
      const ns = `rot-${mode.replace('_', '-')}`;
      const secretFile = join(secretsDir, `rotation-${mode}`);
      writeFileSync(secretFile, redisPassword);
      const plugin =
        mode === 'remote' ? `{ mode: remote, endpoint: "${remoteRedis.url}" }` : `{ mode: ${mode} }`;
      const yaml = `namespaces:\n  - name: ${ns}\n    pattern: keyvalue\n    backend: { type: redis, plugin: ${plugin}, config: { url: "${redis.url}", username: ${USER}, password: "\${file:${secretFile}}" } }\n`;
      const test = await startTestProxy(yaml, { logger });
      try {
        const unchanged = await test.proxy.reload();
        expect(unchanged).toMatchObject({ ok: true, started: [], kept: [ns] });

        const load = startLoad(test.client(ns), ns, 4);
        await waitFor(() => load.ok > 20, 'load before the rotation');
        // The operator rotates: new password in Redis (open sessions stay logged in), then in the file.
        redisPassword = fresh();
        await redis.setPassword(redisPassword, { disconnect: false });
        writeFileSync(secretFile, `${redisPassword}\n`);
        const reloaded = await test.proxy.reload();
        expect(reloaded).toMatchObject({ ok: true, started: [ns], kept: [] });
        const atSwap = load.ok;
        await waitFor(() => load.ok > atSwap + 20, 'load after the rotation');
        await load.stop();
        expect(load.errors).toEqual([]);

        // Every session with the old password is gone now; the namespace still works (new login).
        await redis.command('CLIENT', 'KILL', 'USER', USER);
        const kv = kvBasic(test.client(ns).get(KeyValueBasic)!, ns);
        await waitFor(
          () =>
            kv.set('after', new Uint8Array([1])).then(
              () => true,
              () => false,
            ),
          'a call after the old sessions were killed',
          10_000,
        );
        expect(await sessionsOf('redis', USER)).toBeGreaterThanOrEqual(1);
      } finally {
        await test.stop();
      }
      expect(logs.text()).not.toContain(redisPassword);
    },
    60_000,
  );
});
