import { createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from '@jest/globals';
import { testServerUrl } from '@prism/testing';
import { float64, ident, int64, join, qualified, type Sql, sql, str, strArray, uint64 } from './sql.js';

// The literal module against the real server: every hostile string must come back byte for byte, and
// nothing in a string may end the literal (an injected statement would change the answer's shape).

const url = new URL(testServerUrl('clickhouse'));
const ch = createClient({
  url: `${url.protocol}//${url.host}`,
  username: decodeURIComponent(url.username),
  password: decodeURIComponent(url.password),
});
afterAll(() => ch.close());

async function one<T>(statement: Sql): Promise<T> {
  const rs = await ch.query({ query: statement.text, format: 'JSONEachRow' });
  const rows = await rs.json<T>();
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

const ALL_C0 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('');
const HOSTILE = [
  '',
  "'",
  "\\'",
  '\\',
  'ends with a backslash\\',
  "'; DROP TABLE system.one; --",
  "x' UNION ALL SELECT 'y",
  "\\'); SELECT 1; --",
  '`backquoted`',
  '"double"',
  '{x:String}',
  ALL_C0,
  '\u007f\u0080\u0085\u009f',
  'é ü 日本 \u{1f600} \uffff \ue000',
  '\\x41 \\0 \\n (escapes spelled out)',
  'a'.repeat(5000),
];

describe('str', () => {
  it.each(HOSTILE.map((s, i) => ({ i, s })))(
    'round-trips hostile string #$i byte for byte',
    async ({ s }) => {
      const row = await one<{ s: string; h: string; n: string }>(
        sql`SELECT ${str(s)} AS s, hex(${str(s)}) AS h, toString(length(${str(s)})) AS n`,
      );
      expect(row.s).toBe(s);
      expect(row.h).toBe(Buffer.from(s, 'utf8').toString('hex').toUpperCase());
      expect(Number(row.n)).toBe(Buffer.byteLength(s, 'utf8'));
    },
  );

  it('escapes only with printable ASCII and never leaves a bare quote', () => {
    const lit = str(`${ALL_C0}'\\`).text;
    expect(lit).toBe(
      "'\\0\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\b\\t\\n\\x0b\\f\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f\\'\\\\'",
    );
    // Inside the quotes every ' is preceded by an odd run of backslashes.
    const inner = str("a''b\\'c").text.slice(1, -1);
    expect(inner).toBe("a\\'\\'b\\\\\\'c");
  });

  it('keeps strings in arrays apart', async () => {
    const values = ["a', 'b", '\\', "'"];
    const row = await one<{ a: string[] }>(sql`SELECT ${strArray(values)} AS a`);
    expect(row.a).toEqual(values);
  });
});

describe('numbers', () => {
  it('int64 covers the whole range exactly and pins the type', async () => {
    for (const v of [0n, -1n, 1n, -(2n ** 63n), 2n ** 63n - 1n, 1733333333123456789n]) {
      const row = await one<{ v: string; t: string }>(
        sql`SELECT toString(${int64(v)}) AS v, toTypeName(${int64(v)}) AS t`,
      );
      expect(row).toEqual({ v: v.toString(), t: 'Int64' });
    }
    // Int64 arithmetic stays signed (a bare UInt64 literal would make intDiv unsigned).
    const row = await one<{ q: string }>(
      sql`SELECT toString(intDiv(${int64(-(2n ** 63n))}, ${int64(86_400_000_000_000n)})) AS q`,
    );
    expect(row.q).toBe((-(2n ** 63n) / 86_400_000_000_000n).toString());
  });

  it('int64 and uint64 reject what does not fit', () => {
    expect(() => int64(2n ** 63n)).toThrow(RangeError);
    expect(() => int64(-(2n ** 63n) - 1n)).toThrow(RangeError);
    expect(() => uint64(-1n)).toThrow(RangeError);
    expect(() => uint64(2n ** 64n)).toThrow(RangeError);
    expect(() => uint64(1.5)).toThrow(RangeError);
    expect(uint64(2n ** 64n - 1n).text).toBe('toUInt64(18446744073709551615)');
  });

  it('float64 is exact to the bit (18.16 parses decimal floats inexactly) and rejects non-finite values', async () => {
    const values = [
      0.1,
      1 / 3,
      Math.PI,
      5e-324,
      -0,
      1.7976931348623157e308,
      -2.2250738585072014e-308,
      1.2651576028323231e-9,
    ];
    for (let i = 0; i < 200; i++)
      values.push((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 600 - 300));
    const rs = await ch.query({
      query: `SELECT arrayJoin([${values.map((v) => float64(v).text).join(', ')}]) AS v`,
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ v: number }>();
    expect(rows.map((r) => r.v)).toEqual(values);
    expect(Object.is(rows[4]!.v, -0)).toBe(true);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(() => float64(bad)).toThrow(RangeError);
  });
});

describe('identifiers and fragments', () => {
  it('allows only plain identifiers, backquoted', () => {
    expect(ident('prism_ts_points_a_0123').text).toBe('`prism_ts_points_a_0123`');
    expect(qualified('default', 't').text).toBe('`default`.`t`');
    for (const bad of ['', '1a', 'a-b', 'a`b', 'a b', 'a.b', 'é', 'a'.repeat(129), 'x`; DROP TABLE t; --'])
      expect(() => ident(bad)).toThrow(RangeError);
  });

  it('sql`` takes only fragments, so a raw value cannot slip in', () => {
    const raw = '1; DROP TABLE t' as unknown as Sql;
    expect(() => sql`SELECT ${raw}`).toThrow(TypeError);
    expect(join([str('a'), int64(1n)]).text).toBe("'a', toInt64(1)");
  });
});
