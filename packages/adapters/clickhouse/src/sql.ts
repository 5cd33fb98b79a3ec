// SQL literals and identifiers for ClickHouse 18.16, which has no query parameters (`{x:String}` fails with
// "Unknown setting param_x"): every value the adapter puts into SQL goes through one of these functions,
// and nothing else is ever concatenated into a statement.

/** A fragment of SQL built only from the functions of this module (never from raw input). */
export class Sql {
  private constructor(readonly text: string) {}
  /** @internal Wraps text this module produced. */
  static trusted(text: string): Sql {
    return new Sql(text);
  }
  toString(): string {
    return this.text;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

// Escapes of ClickHouse string literals: backslash and quote, the named control characters, and \xHH for
// every other control character, so a literal is printable ASCII plus the input's other characters.
const NAMED: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  "'": "\\'",
  '\0': '\\0',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** A ClickHouse string literal `'...'` holding exactly `value` (its UTF-8 bytes). */
export function str(value: string): Sql {
  // C0 and DEL only: a C1 character is two UTF-8 bytes, which pass through as they are.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to escape
  const escaped = value.replace(/[\\'\x00-\x1f\x7f]/g, (c) => {
    const named = NAMED[c];
    if (named) return named;
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return Sql.trusted(`'${escaped}'`);
}

/** An Int64 expression for `value`; throws RangeError outside the Int64 range. */
export function int64(value: bigint): Sql {
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX)
    throw new RangeError(`${String(value)} is not an Int64`);
  // toInt64 pins the type: a bare positive literal would be UInt64 and turn Int64 arithmetic unsigned.
  return Sql.trusted(`toInt64(${value.toString()})`);
}

/** A UInt64 expression for `value`; throws RangeError outside the UInt64 range. */
export function uint64(value: bigint | number): Sql {
  const v = typeof value === 'number' ? (Number.isSafeInteger(value) ? BigInt(value) : -1n) : value;
  if (typeof v !== 'bigint' || v < 0n || v > UINT64_MAX)
    throw new RangeError(`${String(value)} is not a UInt64`);
  return Sql.trusted(`toUInt64(${v.toString()})`);
}

/** A bare non-negative integer literal, where ClickHouse wants a number token (LIMIT). */
export function count(value: number): Sql {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${value} is not a count`);
  return Sql.trusted(String(value));
}

/** The 16 hex digits of a double's IEEE 754 bits, little-endian (what `unhex` + `reinterpretAsFloat64` read). */
export function float64Hex(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`${value} is not a finite number`);
  return Buffer.from(new Float64Array([value]).buffer).toString('hex');
}

/**
 * A Float64 expression for a finite `value`, exact to the bit: 18.16 parses decimal floats imprecisely
 * (about a quarter of random doubles come back off by an ulp), so the bits travel as hex.
 */
export function float64(value: number): Sql {
  return Sql.trusted(`reinterpretAsFloat64(unhex('${float64Hex(value)}'))`);
}

/** Identifiers the adapter creates: ASCII letters, digits and `_`, not starting with a digit, at most 128. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A backquoted identifier; throws unless `name` matches {@link IDENTIFIER}. */
export function ident(name: string): Sql {
  if (!IDENTIFIER.test(name)) throw new RangeError(`${JSON.stringify(name)} is not an allowed identifier`);
  return Sql.trusted(`\`${name}\``);
}

/** `database`.`table`. */
export function qualified(database: string, table: string): Sql {
  return Sql.trusted(`${ident(database).text}.${ident(table).text}`);
}

/** An Array(String) literal of `values`. */
export function strArray(values: readonly string[]): Sql {
  return Sql.trusted(`[${values.map((v) => str(v).text).join(', ')}]`);
}

/** Joins fragments with `sep` (itself a fragment of this module's making). */
export function join(parts: readonly Sql[], sep = ', '): Sql {
  return Sql.trusted(parts.map((p) => p.text).join(sep));
}

/**
 * The tagged template every statement is built with: the literal parts are the adapter's own SQL text,
 * the interpolations must be {@link Sql} fragments (a string or number there is a type error).
 */
export function sql(parts: TemplateStringsArray, ...values: readonly Sql[]): Sql {
  let out = parts[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v instanceof Sql)) throw new TypeError('sql`...` takes only Sql fragments; quote values first');
    out += v.text + (parts[i + 1] ?? '');
  }
  return Sql.trusted(out);
}
