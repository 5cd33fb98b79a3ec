import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { json, prismctl } from './cli.test-util.js';
import { bashCompletion, type CommandNode, zshCompletion } from './completion.js';
import { buildProgram } from './program.js';

const COMMANDS = [
  'validate',
  'backends',
  'patterns',
  'generate',
  'plugin',
  'namespaces',
  'plugins',
  'reload',
  'drain',
  'version',
  'completion',
];

/** Completes `line` (words typed so far, the last one being completed) with the generated bash script. */
function complete(script: string, words: string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(' ');
  const res = spawnSync(
    'bash',
    [
      '--norc',
      '-c',
      `${script}\nCOMP_WORDS=(prismctl ${array}); COMP_CWORD=${words.length}; _prismctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  expect(res.stderr).toBe('');
  return res.stdout.split('\n').filter(Boolean);
}

describe('prismctl completion', () => {
  it('prints a bash script that completes commands, subcommands, options and fixed values', async () => {
    const r = await prismctl(['completion', 'bash']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.out).toContain(c);
    expect(r.out).toContain('complete -o default -F _prismctl prismctl');
    expect(spawnSync('bash', ['-n'], { input: r.out, encoding: 'utf8' }).status).toBe(0);

    expect(complete(r.out, [''])).toEqual([...COMMANDS, 'help']);
    expect(complete(r.out, ['ba'])).toEqual(['backends']);
    expect(complete(r.out, ['backends', ''])).toEqual(['list', 'find', 'help']);
    expect(complete(r.out, ['backends', 'find', '--'])).toEqual(['--interface', '--json', '--help']);
    expect(complete(r.out, ['generate', 'config', '--model', 'key'])).toEqual(['keyvalue']);
    expect(complete(r.out, ['patterns', 'describe', 'multi'])).toEqual(['multicast-registry']);
    expect(complete(r.out, ['completion', ''])).toEqual(['bash', 'zsh']);
    expect(complete(r.out, ['help', 'pa'])).toEqual(['patterns']);
    // A file argument: nothing from the script, bash falls back to file names (-o default).
    expect(complete(r.out, ['validate', ''])).toEqual([]);
    // The remote commands come from the same tree.
    expect(complete(r.out, ['plugins', ''])).toEqual(['list', 'status', 'restart', 'help']);
    expect(complete(r.out, ['namespaces', 'd'])).toEqual(['describe']);
    expect(complete(r.out, ['plugins', 'restart', '--'])).toEqual([
      '--endpoint',
      '--token',
      '--json',
      '--help',
    ]);
    expect(complete(r.out, ['drain', '--'])).toEqual([
      '--timeout-ms',
      '--exit',
      '--endpoint',
      '--token',
      '--json',
      '--help',
    ]);
    expect(complete(r.out, ['reload', '--endpoint', ''])).toEqual([]);
  });

  it('prints a zsh script with descriptions', async () => {
    const r = await prismctl(['completion', 'zsh']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('#compdef prismctl');
    expect(r.out).toContain('compdef _prismctl prismctl');
    for (const c of COMMANDS) expect(r.out).toContain(`'${c}:`);
    expect(r.out).toContain(
      "'--interface:interface flavour, e.g. keyvalue_ttl (repeatable, or comma-separated)'",
    );
    expect(r.out).toContain('("/validate") _files ;;');
    expect(r.out).toContain(`("/generate/config:--model") compadd -- 'keyvalue' 'list' 'pubsub'`);
    expect(r.out).toContain(`("/completion") compadd -- 'bash' 'zsh' ;;`);
    expect(r.out).toContain("'restart:replace the plugin of one namespace");
    expect(r.out).toContain(`("/plugins/status:--endpoint") _message 'admin API of the proxy`);
  });

  it('picks up commands registered later, from the command tree', () => {
    const program = buildProgram(() => {});
    program.command('clusters').description('clusters of proxies').command('list').option('--endpoint <url>');
    const bash = bashCompletion(program);
    expect(bash).toContain('"/clusters/list"');
    expect(bash).toContain('"/clusters/list:--endpoint") COMPREPLY=(); return ;;');
    expect(complete(bash, [''])).toContain('clusters');
    expect(zshCompletion(program)).toContain("'clusters:clusters of proxies'");
  });

  it('prints the command tree as JSON, and refuses an unknown shell', async () => {
    const tree = json<CommandNode>(await prismctl(['completion', 'bash', '--json']));
    expect(tree.subcommands.map((c) => c.name)).toEqual([...COMMANDS, 'help']);
    const find = tree.subcommands
      .find((c) => c.name === 'backends')!
      .subcommands.find((c) => c.name === 'find')!;
    expect(find.path).toEqual(['backends', 'find']);
    expect(find.options.map((o) => o.flag)).toEqual(['--interface', '--json', '--help']);
    const fish = await prismctl(['completion', 'fish']);
    expect(fish.code).toBe(2);
    expect(fish.err).toMatch(/Allowed choices are bash, zsh/);
  });
});
