// The one definition of the wildcard pattern syntax (see pubsub_wildcards.proto); adapters whose backend
// has a different syntax translate with these helpers and filter with topicMatches.

import { MESSAGING_BOUNDS } from '@prism/pubsub-basic';
import { invalidArgument } from '@prism/sdk';

const TOKEN_RE = /^[A-Za-z0-9_-]+$/;

/** Throws INVALID_ARGUMENT unless `pattern` is valid: tokens, `*` (one token), `>` (rest, last only). */
export function checkPattern(pattern: string, field = 'pattern'): void {
  if (pattern.length === 0) throw invalidArgument(`${field} must not be empty`);
  if (pattern.length > MESSAGING_BOUNDS.maxNameChars)
    throw invalidArgument(
      `${field} is ${pattern.length} characters; at most ${MESSAGING_BOUNDS.maxNameChars}`,
    );
  const tokens = pattern.split('.');
  tokens.forEach((t, i) => {
    if (t === '*' || TOKEN_RE.test(t)) return;
    if (t === '>') {
      if (i === tokens.length - 1) return;
      throw invalidArgument(`${field} "${pattern}": ">" is only allowed as the last token`);
    }
    throw invalidArgument(
      `${field} "${pattern}" is invalid: tokens separated by single dots, each [A-Za-z0-9_-]+, "*" (one token) or ">" (rest)`,
    );
  });
}

/** True when the pattern contains `*` or `>`. */
export function hasWildcards(pattern: string): boolean {
  return pattern.split('.').some((t) => t === '*' || t === '>');
}

/** A RegExp matching exactly the topics the (valid) pattern matches. */
export function patternToRegExp(pattern: string): RegExp {
  const parts = pattern.split('.').map((t) => (t === '*' ? '[A-Za-z0-9_-]+' : t === '>' ? '.+' : t));
  return new RegExp(`^${parts.join('\\.')}$`);
}

/** Whether a concrete topic matches a (valid) pattern. */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== '*' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/**
 * A Redis PSUBSCRIBE glob that matches a superset of the pattern's topics (Redis `*` also crosses dots),
 * to be narrowed with {@link topicMatches}. `prefix` is prepended verbatim (glob characters escaped).
 */
export function patternToGlob(pattern: string, prefix = ''): string {
  const esc = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
  const body = pattern
    .split('.')
    .map((t) => (t === '*' || t === '>' ? '*' : esc(t)))
    .join('.');
  return esc(prefix) + body;
}
