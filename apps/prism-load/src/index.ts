export { buildCli, parseCli } from './cli.js';
export { LatencyHistogram, type LatencySummary } from './histogram.js';
export {
  buildWorkload,
  OP_KINDS,
  type OpKind,
  recordDelivery,
  type Workload,
  type WorkloadOptions,
} from './ops.js';
export { epochMs, makeValue, readStamp, stampPayload } from './payload.js';
export { type ProgressSample, Recorder } from './recorder.js';
export { buildReport, formatProgress, formatReport, type LoadReport, ms } from './report.js';
export { consume, DEFAULTS, driveOp, type LoadOptions, runLoad } from './run.js';
export { failureCode, type LoopOptions, type LoopOutcome, type Op, runLoop } from './scheduler.js';
export { createRpcClient, type HttpVersion, type RpcClient } from './wire/client.js';
export { PROTOCOLS, type Protocol, type RpcResult } from './wire/protocol.js';
