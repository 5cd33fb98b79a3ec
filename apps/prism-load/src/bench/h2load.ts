// h2load (Debian package nghttp2-client) drives the throughput rows: a C HTTP/2 load generator, so the
// generator is not what caps the figure. It only sees HTTP statuses, and gRPC errors arrive as HTTP 200
// with grpc-status in the trailers: pair every run with `grpcCall` (the same request, checked by a client
// that reads the trailers) before and after.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import { join } from 'node:path';
import { encodeEnvelope } from '../wire/envelope.js';
import { unaryResult } from '../wire/protocol.js';

/** The default load shape: one connection with 64 concurrent streams. */
export const H2LOAD_SHAPE = { clients: 1, streams: 64 } as const;

/** Where h2load comes from, for error messages. */
export const H2LOAD_INSTALL_HINT =
  'h2load is not on PATH: install the Debian package nghttp2-client (scripts/setup/10-debian-packages.sh does)';

export interface H2loadOptions {
  /** Full URL including the method path, e.g. `http://127.0.0.1:8980/prism.keyvalue.v1.KeyValueBasicInterface/Get`. */
  readonly url: string;
  /** The whole request body, sent with every request (gRPC: one frame, see {@link grpcFrame}). */
  readonly body: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Connections (`-c`); default 1. */
  readonly clients?: number;
  /** Concurrent streams per connection (`-m`); default 64. */
  readonly streams?: number;
  /** Native threads (`-t`); default 1. */
  readonly threads?: number;
  /** Measured duration (`-D`), seconds. */
  readonly durationS: number;
  /** Warm-up before the measurement (`--warm-up-time`), seconds; 0 = none. */
  readonly warmupS?: number;
  /** The executable; default `h2load` from PATH. */
  readonly bin?: string;
}

/** h2load's summary. Latencies ("time for request") cover every finished request. */
export interface H2loadSummary {
  /** Wall time of the whole run including warm-up ("finished in"), seconds. */
  readonly finishedS: number;
  /** Finished requests (any status) per second of the measured duration, as h2load reports it. */
  readonly reqPerS: number;
  readonly requests: {
    readonly total: number;
    readonly started: number;
    readonly done: number;
    /** Responses with a 2xx status. */
    readonly succeeded: number;
    readonly failed: number;
    readonly errored: number;
    readonly timeout: number;
  };
  readonly statusCodes: {
    readonly '2xx': number;
    readonly '3xx': number;
    readonly '4xx': number;
    readonly '5xx': number;
  };
  /** Per-request time in ms; absent when no request finished. */
  readonly latencyMs?: {
    readonly min: number;
    readonly max: number;
    readonly mean: number;
    readonly sd: number;
  };
}

/** Wraps an encoded protobuf message into one length-prefixed gRPC frame (5-byte header + bytes). */
export function grpcFrame(message: Uint8Array): Buffer {
  return encodeEnvelope(message);
}

/** The headers of a gRPC unary call; `timeout` adds `grpc-timeout` (e.g. `5S`) for the deadline variant. */
export function grpcHeaders(opts: { timeout?: string } = {}): Record<string, string> {
  return {
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(opts.timeout !== undefined && { 'grpc-timeout': opts.timeout }),
  };
}

/** How a row names its generator, e.g. `h2load -c1 -m64`. */
export function h2loadLabel(opts: Pick<H2loadOptions, 'clients' | 'streams'> = {}): string {
  return `h2load -c${opts.clients ?? H2LOAD_SHAPE.clients} -m${opts.streams ?? H2LOAD_SHAPE.streams}`;
}

/** h2load's version line (e.g. `h2load nghttp2/1.52.0`), or undefined when it is not installed. */
export function h2loadVersion(bin = 'h2load'): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const msDuration = (s: number) => `${Math.max(1, Math.round(s * 1000))}ms`;

