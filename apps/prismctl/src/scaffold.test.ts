import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildProgram } from './program.js';
import { findWorkspaceRoot } from './scaffold.js';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = findWorkspaceRoot(appDir) as string;

/** Runs a node script in `cwd` without this jest's worker variables; returns exit code and output. */
function run(cwd: string, args: string[]): { status: number | null; output: string } {
  // No colours: the output is matched as plain text (CI runners set FORCE_COLOR).
  const env = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('JEST_') && k !== 'FORCE_COLOR'),
    ),
    NO_COLOR: '1',
  };
  const res = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 150_000 });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}
const jest = (cwd: string) =>
  run(cwd, [
    '--experimental-vm-modules',
    '--disable-warning=ExperimentalWarning',
    join(root, 'node_modules/jest/bin/jest.js'),
    '--ci',
  ]);

/** The "backend" the test fills in: a Map, one line per TODO. */
const FILL: Record<string, string> = {
  Set: 'data.set(prefix + req.key, req.value);\n            return {};',
  Get: 'const value = data.get(prefix + req.key);\n            return value ? { found: true, value } : { found: false };',
  Delete: 'return { deleted: data.delete(prefix + req.key) };',
  Exists: 'return { exists: data.has(prefix + req.key) };',
};

describe('prismctl plugin init', () => {
  // Inside apps/prismctl, so the generated package resolves @prism/* through this package's node_modules.
  let work: string;
  let dir: string;
  const out: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(appDir, '.scaffold-test-'));
    dir = join(work, 'mapstore');
    await buildProgram((s) => out.push(s)).parseAsync([
      'node',
      'prismctl',
      'plugin',
      'init',
      'mapstore',
      '--dir',
      dir,
    ]);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('generates a package with a plugin bin, a skeleton and a conformance test', () => {
    expect(out.join('\n')).toContain(`created ${dir}`);
    for (const f of [
      'package.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'jest.config.mjs',
      'README.md',
      'src/index.ts',
      'src/bin.ts',
      'src/mapstore.test.ts',
    ])
      expect(existsSync(join(dir, f))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.name).toBe('@prism/adapter-mapstore');
    expect(pkg.bin).toEqual({ 'prism-plugin-mapstore': './dist/bin.js' });
    expect(pkg.dependencies).toEqual({ '@prism/keyvalue-basic': 'workspace:*', '@prism/sdk': 'workspace:*' });
    expect(readFileSync(join(dir, 'src/mapstore.test.ts'), 'utf8')).toContain(
      'describeKeyValueBasicConformance',
    );
    expect(readFileSync(join(dir, 'src/index.ts'), 'utf8').match(/TODO/g)?.length).toBeGreaterThanOrEqual(6);
  });

  it('refuses a bad name and a non-empty directory', async () => {
    const program = buildProgram(() => {});
    await expect(
      program.parseAsync(['node', 'prismctl', 'plugin', 'init', 'Bad_Name', '--dir', join(work, 'x')]),
    ).rejects.toThrow(/lowercase letters/);
    await expect(
      buildProgram(() => {}).parseAsync(['node', 'prismctl', 'plugin', 'init', 'mapstore', '--dir', dir]),
    ).rejects.toThrow(/not empty/);
  });

  it('type-checks as generated', () => {
    const res = run(dir, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']);
    expect(res.output).toBe('');
    expect(res.status).toBe(0);
  });

  it('fails the conformance suite until the TODOs are filled, then passes it', () => {
    const before = jest(dir);
    expect(before.status).not.toBe(0);
    expect(before.output).toMatch(/mapstore: Set of ".*" is not implemented yet \(src\/index\.ts\)/);

    const file = join(dir, 'src/index.ts');
    let src = readFileSync(file, 'utf8');
    for (const [method, code] of Object.entries(FILL)) {
      // One line per TODO: throw unimplemented(`mapstore: <Method> of "${req.key}" is not implemented yet …`);
      const todo = new RegExp(
        `throw unimplemented\\(\`mapstore: ${method} of .* is not implemented yet [^\\n]*\\);`,
      );
      expect(src).toMatch(todo);
      src = src.replace(todo, code);
    }
    src = src.replace(/(const prefix = [^\n]*\n)/, '$1    const data = new Map<string, Uint8Array>();\n');
    writeFileSync(file, src.replace(', implement, unimplemented, z }', ', implement, z }'));

    const after = jest(dir);
    expect(after.output).toContain('keyvalue_basic conformance: mapstore');
    expect(after.output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
    expect(after.status).toBe(0);
  });
});
