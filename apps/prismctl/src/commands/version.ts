import { toJson as messageToJson } from '@bufbuild/protobuf';
import { type GetVersionResponse, GetVersionResponseSchema } from '@prism/proto/prism/admin/v1/admin_pb';
import type { Command } from 'commander';
import { action, type CliIo, prismctlVersion } from '../io.js';
import { toJson } from '../output.js';
import {
  callAdmin,
  endpointUrl,
  formatDuration,
  formatFields,
  type RemoteOptions,
  timeText,
  withRemote,
} from '../remote.js';

interface VersionOptions extends RemoteOptions {
  readonly client?: boolean;
}

/** `prismctl version`: prismctl's version and the running proxy's (GetVersion). */
export function register(program: Command, io: CliIo): void {
  const version = program
    .command('version')
    .description(
      "prismctl's version and the running proxy's: version, commit, Node.js, pid, uptime, config file (admin API)",
    )
    .option('--client', "only prismctl's version (no call)");
  withRemote(version).action(
    action(version, io, async (opts: VersionOptions) => {
      const prismctl = { version: prismctlVersion() };
      if (opts.client) {
        io.out(opts.json ? toJson({ prismctl }) : formatFields([['prismctl', prismctl.version]]));
        return;
      }
      const url = endpointUrl(opts.endpoint);
      let res: GetVersionResponse;
      try {
        res = await callAdmin(opts, (admin) => admin.getVersion({}), { warn: io.err });
      } catch (err) {
        // Like `kubectl version`: prismctl's own version, then why the proxy's is unknown.
        io.out(opts.json ? toJson({ prismctl }) : formatFields([['prismctl', prismctl.version]]));
        throw err;
      }
      if (opts.json) {
        io.out(
          toJson({
            prismctl,
            proxy: messageToJson(GetVersionResponseSchema, res, { alwaysEmitImplicit: true }),
          }),
        );
        return;
      }
      io.out(
        formatFields([
          ['prismctl', prismctl.version],
          ['proxy', `${res.version}${res.commit ? ` (commit ${res.commit})` : ''}`],
          ['node', res.nodeVersion],
          ['pid', String(res.pid)],
          [
            'started',
            res.startedAt && `${timeText(res.startedAt)} (up ${formatDuration(res.uptimeSeconds)})`,
          ],
          ['config', res.configFile],
          ['endpoint', url],
        ]),
      );
    }),
  );
}
