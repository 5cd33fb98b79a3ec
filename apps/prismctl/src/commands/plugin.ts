import type { Command } from 'commander';
import { action, type CliIo, type JsonOption, withJson } from '../io.js';
import { toJson } from '../output.js';
import { scaffoldPlugin } from '../scaffold.js';

/** `prismctl plugin init <name>`: scaffolds a backend plugin package. */
export function register(program: Command, io: CliIo): void {
  const plugin = program.command('plugin').description('backend plugins');
  const init = plugin
    .command('init')
    .description('generate a backend plugin package wired to the keyvalue_basic conformance suite')
    .argument('<name>', 'backend type, e.g. mapstore')
    .option('--dir <dir>', 'target directory (default: packages/adapters/<name> in the workspace)')
    .option('--package-name <name>', 'npm package name (default: @prism/adapter-<name>)');
  withJson(init).action(
    action(init, io, async (name: string, opts: { dir?: string; packageName?: string } & JsonOption) => {
      const { dir, files } = await scaffoldPlugin({
        name,
        ...(opts.dir ? { dir: opts.dir } : {}),
        ...(opts.packageName ? { packageName: opts.packageName } : {}),
      });
      if (opts.json) {
        io.out(toJson({ dir, files }));
        return;
      }
      io.out(`created ${dir}:\n${files.map((f) => `  ${f}`).join('\n')}`);
      io.out('next: pnpm install, fill in the TODOs in src/index.ts, then pnpm test (see README.md)');
    }),
  );
}
