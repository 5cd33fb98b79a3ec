// The container image (apps/proxy/Dockerfile): built here, run with a mounted config, called with buf curl over
// gRPC, Connect and gRPC-web, health checked through grpc.health.v1, stopped with SIGTERM (docker stop).
//
// The base image: PRISM_CONTAINER_BASE (e.g. node:22-slim; .github/workflows/container.yml), built from source
// in the image (PRISM_CONTAINER_BUILD=source, the default with a base). Without it, on Debian bookworm (no image
// registry reachable, as on this project's CI machine), a local base: a `debootstrap --variant=minbase` root
// filesystem plus this machine's Node, imported as prism-base:bookworm-node<version> once and reused; the image
// takes the bundle and native addons built on this machine (PRISM_BUILD=prebuilt: same Debian, same Node). On
// another OS: node:22-slim, from source. Skipped, saying why, only where no Docker engine can run; when dockerd
// is installed but not running and we are root, the test starts it (and stops it at the end).
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PubSubBasicInterface } from '@prism/pubsub-basic';
import { StreamBasicInterface } from '@prism/stream-basic';
import { freePort } from '@prism/testing';
import { ROOT } from './proxy-process.js';

const exec = promisify(execFile);
const BUF = join(ROOT, 'node_modules/.bin/buf');
const DOCKERFILE = join(ROOT, 'apps/proxy/Dockerfile');
const PROXY_IMAGE = 'prism-proxy:e2e';
const PLUGIN_IMAGE = 'prism-plugin-memstore:e2e';
/** Budget for what the image adds to its base (bundle, native addons, the Kafka client's shared libraries). */
const SIZE_BUDGET_MB = 150;
/** proxy.shutdown_timeout_ms of the mounted config: docker stop must end the container within it. */
const DRAIN_MS = 3000;
const suffix = `${process.pid}`;
const names = {
  proxy: `prism-e2e-proxy-${suffix}`,
  plain: `prism-e2e-plain-${suffix}`,
  plugin: `prism-e2e-plugin-${suffix}`,
  backends: `prism-e2e-backends-${suffix}`,
};
const network = `prism-e2e-${suffix}`;

const log = (msg: string) => process.stdout.write(`[container] ${msg}\n`);
const which = (cmd: string) => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function docker(args: string[], timeout = 120_000): Promise<string> {
  try {
    const { stdout } = await exec('docker', args, { maxBuffer: 256 << 20, timeout });
    return stdout.trim();
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`docker ${args.join(' ')} failed: ${e.message.split('\n')[0]}\n${output}`);
  }
}
/** A container's output, stdout and stderr (the plugin server logs to stderr). */
async function containerLogs(name: string): Promise<string> {
  const { stdout, stderr } = await exec('docker', ['logs', name], { maxBuffer: 64 << 20 });
  return `${stdout}${stderr}`;
}
const imageExists = (tag: string) =>
  spawnSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' }).status === 0;

// ── A Docker engine: running, or started here ────────────────────────────────────────────────────────────────
function dockerInfo(): string | undefined {
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error) return r.error.message;
  return r.status === 0 ? undefined : (r.stderr || r.stdout).trim().split('\n').pop();
}

let dockerd: ChildProcess | undefined;
async function ensureDocker(): Promise<string | undefined> {
  if (!which('docker'))
    return 'the docker CLI is not installed (bash scripts/setup/50-container.sh installs it)';
  const error = dockerInfo();
  if (!error) return undefined;
  const bin = which('dockerd');
  if (!bin || process.getuid?.() !== 0)
    return `docker info fails (${error}) and dockerd cannot be started here (${bin ? 'not root' : 'not installed'})`;
  const logFile = join(tmpdir(), 'prism-e2e-dockerd.log');
  log(`docker info fails (${error}); starting ${bin} (log: ${logFile})`);
  const out = openSync(logFile, 'a');
  const child = spawn(bin, [], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, sig) => resolve(`${code ?? sig}`)),
  );
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      return `dockerd cannot run here (exited with ${await exited}):\n${tail}`;
    }
    if (!dockerInfo()) {
      dockerd = child;
      return undefined;
    }
  }
  child.kill('SIGTERM');
  return 'dockerd did not answer within 60 s';
}

async function stopDockerd() {
  if (!dockerd || dockerd.exitCode !== null) return;
  const exited = new Promise((resolve) => dockerd?.once('exit', resolve));
  dockerd.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
}

