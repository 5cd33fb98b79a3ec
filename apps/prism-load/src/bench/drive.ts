import { Recorder } from '../recorder.js';
import { buildReport, type LoadReport } from '../report.js';
import { type LoopOptions, type Op, runLoop } from '../scheduler.js';

/** Starts consumers that record delivery latencies; resolves once they are ready to receive. */
export type StartConsumer = (rec: Recorder, signal: AbortSignal) => Promise<{ done: Promise<void> }>;

/**
 * Producer → consumer: publishes (or enqueues) with `publish` on the loop, while consumers record how long
 * each stamped message took from send to delivery. Throughput is delivered messages per second; producer
 * failures are reported with a `SEND_` prefix.
 */
export async function produceConsume(
  label: string,
  startConsumer: StartConsumer,
  publish: Op,
  loop: LoopOptions,
): Promise<LoadReport> {
  const delivered = new Recorder();
  const stop = new AbortController();
  const { done } = await startConsumer(delivered, stop.signal);
  const sent = new Recorder();
  const warm = setTimeout(() => delivered.reset(), loop.warmupS * 1000);
  const outcome = await runLoop(publish, sent, loop);
  clearTimeout(warm);
  const durationS = delivered.elapsedS();
  const okAtEnd = delivered.ok;
  // Let messages still in flight arrive: wait until deliveries stop growing (bounded).
  const deadline = performance.now() + 3000;
  for (let last = -1; delivered.total !== last && performance.now() < deadline; ) {
    last = delivered.total;
    await new Promise((r) => setTimeout(r, 100));
  }
  stop.abort();
  await done;
  for (const [code, n] of sent.errors) for (let i = 0; i < n; i++) delivered.failure(`SEND_${code}`);
  const report = buildReport(label, delivered, {
    concurrency: loop.concurrency,
    rps: loop.rps,
    durationS,
    notSent: outcome.notSent,
  });
  return { ...report, throughput: Math.round((okAtEnd / durationS) * 10) / 10 };
}
