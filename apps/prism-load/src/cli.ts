import { Command, InvalidArgumentError, Option } from 'commander';
import { OP_KINDS, type OpKind } from './ops.js';
import { DEFAULTS, type LoadOptions } from './run.js';
import { PROTOCOLS, type Protocol } from './wire/protocol.js';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${v}"`);
  return n;
};
const num =
  (name: string, min: number, max = Number.POSITIVE_INFINITY) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}], got "${v}"`);
    return n;
  };
const seconds = (name: string) => (v: string) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`${name} must be a duration like 10, 10s, 500ms or 1m, got "${v}"`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
};

/** The `prism-load` command line; `parseCli(argv)` returns validated options plus output flags. */
export function buildCli(): Command {
  return new Command('prism-load')
    .description(
      'Load generator for Prism: drives the proxy over Connect, gRPC or gRPC-web and reports latency percentiles',
    )
    .requiredOption('-t, --target <url>', 'proxy base URL, e.g. http://127.0.0.1:8980')
    .addOption(
      new Option('-p, --protocol <protocol>', 'wire protocol').choices(PROTOCOLS).default(DEFAULTS.protocol),
    )
    .addOption(
      new Option('--http <version>', 'HTTP version (gRPC needs 2)').choices(['1.1', '2']).default('2'),
    )
    .option(
      '--connections <n>',
      'HTTP connections (HTTP/2 multiplexes calls over them)',
      int('--connections', 1),
      DEFAULTS.connections,
    )
    .option('-n, --namespace <name>', 'namespace sent in every request', DEFAULTS.namespace)
    .addOption(new Option('-o, --op <op>', 'operation').choices(OP_KINDS).default(DEFAULTS.op))
    .option('--ratio <r>', 'mixed: share of reads, 0–1', num('--ratio', 0, 1), DEFAULTS.ratio)
    .option(
      '-c, --concurrency <n>',
      'calls in flight (closed loop) or cap on them (open loop); consumers for subscribe/receive',
      int('--concurrency', 1),
      DEFAULTS.concurrency,
    )
    .option(
      '-d, --duration <time>',
      'measured time (10, 10s, 500ms, 1m)',
      seconds('--duration'),
      DEFAULTS.durationS,
    )
    .option('--warmup <time>', 'time run first and not measured', seconds('--warmup'), DEFAULTS.warmupS)
    .option(
      '--rps <n>',
      'open loop at this rate; latency counts from each call’s intended send time',
      num('--rps', 0.001),
    )
    .option('--value-size <bytes>', 'value / payload size', int('--value-size', 0), DEFAULTS.valueSize)
    .option(
      '--keys <n>',
      'key space size (get/mixed preload every key first)',
      int('--keys', 1),
      DEFAULTS.keys,
    )
    .option('--topic <name>', 'topic (publish/subscribe) or queue (enqueue/receive)', DEFAULTS.topic)
    .option('--json', 'print the final report as JSON on stdout')
    .option('-q, --quiet', 'no progress line');
}

interface RawCli {
  target: string;
  protocol: Protocol;
  http: '1.1' | '2';
  connections: number;
  namespace: string;
  op: OpKind;
  ratio: number;
  concurrency: number;
  duration: number;
  warmup: number;
  rps?: number;
  valueSize: number;
  keys: number;
  topic: string;
  json?: boolean;
  quiet?: boolean;
}

/** Parses argv (as `process.argv`) into load options; exits with usage on invalid input. */
export function parseCli(argv: readonly string[]): { options: LoadOptions; json: boolean; quiet: boolean } {
  const program = buildCli();
  program.parse(argv as string[]);
  const o = program.opts<RawCli>();
  try {
    const url = new URL(o.target);
    if (url.protocol !== 'http:') throw new Error('only http:// (h2c) targets are supported');
  } catch (err) {
    program.error(`--target: ${(err as Error).message} ("${o.target}")`);
  }
  if (o.protocol === 'grpc' && o.http === '1.1') program.error('--protocol grpc needs --http 2');
  if (o.op === 'publish' || o.op === 'enqueue') {
    if (o.valueSize < 12)
      program.error('--value-size must be at least 12 for publish/enqueue (payloads carry a send timestamp)');
  }
  const options: LoadOptions = {
    target: o.target.replace(/\/+$/, ''),
    protocol: o.protocol,
    httpVersion: o.http,
    connections: o.connections,
    namespace: o.namespace,
    op: o.op,
    ratio: o.ratio,
    concurrency: o.concurrency,
    durationS: o.duration,
    warmupS: o.warmup,
    rps: o.rps,
    valueSize: o.valueSize,
    keys: o.keys,
    topic: o.topic,
  };
  return { options, json: o.json ?? false, quiet: o.quiet ?? false };
}