// ── The base image ───────────────────────────────────────────────────────────────────────────────────────────
interface Plan {
  base: string;
  build: 'source' | 'prebuilt';
  /** Made here with debootstrap when missing. */
  local: boolean;
}
function plan(): Plan {
  const base = process.env.PRISM_CONTAINER_BASE;
  const build = process.env.PRISM_CONTAINER_BUILD === 'prebuilt' ? 'prebuilt' : 'source';
  if (base) return { base, build, local: false };
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  if (/^ID=debian$/m.test(osRelease) && /^VERSION_CODENAME=bookworm$/m.test(osRelease))
    return { base: `prism-base:bookworm-node${process.versions.node}`, build: 'prebuilt', local: true };
  return { base: 'node:22-slim', build: 'source', local: false };
}

function run(cmd: string, args: string[], timeout: number): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.error?.message ?? r.status ?? r.signal}):\n${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-30).join('\n')}`,
    );
}

/** Debian bookworm (minbase) + this machine's node, like the official node:*-slim images (which add npm). */
async function makeLocalBase(tag: string): Promise<void> {
  const debootstrap =
    which('debootstrap') ?? (existsSync('/usr/sbin/debootstrap') ? '/usr/sbin/debootstrap' : undefined);
  if (!debootstrap) throw new Error('debootstrap is not installed: run bash scripts/setup/50-container.sh');
  const dir = mkdtempSync(join(tmpdir(), 'prism-rootfs-'));
  const started = Date.now();
  try {
    const mirror = process.env.PRISM_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
    log(
      `making ${tag}: debootstrap --variant=minbase bookworm (${mirror}), once; later runs reuse the image`,
    );
    run(debootstrap, ['--variant=minbase', 'bookworm', dir, mirror], 15 * 60_000);
    // What a slim image leaves out: documentation, locales, apt's package lists and caches.
    for (const path of [
      'usr/share/doc',
      'usr/share/man',
      'usr/share/locale',
      'var/lib/apt/lists',
      'var/cache/apt',
    ])
      run('sh', ['-c', `rm -rf "${join(dir, path)}"/*`], 60_000);
    const node = join(dir, 'usr/local/bin/node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
    const chroot = which('chroot') ?? '/usr/sbin/chroot';
    const check = spawnSync(chroot, [dir, '/usr/local/bin/node', '-e', '0'], { encoding: 'utf8' });
    if (check.status !== 0)
      throw new Error(
        `${process.execPath} does not run in the bookworm root filesystem: ${check.stderr}\n${spawnSync('ldd', [process.execPath], { encoding: 'utf8' }).stdout}`,
      );
    await new Promise<void>((resolve, reject) => {
      const tar = spawn('tar', ['-C', dir, '--numeric-owner', '-c', '.'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const imp = spawn(
        'docker',
        [
          'import',
          '--change',
          'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          '--change',
          'CMD ["node"]',
          '-',
          tag,
        ],
        { stdio: [tar.stdout, 'ignore', 'pipe'] },
      );
      let err = '';
      imp.stderr?.on('data', (c: Buffer) => (err += c.toString()));
      imp.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`docker import failed: ${err}`)),
      );
    });
    log(`made ${tag} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ── Containers ───────────────────────────────────────────────────────────────────────────────────────────────
async function waitHealthy(name: string, ms = 60_000): Promise<void> {
  let last = '';
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(200)) {
    last = await docker(['inspect', '-f', '{{.State.Status}} {{.State.Health.Status}}', name]);
    if (last === 'running healthy') return;
    if (!last.startsWith('running')) break;
  }
  const logs = await containerLogs(name).catch((e: Error) => e.message);
  throw new Error(`${name} is "${last}", not healthy:\n${logs.split('\n').slice(-40).join('\n')}`);
}

/** Starts a container; the health check runs every 500 ms instead of the image's 10 s, so the test need not wait. */
async function runContainer(
  name: string,
  image: string,
  args: string[] = [],
  cmd: string[] = [],
): Promise<void> {
  await docker(['run', '-d', '--name', name, '--health-interval', '500ms', ...args, image, ...cmd]);
}

async function hostPort(name: string): Promise<string> {
  return `http://${(await docker(['port', name, '8980/tcp'])).split('\n')[0]}`;
}

