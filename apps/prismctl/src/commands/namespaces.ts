import {
  DescribeNamespaceResponseSchema,
  ListNamespacesResponseSchema,
  type NamespaceDescription,
} from '@prism/proto/prism/admin/v1/admin_pb';
import type { Command } from 'commander';
import { action, type CliIo, EXIT } from '../io.js';
import { flavoursByModel } from '../metadata.js';
import { formatTable } from '../output.js';
import {
  callAdmin,
  formatDuration,
  formatFields,
  messageJson,
  orDash,
  pidText,
  pluginText,
  type RemoteOptions,
  withRemote,
} from '../remote.js';

function describeText(ns: NamespaceDescription): string {
  const b = ns.backend;
  const h = ns.health;
  const l = ns.limits;
  const p = ns.plugin;
  const details = Object.entries(h?.details ?? {})
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const backend = b && [
    `${b.type} (${b.pluginMode})`,
    ...(b.endpoint ? [`endpoint ${b.endpoint}`] : []),
    ...(b.package ? [`package ${b.package}`] : []),
    ...(b.tls ? ['tls'] : []),
  ];
  const limits = l && [
    `max_key_bytes ${l.maxKeyBytes}`,
    `max_value_bytes ${l.maxValueBytes}`,
    l.rate ? `rate ${l.rate.requestsPerSecond}/s burst ${l.rate.burst} per ${l.rate.per}` : 'no rate limit',
    `max_concurrent ${l.maxConcurrent || 'unlimited'}`,
  ];
  return formatFields([
    ['Namespace', ns.name],
    ['Pattern', ns.pattern],
    ['Declared at', ns.source],
    ['Needs', orDash(ns.needs)],
    ['Backend', backend?.join(', ')],
    ['Interfaces', ns.flavours.length ? flavoursByModel(ns.flavours) : '-'],
    [
      'Health',
      h && [`${h.status}${h.message ? `: ${h.message}` : ''}`, ...(details ? [details] : [])].join('\n'),
    ],
    ['Limits', limits?.join(', ')],
    [
      'Access',
      ns.access.length
        ? ns.access.map((r) => `${r.principals.join(', ')}: ${r.permissions.join(', ')}`).join('\n')
        : '- (proxy.access applies)',
    ],
    [
      'Plugin',
      p &&
        `${pluginText(p)}, ${p.state}, pid ${pidText(p.pid)}, restarts ${p.restarts}, up ${formatDuration(p.uptimeSeconds)}, ${p.inFlight} in flight`,
    ],
    ['Last error', p?.lastError || undefined],
  ]);
}

/** `prismctl namespaces list|describe`: the namespaces of a running proxy, through its admin API. */
export function register(program: Command, io: CliIo): void {
  const namespaces = program
    .command('namespaces')
    .description('namespaces of a running proxy (admin API: --endpoint, --token)');

  const list = namespaces
    .command('list')
    .description('every configured namespace with its pattern, backend, plugin mode, health and state');
  withRemote(list).action(
    action(list, io, async (opts: RemoteOptions) => {
      const res = await callAdmin(opts, (admin) => admin.listNamespaces({}), { warn: io.err });
      if (opts.json) io.out(messageJson(ListNamespacesResponseSchema, res));
      else if (!res.namespaces.length) io.out('no namespaces configured');
      else
        io.out(
          formatTable(
            ['NAME', 'PATTERN', 'BACKEND', 'MODE', 'HEALTH', 'STATE'],
            res.namespaces.map((n) => [n.name, n.pattern, n.backendType, n.pluginMode, n.health, n.state]),
          ),
        );
      const unhealthy = res.namespaces.filter((n) => n.health === 'unhealthy').map((n) => n.name);
      if (unhealthy.length) {
        if (!opts.json) io.err(`unhealthy: ${unhealthy.join(', ')}`);
        io.exit(EXIT.failed);
      }
    }),
  );

  const describe = namespaces
    .command('describe')
    .description('one namespace: backend, interfaces, health, limits, access rules and its plugin')
    .argument('<name>', 'namespace name');
  withRemote(describe).action(
    action(describe, io, async (name: string, opts: RemoteOptions) => {
      const res = await callAdmin(opts, (admin) => admin.describeNamespace({ namespace: name }), {
        warn: io.err,
      });
      if (opts.json) io.out(messageJson(DescribeNamespaceResponseSchema, res));
      else if (res.namespace) io.out(describeText(res.namespace));
      const health = res.namespace?.health;
      if (health?.status === 'unhealthy') {
        if (!opts.json)
          io.err(`namespace "${name}" is unhealthy${health.message ? `: ${health.message}` : ''}`);
        io.exit(EXIT.failed);
      }
    }),
  );
}
