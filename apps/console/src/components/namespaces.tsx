// Every namespace: backend, plugin mode, health and the interfaces it serves (admin ListNamespaces and
// DescribeNamespace).
import { Fragment } from 'preact';
import { href } from '../route.js';
import { type NamespaceInfo, serves, usePoll, useSession } from '../session.js';
import { Badge, ErrorMessage, NamespacePicker, Notice, StateBadge } from './ui.js';

const isKeyValue = (n: NamespaceInfo) => serves(n, 'keyvalue_basic');
const isTailable = (n: NamespaceInfo) => serves(n, 'pubsub_basic') || serves(n, 'stream_basic');
const isQueue = (n: NamespaceInfo) => serves(n, 'queue_basic');

function NamespaceCard({ ns }: { ns: NamespaceInfo }) {
  const id = `ns-${ns.name}`;
  return (
    <li class="card" aria-labelledby={id}>
      <h3 id={id}>{ns.name}</h3>
      <dl class="facts">
        {ns.pattern && (
          <>
            <dt>Pattern</dt>
            <dd>{ns.pattern}</dd>
          </>
        )}
        {ns.backendType && (
          <>
            <dt>Backend</dt>
            <dd>{ns.backendType}</dd>
          </>
        )}
        {ns.pluginMode && (
          <>
            <dt>Plugin</dt>
            <dd>{ns.pluginMode}</dd>
          </>
        )}
        {ns.health && (
          <>
            <dt>Health</dt>
            <dd>
              <StateBadge label="health" value={ns.health} />{' '}
              {ns.state && ns.state !== 'running' && <StateBadge label="state" value={ns.state} />}
              {ns.healthMessage && <span class="muted"> {ns.healthMessage}</span>}
            </dd>
          </>
        )}
      </dl>
      {ns.flavours && (
        <ul class="badges" aria-label={`Interfaces of ${ns.name}`}>
          {ns.flavours.map((f) => (
            <li key={f}>
              <Badge tone="info">{f}</Badge>
            </li>
          ))}
        </ul>
      )}
      {ns.details && Object.keys(ns.details).length > 0 && (
        <details>
          <summary>Backend details</summary>
          <dl class="facts">
            {Object.entries(ns.details).map(([k, v]) => (
              <Fragment key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </Fragment>
            ))}
          </dl>
        </details>
      )}
      <p class="card-links">
        {isKeyValue(ns) && <a href={href('keys', ns.name)}>Browse keys</a>}
        {isTailable(ns) && <a href={href('tail', ns.name)}>Live tail</a>}
        {isQueue(ns) && <a href={href('queues', ns.name)}>Queues</a>}
      </p>
    </li>
  );
}

export function NamespacesScreen() {
  const session = useSession();
  usePoll(() => (session.admin.state === 'allowed' ? session.refreshNamespaces() : undefined), 5000);
  return (
    <section aria-labelledby="namespaces-title">
      <div class="section-head">
        <h2 id="namespaces-title">Namespaces</h2>
        {session.admin.state === 'allowed' && (
          <button type="button" onClick={() => void session.refreshNamespaces()}>
            Refresh
          </button>
        )}
      </div>
      {session.admin.state === 'checking' && <Notice>Asking the admin API…</Notice>}
      {session.admin.state === 'denied' && (
        <>
          <Notice>
            The admin API lists namespaces for admins only ({session.admin.reason}). With this token you can
            still open a namespace you may read by its name.
          </Notice>
          <NamespacePicker candidates={[]} value={undefined} onChange={() => {}} what="" />
        </>
      )}
      {session.admin.state === 'failed' && <ErrorMessage>{session.admin.reason}</ErrorMessage>}
      <ul class="cards">
        {session.namespaces.map((ns) => (
          <NamespaceCard key={ns.name} ns={ns} />
        ))}
      </ul>
    </section>
  );
}