/** The command line for a run whose body is in `bodyFile`. */
export function h2loadArgs(opts: H2loadOptions, bodyFile: string): string[] {
  const args = [
    '-c',
    String(opts.clients ?? H2LOAD_SHAPE.clients),
    '-m',
    String(opts.streams ?? H2LOAD_SHAPE.streams),
    '-t',
    String(opts.threads ?? 1),
    '-D',
    msDuration(opts.durationS),
  ];
  if (opts.warmupS) args.push('--warm-up-time', msDuration(opts.warmupS));
  args.push('-d', bodyFile);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(opts.url);
  return args;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/** `1.16ms` / `545us` / `2.5s` → milliseconds. */
function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v);
  if (!m) throw new Error(`unexpected h2load duration "${v}"`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** Parses the summary h2load prints at the end of a run. */
export function parseH2load(text: string): H2loadSummary {
  const fail = () =>
    new Error(`cannot parse h2load output:\n${text.trim().split('\n').slice(-12).join('\n')}`);
  const finished = /^finished in ([\d.]+(?:us|ms|s)), ([\d.]+) req\/s/m.exec(text);
  const req =
    /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(
      text,
    );
  const codes = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(text);
  if (!finished || !req || !codes) throw fail();
  const n = (m: RegExpExecArray, i: number) => Number(m[i]);
  const requests = {
    total: n(req, 1),
    started: n(req, 2),
    done: n(req, 3),
    succeeded: n(req, 4),
    failed: n(req, 5),
    errored: n(req, 6),
    timeout: n(req, 7),
  };
  const t = /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(text);
  return {
    finishedS: toMs(finished[1] as string) / 1000,
    reqPerS: Number(finished[2]),
    requests,
    statusCodes: { '2xx': n(codes, 1), '3xx': n(codes, 2), '4xx': n(codes, 3), '5xx': n(codes, 4) },
    latencyMs:
      t && requests.done > 0
        ? {
            min: toMs(t[1] as string),
            max: toMs(t[2] as string),
            mean: toMs(t[3] as string),
            sd: toMs(t[4] as string),
          }
        : undefined,
  };
}

/**
 * Runs h2load once and parses its summary. Rejects when h2load is missing, exits non-zero, prints no
 * summary, or no request got a 2xx answer (h2load itself exits 0 then).
 */
export async function runH2load(opts: H2loadOptions): Promise<H2loadSummary> {
  const dir = mkdtempSync(join(os.tmpdir(), 'prism-h2load-'));
  const bodyFile = join(dir, 'body.bin');
  writeFileSync(bodyFile, opts.body);
  const bin = opts.bin ?? 'h2load';
  try {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(bin, h2loadArgs(opts, bodyFile), { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      // h2load keeps waiting on a server that stops answering: bound the run.
      const limitMs = (opts.durationS + (opts.warmupS ?? 0)) * 1000 + 30_000;
      const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(err.code === 'ENOENT' ? new Error(H2LOAD_INSTALL_HINT) : err);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    if (code !== 0)
      throw new Error(
        `h2load exited with ${code ?? 'a signal'}: ${(stderr || stdout).trim().split('\n').slice(-5).join(' | ')}`,
      );
    const summary = parseH2load(stdout);
    if (summary.requests.succeeded === 0) {
      const r = summary.requests;
      const c = summary.statusCodes;
      throw new Error(
        `h2load: no request succeeded (${r.done} done, ${r.errored} errored, ${r.timeout} timed out; status ${c['2xx']} 2xx ${c['4xx']} 4xx ${c['5xx']} 5xx)${stderr ? `: ${stderr.trim().split('\n').slice(-2).join(' | ')}` : ''}`,
      );
    }
    return summary;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The outcome of {@link grpcCall}: `code` undefined means grpc-status 0. */
export interface GrpcCallResult {
  readonly httpStatus: number;
  readonly code: string | undefined;
  readonly grpcMessage: string | undefined;
  readonly message: Uint8Array | undefined;
}

/**
 * Sends exactly the request h2load sends (same URL, headers and body) on its own HTTP/2 connection and
 * reads the answer as a gRPC client does: status from the trailers (or a trailers-only response).
 */
export function grpcCall(
  url: string,
  body: Uint8Array,
  headers: Readonly<Record<string, string>>,
  timeoutMs = 10_000,
): Promise<GrpcCallResult> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const session = http2.connect(u.origin);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      session.close();
      fn();
    };
    session.once('error', (err) => done(() => reject(err)));
    const req = session.request({ ':method': 'POST', ':path': `${u.pathname}${u.search}`, ...headers });
    const chunks: Buffer[] = [];
    let resHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.once('response', (h) => {
      resHeaders = h;
    });
    req.once('trailers', (t) => {
      trailers = t;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('error', (err) => done(() => reject(err)));
    req.once('end', () =>
      done(() => {
        try {
          const raw = {
            status: Number(resHeaders[':status'] ?? 0),
            headers: resHeaders,
            body: Buffer.concat(chunks),
            trailers,
          };
          const r = unaryResult('grpc', raw);
          const msg = trailers?.['grpc-message'] ?? resHeaders['grpc-message'];
          resolve({
            httpStatus: raw.status,
            code: r.code,
            grpcMessage: msg === undefined ? undefined : decodeURIComponent(String(msg)),
            message: r.message,
          });
        } catch (err) {
          reject(err);
        }
      }),
    );
    req.end(body);
  });
}
