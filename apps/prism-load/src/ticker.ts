import { Worker } from 'node:worker_threads';

// Node's timers fire with ~1 ms granularity (and late), which an open-loop generator measures as latency.
// A worker thread sleeping with Atomics.wait (sub-millisecond precision) wakes the main thread instead.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const cell = new Int32Array(new SharedArrayBuffer(4));
const clock = () => performance.timeOrigin + performance.now();
let next = clock();
for (;;) {
  next += workerData.periodMs;
  const wait = next - clock();
  if (wait > 0) Atomics.wait(cell, 0, 0, wait);
  else next = clock();
  parentPort.postMessage(0);
}
`;

/** Calls `onTick` about every `periodMs` (≥ 0.1 ms) until stopped. */
export function startTicker(periodMs: number, onTick: () => void): { stop(): void } {
  const worker = new Worker(SOURCE, { eval: true, workerData: { periodMs: Math.max(0.1, periodMs) } });
  worker.on('message', onTick);
  worker.on('error', () => {});
  return { stop: () => void worker.terminate() };
}
