#!/usr/bin/env node
// The container's HEALTHCHECK: one gRPC call over HTTP/2 (h2c, or TLS for an https:// URL), no client binary.
//   node healthcheck.mjs [URL]           grpc.health.v1.Health/Check, service "" (the proxy): 0 only when SERVING
//   node healthcheck.mjs --plugin [URL]  a plugin server: prism.plugin.v1.PluginLifecycleInterface/Describe answers OK
// URL: the argument, else $PRISM_HEALTHCHECK_URL, else http://127.0.0.1:8980 (plugins: :9000). Exit 1 with the reason.
import http2 from 'node:http2';

const args = process.argv.slice(2);
const plugin = args.includes('--plugin');
const url =
  args.find((a) => !a.startsWith('--')) ??
  process.env.PRISM_HEALTHCHECK_URL ??
  `http://127.0.0.1:${plugin ? 9000 : 8980}`;
const fail = (why) => {
  console.error(`unhealthy: ${why} (${url})`);
  process.exit(1);
};
setTimeout(() => fail('no answer within 2 s'), 2000);

// A loopback probe: the certificate is the server's own, not worth verifying here.
const session = http2.connect(url, { rejectUnauthorized: false });
session.on('error', (err) => fail(err.message));
const path = plugin ? '/prism.plugin.v1.PluginLifecycleInterface/Describe' : '/grpc.health.v1.Health/Check';
const req = session.request({
  ':method': 'POST',
  ':path': path,
  'content-type': 'application/grpc',
  te: 'trailers',
});
const chunks = [];
let status;
let message = '';
const meta = (h) => {
  status = h['grpc-status'] ?? status;
  message = h['grpc-message'] ?? message;
};
req.on('response', meta); // a trailers-only answer carries grpc-status in the headers
req.on('trailers', meta);
req.on('data', (c) => chunks.push(c));
req.on('error', (err) => fail(err.message));
req.on('end', () => {
  session.close();
  if (status !== '0') fail(`grpc-status ${status ?? 'missing'} ${decodeURIComponent(message)}`);
  if (plugin) process.exit(0);
  // One length-prefixed message (5-byte header): HealthCheckResponse { status = 1 (SERVING) } is 08 01.
  const body = Buffer.concat(chunks).subarray(5);
  if (body[0] === 0x08 && body[1] === 1) process.exit(0);
  fail(`status ${['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][body[0] === 0x08 ? body[1] : 0]}`);
});
req.end(Buffer.alloc(5)); // one empty, uncompressed request message (service "")
