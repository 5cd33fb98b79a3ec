import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { StreamBasicInterface } from '@prism/stream-basic';
import { listKafkaTopics, testServerUrl } from '@prism/testing';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

describe('streams on Kafka through the proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-e2e-kafka-'));
  const brokers = testServerUrl('kafka');
  let proxy: ProxyProcess;

  beforeAll(async () => {
    const config = join(dir, 'prism.yaml');
    writeFileSync(
      config,
      `proxy:
  listen: 127.0.0.1:0
namespaces:
  - { name: audit, pattern: stream, backend: { type: kafka, config: { brokers: ["${brokers}"] } } }
`,
    );
    proxy = await startProxyProcess(config);
  });
  afterAll(async () => {
    await proxy?.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends over gRPC, reads back in order over Connect, and the topic lives in the broker', async () => {
    const writer = createClient(StreamBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
    const reader = createClient(
      StreamBasicInterface,
      createConnectTransport({ baseUrl: proxy.url, httpVersion: '2' }),
    );
    const offsets: bigint[] = [];
    for (const i of [0, 1, 2])
      offsets.push(
        (await writer.append({ namespace: 'audit', stream: 'logins', payload: new Uint8Array([i, 255]) }))
          .offset,
      );
    const got: number[] = [];
    for await (const rec of reader.read({
      namespace: 'audit',
      stream: 'logins',
      fromOffset: offsets[0],
      maxRecords: 3,
    }))
      got.push(rec.message?.payload[0] ?? -1);
    expect(got).toEqual([0, 1, 2]);
    const topics = await listKafkaTopics(brokers.replace(/^kafka:\/\//, ''));
    expect(topics.some((t) => t.endsWith('logins') && t.includes('audit'))).toBe(true);
  });
});
