/** Marks of a check in human output: implemented, missing, unknown until the proxy connects. */
export const MARK = { ok: '✓', missing: '✗', unknown: '?' } as const;

/** The mark of a check result (`null` = cannot be known yet, e.g. a remote plugin). */
export function mark(ok: boolean | null): string {
  return ok === null ? MARK.unknown : ok ? MARK.ok : MARK.missing;
}

/** Pretty JSON for `--json` (two-space indent, no trailing newline). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Pads `text` to `width` characters (by code point, so ✓ counts as one). */
function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

/**
 * Formats rows as a plain-text table: a header row, columns two spaces apart, no borders, no trailing
 * spaces. A cell may hold several lines (`\n`); the row then spans them, other cells left blank below.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const split = (row: readonly string[]) => headers.map((_, i) => (row[i] ?? '').split('\n'));
  const cells = [headers.map((h) => [h]), ...rows.map(split)];
  const widths = headers.map((_, i) =>
    Math.max(...cells.map((row) => Math.max(...row[i]!.map((l) => [...l].length)))),
  );
  const lines: string[] = [];
  for (const row of cells) {
    const height = Math.max(...row.map((c) => c.length));
    for (let l = 0; l < height; l++)
      lines.push(
        row
          .map((c, i) => (i === row.length - 1 ? (c[l] ?? '') : pad(c[l] ?? '', widths[i]!)))
          .join('  ')
          .trimEnd(),
      );
  }
  return lines.join('\n');
}

/**
 * Aligns `[left, right]` pairs into two columns (`left` padded to at least `minWidth`), one line each,
 * with `indent`.
 */
export function formatPairs(
  pairs: readonly (readonly [string, string])[],
  indent = '',
  minWidth = 0,
): string {
  const width = Math.max(minWidth, ...pairs.map(([l]) => [...l].length));
  return pairs.map(([l, r]) => `${indent}${r ? `${pad(l, width)}  ${r}` : l}`.trimEnd()).join('\n');
}

/** Levenshtein distance, for did-you-mean hints. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** ` (did you mean "x"?)` when a candidate is close to `word`, else an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}
