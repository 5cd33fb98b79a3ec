import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeTempDir, removeTempDir } from './process.js';
import { ensureS3ProxyLibs, type S3TestServer, s3ProxyVersion, startS3Proxy } from './s3proxy.js';

// A minimal AWS Signature V4 signer for S3 (path-style, headers host + x-amz-content-sha256 + x-amz-date),
// written here so the test depends on no AWS SDK and checks S3Proxy really verifies V4 signatures.
interface Creds {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
// RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone).
const uriEncode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

async function s3Request(
  base: string,
  creds: Creds,
  method: string,
  path: string,
  opts: { body?: Uint8Array; query?: Record<string, string>; unsignedPayload?: boolean } = {},
): Promise<Response> {
  const url = new URL(base);
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = opts.unsignedPayload ? 'UNSIGNED-PAYLOAD' : sha256Hex(opts.body ?? new Uint8Array());
  const canonicalUri = path.split('/').map(uriEncode).join('/');
  const canonicalQuery = Object.entries(opts.query ?? {})
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
    .sort()
    .join('&');
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
  };
  const signedHeaders = Object.keys(headers).sort().join(';');
  const canonicalHeaders = Object.keys(headers)
    .sort()
    .map((h) => `${h}:${headers[h]}\n`)
    .join('');
  const canonicalRequest = [
    method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${creds.region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), creds.region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  const { host: _host, ...sent } = headers; // fetch sets Host itself, to the same value
  return fetch(`${base}${canonicalUri}${canonicalQuery ? `?${canonicalQuery}` : ''}`, {
    method,
    headers: {
      ...sent,
      authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    body: opts.body,
    signal: AbortSignal.timeout(10_000),
  });
}

describe('startS3Proxy (S3Proxy, jclouds filesystem backend)', () => {
  let s3: S3TestServer;
  const bucket = 'prism-test-bucket';
  // Every byte value, so a text-mode or encoding bug would show.
  const payload = new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) % 256));

  beforeAll(async () => {
    const t0 = Date.now();
    s3 = await startS3Proxy();
    process.stdout.write(`S3Proxy ready in ${Date.now() - t0} ms\n`);
  }, 120_000);

  afterAll(async () => {
    await s3?.dispose();
  }, 60_000);

  it('fetched the pinned S3Proxy 2.6.0 jars', async () => {
    const libs = await ensureS3ProxyLibs();
    expect(s3ProxyVersion()).toBe('2.6.0');
    expect(existsSync(join(libs, 's3proxy-2.6.0.jar'))).toBe(true);
  });

  it('serves http://127.0.0.1:<port> with generated credentials and a filesystem data dir', () => {
    expect(s3.url).toBe(`http://127.0.0.1:${s3.port}`);
    expect(s3.region).toBe('us-east-1');
    expect(s3.accessKeyId).toMatch(/^AKPRISM[0-9A-F]{16}$/);
    expect(s3.secretAccessKey.length).toBeGreaterThanOrEqual(32);
    expect(s3.dataDir).toBe(join(s3.dir, 'data'));
    const props = readFileSync(join(s3.dir, 's3proxy.properties'), 'utf8');
    expect(props).toContain('jclouds.provider=filesystem');
    expect(props).toContain(`jclouds.filesystem.basedir=${s3.dataDir}`);
    expect(props).toContain(`s3proxy.endpoint=http://127.0.0.1:${s3.port}`);
    // The logback config in the temp dir applies: no Jetty DEBUG flood, and no secret in the log.
    expect(s3.logs()).not.toMatch(/\bDEBUG\b/);
    expect(s3.logs()).not.toContain(s3.secretAccessKey);
  });

