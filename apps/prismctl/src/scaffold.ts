import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import * as t from './templates.js';

/** Options for {@link scaffoldPlugin}. */
export interface ScaffoldOptions {
  /** Backend type: lowercase letters, digits and dashes, e.g. `mapstore`. */
  readonly name: string;
  /** Target directory; default `<workspace>/packages/adapters/<name>` (or `./<name>` outside a workspace). */
  readonly dir?: string;
  /** npm package name; default `@prism/adapter-<name>`. */
  readonly packageName?: string;
  /** Where to look for the workspace root (default: the current directory). */
  readonly cwd?: string;
}

/** The Prism workspace root above `start` (the directory with pnpm-workspace.yaml and jest.preset.mjs). */
export function findWorkspaceRoot(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml')) && existsSync(join(dir, 'jest.preset.mjs'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Generates a backend plugin package: package.json (with a `prism-plugin-<name>` bin), tsconfig, jest
 * config, `src/index.ts` (definePlugin + a keyvalue_basic skeleton with TODOs), `src/bin.ts`, a test
 * wired to the keyvalue_basic conformance suite, and a README. Refuses a non-empty directory.
 */
export async function scaffoldPlugin(opts: ScaffoldOptions): Promise<{ dir: string; files: string[] }> {
  if (!NAME.test(opts.name))
    throw new Error(
      `plugin name "${opts.name}" must be lowercase letters, digits and dashes, starting with a letter`,
    );
  const cwd = opts.cwd ?? process.cwd();
  const root = findWorkspaceRoot(cwd);
  const dir = resolve(cwd, opts.dir ?? (root ? join(root, 'packages/adapters', opts.name) : opts.name));
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new Error(`${dir} exists and is not empty`);
  const targetRoot = findWorkspaceRoot(dir);
  const ctx: t.TemplateContext = {
    name: opts.name,
    packageName: opts.packageName ?? `@prism/adapter-${opts.name}`,
    toRoot: targetRoot ? relative(dir, targetRoot) || '.' : undefined,
  };
  const files: Record<string, string> = {
    'package.json': t.packageJson(ctx),
    'tsconfig.json': t.tsconfig(ctx),
    'tsconfig.build.json': t.tsconfigBuild(ctx),
    'jest.config.mjs': t.jestConfig(ctx),
    'README.md': t.readme(ctx),
    'src/index.ts': t.indexTs(ctx),
    'src/bin.ts': t.binTs(ctx),
    [`src/${opts.name}.test.ts`]: t.testTs(ctx),
  };
  await mkdir(join(dir, 'src'), { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return { dir, files: Object.keys(files) };
}
