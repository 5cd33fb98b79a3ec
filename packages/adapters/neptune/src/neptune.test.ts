import { createHash, createHmac } from 'node:crypto';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signNeptuneHandshake } from '@prism/adapter-gremlin';
import { Code, ConnectError, instantiatePlugin, PluginConfigError, type PluginHandle } from '@prism/sdk';
import { makeTestCerts, type TestCerts, testServerUrl } from '@prism/testing';
import plugin from './index.js';

const ctx = { signal: new AbortController().signal };

// This package depends on the adapter only: graph_basic is called through the handle by service name.
type Call = (req: unknown, c: typeof ctx) => Promise<Record<string, unknown>>;
const basic = (h: PluginHandle) => {
  const impl = h.interfaces.get('prism.graph.v1.GraphBasicInterface') as unknown as Record<string, Call>;
  return {
    addVertex: (vertex: { id: string; label: string; properties: Record<string, unknown> }) =>
      Promise.resolve().then(() => impl.addVertex!({ namespace: h.namespace, vertex }, ctx)),
    getVertex: (id: string) =>
      Promise.resolve().then(() => impl.getVertex!({ namespace: h.namespace, id }, ctx)),
  };
};

// The AWS SigV4 test suite's example credentials and date.
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const DATE = new Date('2015-08-30T12:36:00Z');

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

/**
 * A second, independent SigV4 for `GET /gremlin` (empty body), straight from the AWS documentation:
 * canonical request, string to sign, derived key, signature.
 */
