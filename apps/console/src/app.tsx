// The console's frame: header with the token, section navigation, the current screen.
import { useState } from 'preact/hooks';
import { KeysScreen } from './components/keys.js';
import { MetricsScreen } from './components/metrics.js';
import { NamespacesScreen } from './components/namespaces.js';
import { PluginsScreen } from './components/plugins.js';
import { QueuesScreen } from './components/queues.js';
import { TailScreen } from './components/tail.js';
import { href, type Route, SECTIONS, useRoute } from './route.js';
import { type AdminAccess, SessionProvider, useSession } from './session.js';

function accessText(admin: AdminAccess, token: string): string {
  switch (admin.state) {
    case 'checking':
      return 'checking…';
    case 'allowed':
      return token ? 'admin API allowed' : 'admin API open (no token needed)';
    case 'denied':
      return token ? 'not an admin: read and write as the proxy allows' : 'no token';
    case 'failed':
      return 'admin API unreachable';
  }
}

function TokenForm() {
  const session = useSession();
  const [draft, setDraft] = useState('');
  return (
    <form
      class="token-form"
      aria-label="Access token"
      onSubmit={(e) => {
        e.preventDefault();
        session.setToken(draft.trim());
        setDraft('');
      }}
    >
      <label for="token">Token</label>
      <input
        id="token"
        type="password"
        autocomplete="off"
        spellcheck={false}
        placeholder={session.token ? 'token set (this tab only)' : 'JWT or admin token'}
        value={draft}
        onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)}
      />
      <button type="submit">Use token</button>
      {session.token && (
        <button type="button" onClick={() => session.setToken('')}>
          Forget
        </button>
      )}
      <span class="access" role="status" data-access={session.admin.state}>
        {accessText(session.admin, session.token)}
      </span>
    </form>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.section) {
    case 'namespaces':
      return <NamespacesScreen />;
    case 'keys':
      return <KeysScreen namespace={route.namespace} />;
    case 'tail':
      return <TailScreen namespace={route.namespace} />;
    case 'queues':
      return <QueuesScreen namespace={route.namespace} />;
    case 'metrics':
      return <MetricsScreen />;
    case 'plugins':
      return <PluginsScreen />;
  }
}

function Frame() {
  const route = useRoute();
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <h1>
          <a href={href('namespaces')}>Prism console</a>
        </h1>
        <TokenForm />
      </header>
      <nav class="sections" aria-label="Console sections">
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.id}>
              <a href={href(s.id)} aria-current={route.section === s.id ? 'page' : undefined}>
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Screen route={route} />
      </main>
    </>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Frame />
    </SessionProvider>
  );
}
