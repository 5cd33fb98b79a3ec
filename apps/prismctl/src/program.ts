import { Command } from 'commander';
import { scaffoldPlugin } from './scaffold.js';
import { validateConfig } from './validate.js';

/** The prismctl command tree; `out`/`err` receive the output (tests capture it). */
export function buildProgram(
  out: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
) {
  const program = new Command('prismctl').description('Prism command line').exitOverride();
  program
    .command('validate')
    .description('check a namespace YAML the way the proxy loads it (adapters, config schemas, needs)')
    .argument('<file>', 'the YAML file')
    .action(async (file: string) => {
      const result = await validateConfig(file);
      (result.ok ? out : err)(result.text);
      if (!result.ok) process.exitCode = 1;
    });
  const plugin = program.command('plugin').description('backend plugins');
  plugin
    .command('init')
    .description('generate a backend plugin package wired to the keyvalue_basic conformance suite')
    .argument('<name>', 'backend type, e.g. mapstore')
    .option('--dir <dir>', 'target directory (default: packages/adapters/<name> in the workspace)')
    .option('--package-name <name>', 'npm package name (default: @prism/adapter-<name>)')
    .action(async (name: string, opts: { dir?: string; packageName?: string }) => {
      const { dir, files } = await scaffoldPlugin({
        name,
        ...(opts.dir ? { dir: opts.dir } : {}),
        ...(opts.packageName ? { packageName: opts.packageName } : {}),
      });
      out(`created ${dir}:\n${files.map((f) => `  ${f}`).join('\n')}`);
      out('next: pnpm install, fill in the TODOs in src/index.ts, then pnpm test (see README.md)');
    });
  return program;
}
