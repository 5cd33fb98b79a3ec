import { DrainResponseSchema } from '@prism/proto/prism/admin/v1/admin_pb';
import { type Command, InvalidArgumentError } from 'commander';
import { action, type CliIo } from '../io.js';
import { callAdmin, formatFields, messageJson, type RemoteOptions, withRemote } from '../remote.js';

interface DrainOptions extends RemoteOptions {
  readonly timeoutMs?: number;
  readonly exit?: boolean;
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n > 0xffffffff)
    throw new InvalidArgumentError('expected a whole number of milliseconds');
  return n;
}

/** `prismctl drain`: takes a running proxy out of service, through its admin API. */
export function register(program: Command, io: CliIo): void {
  const drain = program
    .command('drain')
    .description(
      'take a running proxy out of service (admin API): health NOT_SERVING, no new client connections, calls finish, streams end; cannot be undone',
    )
    .option(
      '--timeout-ms <ms>',
      'how long unary calls in flight may take to finish (default: proxy.shutdown_timeout_ms)',
      milliseconds,
    )
    .option('--exit', 'then shut the proxy down: prism-proxy exits 0');
  withRemote(drain).action(
    action(drain, io, async (opts: DrainOptions) => {
      const timeoutMs = opts.timeoutMs ?? 0;
      const res = await callAdmin(opts, (admin) => admin.drain({ timeoutMs, exit: opts.exit === true }), {
        // The proxy bounds the drain by timeout_ms (or its shutdown_timeout_ms): wait for its answer.
        timeoutMs: timeoutMs ? timeoutMs + 60_000 : null,
        warn: io.err,
      });
      if (opts.json) {
        io.out(messageJson(DrainResponseSchema, res));
        return;
      }
      io.out(
        [
          res.alreadyDrained
            ? 'already drained by an earlier Drain; its report:'
            : `drained in ${res.durationMs} ms: the client port takes no new connections, health is NOT_SERVING`,
          formatFields([
            ['  calls in flight', `${res.callsInFlight} (${res.streamsInFlight} of them streams)`],
            ['  streams ended', String(res.streamsEnded)],
            ['  calls cut', String(res.callsCut)],
          ]),
          res.exiting
            ? 'the proxy is shutting down and exits'
            : 'the admin API keeps serving; restart the process to serve clients again',
        ].join('\n'),
      );
    }),
  );
}
