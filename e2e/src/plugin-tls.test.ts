// servePlugin's TCP door with mutual TLS, from @prism/sdk, with certificates from @prism/testing. It lives here
// rather than in the SDK because @prism/testing depends on the SDK (its conformance helper runs plugins).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import {
  ConnectError,
  createPluginTransport,
  definePlugin,
  implement,
  lifecycleClient,
  type PluginServer,
  servePlugin,
  z,
} from '@prism/sdk';
import { makeTestCerts, type TestCerts } from '@prism/testing';

// A real (tiny) plugin: a Map. It is the payload of the thing under test, not a mock of a backend.
const mapPlugin = definePlugin({
  name: 'maptest',
  version: '1.2.3',
  interfaces: [KeyValueBasic],
  configSchema: z.object({}),
  create: () => {
    const data = new Map<string, Uint8Array>();
    return {
      bindings: [
        implement(KeyValueBasic, {
          set: (req) => {
            data.set(req.key, req.value);
            return {};
          },
          get: (req) => {
            const value = data.get(req.key);
            return value ? { found: true, value } : { found: false };
          },
          delete: (req) => ({ deleted: data.delete(req.key) }),
          exists: (req) => ({ exists: data.has(req.key) }),
        }),
      ],
    };
  },
});

/** The message a call fails with (TLS failures surface as connection errors, not answers). */
const failure = async (fn: () => Promise<unknown>): Promise<string> => {
  try {
    await fn();
  } catch (err) {
    return ConnectError.from(err).message;
  }
  return 'call succeeded';
};

describe('servePlugin over TCP with mutual TLS', () => {
  let certs: TestCerts;
  let server: PluginServer;

  beforeAll(async () => {
    certs = makeTestCerts();
    server = await servePlugin(mapPlugin, {
      port: 0,
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requireClientCert: true },
    });
  });
  afterAll(async () => {
    await server?.close();
    certs?.remove();
  });

  it('serves clients with a certificate signed by the CA', async () => {
    const transport = createPluginTransport({
      url: server.url,
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
    });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await lifecycleClient(transport).describe({})).name).toBe('maptest');
  });

  it('verifies the server name given instead of the URL host', async () => {
    const transport = createPluginTransport({
      url: server.url,
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, serverName: 'plugin.test' },
    });
    expect((await lifecycleClient(transport).describe({})).name).toBe('maptest');
    const wrong = createPluginTransport({
      url: server.url,
      tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, serverName: 'evil.test' },
    });
    expect(await failure(() => lifecycleClient(wrong).describe({}))).toMatch(/evil\.test/);
  });

  it('refuses clients without a certificate', async () => {
    const transport = createPluginTransport({ url: server.url, tls: { ca: certs.ca } });
    expect(await failure(() => lifecycleClient(transport).describe({}))).toMatch(/certificate/);
  });
});