function expectedAuthorization(opts: {
  host: string;
  amzDate: string;
  region: string;
  secret: string;
  accessKeyId: string;
  token?: string;
}): string {
  const headers: [string, string][] = [
    ['host', opts.host],
    ['x-amz-date', opts.amzDate],
    ...(opts.token ? ([['x-amz-security-token', opts.token]] as [string, string][]) : []),
  ];
  const signedHeaders = headers.map(([k]) => k).join(';');
  const canonical = [
    'GET',
    '/gremlin',
    '',
    ...headers.map(([k, v]) => `${k}:${v}`),
    '',
    signedHeaders,
    sha256(''),
  ].join('\n');
  const day = opts.amzDate.slice(0, 8);
  const scope = `${day}/${opts.region}/neptune-db/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', opts.amzDate, scope, sha256(canonical)].join('\n');
  const kDate = hmac(`AWS4${opts.secret}`, day);
  const kRegion = hmac(kDate, opts.region);
  const kService = hmac(kRegion, 'neptune-db');
  const kSigning = hmac(kService, 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(toSign, 'utf8').digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${opts.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

describe('Neptune SigV4 handshake signing (fixture)', () => {
  it('signs GET https://host:8182/gremlin for neptune-db with host and x-amz-date', async () => {
    const headers = await signNeptuneHandshake({
      host: 'db.cluster-abc.us-east-1.neptune.amazonaws.com',
      port: 8182,
      region: 'us-east-1',
      credentials: CREDS,
      date: DATE,
    });
    expect(headers.host).toBe('db.cluster-abc.us-east-1.neptune.amazonaws.com:8182');
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers['x-amz-security-token']).toBeUndefined();
    expect(headers.authorization).toBe(
      expectedAuthorization({
        host: 'db.cluster-abc.us-east-1.neptune.amazonaws.com:8182',
        amzDate: '20150830T123600Z',
        region: 'us-east-1',
        secret: CREDS.secretAccessKey,
        accessKeyId: CREDS.accessKeyId,
      }),
    );
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/us-east-1\/neptune-db\/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it('signs the session token of temporary credentials and sends it', async () => {
    const token = 'IQoJb3JpZ2luX2VjEXAMPLETOKEN==';
    const headers = await signNeptuneHandshake({
      host: 'n.eu-west-1.neptune.amazonaws.com',
      port: 8182,
      region: 'eu-west-1',
      credentials: { ...CREDS, sessionToken: token },
      date: DATE,
    });
    expect(headers['x-amz-security-token']).toBe(token);
    expect(headers.authorization).toBe(
      expectedAuthorization({
        host: 'n.eu-west-1.neptune.amazonaws.com:8182',
        amzDate: '20150830T123600Z',
        region: 'eu-west-1',
        secret: CREDS.secretAccessKey,
        accessKeyId: CREDS.accessKeyId,
        token,
      }),
    );
  });

  it('changes the signature with the key, region and time', async () => {
    const base = {
      host: 'h.neptune.amazonaws.com',
      port: 8182,
      region: 'us-east-1',
      credentials: CREDS,
      date: DATE,
    };
    const a = (await signNeptuneHandshake(base)).authorization;
    expect((await signNeptuneHandshake({ ...base, region: 'us-west-2' })).authorization).not.toBe(a);
    expect(
      (await signNeptuneHandshake({ ...base, credentials: { ...CREDS, secretAccessKey: 'other' } }))
        .authorization,
    ).not.toBe(a);
    expect(
      (await signNeptuneHandshake({ ...base, date: new Date(DATE.getTime() + 1000) })).authorization,
    ).not.toBe(a);
  });
});

describe('neptune config', () => {
  it('needs a region for IAM auth and key pairs together, and takes no graph_query fields', async () => {
    await expect(instantiatePlugin(plugin, { endpoint: 'h' }, { namespace: 'n' })).rejects.toThrow(
      PluginConfigError,
    );
    await expect(
      instantiatePlugin(
        plugin,
        { endpoint: 'h', region: 'us-east-1', access_key_id: 'A' },
        { namespace: 'n' },
      ),
    ).rejects.toThrow(/secret_access_key/);
    await expect(
      instantiatePlugin(
        plugin,
        { endpoint: 'h', iam_auth: false, read_only_traversal_source: 'gro' },
        { namespace: 'n' },
      ),
    ).rejects.toThrow(/read_only_traversal_source/);
    await expect(
      instantiatePlugin(plugin, { endpoint: 'h', iam_auth: false, allow_writes: true }, { namespace: 'n' }),
    ).rejects.toThrow(/allow_writes/);
  });
});

describe('neptune handshake on the wire', () => {
  let certs: TestCerts;
  let server: Server;
  const seen: Record<string, string | string[] | undefined>[] = [];

  beforeAll(async () => {
    certs = makeTestCerts();
    server = createHttpsServer({ cert: certs.serverCert, key: certs.serverKey });
    // Captures the WebSocket upgrade request, then refuses it like Neptune refuses a bad signature.
    server.on('upgrade', (req, socket) => {
      seen.push(req.headers);
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    certs.remove();
  });

  it('sends the signed headers over TLS (wss) and maps a refused handshake to PERMISSION_DENIED', async () => {
    const port = (server.address() as AddressInfo).port;
    const h = await instantiatePlugin(
      plugin,
      {
        endpoint: '127.0.0.1',
        port,
        region: 'us-east-1',
        access_key_id: CREDS.accessKeyId,
        secret_access_key: CREDS.secretAccessKey,
        session_token: 'TOKEN',
        ca: certs.ca.toString(),
        connect_timeout_ms: 3000,
      },
      { namespace: 'wire' },
    );
    try {
      const err = await basic(h)
        .getVertex('x')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.PermissionDenied);
      const headers = seen.at(-1)!;
      expect(headers.host).toBe(`127.0.0.1:${port}`);
      expect(headers['x-amz-security-token']).toBe('TOKEN');
      const amzDate = String(headers['x-amz-date']);
      expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
      expect(headers.authorization).toBe(
        expectedAuthorization({
          host: `127.0.0.1:${port}`,
          amzDate,
          region: 'us-east-1',
          secret: CREDS.secretAccessKey,
          accessKeyId: CREDS.accessKeyId,
          token: 'TOKEN',
        }),
      );
      // A second call opens a new connection with a freshly signed handshake.
      const before = seen.length;
      await basic(h)
        .getVertex('x')
        .catch(() => {});
      expect(seen.length).toBe(before + 1);
    } finally {
      await h.close();
    }
  });

  it('works end to end against Gremlin Server (signed headers ignored there, TLS off)', async () => {
    const url = new URL(testServerUrl('gremlin'));
    const h = await instantiatePlugin(
      plugin,
      {
        endpoint: url.hostname,
        port: Number(url.port),
        tls: false,
        region: 'us-east-1',
        access_key_id: CREDS.accessKeyId,
        secret_access_key: CREDS.secretAccessKey,
      },
      { namespace: 'neptune-e2e' },
    );
    try {
      await basic(h).addVertex({ id: 'v', label: 'l', properties: { a: 1 } });
      const got = await basic(h).getVertex('v');
      expect(got).toMatchObject({ found: true, vertex: { id: 'v', label: 'l', properties: { a: 1 } } });
    } finally {
      await h.close();
    }
  });
});
