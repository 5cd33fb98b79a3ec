import { formatProblem } from '@prism/config';
import { type ConfigProblem, ReloadConfigResponseSchema } from '@prism/proto/prism/admin/v1/admin_pb';
import type { Command } from 'commander';
import { action, type CliIo, EXIT } from '../io.js';
import { callAdmin, formatFields, messageJson, orDash, type RemoteOptions, withRemote } from '../remote.js';

/** A problem of the response in the proxy's own `file:line:col: field: message` form. */
const problemText = (p: ConfigProblem) =>
  formatProblem({
    file: p.file,
    field: p.field,
    message: p.message,
    ...(p.line ? { line: p.line } : {}),
    ...(p.column ? { column: p.column } : {}),
    ...(p.namespace ? { namespace: p.namespace } : {}),
  });

/** `prismctl reload`: the proxy re-reads its config file (what SIGHUP does), through its admin API. */
export function register(program: Command, io: CliIo): void {
  const reload = program
    .command('reload')
    .description(
      'make a running proxy re-read its config file, like SIGHUP (admin API); a rejected file prints its problems and exits 1, the previous config keeps serving',
    );
  withRemote(reload).action(
    action(reload, io, async (opts: RemoteOptions) => {
      const res = await callAdmin(opts, (admin) => admin.reloadConfig({}), { warn: io.err });
      if (opts.json) io.out(messageJson(ReloadConfigResponseSchema, res));
      else if (res.ok)
        io.out(
          `reloaded ${res.configFile}\n${formatFields([
            ['  started', orDash(res.started)],
            ['  kept', orDash(res.kept)],
            ['  removed', orDash(res.removed)],
          ])}`,
        );
      if (res.ok) return;
      if (!opts.json) {
        const n = res.problems.length;
        io.err(
          [
            `reload of ${res.configFile} rejected${n ? ` (${n} problem${n === 1 ? '' : 's'})` : ''}; the previous config keeps serving`,
            ...(n
              ? res.problems.map((p) => `  ${problemText(p)}`)
              : res.error.split('\n').map((l) => `  ${l}`)),
          ].join('\n'),
        );
      }
      io.exit(EXIT.failed);
    }),
  );
}
