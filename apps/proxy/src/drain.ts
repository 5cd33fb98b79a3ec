import { Code, ConnectError } from '@connectrpc/connect';
import type { Middleware, Pipeline } from '@prism/sdk';
import type { HealthService } from './health.js';
import type { DualProtocolListener } from './listener.js';

/** What a drain of the client port did. */
export interface DrainReport {
  /** Client calls running when the drain started (open streams included). */
  readonly callsInFlight: number;
  /** Of those, server streams. */
  readonly streamsInFlight: number;
  /** Streams ended with UNAVAILABLE once only streams remained. */
  readonly streamsEnded: number;
  /** Unary calls still running at the deadline; their connections were closed. */
  readonly callsCut: number;
  readonly durationMs: number;
  /** True when an earlier drain had already done it (the counts are that drain's). */
  readonly alreadyDrained: boolean;
}

/** What {@link createDrain} works on. */
export interface DrainParts {
  readonly health: HealthService;
  readonly listener: DualProtocolListener;
  readonly pipeline: Pipeline;
  /** Ends every connect-node call still running (the handler's shutdown signal). */
  readonly endCalls: (reason: ConnectError) => void;
  /** Deadline when the caller gives none (`proxy.shutdown_timeout_ms`). */
  readonly defaultTimeoutMs: number;
}

/**
 * Makes a server stream that a drain ended fail with the drain's reason (UNAVAILABLE, so the client
 * resubscribes elsewhere) instead of ending cleanly: a plugin's subscription returns quietly when its
 * signal aborts, and a clean end would read as "no more messages" to the client.
 */
export function drainedStreams(shutdown: AbortSignal): Middleware {
  return (next) => (call) => {
    if (call.kind !== 'server_streaming') return next(call);
    const inner = next(call);
    return (async function* () {
      yield* (await inner) as AsyncIterable<unknown>;
      if (shutdown.aborted) throw shutdown.reason;
    })();
  };
}

/** Resolves when `done()` holds (polled: drains are rare and short), or after `ms`. */
async function waitUntil(done: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !done() && Date.now() < end; )
    await new Promise((r) => setTimeout(r, 10));
}

/**
 * Takes the client port out of service, once (graceful shutdown and the admin API's Drain share it):
 * health NOT_SERVING, no new connections (GOAWAY for HTTP/2, idle HTTP/1.1 connections closed), unary
 * calls finish up to the deadline; streams (subscriptions) never end on their own, so they are ended
 * with UNAVAILABLE once only they remain, and clients resubscribe to another replica. Whatever is left
 * is then closed. Plugins stay up: closing them is shutdown's part.
 */
export function createDrain(parts: DrainParts): (timeoutMs?: number) => Promise<DrainReport> {
  let done: Promise<DrainReport> | undefined;
  return (timeoutMs) => {
    if (done) return done.then((r) => ({ ...r, alreadyDrained: true }));
    const { health, listener, pipeline } = parts;
    const deadline = timeoutMs || parts.defaultTimeoutMs;
    done = (async () => {
      const t0 = performance.now();
      const inflight = pipeline.inflight;
      const callsInFlight = inflight.count;
      const streamsInFlight = pipeline.streams;
      health.setShuttingDown();
      listener.stopAccepting();
      await waitUntil(() => inflight.count <= pipeline.streams, deadline);
      const streamsEnded = pipeline.streams;
      const callsCut = inflight.count - streamsEnded;
      parts.endCalls(new ConnectError('proxy is shutting down', Code.Unavailable));
      await waitUntil(() => inflight.count === 0, Math.min(deadline, 2000));
      listener.destroyAll();
      return {
        callsInFlight,
        streamsInFlight,
        streamsEnded,
        callsCut,
        durationMs: Math.round(performance.now() - t0),
        alreadyDrained: false,
      };
    })();
    return done;
  };
}
