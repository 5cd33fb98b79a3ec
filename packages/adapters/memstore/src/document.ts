import {
  type DocumentBasicImpl,
  type JsonObject,
  patchDocument,
  prepareDocument,
  versionMatches,
  versionMismatch,
} from '@prism/document-basic';
import {
  type DocumentIndexingImpl,
  INDEX_LIMITS,
  indexNameTaken,
  samePaths,
  tooManyIndexes,
} from '@prism/document-indexing';
import {
  type CompiledQuery,
  compareCodePoints,
  compareForSort,
  compileFilterAndSort,
  compileQuery,
  type DocumentQueryImpl,
  documentFields,
  fieldText,
  ID_FIELD,
  pageOf,
  parsePath,
  type StoredDocument,
  scalarAt,
  sortTupleOf,
} from '@prism/document-query';
import { type Filter, type Limits, notFound } from '@prism/sdk';

// Documents of one namespace: id → stored document, plus declared indexes. An index is a sorted array of
// (value text of its first path, id) over the documents where that path is present, kept up to date on
// every write; the planner answers eq / in / startswith on that path from it with a binary search, and
// Explain reports the same plan Query runs.

interface MemIndex {
  readonly name: string;
  readonly paths: readonly string[];
  readonly first: readonly string[];
  /** Sorted by (text, id), code point order. */
  entries: { text: string; id: string }[];
}

type Lookup = { kind: 'values'; values: readonly string[] } | { kind: 'prefix'; prefix: string };

/** What a query reads: every document, or the candidates of one index. */
type Plan = { kind: 'scan' } | { kind: 'index'; index: MemIndex; path: string; lookup: Lookup };

const compareEntry = (a: { text: string; id: string }, b: { text: string; id: string }) =>
  compareCodePoints(a.text, b.text) || compareCodePoints(a.id, b.id);

/** First position in `entries` not before `probe`. */
function lowerBound(
  entries: readonly { text: string; id: string }[],
  probe: { text: string; id: string },
): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntry(entries[mid]!, probe) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The documents and indexes of one namespace. */
export class DocumentStore {
  readonly docs = new Map<string, StoredDocument>();
  readonly indexes = new Map<string, MemIndex>();

  /** Replaces (or with `next` undefined removes) a document, keeping every index current. */
  write(id: string, next: StoredDocument | undefined): void {
    const prev = this.docs.get(id);
    for (const index of this.indexes.values()) {
      const before = prev && scalarAt(prev.doc, index.first);
      if (before !== undefined) {
        const at = lowerBound(index.entries, { text: fieldText(before), id });
        index.entries.splice(at, 1);
      }
      const after = next && scalarAt(next.doc, index.first);
      if (after !== undefined) {
        const entry = { text: fieldText(after), id };
        index.entries.splice(lowerBound(index.entries, entry), 0, entry);
      }
    }
    if (next) this.docs.set(id, next);
    else this.docs.delete(id);
  }

  addIndex(name: string, paths: readonly string[]): void {
    const first = parsePath(paths[0]!);
    const entries: { text: string; id: string }[] = [];
    for (const d of this.docs.values()) {
      const v = scalarAt(d.doc, first);
      if (v !== undefined) entries.push({ text: fieldText(v), id: d.id });
    }
    entries.sort(compareEntry);
    this.indexes.set(name, { name, paths: [...paths], first, entries });
  }

  /** The plan of a filter: an index whose first path a top-level (or and-ed) eq / in / startswith reads. */
  plan(filter: Filter | undefined): Plan {
    if (filter === undefined) return { kind: 'scan' };
    const conds = filter.condition.case === 'and' ? filter.condition.value.filters : [filter];
    for (const c of conds) {
      const cond = c.condition;
      if (cond.case !== 'eq' && cond.case !== 'in' && cond.case !== 'startswith') continue;
      const field = cond.value.field;
      if (field === ID_FIELD) continue;
      const index = [...this.indexes.values()]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .find((i) => i.paths[0] === field);
      if (!index) continue;
      const lookup: Lookup =
        cond.case === 'eq'
          ? { kind: 'values', values: [cond.value.value] }
          : cond.case === 'in'
            ? { kind: 'values', values: [...new Set(cond.value.values)] }
            : { kind: 'prefix', prefix: cond.value.prefix };
      return { kind: 'index', index, path: field, lookup };
    }
    return { kind: 'scan' };
  }

