import { Command, CommanderError } from 'commander';
import * as backends from './commands/backends.js';
import * as completion from './commands/completion.js';
import * as drain from './commands/drain.js';
import * as generate from './commands/generate.js';
import * as namespaces from './commands/namespaces.js';
import * as patterns from './commands/patterns.js';
import * as plugin from './commands/plugin.js';
import * as plugins from './commands/plugins.js';
import * as reload from './commands/reload.js';
import * as validate from './commands/validate.js';
import * as version from './commands/version.js';
import { type CliIo, defaultCatalog, EXIT, type ExitCode, prismctlVersion } from './io.js';

/** Options of {@link buildProgram} besides the output streams. */
export interface ProgramOptions {
  /** Receives the exit code of a failed check; default: sets `process.exitCode`. */
  readonly exit?: (code: ExitCode) => void;
  /** Catalog factory (default: the proxy's bundled adapters); tests substitute one. */
  readonly catalog?: CliIo['catalog'];
}

/**
 * The prismctl command tree; `out`/`err` receive the output (tests capture it). A command group is a
 * module of `./commands/` exporting `register(program, io)`: adding one is one file and one line here.
 */
export function buildProgram(
  out: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
  options: ProgramOptions = {},
): Command {
  const io: CliIo = {
    out,
    err,
    exit:
      options.exit ??
      ((code) => {
        process.exitCode = code;
      }),
    catalog: options.catalog ?? defaultCatalog,
  };
  // Set before adding commands: subcommands inherit the output and the exit override.
  const program = new Command('prismctl')
    .description(
      'Prism command line: validate configs, explore backends and patterns, generate configs, operate a running proxy',
    )
    .version(prismctlVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => out(s.replace(/\n$/, '')),
      writeErr: (s) => err(s.replace(/\n$/, '')),
    });
  validate.register(program, io);
  backends.register(program, io);
  patterns.register(program, io);
  generate.register(program, io);
  plugin.register(program, io);
  // Through a running proxy's admin API (--endpoint, --token).
  namespaces.register(program, io);
  plugins.register(program, io);
  reload.register(program, io);
  drain.register(program, io);
  version.register(program, io);
  completion.register(program, io);
  return program;
}

/**
 * Runs prismctl on `argv` (`process.argv` form) and returns the exit code: 0 ok, 1 invalid config or
 * failed check (also any error a command throws), 2 usage error (commander's and the commands' own).
 */
export async function run(
  argv: readonly string[],
  out: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
  options: Omit<ProgramOptions, 'exit'> = {},
): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = buildProgram(out, err, {
    ...options,
    exit: (c) => {
      code = Math.max(code, c) as ExitCode;
    },
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (e) {
    // Commander has printed its message (unknown command, missing argument, ...); help and --version exit 0.
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    err((e as Error).message);
    return EXIT.failed;
  }
}