  it('answers a signed ListBuckets with 200 and refuses unsigned requests with 403', async () => {
    const list = await s3Request(s3.url, s3, 'GET', '/');
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('ListAllMyBucketsResult');

    const anonymous = await fetch(`${s3.url}/`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('AccessDenied');

    const unsignedPut = await fetch(`${s3.url}/unsigned-bucket`, { method: 'PUT' });
    expect(unsignedPut.status).toBe(403);
    await unsignedPut.text();
    expect(existsSync(join(s3.dataDir, 'unsigned-bucket'))).toBe(false);
  });

  it('creates a bucket, stores an object as <dataDir>/<bucket>/<key>, and returns it byte for byte', async () => {
    const created = await s3Request(s3.url, s3, 'PUT', `/${bucket}`);
    expect(created.status).toBe(200);
    await created.text();
    expect(existsSync(join(s3.dataDir, bucket))).toBe(true);

    const put = await s3Request(s3.url, s3, 'PUT', `/${bucket}/dir/obj.bin`, { body: payload });
    expect(put.status).toBe(200);
    const etag = put.headers.get('etag');
    await put.text();
    expect(etag).toBe(`"${createHash('md5').update(payload).digest('hex')}"`);

    const got = await s3Request(s3.url, s3, 'GET', `/${bucket}/dir/obj.bin`);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(payload))).toBe(true);

    const onDisk = readFileSync(join(s3.dataDir, bucket, 'dir', 'obj.bin'));
    expect(onDisk.equals(Buffer.from(payload))).toBe(true);
  });

  it('accepts UNSIGNED-PAYLOAD and lists by prefix (query string in the signature)', async () => {
    const put = await s3Request(s3.url, s3, 'PUT', `/${bucket}/dir/unsigned payload.txt`, {
      body: new TextEncoder().encode('hello'),
      unsignedPayload: true,
    });
    expect(put.status).toBe(200);
    await put.text();
    expect(readFileSync(join(s3.dataDir, bucket, 'dir', 'unsigned payload.txt'), 'utf8')).toBe('hello');

    const list = await s3Request(s3.url, s3, 'GET', `/${bucket}`, {
      query: { 'list-type': '2', prefix: 'dir/' },
    });
    expect(list.status).toBe(200);
    const xml = await list.text();
    expect(xml).toContain('<Key>dir/obj.bin</Key>');
    expect(xml).toContain('<Key>dir/unsigned payload.txt</Key>');
  });

  it('refuses a wrong secret and an unknown access key with 403 and stores nothing', async () => {
    const wrongSecret = await s3Request(
      s3.url,
      { ...s3, secretAccessKey: `${s3.secretAccessKey}x` },
      'PUT',
      `/${bucket}/nope`,
      {
        body: payload,
      },
    );
    expect(wrongSecret.status).toBe(403);
    expect(await wrongSecret.text()).toMatch(/SignatureDoesNotMatch|AccessDenied/);

    const wrongKey = await s3Request(s3.url, { ...s3, accessKeyId: 'AKUNKNOWN' }, 'GET', '/');
    expect(wrongKey.status).toBe(403);
    await wrongKey.text();
    expect(existsSync(join(s3.dataDir, bucket, 'nope'))).toBe(false);
  });

  it('keeps the data across restart() on the same port', async () => {
    const port = s3.port;
    await s3.restart();
    expect(s3.port).toBe(port);
    const got = await s3Request(s3.url, s3, 'GET', `/${bucket}/dir/obj.bin`);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(payload))).toBe(true);
  }, 90_000);

  it('fetches the jars into an empty PRISM_S3PROXY_HOME', async () => {
    const home = makeTempDir('s3proxy-home');
    const saved = process.env.PRISM_S3PROXY_HOME;
    process.env.PRISM_S3PROXY_HOME = home;
    try {
      const libs = await ensureS3ProxyLibs();
      expect(libs).toBe(join(home, 's3proxy-2.6.0', 'libs'));
      expect(existsSync(join(libs, 's3proxy-2.6.0.jar'))).toBe(true);
      expect(existsSync(join(libs, '.complete'))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.PRISM_S3PROXY_HOME;
      else process.env.PRISM_S3PROXY_HOME = saved;
      removeTempDir(home);
    }
  }, 120_000);

  it('says to run the setup script when the jars are missing and Maven cannot fetch them', async () => {
    const home = makeTempDir('s3proxy-home');
    // A pom Maven cannot parse fails at once, without asking any repository.
    const pom = join(home, 'pom.xml');
    writeFileSync(pom, '<project><properties><s3proxy.version>2.6.0</s3proxy.version></properties>');
    const saved = { home: process.env.PRISM_S3PROXY_HOME, pom: process.env.PRISM_S3PROXY_POM };
    process.env.PRISM_S3PROXY_HOME = home;
    process.env.PRISM_S3PROXY_POM = pom;
    try {
      await expect(ensureS3ProxyLibs()).rejects.toThrow(
        /S3Proxy 2\.6\.0 jars are missing .* run scripts\/setup\/30-s3proxy\.sh/,
      );
      expect(existsSync(join(home, 's3proxy-2.6.0', 'libs'))).toBe(false);
    } finally {
      for (const [name, value] of [
        ['PRISM_S3PROXY_HOME', saved.home],
        ['PRISM_S3PROXY_POM', saved.pom],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      removeTempDir(home);
    }
  }, 60_000);

  it('dispose() stops the server and removes its temp dir', async () => {
    const { dir, url } = s3;
    await s3.dispose();
    expect(existsSync(dir)).toBe(false);
    await expect(fetch(`${url}/`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  }, 60_000);
});
