import { Argument, type Command } from 'commander';
import { bashCompletion, commandTree, zshCompletion } from '../completion.js';
import { action, type CliIo, type JsonOption, withJson } from '../io.js';
import { toJson } from '../output.js';

/** `prismctl completion bash|zsh`: a shell completion script generated from the command tree. */
export function register(program: Command, io: CliIo): void {
  const cmd = program
    .command('completion')
    .description('print a shell completion script (bash or zsh) for every prismctl command')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']));
  withJson(cmd).action(
    action(cmd, io, (shell: 'bash' | 'zsh', opts: JsonOption) => {
      // `--json`: the command tree the script is generated from.
      if (opts.json) io.out(toJson(commandTree(program)));
      else io.out((shell === 'bash' ? bashCompletion(program) : zshCompletion(program)).trimEnd());
    }),
  );
}
