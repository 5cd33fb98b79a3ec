import { describe, expect, it } from '@jest/globals';
import { json, prismctl } from './cli.test-util.js';

describe('prismctl exit codes and --json', () => {
  it('exits 0 for help and --version', async () => {
    const help = await prismctl(['--help']);
    expect(help.code).toBe(0);
    for (const c of [
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
    ])
      expect(help.out).toContain(c);
    expect((await prismctl(['help', 'backends'])).code).toBe(0);
    const version = await prismctl(['--version']);
    expect([version.code, version.out]).toEqual([0, expect.stringMatching(/^\d+\.\d+\.\d+$/)]);
  });

  it('exits 2 for usage errors: no command, unknown command or option, a group without its subcommand', async () => {
    for (const args of [
      [],
      ['nope'],
      ['backends', 'list', '--bogus'],
      ['backends'],
      ['validate', 'a', 'b'],
    ]) {
      const r = await prismctl(args);
      expect([args, r.code]).toEqual([args, 2]);
    }
    expect((await prismctl(['nope'])).err).toBe("error: unknown command 'nope'");
  });

  it('has --json on every command', async () => {
    const tree = json<{
      subcommands: {
        name: string;
        subcommands: { name: string; options: { flag: string }[] }[];
        options: { flag: string }[];
      }[];
    }>(await prismctl(['completion', 'bash', '--json']));
    const leaves = tree.subcommands
      .filter((c) => c.name !== 'help')
      .flatMap((c) => (c.subcommands.length ? c.subcommands.filter((s) => s.name !== 'help') : [c]));
    expect(leaves.map((l) => l.name)).toEqual([
      'validate',
      'list',
      'find',
      'list',
      'describe',
      'config',
      'init',
      'list',
      'describe',
      'list',
      'status',
      'restart',
      'reload',
      'drain',
      'version',
      'completion',
    ]);
    for (const l of leaves) expect(l.options.map((o) => o.flag)).toContain('--json');
  });
});
