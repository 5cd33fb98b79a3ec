import { describe, expect, it } from '@jest/globals';
import { BoundedBuffer } from './buffer.js';
import { asJson, asText, formatBytes, formatDuration, fromHex, hexDump, preview, toHex } from './format.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('value views', () => {
  it('text only for valid UTF-8; JSON pretty-printed or why not', () => {
    expect(asText(bytes('héllo'))).toBe('héllo');
    expect(asText(new Uint8Array([0xff, 0xfe]))).toBeUndefined();
    expect(asJson(bytes('{"a":[1,2]}'))).toEqual({ json: '{\n  "a": [\n    1,\n    2\n  ]\n}' });
    expect(asJson(bytes('nope'))).toEqual({ error: expect.stringMatching(/^not JSON: /) });
    expect(asJson(new Uint8Array([0xff]))).toEqual({ error: 'not UTF-8 text, so not JSON' });
  });

  it('hex dump with offsets and ASCII; hex round trip', () => {
    const data = new Uint8Array([...bytes('Hello, Prism!'), 0, 1, 2, 0xff, 0x41]);
    expect(hexDump(data)).toBe(
      '00000000  48 65 6c 6c 6f 2c 20 50 72 69 73 6d 21 00 01 02  |Hello, Prism!...|\n' +
        '00000010  ff 41                                            |.A|',
    );
    expect(hexDump(new Uint8Array(40), 16).split('\n').at(-1)).toBe('… 24 more bytes');
    expect(fromHex(toHex(data))).toEqual(data);
    expect(fromHex('0x00 FF\n10')).toEqual(new Uint8Array([0, 255, 16]));
    expect(() => fromHex('abc')).toThrow('two digits per byte');
    expect(() => fromHex('zz')).toThrow('0-9, a-f');
  });

  it('previews, sizes and durations', () => {
    expect(preview(bytes('a\nb  c'))).toBe('a b c');
    expect(preview(new Uint8Array([0xff, 0]))).toBe('ff 00');
    expect(preview(bytes('x'.repeat(300)), 10)).toBe(`${'x'.repeat(10)}…`);
    expect([formatBytes(30), formatBytes(1536), formatBytes(5 * 1024 * 1024)]).toEqual([
      '30 B',
      '1.5 KiB',
      '5.0 MiB',
    ]);
    expect([
      formatDuration(450),
      formatDuration(93_000),
      formatDuration(120_000),
      formatDuration(7_200_000),
    ]).toEqual(['450 ms', '1 min 33 s', '2 min 0 s', '2 h 0 min']);
  });
});

describe('BoundedBuffer', () => {
  it('keeps the newest items, counts the dropped ones, resizes and clears', () => {
    const b = new BoundedBuffer<number>(3);
    for (let i = 1; i <= 5; i++) b.push(i);
    expect(b.newestFirst()).toEqual([5, 4, 3]);
    expect([b.received, b.dropped, b.size]).toEqual([5, 2, 3]);
    b.resize(2);
    expect(b.newestFirst()).toEqual([5, 4]);
    expect(b.dropped).toBe(3);
    b.clear();
    expect([b.received, b.dropped, b.size]).toEqual([0, 0, 0]);
    expect(() => new BoundedBuffer(0)).toThrow();
  });
});
