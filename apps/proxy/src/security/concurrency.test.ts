import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, expect, it } from '@jest/globals';
import { PubSubBasicInterface } from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
import { startTestProxy, type TestProxy } from '../test-support.js';

let test: TestProxy;
afterAll(() => test?.stop());

it('limits.max_concurrent: calls beyond it (open streams included) get RESOURCE_EXHAUSTED until one ends', async () => {
  test = await startTestProxy(`namespaces:
  - name: ps
    pattern: pubsub
    limits: { max_concurrent: 2 }
    backend: { type: memstore }
`);
  const pubsub = createClient(PubSubBasicInterface, createGrpcTransport({ baseUrl: test.proxy.url }));
  const first = new AbortController();
  const second = new AbortController();
  const open = (signal: AbortSignal) =>
    pubsub.subscribe({ namespace: 'ps', topic: 't' }, { signal })[Symbol.asyncIterator]();
  const a = open(first.signal);
  const b = open(second.signal);
  const pending = [a.next().catch(() => undefined), b.next().catch(() => undefined)];
  await new Promise((r) => setTimeout(r, 200));
  const refused = await pubsub.publish({ namespace: 'ps', topic: 't', payload: new Uint8Array([1]) }).then(
    () => 'ok',
    (err: unknown) => ConnectError.from(err),
  );
  expect(refused).toBeInstanceOf(ConnectError);
  expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
  expect((refused as ConnectError).rawMessage).toMatch(/limit of 2 concurrent calls/);
  first.abort();
  await pending[0];
  await new Promise((r) => setTimeout(r, 100));
  await expect(
    pubsub.publish({ namespace: 'ps', topic: 't', payload: new Uint8Array([2]) }),
  ).resolves.toBeDefined();
  second.abort();
  await Promise.allSettled(pending);
});
