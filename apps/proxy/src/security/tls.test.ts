import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeTestCerts, type TestCerts } from '@prism/testing';
import { startTestProxy, type TestProxy } from '../test-support.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs?.remove());

const yaml = (tlsLine: string) => `proxy:
  tls: ${tlsLine}
namespaces:
  - name: a
    pattern: keyvalue
    backend: { type: memstore }
`;

/** Handshakes with the proxy: the protocol ALPN chose, or the error that ended the connection. */
function handshake(
  test: TestProxy,
  opts: { alpn: string[]; cert?: Buffer; key?: Buffer },
): Promise<{ alpn: string | false; error?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port: test.proxy.port,
      ca: certs.ca,
      ALPNProtocols: opts.alpn,
      ...(opts.cert && { cert: opts.cert, key: opts.key }),
    });
    s.once('secureConnect', () => {
      // With TLS 1.3 the server checks the client certificate after the client's handshake is done:
      // speak first, then see whether the connection survives.
      s.write(
        s.alpnProtocol === 'h2'
          ? 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
          : 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      s.on('data', () => {});
      s.once('close', () => resolve({ alpn: false, error: 'closed by the server' }));
      setTimeout(() => {
        resolve({ alpn: s.alpnProtocol ?? false });
        s.destroy();
      }, 300);
    });
    s.once('error', (err) => resolve({ alpn: false, error: err.message }));
  });
}

describe('TLS on the client port', () => {
  let test: TestProxy;
  afterAll(() => test?.stop());

  it('speaks https and offers h2 and http/1.1 over ALPN', async () => {
    test = await startTestProxy(
      yaml(`{ cert_file: ${certs.serverCertFile}, key_file: ${certs.serverKeyFile} }`),
    );
    expect(test.proxy.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await handshake(test, { alpn: ['h2'] })).alpn).toBe('h2');
    expect((await handshake(test, { alpn: ['http/1.1'] })).alpn).toBe('http/1.1');
  });
});

describe('require_client_cert', () => {
  let test: TestProxy;
  afterAll(() => test?.stop());

  it('refuses a handshake without a certificate signed by the client CA', async () => {
    test = await startTestProxy(
      yaml(
        `{ cert_file: ${certs.serverCertFile}, key_file: ${certs.serverKeyFile}, client_ca_file: ${certs.caFile}, require_client_cert: true }`,
      ),
    );
    const without = await handshake(test, { alpn: ['h2'] });
    expect(without.error).toMatch(/certificate/i);
    const stranger = makeTestCerts();
    try {
      expect(
        (await handshake(test, { alpn: ['h2'], cert: stranger.clientCert, key: stranger.clientKey })).error,
      ).toBeDefined();
    } finally {
      stranger.remove();
    }
    expect(await handshake(test, { alpn: ['h2'], cert: certs.clientCert, key: certs.clientKey })).toEqual({
      alpn: 'h2',
    });
  });
});
