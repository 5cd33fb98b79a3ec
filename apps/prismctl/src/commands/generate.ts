import { ConfigError, type ConfigProblem, formatProblem, MODELS, parseConfig } from '@prism/config';
import { type Command, Option } from 'commander';
import { generateConfig } from '../generate.js';
import { action, type CliIo, collectList, EXIT, type JsonOption, UsageError, withJson } from '../io.js';
import { loadBackends } from '../metadata.js';
import { toJson } from '../output.js';

interface ConfigOptions extends JsonOption {
  readonly model: string;
  readonly needs: string[];
  readonly name?: string;
  readonly backend?: string;
  readonly embedded?: boolean;
}

/** `prismctl generate config`: a namespace YAML from a model and the flavours it needs. */
export function register(program: Command, io: CliIo): void {
  const generate = program.command('generate').description('generate configuration');
  const config = generate
    .command('config')
    .description(
      'print a config file with one namespace on the recommended backend (the others as comments); it passes prismctl validate',
    )
    .addOption(
      new Option('--model <model>', 'data model (the namespace pattern)')
        .choices(MODELS)
        .makeOptionMandatory(),
    )
    .option(
      '--needs <features>',
      'features besides basic, e.g. ttl,scan (repeatable, or comma-separated)',
      collectList,
      [],
    )
    .option('--name <namespace>', 'namespace name (default: the model)')
    .option('--backend <type>', 'use this backend type instead of the recommended one')
    .option('--embedded', 'prefer an embedded backend (memstore, sqlite): local development and tests');
  withJson(config).action(
    action(config, io, async (opts: ConfigOptions) => {
      const catalog = io.catalog();
      const generated = generateConfig(
        {
          model: opts.model,
          needs: opts.needs,
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
          ...(opts.embedded ? { embedded: true } : {}),
        },
        await loadBackends(catalog),
      );
      // Check the output with the config's own validation (the backends are loaded in `catalog`).
      let problems: readonly ConfigProblem[] = [];
      try {
        parseConfig(generated.yaml, { file: '<generated>', catalog, env: {} });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems = err.problems;
      }
      const badName = problems.find((p) => p.field === 'namespaces[0].name');
      if (badName) throw new UsageError(`--name ${JSON.stringify(generated.name)}: ${badName.message}`);
      if (opts.json) io.out(toJson({ ok: problems.length === 0, ...generated, problems }));
      else io.out(generated.yaml.trimEnd());
      if (problems.length) {
        io.err(
          `the generated config does not validate:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
        );
        io.exit(EXIT.failed);
      }
    }),
  );
}
