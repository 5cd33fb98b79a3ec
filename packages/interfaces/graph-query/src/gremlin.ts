// A checker for the Gremlin text graph_query accepts: a small lexer and a parser for the traversal subset
// of the Gremlin language (g.step(args).step(args)...). Everything else — lambdas, Groovy statements,
// property access, class references — is rejected before a query reaches a backend. This is a security
// boundary: it allows known shapes instead of trying to recognise bad ones.
import { invalidArgument } from '@prism/sdk';

/** Options of {@link checkGremlin}. */
export interface GremlinCheckOptions {
  /** Allow steps that change the graph (addV, property, drop, ...): the namespace's allow_writes. */
  readonly allowWrites: boolean;
}

/** What a query that passed {@link checkGremlin} uses. */
export interface GremlinCheckResult {
  /** Bare identifiers used as values: binding names or Gremlin's statically imported tokens. */
  readonly references: readonly { readonly name: string; readonly position: number }[];
  /** Every step or function called, in order. */
  readonly steps: readonly string[];
}

type TokenKind = 'ident' | 'string' | 'number' | 'punct' | 'eof';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly position: number;
}

/**
 * Every call the checker accepts: the steps of the Gremlin language (TinkerPop 3.7), the traversal
 * source's configuration steps, terminal steps and the predicates of P and TextP. An allow-list, so Java
 * methods reachable from a traversal object (asAdmin, getGraph, getBytecode, ...) are never called.
 */
export const GREMLIN_STEPS: ReadonlySet<string> = new Set(
  // Steps.
  (
    'V E addE addV aggregate all and any as asDate asString barrier both bothE bothV branch by call cap ' +
    'choose coalesce coin combine concat conjoin connectedComponent constant count cyclicPath dateAdd ' +
    'dateDiff dedup difference discard disjunct drop element elementMap emit fail filter flatMap fold ' +
    'format from group groupCount has hasId hasKey hasLabel hasNot hasValue id identity in inE inV index ' +
    'inject intersect is key label length limit local loops lTrim map match math max mean merge mergeE ' +
    'mergeV min none not option optional or order otherV out outE outV pageRank path peerPressure product ' +
    'profile project properties property propertyMap range read repeat replace reverse rTrim sack sample ' +
    'select shortestPath sideEffect simplePath skip split subgraph substring sum tail timeLimit times to ' +
    'toE toLower toUpper toV tree trim unfold union until value valueMap values where with write ' +
    // Traversal source configuration and terminal steps.
    'withBulk withPath withSack withSideEffect next toList toSet toBulkSet iterate hasNext tryNext explain ' +
    // Predicates (P, TextP).
    'eq neq lt lte gt gte inside outside between within without startingWith endingWith containing ' +
    'notStartingWith notEndingWith notContaining regex notRegex ' +
    // Rejected by name below, listed so the message says why.
    'io program withStrategies withoutStrategies withComputer'
  ).split(' '),
);

/** Steps that change the graph: rejected unless writes are allowed. */
export const MUTATING_STEPS: ReadonlySet<string> = new Set([
  'addV',
  'addE',
  'property',
  'drop',
  'mergeV',
  'mergeE',
  'sideEffect',
]);

/**
 * Steps rejected always, writes allowed or not, because they reach outside the namespace's graph or change
 * how a traversal runs: strategies carry the namespace's isolation and read-only guard (adding or removing
 * one could escape them), io() and its read()/write() read and write server files, call() runs provider
 * services, programs and computers run code on the server.
 */
export const FORBIDDEN_STEPS: ReadonlySet<string> = new Set([
  'io',
  'read',
  'write',
  'call',
  'withComputer',
  'program',
  'withStrategies',
  'withoutStrategies',
]);

/** Names that reach Groovy or Java instead of Gremlin: rejected anywhere, writes allowed or not. */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  'new',
  'def',
  'var',
  'this',
  'super',
  'class',
  'getClass',
  'forName',
  'System',
  'Class',
  'Runtime',
  'Thread',
  'ProcessBuilder',
  'Process',
  'GroovyShell',
  'Eval',
  'evaluate',
  'execute',
  'invokeMethod',
  'getMetaClass',
  'metaClass',
  'getProperty',
  'setProperty',
  'binding',
  'java',
  'javax',
  'groovy',
  'org',
  'Lambda',
  'import',
  'static',
  'return',
  'if',
  'for',
  'while',
  'Math',
  'File',
  'graph',
]);

/** Heads allowed before '.' in argument position: Gremlin's enums and the anonymous traversal. */
export const TOKEN_CLASSES: ReadonlySet<string> = new Set([
  '__',
  'T',
  'P',
  'TextP',
  'Order',
  'Column',
  'Scope',
  'Pop',
  'Cardinality',
  'Direction',
  'Operator',
  'Pick',
  'Barrier',
  'Merge',
  'WithOptions',
  'DT',
]);

