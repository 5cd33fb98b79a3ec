// Who the console is for: the token (sessionStorage), what the admin API says about it, the namespaces
// it can see and, per namespace, whether it may write.
import { Code, ConnectError } from '@connectrpc/connect';
import { type ComponentChildren, createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Api, createApi, describeError } from './api.js';

const TOKEN_KEY = 'prism.console.token';
const OPENED_KEY = 'prism.console.namespaces';

/** A namespace as the console knows it: everything from the admin API, or just a name typed in. */
export interface NamespaceInfo {
  readonly name: string;
  readonly pattern?: string;
  readonly backendType?: string;
  readonly pluginMode?: string;
  /** "healthy", "degraded" or "unhealthy". */
  readonly health?: string;
  readonly healthMessage?: string;
  readonly details?: Readonly<Record<string, string>>;
  /** Plugin state: "running", "restarting", "unavailable", "stopped". */
  readonly state?: string;
  /** Interface flavours it serves ("keyvalue_scan", …); undefined when unknown (no admin access). */
  readonly flavours?: readonly string[];
}

/** True when the namespace serves `flavour`, or when that is unknown (the call will tell). */
export function serves(ns: NamespaceInfo | undefined, flavour: string): boolean {
  return ns?.flavours === undefined || ns.flavours.includes(flavour);
}

/** What the admin API answered for this token. */
export type AdminAccess =
  | { readonly state: 'checking' }
  | { readonly state: 'allowed' }
  | { readonly state: 'denied'; readonly reason: string }
  | { readonly state: 'failed'; readonly reason: string };

/** Whether the token holds a permission on a namespace (see {@link probe}). */
export type Access = 'checking' | 'yes' | 'no' | 'unknown';

export interface Session {
  readonly token: string;
  setToken(token: string): void;
  readonly api: Api;
  readonly admin: AdminAccess;
  /** From ListNamespaces + DescribeNamespace with admin access; otherwise the names opened by hand. */
  readonly namespaces: readonly NamespaceInfo[];
  readonly namespacesError?: string | undefined;
  refreshNamespaces(): Promise<void>;
  /** Adds a namespace by name (without admin access nothing lists them). */
  openNamespace(name: string): void;
  /** Whether the token may write to `namespace` ('checking' until the proxy answered). */
  writeAccess(namespace: string): Access;
  /** Whether the token holds `admin` on `namespace` (ConfigureDeadLetter needs it). */
  adminAccess(namespace: string): Access;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <SessionProvider>');
  return s;
}

