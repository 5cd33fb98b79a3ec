// Every namespace's plugin (admin ListPlugins, with health from ListNamespaces): state, pid, restarts,
// last error; the transitions this page saw; RestartPlugin.

import type { PluginStatus } from '@prism/proto/prism/admin/v1/admin_pb';
import { useRef, useState } from 'preact/hooks';
import { describeError } from '../api.js';
import { formatDuration } from '../format.js';
import { usePoll, useSession } from '../session.js';
import { clock, ErrorMessage, Notice, StateBadge, Status } from './ui.js';

const POLL_MS = 1500;
const MAX_EVENTS = 50;

interface Row {
  readonly plugin: PluginStatus;
  readonly health: string | undefined;
}

interface PluginEvent {
  readonly at: number;
  readonly text: string;
}

/** What changed between two polls of one plugin, in words. */
function changes(before: Row, now: Row): string[] {
  const out: string[] = [];
  const ns = now.plugin.namespace;
  if (before.plugin.state !== now.plugin.state)
    out.push(
      `${ns}: plugin ${before.plugin.state} → ${now.plugin.state}${now.plugin.state !== 'running' && now.plugin.lastError ? ` (${now.plugin.lastError})` : ''}`,
    );
  if (before.health !== now.health && now.health && before.health)
    out.push(`${ns}: health ${before.health} → ${now.health}`);
  if (now.plugin.restarts > before.plugin.restarts)
    out.push(
      `${ns}: restarted (restarts ${before.plugin.restarts} → ${now.plugin.restarts}${now.plugin.pid ? `, pid ${now.plugin.pid}` : ''})${now.plugin.lastError ? `; last error: ${now.plugin.lastError}` : ''}`,
    );
  return out;
}

function RestartButton({ namespace, onDone }: { namespace: string; onDone: (text: string) => void }) {
  const { api } = useSession();
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!confirm)
    return (
      <button
        type="button"
        onClick={() => setConfirm(true)}
        aria-label={`Restart the plugin of ${namespace}`}
      >
        Restart
      </button>
    );
  return (
    <fieldset class="confirm">
      <legend class="visually-hidden">Restart the plugin of {namespace}?</legend>
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            const r = await api.admin.restartPlugin({ namespace });
            onDone(`${namespace}: ${r.action}`);
          } catch (err) {
            onDone(`${namespace}: restart failed: ${describeError(err)}`);
          } finally {
            setBusy(false);
            setConfirm(false);
          }
        }}
      >
        {busy ? 'Restarting…' : 'Yes, restart'}
      </button>
      <button type="button" onClick={() => setConfirm(false)}>
        Cancel
      </button>
    </fieldset>
  );
}

export function PluginsScreen() {
  const session = useSession();
  const { api } = session;
  const [rows, setRows] = useState<Row[]>();
  const [error, setError] = useState<string>();
  const [events, setEvents] = useState<PluginEvent[]>([]);
  const [status, setStatus] = useState('');
  const previous = useRef(new Map<string, Row>());

  usePoll(
    async () => {
      try {
        const [{ plugins }, { namespaces }] = await Promise.all([
          api.admin.listPlugins({}),
          api.admin.listNamespaces({}),
        ]);
        const health = new Map(namespaces.map((n) => [n.name, n.health]));
        const next = plugins.map((plugin) => ({ plugin, health: health.get(plugin.namespace) }));
        const seen: PluginEvent[] = [];
        const now = Date.now();
        for (const row of next) {
          const before = previous.current.get(row.plugin.namespace);
          if (before) for (const text of changes(before, row)) seen.push({ at: now, text });
        }
        previous.current = new Map(next.map((r) => [r.plugin.namespace, r]));
        if (seen.length) setEvents((e) => [...seen.reverse(), ...e].slice(0, MAX_EVENTS));
        setRows(next);
        setError(undefined);
      } catch (err) {
        setError(describeError(err));
      }
    },
    POLL_MS,
    session.admin.state !== 'denied',
  );

  if (session.admin.state === 'denied')
    return (
      <section aria-labelledby="plugins-title">
        <h2 id="plugins-title">Plugins</h2>
        <Notice>
          Plugin status comes from the admin API, which this token may not use ({session.admin.reason}).
        </Notice>
      </section>
    );
  return (
    <section aria-labelledby="plugins-title">
      <div class="section-head">
        <h2 id="plugins-title">Plugins</h2>
      </div>
      <ErrorMessage>{error}</ErrorMessage>
      {status && <Status>{status}</Status>}
      <ul class="cards">
        {rows?.map(({ plugin: p, health }) => (
          <li
            class="card"
            key={p.namespace}
            data-namespace={p.namespace}
            aria-labelledby={`plugin-${p.namespace}`}
          >
            <h3 id={`plugin-${p.namespace}`}>{p.namespace}</h3>
            <p>
              <StateBadge label="state" value={p.state} /> <StateBadge label="health" value={health} />
            </p>
            <dl class="facts">
              <dt>Plugin</dt>
              <dd>
                {p.plugin}
                {p.version ? ` ${p.version}` : ''} ({p.backendType}, {p.pluginMode})
              </dd>
              {p.pluginMode === 'sidecar' && (
                <>
                  <dt>Pid</dt>
                  <dd data-field="pid">{p.pid || '–'}</dd>
                </>
              )}
              <dt>Restarts</dt>
              <dd data-field="restarts">{p.restarts}</dd>
              <dt>{p.state === 'running' ? 'Up for' : 'Down for'}</dt>
              <dd>{formatDuration(p.uptimeSeconds * 1000)}</dd>
              <dt>In flight</dt>
              <dd>{p.inFlight}</dd>
              {p.endpoint && (
                <>
                  <dt>Endpoint</dt>
                  <dd class="mono">{p.endpoint}</dd>
                </>
              )}
              <dt>Last error</dt>
              <dd data-field="last-error" class={p.lastError ? 'error-text' : 'muted'}>
                {p.lastError || 'none'}
              </dd>
            </dl>
            {session.admin.state === 'allowed' && (
              <RestartButton namespace={p.namespace} onDone={(text) => setStatus(text)} />
            )}
          </li>
        ))}
      </ul>
      <section class="panel" aria-labelledby="plugin-events">
        <h3 id="plugin-events">Seen on this page</h3>
        {events.length === 0 ? (
          <p class="muted">No change since this page opened (it polls every {POLL_MS / 1000} s).</p>
        ) : (
          <div role="log" aria-label="Plugin changes, newest first">
            <ol class="events">
              {events.map((e, i) => (
                <li key={`${e.at}-${i}`}>
                  <time>{clock(e.at)}</time> {e.text}
                </li>
              ))}
            </ol>
          </div>
        )}
      </section>
    </section>
  );
}
