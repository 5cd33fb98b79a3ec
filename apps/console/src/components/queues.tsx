// Queues: what the backend reports, the queue calls this proxy answered, and the dead-letter policy.
// Prism's queue interfaces (queue_basic, queue_visibility, queue_dead_letter, queue_delayed) have no call
// that reports a depth or peeks without receiving, so depth is shown only where a backend puts it in its
// health details; receiving to count would change delivery counts and visibility.
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { describeError } from '../api.js';
import { callsByMethod, parseMetrics } from '../prom.js';
import { navigate } from '../route.js';
import { type NamespaceInfo, serves, usePoll, useSession } from '../session.js';
import { ErrorMessage, NamespacePicker, Notice, Status } from './ui.js';

const QUEUE_METHODS = [
  'Enqueue',
  'EnqueueDelayed',
  'Receive',
  'Ack',
  'Nack',
  'ExtendVisibility',
  'ConfigureDeadLetter',
];

function Calls({ ns }: { ns: NamespaceInfo }) {
  const { api } = useSession();
  const [calls, setCalls] = useState<Map<string, Map<string, number>>>();
  const [error, setError] = useState<string>();
  usePoll(async () => {
    try {
      setCalls(callsByMethod(parseMetrics(await api.metrics()), ns.name));
      setError(undefined);
    } catch (err) {
      setError(describeError(err));
    }
  }, 3000);
  const rows = QUEUE_METHODS.filter((m) => calls?.has(m));
  return (
    <section class="panel" aria-labelledby="queue-calls">
      <h3 id="queue-calls">Queue calls through this proxy</h3>
      <p class="muted">
        Counted since the proxy started (GET /metrics, prism_requests_total), by method and code. The
        console's own permission check counts as a ConfigureDeadLetter answered INVALID_ARGUMENT.
      </p>
      <ErrorMessage>{error}</ErrorMessage>
      {calls && rows.length === 0 && <p>No queue call yet.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Method</th>
                <th scope="col">OK</th>
                <th scope="col">Failed</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => {
                const byCode = calls?.get(m) ?? new Map<string, number>();
                const ok = byCode.get('OK') ?? 0;
                const failed = [...byCode].filter(([c]) => c !== 'OK');
                return (
                  <tr key={m}>
                    <th scope="row">{m}</th>
                    <td>{ok}</td>
                    <td>{failed.map(([c, n]) => `${n} ${c}`).join(', ') || 0}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function DeadLetterPolicy({ ns }: { ns: NamespaceInfo }) {
  const { api } = useSession();
  const [queue, setQueue] = useState('');
  const [max, setMax] = useState('5');
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState('');
  return (
    <form
      class="panel"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        const maxDeliveries = Number(max);
        try {
          await api.deadLetter.configureDeadLetter({
            namespace: ns.name,
            queue,
            maxDeliveries,
            deadLetterQueue: target,
          });
          setStatus(
            maxDeliveries > 0
              ? `${queue}: messages delivered more than ${maxDeliveries} times move to ${target}`
              : `${queue}: dead-letter policy removed`,
          );
        } catch (err) {
          setError(describeError(err));
        }
      }}
    >
      <h3>Dead-letter policy</h3>
      <div class="field">
        <label for="dlq-queue">Queue</label>
        <input
          id="dlq-queue"
          required
          value={queue}
          onInput={(e) => setQueue((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      <div class="field">
        <label for="dlq-max">Max deliveries (0 removes the policy)</label>
        <input
          id="dlq-max"
          type="number"
          min="0"
          required
          value={max}
          onInput={(e) => setMax((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      <div class="field">
        <label for="dlq-target">Dead-letter queue</label>
        <input
          id="dlq-target"
          value={target}
          onInput={(e) => setTarget((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      <ErrorMessage>{error}</ErrorMessage>
      {status && <Status>{status}</Status>}
      <button type="submit" class="primary">
        Apply policy
      </button>
    </form>
  );
}

function Queue({ ns }: { ns: NamespaceInfo }) {
  const session = useSession();
  // ConfigureDeadLetter needs the admin permission on the namespace (docs/security.md).
  const mayConfigure = session.adminAccess(ns.name) === 'yes';
  const details = Object.entries(ns.details ?? {});
  const queueFlavours = ns.flavours?.filter((f) => f.startsWith('queue_'));
  return (
    <>
      {queueFlavours && <p>Queue interfaces: {queueFlavours.join(', ')}.</p>}
      <section class="panel" aria-labelledby="queue-depth">
        <h3 id="queue-depth">Depth and dead letters</h3>
        <Notice>
          Prism's queue interfaces have no call that reports a queue's depth or lists messages without
          receiving them, so the console shows depth only when the backend reports it in its health details.
          Dead-lettered messages are moved to the dead-letter queue with the metadata{' '}
          <code>prism-dead-letter-source</code> naming their queue; receive them from that queue.
        </Notice>
        {details.length > 0 ? (
          <>
            <p class="muted">Reported by the {ns.backendType} backend (its health details):</p>
            <dl class="facts">
              {details.map(([k, v]) => (
                <Fragment key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </Fragment>
              ))}
            </dl>
          </>
        ) : (
          <p class="muted">
            {ns.details
              ? `The ${ns.backendType} backend reports no queue figures.`
              : 'Backend details need the admin API.'}
          </p>
        )}
      </section>
      <Calls ns={ns} />
      {mayConfigure && serves(ns, 'queue_dead_letter') && <DeadLetterPolicy ns={ns} />}
    </>
  );
}

export function QueuesScreen({ namespace }: { namespace: string | undefined }) {
  const session = useSession();
  const candidates = session.namespaces.filter((n) => serves(n, 'queue_basic'));
  const ns = namespace
    ? (session.namespaces.find((n) => n.name === namespace) ?? { name: namespace })
    : undefined;
  return (
    <section aria-labelledby="queues-title">
      <div class="section-head">
        <h2 id="queues-title">Queues{ns ? ` · ${ns.name}` : ''}</h2>
        <NamespacePicker
          candidates={candidates}
          value={namespace}
          what="queue"
          onChange={(name) => navigate('queues', name)}
        />
      </div>
      {ns && !serves(ns, 'queue_basic') && <Notice>{ns.name} serves no queue interface.</Notice>}
      {ns && serves(ns, 'queue_basic') && <Queue key={ns.name} ns={ns} />}
    </section>
  );
}
