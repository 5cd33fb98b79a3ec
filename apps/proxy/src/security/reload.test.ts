import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { startIdentityProvider, type TestIdentityProvider } from '@prism/testing';
import { startTestProxy, type TestProxy } from '../test-support.js';

let idp: TestIdentityProvider;
let test: TestProxy;
beforeAll(async () => {
  idp = await startIdentityProvider('prism');
});
afterAll(async () => {
  await test?.stop();
  await idp?.stop();
});

const yaml = (permissions: string, rate: string) => `proxy:
  auth:
    providers:
      - { name: corp, type: jwt, issuer: "${idp.issuer}", audience: prism }
namespaces:
  - name: a
    pattern: keyvalue
    backend: { type: memstore }
    access:
      - { principals: ["sub:app"], permissions: [${permissions}] }
    limits: { rate: { requests_per_second: ${rate}, burst: 1 } }
`;

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => Code[ConnectError.from(err).code],
  );

it('SIGHUP reload applies new access rules and rate limits without restarting the plugin', async () => {
  test = await startTestProxy(yaml('read', '1000'));
  const token = await idp.token({ sub: 'app' });
  const kv = createClient(
    KeyValueBasicInterface,
    createGrpcTransport({
      baseUrl: test.proxy.url,
      interceptors: [
        (next) => (req) => {
          req.header.set('authorization', `Bearer ${token}`);
          return next(req);
        },
      ],
    }),
  );
  const set = () => kv.set({ namespace: 'a', key: 'k', value: new Uint8Array([1]) });
  expect(await code(kv.exists({ namespace: 'a', key: 'k' }))).toBe('ok');
  expect(await code(set())).toBe('PermissionDenied');

  test.write(yaml('read, write', '0.001'));
  const result = await test.proxy.reload();
  expect(result).toMatchObject({ ok: true, kept: ['a'], started: [] });
  expect(await code(set())).toBe('ok'); // the burst of 1
  expect(await code(set())).toBe('ResourceExhausted');
});
