import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLError,
} from 'yaml';
import type { Path } from './path.js';

/** A parsed YAML file that can map a config path back to a line and column. */
export interface YamlSource {
  /** The plain JavaScript value of the document (aliases and merge keys resolved). */
  readonly value: unknown;
  /** Syntax errors with their positions; when non-empty, `value` must not be used. */
  readonly errors: readonly { line: number; column: number; message: string }[];
  /** Position of the node at `path`; `key` points at the map key instead of its value. Falls back to the deepest existing parent. */
  locate(path: Path, key?: boolean): { line: number; column: number } | undefined;
}

/** Parses YAML text keeping node positions. */
export function parseYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const pos = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const lines = text.split('\n');
  const errors = doc.errors.map((e: YAMLError) => {
    const at = pos(e.pos[0]);
    // `{ a: ${env:X} }` is the classic slip: braces end a flow map, so the reference must be quoted.
    const hint = lines[at.line - 1]?.includes('${')
      ? ` (inside { } or [ ], quote references: "\${env:NAME}")`
      : '';
    return { ...at, message: firstLine(e.message) + hint };
  });
  return {
    value: errors.length ? undefined : doc.toJS({ maxAliasCount: 1000 }),
    errors,
    locate(path, key = false) {
      const node = find(doc, path, key);
      return node?.range ? pos(node.range[0]) : undefined;
    },
  };
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}

function find(doc: Document, path: Path, wantKey: boolean): Node | undefined {
  let node = doc.contents as Node | null;
  let best: Node | undefined = node ?? undefined;
  for (let i = 0; i < path.length && node; i++) {
    const seg = path[i];
    if (isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? null;
    let next: Node | null = null;
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      // Empty values (`key:`) have no useful position of their own: point at the key.
      next = wantKey && i === path.length - 1 ? keyNode : valueNode?.range ? valueNode : keyNode;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = (node.items[seg] as Node | undefined) ?? null;
    }
    if (!next) break;
    node = next;
    best = node;
  }
  return best;
}
