import { describe, expect, it } from '@jest/globals';
import { decodeCursor, encodeCursor } from './cursor.js';
import { Deque } from './deque.js';
import { type Expiring, ExpiryHeap } from './heap.js';
import { SortedKeys } from './sorted-keys.js';

/** Deterministic pseudo-random numbers so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('SortedKeys', () => {
  it('matches a sorted-array model under random inserts and deletes across chunk splits', () => {
    const rand = rng(42);
    const index = new SortedKeys();
    const model = new Set<string>();
    for (let op = 0; op < 12_000; op++) {
      const key = `k${Math.floor(rand() * 4000)}`;
      if (rand() < 0.7) {
        expect(index.add(key)).toBe(!model.has(key));
        model.add(key);
      } else {
        expect(index.delete(key)).toBe(model.has(key));
        model.delete(key);
      }
    }
    const expected = [...model].sort();
    expect(index.size).toBe(expected.length);
    expect([...index.from('')]).toEqual(expected);
  });

  it('seeks inclusively and exclusively, also between and past chunks', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `key/${String(i * 2).padStart(5, '0')}`);
    const index = SortedKeys.from([...keys].reverse());
    expect([...index.from('key/00010')].slice(0, 2)).toEqual(['key/00010', 'key/00012']);
    expect([...index.from('key/00010', true)][0]).toBe('key/00012');
    expect([...index.from('key/00011')][0]).toBe('key/00012');
    expect([...index.from('zzz')]).toEqual([]);
    expect([...index.from(keys.at(-1)!, true)]).toEqual([]);
    expect(index.delete('nope')).toBe(false);
  });
});

describe('ExpiryHeap', () => {
  it('always yields the earliest expiry under random upserts and removals', () => {
    const rand = rng(7);
    const heap = new ExpiryHeap<Expiring & { id: number }>();
    const items = Array.from({ length: 500 }, (_, id) => ({ id, expiresAt: 0, heapIndex: -1 }));
    for (let op = 0; op < 5000; op++) {
      const item = items[Math.floor(rand() * items.length)]!;
      if (rand() < 0.7) {
        item.expiresAt = Math.floor(rand() * 1000);
        heap.upsert(item);
      } else {
        heap.remove(item);
      }
    }
    const inHeap = items.filter((i) => i.heapIndex >= 0);
    expect(heap.size).toBe(inHeap.length);
    const popped: number[] = [];
    for (let top = heap.peek(); top; top = heap.peek()) {
      popped.push(top.expiresAt);
      heap.remove(top);
    }
    expect(popped).toEqual(inHeap.map((i) => i.expiresAt).sort((a, b) => a - b));
    expect(items.every((i) => i.heapIndex === -1)).toBe(true);
  });
});

describe('Deque', () => {
  it('matches an array model when pushing and popping at both ends through growth', () => {
    const rand = rng(3);
    const deque = new Deque<number>(2);
    const model: number[] = [];
    for (let op = 0; op < 4000; op++) {
      const r = rand();
      if (r < 0.3) {
        deque.pushBack(op);
        model.push(op);
      } else if (r < 0.6) {
        deque.pushFront(op);
        model.unshift(op);
      } else if (r < 0.8) {
        expect(deque.popFront()).toBe(model.shift());
      } else {
        expect(deque.popBack()).toBe(model.pop());
      }
      expect(deque.length).toBe(model.length);
    }
    expect([...deque]).toEqual(model);
  });
});

describe('cursor', () => {
  it('round-trips any key, including unicode and separators', () => {
    for (const key of ['a', 'page/0001', 'ключ/🔑', 'a b%_*?[]\\'])
      expect(decodeCursor(encodeCursor(key))).toBe(key);
  });
  it('rejects anything it did not make', () => {
    for (const bad of ['', 'k', 'x', 'kA=', 'k!!', 'k/+', '%%not a cursor%%'])
      expect(() => decodeCursor(bad)).toThrow(/cursor/);
  });
});
