import type { Command } from 'commander';
import { action, type CliIo, collectList, EXIT, type JsonOption, UsageError, withJson } from '../io.js';
import {
  type BackendInfo,
  backendsImplementing,
  checkFlavourNames,
  flavoursByModel,
  loadBackends,
} from '../metadata.js';
import { formatTable, toJson } from '../output.js';

const kind = (b: BackendInfo) => (b.embedded ? 'embedded' : 'server');

/** Notes on backends that could not be loaded, for stderr. */
function notes(backends: readonly BackendInfo[]): string[] {
  return backends.filter((b) => !b.installed).map((b) => `note: ${b.type}: ${b.note ?? 'not installed'}`);
}

/** `prismctl backends list|find`: the backend types the proxy ships and their interfaces. */
export function register(program: Command, io: CliIo): void {
  const backends = program
    .command('backends')
    .description('backend types the proxy ships (its @prism/adapter-* packages) and their interfaces');

  const list = backends
    .command('list')
    .description('every backend type with the interface flavours its plugin declares');
  withJson(list).action(
    action(list, io, async (opts: JsonOption) => {
      const all = await loadBackends(io.catalog());
      if (opts.json) {
        io.out(toJson(all));
        return;
      }
      io.out(
        formatTable(
          ['TYPE', 'VERSION', 'KIND', 'INTERFACES'],
          all.map((b) =>
            b.installed
              ? [b.type, b.version ?? '', kind(b), flavoursByModel(b.interfaces)]
              : [b.type, '-', kind(b), b.note ?? 'not installed'],
          ),
        ),
      );
    }),
  );

  const find = backends
    .command('find')
    .description('backends implementing every given interface flavour')
    .requiredOption(
      '--interface <flavours>',
      'interface flavour, e.g. keyvalue_ttl (repeatable, or comma-separated)',
      collectList,
    );
  withJson(find).action(
    action(find, io, async (opts: { interface: string[] } & JsonOption) => {
      if (!opts.interface.length) throw new UsageError('--interface needs at least one flavour');
      const all = await loadBackends(io.catalog());
      const wanted = checkFlavourNames(opts.interface, all);
      const found = backendsImplementing(all, wanted);
      for (const n of notes(all)) io.err(`${n} (not checked)`);
      if (opts.json) io.out(toJson(found));
      else if (found.length)
        io.out(
          formatTable(
            ['TYPE', 'VERSION', 'KIND', 'DESCRIPTION'],
            found.map((b) => [b.type, b.version ?? '', kind(b), b.description ?? '']),
          ),
        );
      if (!found.length) {
        if (!opts.json) io.err(`no backend implements ${wanted.join(' + ')}`);
        io.exit(EXIT.failed);
      }
    }),
  );
}
