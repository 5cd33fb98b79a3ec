import { compileFilterAndSort, parsePath, QUERY_LIMITS } from '@prism/document-query';
import { DocumentIndexingInterface, type Index } from '@prism/proto/prism/document/v1/document_indexing_pb';
import {
  alreadyExists,
  defineInterface,
  type InterfaceImpl,
  invalidArgument,
  resourceExhausted,
} from '@prism/sdk';

export * from '@prism/proto/prism/document/v1/document_indexing_pb';

/** Bounds of declared indexes. */
export const INDEX_LIMITS = Object.freeze({
  maxIndexes: 32,
  maxPaths: 8,
  maxNameChars: 48,
  maxSortKeys: QUERY_LIMITS.maxSortKeys,
});

const NAME_RE = /^[a-z][a-z0-9_]*$/;

/** Throws INVALID_ARGUMENT unless `path` is a field path as document_query reads it ({@link parsePath}). */
export function checkPathSyntax(path: string, field: string): void {
  parsePath(path, field);
}

/** Throws INVALID_ARGUMENT unless `index` is a valid declaration (name and 1..8 distinct paths). */
export function checkIndex(index: Index | undefined): void {
  if (index === undefined) throw invalidArgument('index is required');
  checkIndexName(index.name, 'index.name');
  const n = index.paths.length;
  if (n === 0) throw invalidArgument('index.paths must contain at least one path');
  if (n > INDEX_LIMITS.maxPaths)
    throw invalidArgument(`index.paths has ${n} paths; at most ${INDEX_LIMITS.maxPaths} allowed`);
  index.paths.forEach((p, i) => {
    checkPathSyntax(p, `index.paths[${i}]`);
    if (index.paths.indexOf(p) !== i) throw invalidArgument(`index.paths[${i}] "${p}" is listed twice`);
  });
}

/** Throws INVALID_ARGUMENT unless `name` is 1..48 of [a-z0-9_], starting with a letter. */
export function checkIndexName(name: string, field = 'name'): void {
  if (name.length === 0) throw invalidArgument(`${field} must not be empty`);
  if (name.length > INDEX_LIMITS.maxNameChars)
    throw invalidArgument(
      `${field} is ${name.length} characters; at most ${INDEX_LIMITS.maxNameChars} allowed`,
    );
  if (!NAME_RE.test(name))
    throw invalidArgument(
      `${field} "${name}" must be lowercase letters, digits and '_', starting with a letter`,
    );
}

/** Whether two declarations have the same paths in the same order. */
export const samePaths = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((p, i) => p === b[i]);

/** The ALREADY_EXISTS error of CreateIndex on a name declared with other paths. */
export function indexNameTaken(name: string, existing: readonly string[]): Error {
  return alreadyExists(
    `index "${name}" already exists on paths [${existing.join(', ')}]; drop it first or choose another name`,
  );
}

/** The error of a CreateIndex beyond the per-namespace maximum. */
export function tooManyIndexes(): Error {
  return resourceExhausted(
    `the namespace has ${INDEX_LIMITS.maxIndexes} indexes, the most allowed; drop one before creating another`,
  );
}

/** The document_indexing flavour: declared indexes on JSON paths, and the plan of a query. */
export const DocumentIndexing = defineInterface(
  'document_indexing',
  DocumentIndexingInterface,
  { createIndex: 'admin', dropIndex: 'admin', listIndexes: 'read', explain: 'read' },
  {
    createIndex: (req) => checkIndex(req.index),
    dropIndex: (req) => checkIndexName(req.name),
    // Explain takes the filter and sort of a Query, so it checks them as Query does.
    explain: (req) => {
      compileFilterAndSort(req.filter, req.sort);
    },
  },
);

/** What an adapter implements for document_indexing. */
export type DocumentIndexingImpl = InterfaceImpl<typeof DocumentIndexingInterface>;
