// Module hooks for gen-backend-matrix.mjs: load the workspace's TypeScript sources directly (no build).
// Resolution prefers the "@prism/source" export condition, maps NodeNext-style './x.js' specifiers to
// './x.ts', and compiles .ts with SWC (already a dev dependency of the workspace for jest).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from '@swc/core';

export async function resolve(specifier, context, next) {
  const ctx = { ...context, conditions: ['@prism/source', ...context.conditions] };
  try {
    return await next(specifier, ctx);
  } catch (err) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts'))
      return next(`${specifier.slice(0, -3)}.ts`, ctx);
    throw err;
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const filename = fileURLToPath(url);
  const { code } = await transform(await readFile(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
  });
  return { format: 'module', source: code, shortCircuit: true };
}
