import { PATTERNS } from '@prism/config';
import { Argument, type Command } from 'commander';
import { action, type CliIo, type JsonOption, withJson } from '../io.js';
import { loadBackends } from '../metadata.js';
import { formatTable, toJson } from '../output.js';
import { describePatterns, type ModelPatternInfo, type SlotPatternInfo } from '../pattern-info.js';

const orDash = (list: readonly string[]) => list.join(', ') || '-';

function describeModel(p: ModelPatternInfo): string {
  const table = formatTable(
    ['FLAVOUR', 'ASK FOR IT WITH', 'BACKENDS'],
    p.flavours.map((f) => [
      f.interface,
      f.feature === 'basic' ? '(always)' : `needs: { ${f.feature}: true }`,
      orDash(f.backends),
    ]),
  );
  return [
    `${p.name}: single-backend pattern (${p.status})`,
    `A namespace gives one backend:, which must implement ${p.name}_basic and every flavour in needs:.`,
    '',
    table,
  ].join('\n');
}

function describeSlots(p: SlotPatternInfo): string {
  const table = formatTable(
    ['SLOT', 'OPTIONAL', 'REQUIRED INTERFACES', 'OPTIONAL INTERFACES', 'BACKENDS'],
    p.slots.map((s) => [
      s.slot,
      s.optional ? 'yes' : 'no',
      s.required.join('\n'),
      s.optionalInterfaces.join('\n') || '-',
      orDash(
        s.backends.map((b) => (s.optionalInterfaces.length && s.fullBackends.includes(b) ? `${b}*` : b)),
      ),
    ]),
  );
  return [
    `${p.name}: slot pattern (${p.status}: the config validates, the proxy refuses to start it)`,
    'A namespace fills slots: with one backend each, instead of backend: and needs:.',
    '',
    table,
    '',
    '* also implements every optional interface of the slot',
    ...p.slots.map((s) => `${s.slot}: ${s.description}`),
  ].join('\n');
}

/** `prismctl patterns list|describe`: the patterns a namespace can use and the backends that fit. */
export function register(program: Command, io: CliIo): void {
  const patterns = program
    .command('patterns')
    .description('patterns a namespace can use: the data models (one backend) and slot patterns');

  const list = patterns
    .command('list')
    .description('every pattern with its flavours or slots and the backends that can serve it');
  withJson(list).action(
    action(list, io, async (opts: JsonOption) => {
      const all = describePatterns(await loadBackends(io.catalog()));
      if (opts.json) {
        io.out(toJson(all));
        return;
      }
      io.out(
        formatTable(
          ['PATTERN', 'KIND', 'FLAVOURS / SLOTS', 'BACKENDS', 'STATUS'],
          all.map((p) =>
            p.kind === 'model'
              ? [p.name, 'model', p.flavours.map((f) => f.feature).join(', '), orDash(p.backends), p.status]
              : [
                  p.name,
                  'slots',
                  p.slots.map((s) => `${s.slot}${s.optional ? ' (optional)' : ''}`).join(', '),
                  'per slot (patterns describe)',
                  p.status,
                ],
          ),
        ),
      );
    }),
  );

  const describe = patterns
    .command('describe')
    .description('the flavours of a model, or the slots of a slot pattern, with the backends that fit')
    .addArgument(
      new Argument('<name>', 'pattern name, e.g. keyvalue or multicast-registry').choices(PATTERNS),
    );
  withJson(describe).action(
    action(describe, io, async (name: string, opts: JsonOption) => {
      const p = describePatterns(await loadBackends(io.catalog())).find((x) => x.name === name);
      if (!p) throw new Error(`pattern ${name} is listed in PATTERNS but has no description`);
      if (opts.json) io.out(toJson(p));
      else io.out(p.kind === 'model' ? describeModel(p) : describeSlots(p));
    }),
  );
}
