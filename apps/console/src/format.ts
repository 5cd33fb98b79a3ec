// How the console shows and reads values: UTF-8 text, pretty JSON, a hex dump. Pure functions (no DOM).

/** The bytes as UTF-8 text; undefined when they are not valid UTF-8. */
export function asText(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The bytes as indented JSON; an error message when they are not UTF-8 JSON. */
export function asJson(bytes: Uint8Array): { json: string } | { error: string } {
  const text = asText(bytes);
  if (text === undefined) return { error: 'not UTF-8 text, so not JSON' };
  try {
    return { json: JSON.stringify(JSON.parse(text), null, 2) };
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/** A hex dump: offset, 16 bytes in hex, then the printable ASCII (others as "."). */
export function hexDump(bytes: Uint8Array, maxBytes = 64 * 1024): string {
  const lines: string[] = [];
  const n = Math.min(bytes.length, maxBytes);
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, n));
    const hex = [...row]
      .map(hex2)
      .join(' ')
      .padEnd(16 * 3 - 1, ' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex}  |${ascii}|`);
  }
  if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes`);
  return lines.join('\n');
}

/** Bytes as hex pairs separated by spaces (what the hex editor shows). */
export function toHex(bytes: Uint8Array): string {
  return [...bytes].map(hex2).join(' ');
}

/** Parses hex digits (whitespace and an optional 0x ignored); throws on anything else. */
export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/0x/gi, '').replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new Error('hex may only contain 0-9, a-f and spaces');
  if (digits.length % 2 !== 0) throw new Error('hex needs two digits per byte');
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A short one-line preview of a payload (tail view): text when UTF-8, else hex. */
export function preview(bytes: Uint8Array, max = 200): string {
  const text = asText(bytes);
  const shown = text ?? toHex(bytes.subarray(0, Math.ceil(max / 3)));
  const oneLine = shown.replace(/\s+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** 93_000 ms → "1 min 33 s"; 450 → "450 ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}
