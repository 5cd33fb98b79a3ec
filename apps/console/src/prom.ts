// The Prometheus text format as the proxy's GET /metrics writes it, and what the console's charts
// compute from two scrapes: request rate from counter deltas, p99 from histogram bucket deltas.
// Pure functions (no DOM): unit-tested in prom.test.ts.

/** One sample line: `name{label="value",…} value`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the text exposition format (comments and blank lines skipped; label escapes \\ \" \n decoded). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseLine(line);
    if (sample) out.push(sample);
  }
  return out;
}

function parseLine(line: string): Sample | undefined {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  const labels: Record<string, string> = {};
  let rest: string;
  let name: string;
  if (brace >= 0 && (space < 0 || brace < space)) {
    name = line.slice(0, brace);
    let i = brace + 1;
    while (i < line.length && line[i] !== '}') {
      while (line[i] === ',' || line[i] === ' ') i++;
      if (line[i] === '}') break;
      const eq = line.indexOf('=', i);
      if (eq < 0 || line[eq + 1] !== '"') return undefined;
      const key = line.slice(i, eq).trim();
      let value = '';
      let j = eq + 2;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\') {
          j++;
          value += line[j] === 'n' ? '\n' : (line[j] ?? '');
        } else value += line[j];
      }
      if (j >= line.length) return undefined;
      labels[key] = value;
      i = j + 1;
    }
    if (line[i] !== '}') return undefined;
    rest = line.slice(i + 1).trim();
  } else {
    if (space < 0) return undefined;
    name = line.slice(0, space);
    rest = line.slice(space + 1).trim();
  }
  const value = parseValue(rest.split(/\s+/)[0] ?? '');
  return value === undefined ? undefined : { name, labels, value };
}

function parseValue(s: string): number | undefined {
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  const n = Number(s);
  return s === '' || Number.isNaN(n) ? undefined : n;
}

/** Per namespace: calls answered so far and the latency histogram (cumulative counts by upper bound). */
export interface NamespaceTotals {
  requests: number;
  /** Upper bound in seconds (Infinity for +Inf) → cumulative count, summed over methods and codes. */
  buckets: Map<number, number>;
}

/** One scrape reduced to what the charts need, per namespace. */
export interface Snapshot {
  /** When it was taken (ms, the console's clock). */
  readonly at: number;
  readonly namespaces: Map<string, NamespaceTotals>;
}

const REQUESTS = 'prism_requests_total';
const BUCKETS = 'prism_request_duration_seconds_bucket';

/** Sums the proxy's request counters and latency buckets per namespace (every interface, method and code). */
export function snapshot(samples: readonly Sample[], at: number): Snapshot {
  const namespaces = new Map<string, NamespaceTotals>();
  const of = (ns: string) => {
    let t = namespaces.get(ns);
    if (!t) {
      t = { requests: 0, buckets: new Map() };
      namespaces.set(ns, t);
    }
    return t;
  };
  for (const s of samples) {
    const ns = s.labels.namespace;
    if (ns === undefined) continue;
    if (s.name === REQUESTS) of(ns).requests += s.value;
    else if (s.name === BUCKETS && s.labels.le !== undefined) {
      const le = parseValue(s.labels.le);
      if (le === undefined) continue;
      const b = of(ns).buckets;
      b.set(le, (b.get(le) ?? 0) + s.value);
    }
  }
  return { at, namespaces };
}

/** A counter's increase; a decrease means the proxy restarted (counters start again from 0). */
function increase(now: number, before: number | undefined): number {
  if (before === undefined || now < before) return now;
  return now - before;
}

/**
 * The `q` quantile (0..1) of the observations between two scrapes, in seconds, interpolated linearly
 * inside the bucket that holds it (what PromQL's histogram_quantile does); undefined without any.
 * Falling in the +Inf bucket gives the highest finite bound.
 */
export function quantile(
  q: number,
  now: Map<number, number>,
  before: Map<number, number> | undefined,
): number | undefined {
  const bounds = [...now.keys()].sort((a, b) => a - b);
  const deltas = bounds.map((le) => increase(now.get(le) ?? 0, before?.get(le)));
  const total = deltas.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    const upper = bounds[i] as number;
    const count = deltas[i] as number;
    if (count < rank) continue;
    if (upper === Number.POSITIVE_INFINITY) return bounds[i - 1] ?? undefined;
    const lower = i === 0 ? 0 : (bounds[i - 1] as number);
    const below = i === 0 ? 0 : (deltas[i - 1] as number);
    const inBucket = count - below;
    return inBucket <= 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket);
  }
  return undefined;
}

/** What one chart point shows for a namespace between two snapshots. */
export interface Point {
  /** Calls answered per second. */
  readonly rate: number;
  /** 99th percentile latency in milliseconds; undefined when no call ended in the interval. */
  readonly p99Ms: number | undefined;
  /** Calls answered in the interval. */
  readonly calls: number;
}

/** Rate and p99 of every namespace between `before` and `now` (namespaces seen in `now`). */
export function between(before: Snapshot, now: Snapshot): Map<string, Point> {
  const seconds = Math.max((now.at - before.at) / 1000, 1e-3);
  const out = new Map<string, Point>();
  for (const [ns, t] of now.namespaces) {
    const prev = before.namespaces.get(ns);
    const calls = increase(t.requests, prev?.requests);
    const p99 = quantile(0.99, t.buckets, prev?.buckets);
    out.set(ns, { rate: calls / seconds, p99Ms: p99 === undefined ? undefined : p99 * 1000, calls });
  }
  return out;
}

/** Calls answered so far for one namespace, by method and code (e.g. the queue screen's counters). */
export function callsByMethod(
  samples: readonly Sample[],
  namespace: string,
): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const s of samples) {
    if (s.name !== REQUESTS || s.labels.namespace !== namespace) continue;
    const method = s.labels.method ?? '?';
    const code = s.labels.code ?? '?';
    let m = out.get(method);
    if (!m) {
      m = new Map();
      out.set(method, m);
    }
    m.set(code, (m.get(code) ?? 0) + s.value);
  }
  return out;
}