  /** The documents a plan reads. */
  candidates(plan: Plan): StoredDocument[] {
    if (plan.kind === 'scan') return [...this.docs.values()];
    const { entries } = plan.index;
    const ids: string[] = [];
    if (plan.lookup.kind === 'values') {
      for (const text of plan.lookup.values)
        for (
          let i = lowerBound(entries, { text, id: '' });
          i < entries.length && entries[i]!.text === text;
          i++
        )
          ids.push(entries[i]!.id);
    } else {
      const { prefix } = plan.lookup;
      for (let i = lowerBound(entries, { text: prefix, id: '' }); i < entries.length; i++) {
        if (!entries[i]!.text.startsWith(prefix)) break;
        ids.push(entries[i]!.id);
      }
    }
    return ids.map((id) => this.docs.get(id)!);
  }

  query(q: CompiledQuery): StoredDocument[] {
    const plan = this.plan(q.filter);
    const rows = this.candidates(plan)
      .filter((d) => q.matches(documentFields(d.doc, d.id)))
      .map((d) => ({ d, t: sortTupleOf(d.doc, d.id, q.sort) }))
      .filter((r) => q.after === undefined || compareForSort(r.t, q.after, q.sort) > 0)
      .sort((a, b) => compareForSort(a.t, b.t, q.sort));
    return rows.slice(0, q.limit + 1).map((r) => r.d);
  }
}

const describePlan = (plan: Plan, store: DocumentStore): string => {
  if (plan.kind === 'scan') return `FULL SCAN of ${store.docs.size} documents, then filter and sort`;
  const what =
    plan.lookup.kind === 'values'
      ? plan.lookup.values.length === 1
        ? `= ${JSON.stringify(plan.lookup.values[0])}`
        : `IN (${plan.lookup.values.map((v) => JSON.stringify(v)).join(', ')})`
      : `STARTS WITH ${JSON.stringify(plan.lookup.prefix)}`;
  return `INDEX LOOKUP ${plan.index.name} (${plan.path} ${what}): ${store.candidates(plan).length} candidates, then filter and sort`;
};

/** The document flavours of memstore over one namespace's store. */
export function memDocuments(
  store: DocumentStore,
  limits: Limits,
): { basic: DocumentBasicImpl; query: DocumentQueryImpl; indexing: DocumentIndexingImpl } {
  const basic: DocumentBasicImpl = {
    put(req) {
      const { doc, json } = prepareDocument(req.json, limits);
      const cur = store.docs.get(req.id);
      if (!versionMatches(req.expectedVersion, cur?.version))
        throw versionMismatch(req.id, req.expectedVersion!, cur?.version);
      const version = (cur?.version ?? 0n) + 1n;
      store.write(req.id, { id: req.id, json, doc, version });
      return { version };
    },
    get(req) {
      const d = store.docs.get(req.id);
      return d ? { found: true, document: { id: d.id, json: d.json, version: d.version } } : { found: false };
    },
    patch(req) {
      const cur = store.docs.get(req.id);
      if (!cur)
        throw notFound(`document "${req.id}" does not exist; Patch changes existing documents (use Put)`);
      if (!versionMatches(req.expectedVersion, cur.version))
        throw versionMismatch(req.id, req.expectedVersion!, cur.version);
      const { doc, json } = patchDocument(cur.json, req.mergePatch, limits);
      const next = { id: req.id, json, doc: doc as JsonObject, version: cur.version + 1n };
      store.write(req.id, next);
      return { document: { id: next.id, json: next.json, version: next.version } };
    },
    delete(req) {
      const cur = store.docs.get(req.id);
      if (!versionMatches(req.expectedVersion, cur?.version))
        throw versionMismatch(req.id, req.expectedVersion!, cur?.version);
      if (!cur) return { deleted: false };
      store.write(req.id, undefined);
      return { deleted: true };
    },
  };

  const query: DocumentQueryImpl = {
    query(req) {
      const q = compileQuery(req);
      return pageOf(q, store.query(q));
    },
  };

  const indexing: DocumentIndexingImpl = {
    createIndex(req) {
      const { name, paths } = req.index!;
      const existing = store.indexes.get(name);
      if (existing) {
        if (samePaths(existing.paths, paths)) return { created: false };
        throw indexNameTaken(name, existing.paths);
      }
      if (store.indexes.size >= INDEX_LIMITS.maxIndexes) throw tooManyIndexes();
      store.addIndex(name, paths);
      return { created: true };
    },
    dropIndex(req) {
      return { dropped: store.indexes.delete(req.name) };
    },
    listIndexes() {
      return {
        indexes: [...store.indexes.values()]
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((i) => ({ name: i.name, paths: [...i.paths] })),
      };
    },
    explain(req) {
      compileFilterAndSort(req.filter, req.sort);
      const plan = store.plan(req.filter);
      return {
        plan: describePlan(plan, store),
        indexesUsed: plan.kind === 'index' ? [plan.index.name] : [],
      };
    },
  };

  return { basic, query, indexing };
}
