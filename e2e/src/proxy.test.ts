import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient, type Transport } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { ListBasicInterface } from '@prism/proto/prism/list/v1/list_basic_pb';
import { PROXY_MAIN, type ProxyProcess, ROOT, startProxyProcess } from './proxy-process.js';

const run = promisify(execFile);
const BUF = join(ROOT, 'node_modules/.bin/buf');

const protocols = (url: string): [string, Transport][] => [
  ['grpc (h2c)', createGrpcTransport({ baseUrl: url })],
  ['connect (h2c)', createConnectTransport({ baseUrl: url, httpVersion: '2' })],
  ['connect (HTTP/1.1)', createConnectTransport({ baseUrl: url, httpVersion: '1.1' })],
  ['grpc-web (HTTP/1.1)', createGrpcWebTransport({ baseUrl: url, httpVersion: '1.1' })],
];

async function bufCurl(protocol: string, url: string, method: string, body: object): Promise<unknown> {
  const { stdout } = await run(
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

describe('proxy process on MemStore', () => {
  let proxy: ProxyProcess;
  beforeAll(async () => {
    proxy = await startProxyProcess(join(ROOT, 'e2e/fixtures/memstore.yaml'));
  });
  afterAll(async () => {
    await proxy?.stop('SIGKILL');
  });

  it.each(['grpc', 'connect', 'grpcweb'])('answers buf curl over --protocol %s', async (protocol) => {
    const key = `curl-${protocol}`;
    expect(await bufCurl(protocol, proxy.url, 'Get', { namespace: 'default', key })).toEqual({
      found: false,
    });
    expect(
      await bufCurl(protocol, proxy.url, 'Set', { namespace: 'default', key, value: 'aGVsbG8=' }),
    ).toEqual({});
    expect(await bufCurl(protocol, proxy.url, 'Get', { namespace: 'default', key })).toEqual({
      found: true,
      value: 'aGVsbG8=',
    });
  });

  it('serves key/value over every protocol, each seeing the others’ writes', async () => {
    const clients = protocols(proxy.url).map(
      ([name, t]) => [name, createClient(KeyValueBasicInterface, t)] as const,
    );
    for (const [i, [name, client]] of clients.entries())
      await client.set({ namespace: 'default', key: `shared-${i}`, value: new TextEncoder().encode(name) });
    for (const [, client] of clients)
      for (const [i, [name]] of clients.entries())
        expect(await client.get({ namespace: 'default', key: `shared-${i}` })).toMatchObject({
          found: true,
          value: new TextEncoder().encode(name),
        });
  });

  it.each(protocols('http://placeholder').map(([n]) => n))('serves lists over %s', async (name) => {
    const transport = protocols(proxy.url).find(([n]) => n === name)![1];
    const list = createClient(ListBasicInterface, transport);
    const key = `list-${name}`;
    const a = new Uint8Array([1]);
    const b = new Uint8Array([2]);
    expect((await list.pushRight({ namespace: 'lists', key, values: [a, b] })).length).toBe(2n);
    expect(await list.popLeft({ namespace: 'lists', key })).toMatchObject({ found: true, value: a });
    expect((await list.length({ namespace: 'lists', key })).length).toBe(1n);
  });
});

describe('proxy process lifecycle', () => {
  it('drains and exits 0 on SIGTERM', async () => {
    const proxy = await startProxyProcess(join(ROOT, 'e2e/fixtures/memstore.yaml'));
    const client = createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
    await client.set({ namespace: 'default', key: 'a', value: new Uint8Array([1]) });
    expect(await proxy.stop('SIGTERM')).toBe(0);
  });

  it('ends on SIGTERM from a supervisor that closes its stdout and stderr (spawnSync with a timeout)', async () => {
    // spawnSync blocks its process, so it runs in a child: if the proxy never exits, this test times out
    // instead of hanging the run. On timeout spawnSync sends SIGTERM and closes the proxy's pipes.
    const script = `
      const { spawnSync } = require('node:child_process');
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [${JSON.stringify(PROXY_MAIN)}, '--port', '0'], { timeout: 3000 });
      console.log(JSON.stringify({ ms: Date.now() - t0, status: r.status, signal: r.signal, out: String(r.stdout) }));`;
    const { stdout } = await run(process.execPath, ['-e', script], { timeout: 20_000 });
    const r = JSON.parse(stdout) as { ms: number; status: number | null; signal: string | null; out: string };
    expect(r.out).toMatch(/serving Connect, gRPC and gRPC-web/);
    expect(r).toMatchObject({ status: 0, signal: null });
    expect(r.ms).toBeLessThan(3000 + 10_000); // the drain timeout bounds the exit
  }, 30_000);

  it('refuses an invalid config with the file, line, namespace and field', async () => {
    const file = join(tmpdir(), `prism-bad-${process.pid}.yaml`);
    writeFileSync(
      file,
      'namespaces:\n  - name: orders\n    pattern: keyvalue\n    backend: { type: nosuchdb }\n',
    );
    const err = await startProxyProcess(file).then(
      () => new Error('expected the proxy to refuse the config'),
      (e: Error) => e,
    );
    expect(err.message).toMatch(/exited with 1/);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/:4/);
    expect(err.message).toMatch(/orders/);
    expect(err.message).toMatch(/nosuchdb/);
  });
});
