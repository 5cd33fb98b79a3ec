import http2 from 'node:http2';
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  isMessage,
  toBinary,
} from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { codeFromHttpStatus, errorFromJsonBytes } from '@connectrpc/connect/protocol-connect';
import type { CallContext } from '../call.js';

// Unary calls between the proxy and its plugins are the hot path of sidecar and remote modes. They
// use the Connect protocol's unary form (POST, binary body, HTTP status + JSON error), done here on a
// raw HTTP/2 stream: no per-call abort controllers, async iterables or header objects. Streaming
// calls keep using connect-es. The server side is unary-server.ts (the plugin host mounts it). The
// caller's remaining deadline travels as `connect-timeout-ms`, its trace context as `traceparent`, and
// a cancelled call resets the stream, which aborts the call in the plugin.

/** One HTTP/2 connection to a plugin server, opened on first use and reopened after it closes. */
export class PluginSession {
  private session: http2.ClientHttp2Session | undefined;
  private closed = false;

  constructor(
    private readonly authority: string,
    private readonly options: http2.ClientSessionOptions | http2.SecureClientSessionOptions,
  ) {}

  get(): http2.ClientHttp2Session {
    if (this.closed) throw new ConnectError('the plugin connection was closed', Code.Unavailable);
    let s = this.session;
    if (!s || s.closed || s.destroyed) {
      const fresh = http2.connect(this.authority, this.options);
      fresh.on('error', () => {}); // each stream reports its own failure
      const drop = () => {
        if (this.session === fresh) this.session = undefined;
      };
      fresh.once('close', drop);
      fresh.once('goaway', drop);
      fresh.unref(); // an idle connection must not keep the process alive
      this.session = fresh;
      s = fresh;
    }
    return s;
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }
}

const lost = (message: string, cause?: unknown) =>
  new ConnectError(`plugin connection failed: ${message}`, Code.Unavailable, undefined, undefined, cause);

/** A unary method as a function over a {@link PluginSession}: binary in, binary out. */
export function fastUnary(
  session: PluginSession,
  service: DescService,
  method: DescMethod,
  extraHeaders: Readonly<Record<string, string>> | undefined,
): (request: unknown, ctx?: CallContext) => Promise<unknown> {
  const path = `/${service.typeName}/${method.name}`;
  const input: DescMessage = method.input;
  const output: DescMessage = method.output;
  return (request, ctx) =>
    new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      let settled = false;
      try {
        const body = toBinary(input, isMessage(request, input) ? request : create(input, request as never));
        const headers: http2.OutgoingHttpHeaders = {
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/proto',
          'connect-protocol-version': '1',
          ...extraHeaders,
        };
        if (ctx?.deadline !== undefined)
          headers['connect-timeout-ms'] = String(Math.max(1, Math.ceil(ctx.deadline - Date.now())));
        const trace = ctx?.trace;
        if (trace) {
          headers.traceparent = trace.traceparent;
          if (trace.tracestate) headers.tracestate = trace.tracestate;
        }
        stream = session.get().request(headers);
        stream.end(body);
        if (ctx) {
          const cancel = (reason: ConnectError) => {
            if (settled) return;
            settled = true;
            stream.close(http2.constants.NGHTTP2_CANCEL);
            reject(reason);
          };
          if (ctx.onAbort) ctx.onAbort(cancel);
          else if (ctx.signal.aborted) cancel(ConnectError.from(ctx.signal.reason, Code.Canceled));
          else
            ctx.signal.addEventListener(
              'abort',
              () => cancel(ConnectError.from(ctx.signal.reason, Code.Canceled)),
              { once: true },
            );
        }
      } catch (err) {
        return reject(err instanceof ConnectError ? err : lost((err as Error).message, err));
      }
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        status = Number(h[':status']);
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (settled) return;
        settled = true;
        const buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        if (status === 200) {
          try {
            resolve(fromBinary(output, buf));
          } catch (err) {
            reject(
              new ConnectError(
                `plugin sent an undecodable ${output.typeName}: ${(err as Error).message}`,
                Code.Internal,
              ),
            );
          }
          return;
        }
        // No response headers at all: the connection died under the call (e.g. the plugin was killed).
        if (status === 0) return reject(lost('the stream ended before the plugin answered'));
        const fallback = new ConnectError(`plugin answered HTTP ${status}`, codeFromHttpStatus(status));
        reject(errorFromJsonBytes(buf, undefined, fallback));
      });
      stream.on('error', (err) => {
        if (settled) return;
        settled = true;
        reject(lost(err.message, err));
      });
      stream.on('close', () => {
        if (settled) return;
        settled = true;
        reject(lost(`stream closed before the answer (code ${stream.rstCode})`));
      });
    });
}
