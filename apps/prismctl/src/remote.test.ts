import { readFileSync } from 'node:fs';
import { Code, ConnectError } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadProxyConfig, type RunningProxy, startProxy } from '@prism/proxy';
import { createLogger } from '@prism/sdk';
import { type CliRun, json, prismctl, tempDir } from './cli.test-util.js';
import { callFailure, endpointUrl, formatDuration } from './remote.js';

const TOKEN = 'prismctl-admin-token-0123456789abcdef';
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const NAMESPACES = `namespaces:
  - name: mem
    pattern: keyvalue
    limits: { max_key_bytes: 128, rate: { requests_per_second: 100, burst: 10 } }
    backend: { type: memstore, config: { max_keys: 100 } }
  - name: side
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: sidecar } }
`;
const config = (extra = '') =>
  `proxy:\n  admin: { listen: "127.0.0.1:0" }\n  admin_token: ${TOKEN}\n${NAMESPACES}${extra}`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The lines of a run's stdout. */
const lines = (r: CliRun) => r.out.split('\n');

describe('prismctl against a running proxy (admin API)', () => {
  const tmp = tempDir();
  const file = tmp.write('prism.yaml', config());
  let proxy: RunningProxy;
  let exited: Promise<void>;
  let admin: string;
  /** prismctl with the endpoint and token of the test proxy. */
  const remote = (...args: string[]) => prismctl([...args, '--endpoint', admin, '--token', TOKEN]);

  beforeAll(async () => {
    const { config: cfg, catalog } = await loadProxyConfig(file);
    let onExit = () => {};
    exited = new Promise((resolve) => {
      onExit = () => void proxy.shutdown().then(resolve);
    });
    proxy = await startProxy({
      config: cfg,
      catalog,
      port: 0,
      host: '127.0.0.1',
      configFile: file,
      // Silent: the reloads this test makes are rejected or degraded on purpose (PRISM_LOG_LEVEL to see).
      logger: createLogger({ name: 'prismctl-test-proxy', level: process.env.PRISM_LOG_LEVEL ?? 'silent' }),
      onExit,
    });
    admin = proxy.adminUrl as string;
  }, 60_000);
  afterAll(async () => {
    await proxy?.shutdown();
    tmp.remove();
  });

  it('version: prismctl and the proxy (version, node, pid, config file)', async () => {
    const r = await remote('version');
    expect(r.code).toBe(0);
    expect(lines(r)).toEqual([
      `prismctl:  ${VERSION}`,
      `proxy:     ${VERSION}`,
      `node:      ${process.version}`,
      `pid:       ${process.pid}`,
      expect.stringMatching(/^started: {3}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(up \d+s\)$/),
      `config:    ${file}`,
      `endpoint:  ${admin}`,
    ]);
    const v = json<{ prismctl: object; proxy: Record<string, unknown> }>(await remote('version', '--json'));
    expect(v).toEqual({
      prismctl: { version: VERSION },
      proxy: {
        version: VERSION,
        nodeVersion: process.version,
        commit: '',
        startedAt: expect.stringMatching(/^\d{4}-.*Z$/),
        uptimeSeconds: expect.any(Number),
        pid: process.pid,
        configFile: file,
      },
    });
    // --client makes no call.
    const client = await prismctl(['version', '--client', '--endpoint', 'http://127.0.0.1:1']);
    expect([client.code, client.out]).toEqual([0, `prismctl:  ${VERSION}`]);
    expect(json(await prismctl(['version', '--client', '--json']))).toEqual({
      prismctl: { version: VERSION },
    });
  });

  it('needs the token: without one (or a wrong one) it says to pass --token and exits 1', async () => {
    for (const args of [[], ['--token', 'wrong-token']]) {
      const r = await prismctl(['namespaces', 'list', '--endpoint', admin, ...args]);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(
        new RegExp(
          `^the admin API at ${admin} refused the call: .* \\(UNAUTHENTICATED\\); pass --token TOKEN or set PRISM_ADMIN_TOKEN`,
        ),
      );
      expect(r.err).not.toContain('wrong-token');
    }
  });

  it('reads the endpoint and token from PRISM_ADMIN_ENDPOINT and PRISM_ADMIN_TOKEN', async () => {
    process.env.PRISM_ADMIN_ENDPOINT = admin;
    process.env.PRISM_ADMIN_TOKEN = TOKEN;
    try {
      const r = await prismctl(['plugins', 'status', 'mem']);
      expect([r.code, r.err]).toEqual([0, '']);
      // The flags win over the environment.
      const flag = await prismctl(['plugins', 'status', 'mem', '--endpoint', 'http://127.0.0.1:1']);
      expect(flag.err).toContain('cannot reach the admin API at http://127.0.0.1:1');
    } finally {
      delete process.env.PRISM_ADMIN_ENDPOINT;
      delete process.env.PRISM_ADMIN_TOKEN;
    }
  });

  it('namespaces list: a table, --json the ListNamespacesResponse', async () => {
    const r = await remote('namespaces', 'list');
    expect([r.code, r.err]).toEqual([0, '']);
    expect(lines(r)).toEqual([
      'NAME  PATTERN   BACKEND   MODE        HEALTH   STATE',
      'mem   keyvalue  memstore  in_process  healthy  running',
      'side  keyvalue  memstore  sidecar     healthy  running',
    ]);
    const row = (name: string, pluginMode: string) => ({
      name,
      pattern: 'keyvalue',
      backendType: 'memstore',
      pluginMode,
      health: 'healthy',
      state: 'running',
    });
    const j = await remote('namespaces', 'list', '--json');
    expect(j.code).toBe(0);
    expect(json(j)).toEqual({ namespaces: [row('mem', 'in_process'), row('side', 'sidecar')] });
  });

  it('namespaces describe: every field; NOT_FOUND exits 1; no name exits 2', async () => {
    const r = await remote('namespaces', 'describe', 'mem');
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toContain(`Declared at:  ${file}:5\n`);
    expect(r.out).toContain('Backend:      memstore (in_process)\n');
    expect(r.out).toContain(
      [
        '\nInterfaces:   keyvalue: basic, batch, cas, scan, transactional, ttl',
        '              list: basic, blocking, indexing, range',
        '              set: basic, cardinality, operations, random',
        '              sortedset: basic, lex, operations, range, rank',
        '              pubsub: basic, filtering, ordering, persistent, wildcards',
        '              queue: basic, dead_letter, delayed, priority, visibility',
        '              stream: basic, consumer_groups, partitioning, replay, retention',
        '              timeseries: basic, aggregation, retention, interpolation',
        '              graph: basic, traversal, analytics',
        '              document: basic, query, indexing',
        'Health:',
      ].join('\n'),
    );
    expect(r.out).toContain('Health:       healthy\n              keys=0 max_keys=100\n');
    expect(r.out).toContain(
      'Limits:       max_key_bytes 128, max_value_bytes 4194304, rate 100/s burst 10 per namespace, max_concurrent unlimited\n',
    );
    expect(r.out).toContain('Access:       - (proxy.access applies)\n');
    expect(r.out).toMatch(
      /\nPlugin: {7}memstore \d+\.\d+\.\d+, running, pid -, restarts 0, up \d+s, 0 in flight$/,
    );

    const j = json<{ namespace: Record<string, unknown> }>(
      await remote('namespaces', 'describe', 'mem', '--json'),
    );
    expect(j.namespace).toMatchObject({
      name: 'mem',
      pattern: 'keyvalue',
      needs: ['keyvalue_basic'],
      backend: { type: 'memstore', pluginMode: 'in_process', endpoint: '', package: '', tls: false },
      health: { status: 'healthy', message: '', details: { keys: '0', max_keys: '100' } },
      limits: {
        maxKeyBytes: 128,
        maxValueBytes: 4194304,
        rate: { requestsPerSecond: 100, burst: 10, per: 'namespace' },
        maxConcurrent: 0,
      },
      access: [],
      plugin: { namespace: 'mem', state: 'running', pid: 0, restarts: 0 },
      source: `${file}:5`,
    });
    expect(j.namespace.interfaces).toContain('prism.keyvalue.v1.KeyValueBasicInterface');

    const missing = await remote('namespaces', 'describe', 'nope');
    expect([missing.code, missing.out]).toEqual([1, '']);
    expect(missing.err).toBe('namespace "nope" is not configured (configured: mem, side) (NOT_FOUND)');
    expect((await remote('namespaces', 'describe')).code).toBe(2);
  });

  it('plugins list and status: mode, state, pid, restarts; --json the responses', async () => {
    const r = await remote('plugins', 'list');
    expect([r.code, r.err]).toEqual([0, '']);
    const [header, mem, side] = lines(r);
    expect(header).toMatch(
      /^NAMESPACE {2}MODE {8}STATE {4}PLUGIN {10}PID +RESTARTS {2}UPTIME {2}IN FLIGHT {2}LAST ERROR$/,
    );
    expect(mem).toMatch(/^mem {8}in_process {2}running {2}memstore \d+\.\d+\.\d+ +- +0 +\d+s +0$/);
    expect(side).toMatch(/^side {7}sidecar {5}running {2}memstore \d+\.\d+\.\d+ +\d+ +0 +\d+s +0$/);

    const { plugins } = json<{ plugins: Record<string, unknown>[] }>(
      await remote('plugins', 'list', '--json'),
    );
    expect(plugins.map((p) => [p.namespace, p.pluginMode, p.state, p.restarts, p.lastError])).toEqual([
      ['mem', 'in_process', 'running', 0, ''],
      ['side', 'sidecar', 'running', 0, ''],
    ]);
    expect(Object.keys(plugins[1]!).sort()).toEqual(
      [
        'namespace',
        'backendType',
        'pluginMode',
        'state',
        'plugin',
        'version',
        'pid',
        'restarts',
        'lastError',
        'startedAt',
        'uptimeSeconds',
        'inFlight',
        'endpoint',
      ].sort(),
    );

    const status = await remote('plugins', 'status', 'side');
    expect(status.code).toBe(0);
    expect(status.out).toMatch(
      /^Namespace: {2}side\nBackend: {4}memstore \(sidecar\)\nState: {6}running\nPlugin: {5}memstore \S+\nPID: {8}\d+\nRestarts: {3}0\nStarted: {4}\S+Z \(\d+s ago\)\nIn flight: {2}0$/,
    );
    const j = json<{ plugin: { pid: number } }>(await remote('plugins', 'status', 'side', '--json'));
    expect(j.plugin).toMatchObject({ namespace: 'side', state: 'running', restarts: 0 });
    expect(j.plugin.pid).toBeGreaterThan(0);
    expect(status.out).toContain(`PID:        ${j.plugin.pid}\n`);
  });

  it('plugins restart: a sidecar gets a new process, restarts counts it', async () => {
    const pidOf = async () =>
      json<{ plugin: { pid: number; restarts: number } }>(await remote('plugins', 'status', 'side', '--json'))
        .plugin;
    const before = await pidOf();
    const r = await remote('plugins', 'restart', 'side');
    expect([r.code, r.err]).toEqual([0, '']);
    const after = await pidOf();
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(before.restarts + 1);
    expect(alive(before.pid)).toBe(false);
    expect(alive(after.pid)).toBe(true);
    expect(lines(r)[0]).toBe(
      `restarted the plugin of namespace "side": sidecar process replaced (pid ${before.pid} → ${after.pid})`,
    );
    expect(r.out).toContain(`\nRestarts:   ${after.restarts}\n`);

    const j = await remote('plugins', 'restart', 'side', '--json');
    expect(j.code).toBe(0);
    const res = json<{ previousPid: number; action: string; plugin: { pid: number; restarts: number } }>(j);
    expect(res).toMatchObject({ previousPid: after.pid, action: 'sidecar process replaced' });
    expect(res.plugin.restarts).toBe(after.restarts + 1);
    expect(res.plugin.pid).not.toBe(after.pid);
    // An in-process plugin gets a new instance.
    const mem = await remote('plugins', 'restart', 'mem');
    expect(lines(mem)[0]).toBe('restarted the plugin of namespace "mem": in-process instance re-created');
    expect((await remote('plugins', 'restart', 'nope')).code).toBe(1);
  }, 60_000);

  it('reload: a valid file is applied; a broken one prints its problems and exits 1', async () => {
    tmp.write(
      'prism.yaml',
      config('  - name: added\n    pattern: keyvalue\n    backend: { type: memstore }\n'),
    );
    const ok = await remote('reload');
    expect([ok.code, ok.err]).toEqual([0, '']);
    expect(lines(ok)).toEqual([
      `reloaded ${file}`,
      '  started:  added',
      '  kept:     mem, side',
      '  removed:  -',
    ]);

    tmp.write(
      'prism.yaml',
      config('  - name: Bad_Name\n    pattern: keyvalue\n    backend: { type: bogus }\n'),
    );
    const bad = await remote('reload');
    expect([bad.code, bad.out]).toEqual([1, '']);
    const err = bad.err.split('\n');
    expect(err[0]).toMatch(
      new RegExp(`^reload of ${file} rejected \\(\\d+ problems?\\); the previous config keeps serving$`),
    );
    expect(err.slice(1).join('\n')).toContain(`  ${file}:12:`);
    expect(err.slice(1).join('\n')).toContain('namespaces[2].name');
    const j = await remote('reload', '--json');
    expect(j.code).toBe(1);
    const res = json<{ ok: boolean; problems: { field: string; line: number }[]; kept: string[] }>(j);
    expect(res).toMatchObject({ ok: false, kept: ['mem', 'side', 'added'], configFile: file });
    expect(res.problems.map((p) => p.field)).toContain('namespaces[2].name');
    expect(proxy.table.names()).toEqual(['mem', 'side', 'added']);

    // A namespace whose backend is unreachable: unhealthy, its plugin unavailable; exit 1.
    tmp.write(
      'prism.yaml',
      config(
        '  - name: nowhere\n    pattern: keyvalue\n    backend: { type: memstore, plugin: { mode: remote, endpoint: "http://127.0.0.1:1" } }\n',
      ),
    );
    const again = json<{ ok: boolean; started: string[]; removed: string[] }>(
      await remote('reload', '--json'),
    );
    expect(again).toMatchObject({ ok: true, started: ['nowhere'], removed: ['added'] });
    const list = await remote('namespaces', 'list');
    expect(list.code).toBe(1);
    expect(lines(list)[3]).toBe('nowhere  keyvalue  memstore  remote      unhealthy  unavailable');
    expect(list.err).toBe('unhealthy: nowhere');
    const status = await remote('plugins', 'status', 'nowhere');
    expect(status.code).toBe(1);
    expect(status.err).toMatch(/^the plugin of namespace "nowhere" is unavailable: .*127\.0\.0\.1:1/);
    expect(status.out).toContain('Endpoint:    http://127.0.0.1:1');
    expect((await remote('plugins', 'list', '--json')).code).toBe(1);
    expect((await remote('namespaces', 'describe', 'nowhere')).code).toBe(1);

    tmp.write('prism.yaml', config());
    expect((await remote('reload')).code).toBe(0);
  }, 60_000);

  it('an unreachable endpoint, the wrong port, a bad --endpoint', async () => {
    const down = await prismctl(['namespaces', 'list', '--endpoint', 'http://127.0.0.1:1']);
    expect([down.code, down.out]).toEqual([1, '']);
    expect(down.err).toBe(
      'cannot reach the admin API at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 — is the proxy running with proxy.admin.listen?',
    );
    const client = await prismctl(['namespaces', 'list', '--endpoint', proxy.url, '--token', TOKEN]);
    expect(client.code).toBe(1);
    expect(client.err).toMatch(/does not serve prism\.admin\.v1\.AdminService: .*is it the admin listener/);
    // host:port means http://host:port.
    const bare = await prismctl(['version', '--endpoint', admin.replace('http://', ''), '--token', TOKEN]);
    expect(bare.code).toBe(0);
    for (const bad of ['ftp://x', 'http://a b', 'http://h:1/?q=1']) {
      const r = await prismctl(['reload', '--endpoint', bad]);
      expect([bad, r.code]).toEqual([bad, 2]);
      expect(r.err).toMatch(/^error: --endpoint /);
    }
    expect((await remote('drain', '--timeout-ms', 'soon')).code).toBe(2);
  });

  it('drain: out of service with counts; again: already drained; --exit shuts the proxy down', async () => {
    const r = await remote('drain', '--timeout-ms', '2000');
    expect([r.code, r.err]).toEqual([0, '']);
    expect(lines(r)).toEqual([
      expect.stringMatching(
        /^drained in \d+ ms: the client port takes no new connections, health is NOT_SERVING$/,
      ),
      '  calls in flight:  0 (0 of them streams)',
      '  streams ended:    0',
      '  calls cut:        0',
      'the admin API keeps serving; restart the process to serve clients again',
    ]);
    await expect(fetch(`${proxy.url}/metrics`)).rejects.toThrow();
    const again = json<Record<string, unknown>>(await remote('drain', '--json'));
    expect(again).toEqual({
      callsInFlight: 0,
      streamsInFlight: 0,
      streamsEnded: 0,
      callsCut: 0,
      durationMs: expect.any(Number),
      alreadyDrained: true,
      exiting: false,
    });
    const exit = await remote('drain', '--exit');
    expect(exit.code).toBe(0);
    expect(lines(exit)[0]).toBe('already drained by an earlier Drain; its report:');
    expect(lines(exit).at(-1)).toBe('the proxy is shutting down and exits');
    await exited;
    const gone = await remote('version');
    expect(gone.code).toBe(1);
    expect(gone.out).toBe(`prismctl:  ${VERSION}`);
    expect(gone.err).toMatch(/^cannot reach the admin API at /);
  }, 60_000);
});

describe('remote helpers', () => {
  it('says what to do about a refused call', () => {
    const url = 'http://127.0.0.1:8981';
    expect(
      callFailure(url, new ConnectError('principal "app" has no admin permission', Code.PermissionDenied)),
    ).toBe(
      'the admin API at http://127.0.0.1:8981 refused the call: principal "app" has no admin permission (PERMISSION_DENIED); pass --token with proxy.admin_token or a token of a principal granted admin in proxy.access',
    );
    expect(callFailure(url, new ConnectError('boom', Code.FailedPrecondition))).toBe(
      'boom (FAILED_PRECONDITION)',
    );
  });

  it('normalizes endpoints and formats durations', () => {
    expect(endpointUrl('127.0.0.1:8981')).toBe('http://127.0.0.1:8981');
    expect(endpointUrl('https://proxy.example/admin/')).toBe('https://proxy.example/admin');
    expect([42, 303, 7500, 273600].map(formatDuration)).toEqual(['42s', '5m 3s', '2h 5m', '3d 4h']);
  });
});
