import {
  GetPluginStatusResponseSchema,
  ListPluginsResponseSchema,
  type PluginStatus,
  RestartPluginResponseSchema,
} from '@prism/proto/prism/admin/v1/admin_pb';
import type { Command } from 'commander';
import { action, type CliIo, EXIT } from '../io.js';
import { formatTable } from '../output.js';
import {
  callAdmin,
  formatDuration,
  formatFields,
  messageJson,
  pidText,
  pluginFields,
  pluginText,
  type RemoteOptions,
  withRemote,
} from '../remote.js';

const notRunning = (p: PluginStatus) =>
  `the plugin of namespace "${p.namespace}" is ${p.state}${p.lastError ? `: ${p.lastError}` : ''}`;

/**
 * `prismctl plugins list|status|restart`: the plugin instance of each namespace of a running proxy,
 * through its admin API (`prismctl plugin init` scaffolds a plugin package: another group).
 */
export function register(program: Command, io: CliIo): void {
  const plugins = program
    .command('plugins')
    .description('plugin instances of a running proxy, one per namespace (admin API: --endpoint, --token)');

  const list = plugins
    .command('list')
    .description('the plugin of every namespace: mode, state, pid, restarts, uptime, calls in flight');
  withRemote(list).action(
    action(list, io, async (opts: RemoteOptions) => {
      const res = await callAdmin(opts, (admin) => admin.listPlugins({}), { warn: io.err });
      if (opts.json) io.out(messageJson(ListPluginsResponseSchema, res));
      else if (!res.plugins.length) io.out('no namespaces configured');
      else
        io.out(
          formatTable(
            ['NAMESPACE', 'MODE', 'STATE', 'PLUGIN', 'PID', 'RESTARTS', 'UPTIME', 'IN FLIGHT', 'LAST ERROR'],
            res.plugins.map((p) => [
              p.namespace,
              p.pluginMode,
              p.state,
              pluginText(p),
              pidText(p.pid),
              String(p.restarts),
              p.state === 'running' ? formatDuration(p.uptimeSeconds) : '-',
              String(p.inFlight),
              p.lastError,
            ]),
          ),
        );
      const down = res.plugins.filter((p) => p.state !== 'running');
      if (down.length) {
        if (!opts.json) for (const p of down) io.err(notRunning(p));
        io.exit(EXIT.failed);
      }
    }),
  );

  const status = plugins
    .command('status')
    .description('the plugin of one namespace; exits 1 unless it is running')
    .argument('<namespace>', 'namespace name');
  withRemote(status).action(
    action(status, io, async (namespace: string, opts: RemoteOptions) => {
      const res = await callAdmin(opts, (admin) => admin.getPluginStatus({ namespace }), { warn: io.err });
      if (opts.json) io.out(messageJson(GetPluginStatusResponseSchema, res));
      else if (res.plugin) io.out(formatFields(pluginFields(res.plugin)));
      if (res.plugin && res.plugin.state !== 'running') {
        if (!opts.json) io.err(notRunning(res.plugin));
        io.exit(EXIT.failed);
      }
    }),
  );

  const restart = plugins
    .command('restart')
    .description(
      'replace the plugin of one namespace (a new sidecar process, remote or in-process instance) without failing calls; in-memory state is lost',
    )
    .argument('<namespace>', 'namespace name');
  withRemote(restart).action(
    action(restart, io, async (namespace: string, opts: RemoteOptions) => {
      const res = await callAdmin(opts, (admin) => admin.restartPlugin({ namespace }), { warn: io.err });
      if (opts.json) {
        io.out(messageJson(RestartPluginResponseSchema, res));
        return;
      }
      const pids =
        res.previousPid || res.plugin?.pid
          ? ` (pid ${pidText(res.previousPid)} → ${pidText(res.plugin?.pid ?? 0)})`
          : '';
      io.out(`restarted the plugin of namespace "${namespace}": ${res.action}${pids}`);
      if (res.plugin) io.out(formatFields(pluginFields(res.plugin)));
    }),
  );
}
