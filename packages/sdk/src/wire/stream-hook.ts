import type http2 from 'node:http2';

/** Answers an HTTP/2 stream directly (true), or leaves it to the server's request handler (false). */
export type StreamHook = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

/**
 * Lets `hook` see every HTTP/2 stream of `server` before Node's compat layer turns it into a
 * request/response pair (which costs per call): Node installs the compat adapter as a 'stream'
 * listener when a request handler is given; take it out and call it only for the streams the hook leaves.
 * Call after the server was created with its request handler.
 */
export function hookStreams(server: http2.Http2Server | http2.Http2SecureServer, hook: StreamHook): void {
  const compat = server.listeners('stream') as ((...args: unknown[]) => void)[];
  server.removeAllListeners('stream');
  server.on(
    'stream',
    (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => {
      if (hook(stream, headers)) return;
      for (const fn of compat) fn.call(server, stream, headers, ...rest);
    },
  );
}