function stored(key: string): string {
  try {
    return sessionStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function store(key: string, value: string): void {
  try {
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  } catch {
    // storage disabled: the value lives for this page only
  }
}

/** The namespace permissions the console checks before it shows buttons that need them. */
export type Permission = 'write' | 'admin';

/**
 * Asks the proxy whether the token holds `permission` on `namespace`, without changing anything: a call
 * that needs the permission with an invalid request — KeyValueBasic Delete of the empty key (write),
 * QueueDeadLetter ConfigureDeadLetter of the empty queue name (admin). The proxy authorizes a call (the
 * method's permission on the namespace) before anything else looks at it; only then does the namespace's
 * plugin validate the request and refuse it (INVALID_ARGUMENT), or the router answer UNIMPLEMENTED for a
 * namespace without that interface. So PERMISSION_DENIED / UNAUTHENTICATED means "not allowed", and the
 * answers that only come after authorization (INVALID_ARGUMENT, UNIMPLEMENTED, RESOURCE_EXHAUSTED from a
 * limit, NOT_FOUND for a namespace only `proxy.access` grants) mean "allowed". Anything else (say
 * UNAVAILABLE: a key set that cannot be fetched, or a namespace whose backend is down) is "unknown".
 * Nothing is written; the check is an ordinary call (audited, and counted in metrics as a Delete or
 * ConfigureDeadLetter answered INVALID_ARGUMENT).
 */
export async function probe(
  api: Api,
  namespace: string,
  permission: Permission,
): Promise<'yes' | 'no' | 'unknown'> {
  try {
    if (permission === 'write') await api.kv.delete({ namespace, key: '' });
    else await api.deadLetter.configureDeadLetter({ namespace, queue: '' });
    return 'yes'; // cannot happen (both requests are invalid), but then the call evidently was allowed
  } catch (err) {
    switch (ConnectError.from(err).code) {
      case Code.PermissionDenied:
      case Code.Unauthenticated:
        return 'no';
      case Code.InvalidArgument:
      case Code.Unimplemented:
      case Code.ResourceExhausted:
      case Code.NotFound:
        return 'yes';
      default:
        return 'unknown';
    }
  }
}

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [token, setTokenState] = useState(() => stored(TOKEN_KEY));
  const api = useMemo(() => createApi(token), [token]);
  const [admin, setAdmin] = useState<AdminAccess>({ state: 'checking' });
  const [listed, setListed] = useState<NamespaceInfo[]>([]);
  const [opened, setOpened] = useState<string[]>(() => stored(OPENED_KEY).split('\n').filter(Boolean));
  const [namespacesError, setNamespacesError] = useState<string>();
  const [checks, setChecks] = useState<ReadonlyMap<string, Access>>(new Map());
  const probing = useRef(new Set<string>());

  const refreshNamespaces = useCallback(async () => {
    try {
      const { namespaces } = await api.admin.listNamespaces({});
      const described = await Promise.all(
        namespaces.map((n) =>
          api.admin
            .describeNamespace({ namespace: n.name })
            .then((d) => d.namespace)
            .catch(() => undefined),
        ),
      );
      setListed(
        namespaces.map((n, i) => {
          const d = described[i];
          return {
            name: n.name,
            pattern: n.pattern,
            backendType: n.backendType,
            pluginMode: n.pluginMode,
            health: n.health,
            state: n.state,
            ...(d && {
              flavours: d.flavours,
              healthMessage: d.health?.message ?? '',
              details: d.health?.details ?? {},
            }),
          };
        }),
      );
      setAdmin({ state: 'allowed' });
      setNamespacesError(undefined);
    } catch (err) {
      const { code } = ConnectError.from(err);
      const reason = describeError(err);
      setAdmin(
        code === Code.PermissionDenied || code === Code.Unauthenticated
          ? { state: 'denied', reason }
          : { state: 'failed', reason },
      );
      setListed([]);
      setNamespacesError(reason);
    }
  }, [api]);

  useEffect(() => {
    setAdmin({ state: 'checking' });
    setChecks(new Map());
    probing.current = new Set();
    void refreshNamespaces();
  }, [refreshNamespaces]);

  const access = useCallback(
    (namespace: string, permission: Permission): Access => {
      const key = `${permission} ${namespace}`;
      const known = checks.get(key);
      if (known) return known;
      if (!probing.current.has(key)) {
        probing.current.add(key);
        const probed = probing.current;
        void probe(api, namespace, permission).then((result) => {
          if (probing.current !== probed) return; // the token changed meanwhile
          setChecks((m) => new Map(m).set(key, result));
        });
      }
      return 'checking';
    },
    [api, checks],
  );

  const session: Session = {
    token,
    setToken: (t) => {
      store(TOKEN_KEY, t);
      setTokenState(t);
    },
    api,
    admin,
    namespaces: admin.state === 'allowed' ? listed : opened.map((name) => ({ name })),
    namespacesError,
    refreshNamespaces,
    openNamespace: (name) => {
      if (!name || opened.includes(name)) return;
      const next = [...opened, name];
      store(OPENED_KEY, next.join('\n'));
      setOpened(next);
    },
    writeAccess: (namespace) => access(namespace, 'write'),
    adminAccess: (namespace) => access(namespace, 'admin'),
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** Runs `fn` now and every `ms` while mounted (and while `enabled`); a slow run delays the next one. */
export function usePoll(fn: () => Promise<void> | void, ms: number, enabled = true): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        await latest.current();
      } finally {
        if (!stopped) timer = setTimeout(tick, ms);
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [ms, enabled]);
}
