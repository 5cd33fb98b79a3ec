import { describe, expect, it } from '@jest/globals';
import { recordDelivery } from './ops.js';
import { makeValue, readStamp, stampPayload } from './payload.js';
import { Recorder } from './recorder.js';

describe('stamped payloads', () => {
  it('carries the send time so a consumer can compute delivery latency', () => {
    const before = performance.timeOrigin + performance.now();
    const payload = stampPayload(makeValue(64));
    const sent = readStamp(payload) as number;
    expect(sent).toBeGreaterThanOrEqual(before);
    const rec = new Recorder();
    recordDelivery(rec, payload);
    expect(rec.ok).toBe(1);
    expect(rec.histogram.count).toBe(1);
  });

  it('counts foreign or too-short payloads without inventing a latency', () => {
    const rec = new Recorder();
    recordDelivery(rec, makeValue(64));
    recordDelivery(rec, new Uint8Array(3));
    expect(readStamp(makeValue(64))).toBeUndefined();
    expect(rec.ok).toBe(2);
    expect(rec.histogram.count).toBe(0);
  });

  it('stamps a subarray in place without touching the bytes around it', () => {
    const backing = new Uint8Array(40).fill(9);
    const view = backing.subarray(10, 30);
    stampPayload(view);
    expect(readStamp(view)).toBeDefined();
    expect(backing[9]).toBe(9);
    expect(backing[30]).toBe(9);
  });
});