/** Bare identifiers Gremlin imports statically (enum values); anything else bare must be a binding. */
export const STATIC_TOKENS: ReadonlySet<string> = new Set([
  'true',
  'false',
  'null',
  'id',
  'label',
  'key',
  'value',
  'keys',
  'values',
  'asc',
  'desc',
  'shuffle',
  'local',
  'global',
  'first',
  'last',
  'mixed',
  'all',
  'any',
  'none',
  'OUT',
  'IN',
  'BOTH',
  'from',
  'to',
  'single',
  'list',
  'set',
  'sum',
  'min',
  'max',
  'minus',
  'mult',
  'div',
  'addAll',
  'assign',
  'and',
  'or',
  'onCreate',
  'onMatch',
  'inV',
  'outV',
  'second',
  'minute',
  'hour',
  'day',
]);

const reject = (message: string, position: number) =>
  invalidArgument(`gremlin: ${message} at position ${position}`);

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const PUNCT = new Set(['.', '(', ')', ',', '[', ']', '-']);

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (IDENT_START.test(c)) {
      while (i < text.length && IDENT_PART.test(text[i]!)) i++;
      tokens.push({ kind: 'ident', text: text.slice(start, i), position: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < text.length && /[0-9]/.test(text[i]!)) i++;
      if (text[i] === '.' && /[0-9]/.test(text[i + 1] ?? '')) {
        i++;
        while (i < text.length && /[0-9]/.test(text[i]!)) i++;
      }
      if (/[eE]/.test(text[i] ?? '') && /[0-9+-]/.test(text[i + 1] ?? '')) {
        i += 2;
        while (i < text.length && /[0-9]/.test(text[i]!)) i++;
      }
      // Gremlin's numeric type suffixes (long, double, float, BigDecimal, BigInteger, int).
      if (/[lLdDfFmMnNiI]/.test(text[i] ?? '')) i++;
      if (IDENT_PART.test(text[i] ?? ''))
        throw reject(`malformed number "${text.slice(start, i + 1)}"`, start);
      tokens.push({ kind: 'number', text: text.slice(start, i), position: start });
      continue;
    }
    if (c === "'" || c === '"') {
      if (text.startsWith(c.repeat(3), i)) throw reject('triple-quoted strings are not allowed', start);
      i++;
      let value = '';
      for (;;) {
        if (i >= text.length) throw reject('unterminated string', start);
        const ch = text[i]!;
        if (ch === c) break;
        if (ch === '\n' || ch === '\r') throw reject('line break inside a string', i);
        // Double-quoted strings are GStrings in Groovy: `$x` and `${...}` would run code.
        if (ch === '$' && c === '"') throw reject('"$" in a double-quoted string (GString interpolation)', i);
        if (ch === '\\') {
          const e = text[i + 1];
          if (e === undefined) throw reject('unterminated string', start);
          if (e === 'u') {
            const hex = text.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw reject('malformed \\u escape', i);
            value += String.fromCharCode(Number.parseInt(hex, 16));
            i += 6;
            continue;
          }
          const simple: Record<string, string> = {
            n: '\n',
            t: '\t',
            r: '\r',
            b: '\b',
            f: '\f',
            '\\': '\\',
            "'": "'",
            '"': '"',
            $: '$',
          };
          const mapped = simple[e];
          if (mapped === undefined) throw reject(`unknown escape "\\${e}"`, i);
          value += mapped;
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: value, position: start });
      continue;
    }
    if (PUNCT.has(c)) {
      tokens.push({ kind: 'punct', text: c, position: start });
      i++;
      continue;
    }
    const what: Record<string, string> = {
      '{': 'lambdas and closures ("{") are not allowed',
      '}': 'lambdas and closures ("}") are not allowed',
      ';': 'more than one statement (";") is not allowed',
      '=': 'assignments ("=") are not allowed',
      '@': 'annotations ("@") are not allowed',
      '`': 'backticks are not allowed',
      $: '"$" is not allowed',
      '/': 'slashy strings, comments and division ("/") are not allowed',
      ':': 'maps and labels (":") are not allowed',
      '?': 'Groovy operators ("?") are not allowed',
      '*': 'Groovy operators ("*") are not allowed',
      '&': 'Groovy operators ("&") are not allowed',
      '|': 'Groovy operators ("|") are not allowed',
      '+': 'arithmetic ("+") is not allowed; use bindings',
      '<': 'comparisons ("<") are not allowed; use P.lt',
      '>': 'comparisons (">") are not allowed; use P.gt',
      '!': 'operators ("!") are not allowed',
      '#': '"#" is not allowed',
    };
    throw reject(what[c] ?? `unexpected character "${c}"`, start);
  }
  tokens.push({ kind: 'eof', text: '', position: text.length });
  return tokens;
}

