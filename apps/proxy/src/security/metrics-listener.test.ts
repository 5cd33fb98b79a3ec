import { afterAll, expect, it } from '@jest/globals';
import { startTestProxy, type TestProxy } from '../test-support.js';

let test: TestProxy;
afterAll(() => test?.stop());

it('proxy.metrics.listen serves /metrics apart, without auth, while the client port guards it', async () => {
  test = await startTestProxy(`proxy:
  metrics: { listen: "127.0.0.1:0" }
  auth:
    providers:
      - { name: corp, type: jwt, issuer: "http://127.0.0.1:9/", audience: prism }
namespaces:
  - name: a
    pattern: keyvalue
    backend: { type: memstore }
`);
  const url = test.proxy.metricsUrl as string;
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const apart = await fetch(url);
  expect(apart.status).toBe(200);
  expect(await apart.text()).toMatch(/prism_requests_total|prism_plugin/);
  expect((await fetch(new URL('/other', url))).status).toBe(404);
  const guarded = await fetch(`${test.proxy.url}/metrics`);
  expect(guarded.status).toBe(401);
  expect(guarded.headers.get('www-authenticate')).toBe('Bearer');
});
