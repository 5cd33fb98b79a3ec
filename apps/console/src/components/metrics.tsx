// Request rate and p99 latency per namespace: GET /metrics every few seconds; the rate from the
// increase of prism_requests_total between two scrapes, p99 from the increase of the
// prism_request_duration_seconds buckets (see prom.ts).
import { useState } from 'preact/hooks';
import { describeError } from '../api.js';
import { between, parseMetrics, type Snapshot, snapshot } from '../prom.js';
import { usePoll, useSession } from '../session.js';
import { Chart } from './chart.js';
import { ErrorMessage, Status } from './ui.js';

/** Samples kept per series (at 3 s: the last 6 minutes). */
const WINDOW = 120;
const INTERVALS = [1, 3, 5, 10] as const;

interface Series {
  times: number[];
  rate: (number | null)[];
  p99: (number | null)[];
  total: number;
}

/** Kept for the page's life (per token), so leaving the screen and coming back keeps the history. */
const history = { token: '', last: undefined as Snapshot | undefined, series: new Map<string, Series>() };

function record(token: string, now: Snapshot): void {
  if (history.token !== token) {
    history.token = token;
    history.last = undefined;
    history.series = new Map();
  }
  const before = history.last;
  history.last = now;
  if (!before) return;
  const t = now.at / 1000;
  for (const [ns, p] of between(before, now)) {
    let s = history.series.get(ns);
    if (!s) {
      s = { times: [], rate: [], p99: [], total: 0 };
      history.series.set(ns, s);
    }
    // New arrays each time: the charts redraw when their data changes identity.
    s.times = [...s.times, t].slice(-WINDOW);
    s.rate = [...s.rate, p.rate].slice(-WINDOW);
    s.p99 = [...s.p99, p.p99Ms ?? null].slice(-WINDOW);
    s.total = now.namespaces.get(ns)?.requests ?? s.total;
  }
}

const rateText = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const msText = (v: number) =>
  v >= 100 ? `${v.toFixed(0)} ms` : v >= 1 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`;

export function MetricsScreen() {
  const { api, token } = useSession();
  const [interval, setIntervalSeconds] = useState<number>(3);
  const [error, setError] = useState<string>();
  const [, setTick] = useState(0);
  usePoll(async () => {
    try {
      const text = await api.metrics();
      record(token, snapshot(parseMetrics(text), Date.now()));
      setError(undefined);
    } catch (err) {
      setError(describeError(err));
    }
    setTick((n) => n + 1);
  }, interval * 1000);

  const namespaces = [...history.series.keys()].sort();
  return (
    <section aria-labelledby="metrics-title">
      <div class="section-head">
        <h2 id="metrics-title">Metrics</h2>
        <div class="field">
          <label for="metrics-interval">Refresh every</label>
          <select
            id="metrics-interval"
            value={String(interval)}
            onChange={(e) => setIntervalSeconds(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {INTERVALS.map((s) => (
              <option key={s} value={String(s)}>
                {s} s
              </option>
            ))}
          </select>
        </div>
      </div>
      <p class="muted">
        From the proxy's GET /metrics: calls answered per second and the 99th percentile of their duration
        between two scrapes, per namespace (every interface and method together; streams count when they end).
      </p>
      <ErrorMessage>{error}</ErrorMessage>
      {!error && namespaces.length === 0 && <Status>Collecting: a chart needs two scrapes.</Status>}
      {namespaces.length > 0 && (
        <div class="table-wrap">
          <table class="metrics-table">
            <caption>Latest interval</caption>
            <thead>
              <tr>
                <th scope="col">Namespace</th>
                <th scope="col">Requests/s</th>
                <th scope="col">p99</th>
                <th scope="col">Calls since start</th>
              </tr>
            </thead>
            <tbody>
              {namespaces.map((ns) => {
                const s = history.series.get(ns) as Series;
                const rate = s.rate.at(-1);
                const p99 = s.p99.at(-1);
                return (
                  <tr key={ns} data-namespace={ns}>
                    <th scope="row">{ns}</th>
                    <td class="num" data-metric="rate">
                      {rate === null || rate === undefined ? '–' : rateText(rate)}
                    </td>
                    <td class="num" data-metric="p99">
                      {p99 === null || p99 === undefined ? '–' : msText(p99)}
                    </td>
                    <td class="num">{s.total.toLocaleString('en-US')}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ul class="cards charts">
        {namespaces.map((ns) => {
          const s = history.series.get(ns) as Series;
          return (
            <li class="card" key={ns} aria-labelledby={`chart-${ns}`}>
              <h3 id={`chart-${ns}`}>{ns}</h3>
              <Chart title="Requests/s" times={s.times} values={s.rate} color="#2563eb" format={rateText} />
              <Chart title="p99 latency" times={s.times} values={s.p99} color="#d97706" format={msText} />
            </li>
          );
        })}
      </ul>
    </section>
  );
}