/**
 * Checks Gremlin traversal text. Throws INVALID_ARGUMENT naming the construct (or step) and its position
 * for anything outside the allowed subset, for {@link FORBIDDEN_STEPS} always, and for mutating steps
 * unless `allowWrites`.
 */
export function checkGremlin(text: string, options: GremlinCheckOptions): GremlinCheckResult {
  const tokens = lex(text);
  const references: { name: string; position: number }[] = [];
  const steps: string[] = [];
  let p = 0;
  const peek = (k = 0): Token => tokens[Math.min(p + k, tokens.length - 1)]!;
  const next = (): Token => tokens[p++ < tokens.length ? p - 1 : tokens.length - 1]!;
  const isPunct = (t: Token, s: string) => t.kind === 'punct' && t.text === s;
  const expect = (s: string): Token => {
    const t = next();
    if (!isPunct(t, s)) throw reject(`expected "${s}" but found ${describe(t)}`, t.position);
    return t;
  };
  const describe = (t: Token) =>
    t.kind === 'eof' ? 'the end' : t.kind === 'string' ? 'a string' : `"${t.text}"`;

  const checkName = (t: Token): void => {
    if (FORBIDDEN_NAMES.has(t.text)) throw reject(`"${t.text}" is not allowed`, t.position);
  };

  // step := IDENT '(' args ')'
  const step = (): void => {
    const name = next();
    if (name.kind !== 'ident')
      throw reject(`expected a step name but found ${describe(name)}`, name.position);
    checkName(name);
    if (!isPunct(peek(), '('))
      throw reject(
        `"${name.text}" must be a step call like ${name.text}(...); property access is not allowed`,
        name.position,
      );
    if (!GREMLIN_STEPS.has(name.text))
      throw reject(`${name.text}() is not a Gremlin step this service accepts`, name.position);
    if (FORBIDDEN_STEPS.has(name.text))
      throw reject(
        `step ${name.text}() is not allowed (it reaches outside the graph or changes strategies)`,
        name.position,
      );
    if (!options.allowWrites && MUTATING_STEPS.has(name.text))
      throw reject(`step ${name.text}() changes the graph and this namespace is read-only`, name.position);
    steps.push(name.text);
    expect('(');
    if (!isPunct(peek(), ')')) {
      argument();
      while (isPunct(peek(), ',')) {
        next();
        argument();
      }
    }
    expect(')');
  };
  // chain := ('.' step)*
  const chain = (): void => {
    while (isPunct(peek(), '.')) {
      next();
      step();
    }
  };

  const argument = (): void => {
    const t = peek();
    if (t.kind === 'string') {
      next();
      return;
    }
    if (isPunct(t, '-')) {
      next();
      const n = next();
      if (n.kind !== 'number') throw reject('"-" must precede a number', t.position);
      return;
    }
    if (t.kind === 'number') {
      next();
      return;
    }
    if (isPunct(t, '[')) {
      next();
      if (!isPunct(peek(), ']')) {
        argument();
        while (isPunct(peek(), ',')) {
          next();
          argument();
        }
      }
      expect(']');
      return;
    }
    if (t.kind === 'ident') {
      checkName(t);
      const after = peek(1);
      if (isPunct(after, '(')) {
        // An anonymous traversal or a predicate, e.g. out('knows'), gt(3), within(a, b).
        step();
        chain();
        return;
      }
      if (isPunct(after, '.')) {
        if (!TOKEN_CLASSES.has(t.text))
          throw reject(
            `"${t.text}.": only Gremlin tokens (${[...TOKEN_CLASSES].join(', ')}) may be used this way`,
            t.position,
          );
        next();
        next();
        const member = next();
        if (member.kind !== 'ident') throw reject(`expected a name after "${t.text}."`, member.position);
        checkName(member);
        if (isPunct(peek(), '(')) {
          p--;
          step();
        } else if (t.text === '__') {
          throw reject(`"__.${member.text}" must be a step call`, member.position);
        }
        chain();
        return;
      }
      if (TOKEN_CLASSES.has(t.text))
        throw reject(`"${t.text}" must be followed by "." and a member`, t.position);
      next();
      if (!STATIC_TOKENS.has(t.text)) references.push({ name: t.text, position: t.position });
      return;
    }
    throw reject(`unexpected ${describe(t)}`, t.position);
  };

  const g = next();
  if (g.kind === 'ident') checkName(g);
  if (g.kind !== 'ident' || g.text !== 'g' || !isPunct(peek(), '.'))
    throw reject('a query must be a traversal starting with "g."', g.position);
  chain();
  const end = peek();
  if (end.kind !== 'eof') throw reject(`unexpected ${describe(end)} after the traversal`, end.position);
  return { references, steps };
}
