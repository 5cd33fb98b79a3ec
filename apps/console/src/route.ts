// Hash routes (#/keys/cache): the proxy serves one index.html, and links survive a reload.
import { useEffect, useState } from 'preact/hooks';

export type Section = 'namespaces' | 'keys' | 'tail' | 'queues' | 'metrics' | 'plugins';

export const SECTIONS: readonly { readonly id: Section; readonly label: string }[] = [
  { id: 'namespaces', label: 'Namespaces' },
  { id: 'keys', label: 'Keys' },
  { id: 'tail', label: 'Live tail' },
  { id: 'queues', label: 'Queues' },
  { id: 'metrics', label: 'Metrics' },
  { id: 'plugins', label: 'Plugins' },
];

export interface Route {
  readonly section: Section;
  /** The namespace in the route (#/keys/<namespace>), when any. */
  readonly namespace?: string | undefined;
}

export function parseRoute(hash: string): Route {
  const [section, namespace] = hash.replace(/^#\/?/, '').split('/');
  const known = SECTIONS.find((s) => s.id === section);
  return {
    section: known?.id ?? 'namespaces',
    namespace: namespace ? decodeURIComponent(namespace) : undefined,
  };
}

export function href(section: Section, namespace?: string): string {
  return `#/${section}${namespace ? `/${encodeURIComponent(namespace)}` : ''}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function navigate(section: Section, namespace?: string): void {
  location.hash = href(section, namespace);
}