async function bufCurl(protocol: string, url: string, method: string, body: object): Promise<unknown> {
  const { stdout } = await exec(
    BUF,
    [
      'curl',
      '--schema',
      join(ROOT, 'proto'),
      '--protocol',
      protocol,
      '--http2-prior-knowledge',
      `${url}/prism.keyvalue.v1.KeyValueBasicInterface/${method}`,
      '-d',
      JSON.stringify(body),
    ],
    { cwd: ROOT },
  );
  return JSON.parse(stdout);
}

async function setGet(protocol: string, url: string, namespace: string) {
  const key = `k-${protocol}-${namespace}`;
  expect(await bufCurl(protocol, url, 'Set', { namespace, key, value: 'aGVsbG8=' })).toEqual({});
  expect(await bufCurl(protocol, url, 'Get', { namespace, key })).toEqual({ found: true, value: 'aGVsbG8=' });
}

const mb = (bytes: number) => bytes / 1e6;

// ESM test file: the engine is checked (and started) before jest collects the tests.
const unavailable = await ensureDocker();
if (unavailable) log(`SKIPPED: no Docker engine here: ${unavailable}`);
const describeDocker = unavailable ? describe.skip : describe;

describeDocker('the proxy container image', () => {
  const p = plan();
  let configDir: string;
  const sizes = { base: 0, proxy: 0, plugin: 0 };

  beforeAll(async () => {
    const started = Date.now();
    log(
      `base ${p.base}, ${p.build === 'prebuilt' ? 'bundle and native addons from this machine' : 'built from source in the image'}`,
    );
    if (p.local && !imageExists(p.base)) await makeLocalBase(p.base);
    if (p.build === 'prebuilt')
      await exec(process.execPath, [join(ROOT, 'apps/proxy/scripts/docker-context.mjs'), '--quiet']);
    const args = [
      'build',
      '-f',
      DOCKERFILE,
      '--build-arg',
      `BASE=${p.base}`,
      '--build-arg',
      `PRISM_BUILD=${p.build}`,
    ];
    await docker([...args, '-t', PROXY_IMAGE, ROOT], 40 * 60_000);
    await docker(
      [...args, '--target', 'plugin', '--build-arg', 'ADAPTER=memstore', '-t', PLUGIN_IMAGE, ROOT],
      40 * 60_000,
    );
    log(`built ${PROXY_IMAGE} and ${PLUGIN_IMAGE} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const [key, tag] of [
      ['base', p.base],
      ['proxy', PROXY_IMAGE],
      ['plugin', PLUGIN_IMAGE],
    ] as const)
      sizes[key] = Number(await docker(['image', 'inspect', '-f', '{{.Size}}', tag]));

    // The config directory is mounted at /etc/prism; the proxy runs as uid 10001, so it must be readable.
    configDir = mkdtempSync(join(tmpdir(), 'prism-e2e-container-'));
    chmodSync(configDir, 0o755);
    writeFileSync(
      join(configDir, 'prism.yaml'),
      `proxy:
  listen: 0.0.0.0:8980
  shutdown_timeout_ms: ${DRAIN_MS}
namespaces:
  - { name: mounted, pattern: keyvalue, backend: { type: memstore } }
  - { name: events, pattern: pubsub, backend: { type: memstore } }
  - { name: side-kv, pattern: keyvalue, backend: { type: memstore, plugin: { mode: sidecar } } }
  - name: remote-kv
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: remote, endpoint: "http://${names.plugin}:9000" } }
`,
    );
    chmodSync(join(configDir, 'prism.yaml'), 0o644);
    await docker(['network', 'create', network]);
  }, 60 * 60_000);

  afterAll(async () => {
    for (const name of Object.values(names)) await docker(['rm', '-f', name]).catch(() => undefined);
    await docker(['network', 'rm', network]).catch(() => undefined);
    // Prebuilt, each run leaves a build stage (a copy of the checkout) and the replaced images untagged: remove
    // them (cheap to redo). From source, the build stage is the expensive cache: kept.
    if (p.build === 'prebuilt')
      await docker([
        'image',
        'prune',
        '--force',
        '--filter',
        'label=org.opencontainers.image.vendor=Prism',
      ]).catch(() => undefined);
    if (configDir) rmSync(configDir, { recursive: true, force: true });
    await stopDockerd();
  }, 60_000);

  it(`adds at most ${SIZE_BUDGET_MB} MB to its base image`, () => {
    const proxy = mb(sizes.proxy - sizes.base);
    log(
      `image sizes: base ${p.base} ${mb(sizes.base).toFixed(1)} MB; ${PROXY_IMAGE} ${mb(sizes.proxy).toFixed(1)} MB (+${proxy.toFixed(1)} MB over the base); ${PLUGIN_IMAGE} ${mb(sizes.plugin).toFixed(1)} MB (same layers)`,
    );
    expect(proxy).toBeGreaterThan(0);
    expect(proxy).toBeLessThanOrEqual(SIZE_BUDGET_MB);
  });

  it('runs node as PID 1 with an exec-form entrypoint, as a non-root user, with a grpc health check', async () => {
    const config = JSON.parse(await docker(['image', 'inspect', '-f', '{{json .Config}}', PROXY_IMAGE])) as {
      User: string;
      Entrypoint: string[];
      Cmd: string[];
      Healthcheck: { Test: string[] };
      ExposedPorts: Record<string, unknown>;
    };
    expect(config.User).toBe('10001:10001');
    expect(config.Entrypoint).toEqual(['node', '/opt/prism/main.mjs']);
    expect(config.Cmd).toEqual(['--config', '/etc/prism/prism.yaml']);
    expect(config.Healthcheck.Test).toEqual(['CMD', 'node', '/opt/prism/healthcheck.mjs']);
    expect(Object.keys(config.ExposedPorts)).toEqual(['8980/tcp']);
    // Only the bundle and the native packages: no workspace, no TypeScript, no development packages.
    const files = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'sh',
      PROXY_IMAGE,
      '-c',
      'id -u; ls /opt/prism/node_modules /opt/prism/node_modules/@confluentinc; ls /src 2>&1 || true',
    ]);
    expect(files.split('\n')[0]).toBe('10001');
    expect(files).toMatch(/better-sqlite3/);
    expect(files).toMatch(/kafka-javascript/);
    expect(files).not.toMatch(/typescript|esbuild|@prism/);
    expect(files).toMatch(/No such file/);
  });

  it('starts without a mount on the image’s default config', async () => {
    await runContainer(names.plain, PROXY_IMAGE, ['-p', '127.0.0.1::8980']);
    await waitHealthy(names.plain);
    await setGet('grpc', await hostPort(names.plain), 'default');
    await docker(['rm', '-f', names.plain]);
  });

  describe('with a mounted config, a sidecar and a remote plugin container', () => {
    let url: string;
    beforeAll(async () => {
      await runContainer(names.plugin, PLUGIN_IMAGE, ['--network', network]);
      await waitHealthy(names.plugin);
      await runContainer(names.proxy, PROXY_IMAGE, [
        '--network',
        network,
        '-p',
        '127.0.0.1::8980',
        '-v',
        `${configDir}:/etc/prism:ro`,
      ]);
      url = await hostPort(names.proxy);
    }, 120_000);

    it('turns healthy through grpc.health.v1', async () => {
      await waitHealthy(names.proxy);
      const health = JSON.parse(await docker(['inspect', '-f', '{{json .State.Health}}', names.proxy])) as {
        Log: { ExitCode: number }[];
      };
      expect(health.Log.at(-1)?.ExitCode).toBe(0);
    });

    it.each(['grpc', 'connect', 'grpcweb'])('answers buf curl over --protocol %s', async (protocol) => {
      await setGet(protocol, url, 'mounted');
    });

    it('serves namespaces on a sidecar (in the proxy container) and on the remote plugin container', async () => {
      await setGet('grpc', url, 'side-kv');
      await setGet('connect', url, 'remote-kv');
      expect(await containerLogs(names.plugin)).toMatch(/"namespace":"remote-kv".*"msg":"started"/);
    });

    it(`drains on docker stop (SIGTERM to node as PID 1) and exits 0 within ${DRAIN_MS} ms`, async () => {
      // An open subscription: the drain must end it (UNAVAILABLE) rather than wait for it.
      const sub = createClient(PubSubBasicInterface, createGrpcTransport({ baseUrl: url })).subscribe({
        namespace: 'events',
        topic: 't',
      });
      const events = sub[Symbol.asyncIterator]();
      expect((await events.next()).value?.event.case).toBe('subscribed');
      const ended = (async () => {
        try {
          while (!(await events.next()).done);
          return 'ended';
        } catch (err) {
          return ConnectError.from(err).code;
        }
      })();
      const started = Date.now();
      await docker(['stop', '--time', '30', names.proxy]); // docker's SIGKILL would come after 30 s
      const elapsed = Date.now() - started;
      const state = JSON.parse(await docker(['inspect', '-f', '{{json .State}}', names.proxy])) as {
        ExitCode: number;
        OOMKilled: boolean;
      };
      log(`docker stop took ${elapsed} ms; exit code ${state.ExitCode}`);
      expect(state.ExitCode).toBe(0);
      expect(elapsed).toBeLessThan(DRAIN_MS);
      expect(await ended).toBe(Code.Unavailable);
      // node itself is PID 1 (exec-form ENTRYPOINT, no shell) and got the signal.
      expect(await containerLogs(names.proxy)).toMatch(/"pid":1,.*"signal":"SIGTERM","msg":"draining"/);
      // The plugin container stops the same way.
      await docker(['stop', '--time', '30', names.plugin]);
      expect(await docker(['inspect', '-f', '{{.State.ExitCode}}', names.plugin])).toBe('0');
    });
  });
  // The servers of the e2e run (127.0.0.1 on this machine; none with PRISM_E2E_SERVERS=none): the adapters with
  // native code (the Kafka client with Debian's shared libraries, better-sqlite3) and the others, inside the image.
  const servers = {
    redis: process.env.PRISM_TEST_REDIS_URL,
    postgres: process.env.PRISM_TEST_PG_URL,
    nats: process.env.PRISM_TEST_NATS_URL,
    kafka: process.env.PRISM_TEST_KAFKA_URL,
  };
  const describeServers = Object.values(servers).every(Boolean) ? describe : describe.skip;
  describeServers('on the host network, with the real backends of the e2e run', () => {
    let url: string;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'prism-e2e-container-backends-'));
      // Namespace names of this file only: the servers are shared with the other e2e files (kv-backends
      // counts the keys of its own namespaces).
      chmodSync(dir, 0o755);
      writeFileSync(
        join(dir, 'prism.yaml'),
        `namespaces:
  - { name: container-redis, pattern: keyvalue, backend: { type: redis, config: { url: "${servers.redis}" } } }
  - { name: container-postgres, pattern: keyvalue, backend: { type: postgres, config: { url: "${servers.postgres}" } } }
  - { name: container-sqlite, pattern: keyvalue, backend: { type: sqlite, config: { path: ./container-e2e.db } } }
  - { name: container-audit, pattern: stream, backend: { type: kafka, config: { brokers: ["${servers.kafka}"] } } }
  - { name: container-events, pattern: pubsub, backend: { type: nats, config: { servers: ["${servers.nats}"] } } }
`,
      );
      chmodSync(join(dir, 'prism.yaml'), 0o644);
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      // Another port than 8980 (CMD replaced): the health check is told where to look.
      await runContainer(
        names.backends,
        PROXY_IMAGE,
        ['--network', 'host', '-e', `PRISM_HEALTHCHECK_URL=${url}`, '-v', `${dir}:/etc/prism:ro`],
        ['--config', '/etc/prism/prism.yaml', '--port', String(port)],
      );
      await waitHealthy(names.backends);
    }, 120_000);
    afterAll(async () => {
      await docker(['rm', '-f', names.backends]).catch(() => undefined);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('serves Redis, PostgreSQL and SQLite namespaces', async () => {
      for (const ns of ['container-redis', 'container-postgres', 'container-sqlite'])
        await setGet('grpc', url, ns);
    });

    it('appends to and reads a Kafka stream, and publishes on NATS', async () => {
      const streams = createClient(StreamBasicInterface, createGrpcTransport({ baseUrl: url }));
      const { offset } = await streams.append({
        namespace: 'container-audit',
        stream: 's',
        payload: new Uint8Array([7]),
      });
      const got: number[] = [];
      for await (const rec of streams.read({
        namespace: 'container-audit',
        stream: 's',
        fromOffset: offset,
        maxRecords: 1,
      }))
        got.push(rec.message?.payload[0] ?? -1);
      expect(got).toEqual([7]);
      const pubsub = createClient(PubSubBasicInterface, createGrpcTransport({ baseUrl: url }));
      expect(
        (await pubsub.publish({ namespace: 'container-events', topic: 't', payload: new Uint8Array([1]) }))
          .messageId,
      ).not.toBe('');
      await docker(['stop', '--time', '30', names.backends]);
      expect(await docker(['inspect', '-f', '{{.State.ExitCode}}', names.backends])).toBe('0');
    });
  });
});
