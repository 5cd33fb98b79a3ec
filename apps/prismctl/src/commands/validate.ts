import type { Command } from 'commander';
import { action, type CliIo, EXIT, type JsonOption, withJson } from '../io.js';
import { toJson } from '../output.js';
import { validateConfig } from '../validate.js';

/** `prismctl validate <file>`: the proxy's own load-time validation, with the slot/interface report. */
export function register(program: Command, io: CliIo): void {
  const cmd = program
    .command('validate')
    .description(
      'check a namespace YAML the way the proxy loads it (adapters, config schemas, needs, served patterns) and report each required interface',
    )
    .argument('<file>', 'the YAML file');
  withJson(cmd).action(
    action(cmd, io, async (file: string, opts: JsonOption) => {
      const result = await validateConfig(file, io.catalog());
      if (opts.json) io.out(toJson(result.json));
      else {
        if (result.report) io.out(result.report);
        if (!result.ok) io.err(result.problems);
      }
      if (!result.ok) io.exit(EXIT.failed);
    }),
  );
}
