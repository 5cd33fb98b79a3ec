// Small shared pieces: badges, messages, the namespace picker.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type NamespaceInfo, useSession } from '../session.js';

type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'plain';

/** A small label; the word carries the meaning, the colour only repeats it. */
export function Badge({
  tone = 'plain',
  children,
  title,
}: {
  tone?: Tone;
  children: ComponentChildren;
  title?: string;
}) {
  return (
    <span class={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

const HEALTH_TONES: Readonly<Record<string, Tone>> = {
  healthy: 'ok',
  running: 'ok',
  degraded: 'warn',
  restarting: 'bad',
  unhealthy: 'bad',
  unavailable: 'bad',
  stopped: 'warn',
};

/** "healthy", "unhealthy", "restarting", … with a tone. */
export function StateBadge({ value, label }: { value: string | undefined; label: string }) {
  if (!value) return null;
  return (
    <Badge tone={HEALTH_TONES[value] ?? 'plain'} title={`${label}: ${value}`}>
      <span class="visually-hidden">{label}: </span>
      {value}
    </Badge>
  );
}

export function ErrorMessage({ children }: { children: ComponentChildren }) {
  if (!children) return null;
  return (
    <p class="message message-error" role="alert">
      {children}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return <p class="message message-info">{children}</p>;
}

/** A polite live region for progress and results. */
export function Status({ children }: { children: ComponentChildren }) {
  return (
    <p class="status" role="status" aria-live="polite">
      {children}
    </p>
  );
}

/**
 * Picks the namespace of a screen: a list when the admin API lists namespaces, else a name to type (a
 * token without admin access can still read the namespaces it is allowed to).
 */
export function NamespacePicker({
  candidates,
  value,
  onChange,
  what,
}: {
  candidates: readonly NamespaceInfo[];
  value: string | undefined;
  onChange: (namespace: string) => void;
  /** e.g. "key/value" */
  what: string;
}) {
  const session = useSession();
  const [typed, setTyped] = useState(value ?? '');
  useEffect(() => setTyped(value ?? ''), [value]);
  if (session.admin.state === 'allowed') {
    if (candidates.length === 0) return <Notice>No {what} namespace is configured on this proxy.</Notice>;
    return (
      <div class="field">
        <label for="namespace-picker">Namespace</label>
        <select
          id="namespace-picker"
          value={value ?? ''}
          onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
        >
          {value === undefined && <option value="">Choose a {what} namespace</option>}
          {candidates.map((n) => (
            <option key={n.name} value={n.name}>
              {n.name} ({n.backendType})
            </option>
          ))}
        </select>
      </div>
    );
  }
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        const name = typed.trim();
        if (name) {
          session.openNamespace(name);
          onChange(name);
        }
      }}
    >
      <div class="field">
        <label for="namespace-name">Namespace</label>
        <input
          id="namespace-name"
          value={typed}
          list="namespace-names"
          autocomplete="off"
          spellcheck={false}
          required
          onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)}
        />
        <datalist id="namespace-names">
          {session.namespaces.map((n) => (
            <option key={n.name} value={n.name} />
          ))}
        </datalist>
      </div>
      <button type="submit">Open</button>
    </form>
  );
}

/** "12:03:04" in the browser's locale. */
export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}
