// The key browser: prefix scan with paging (keyvalue_scan), a value as text, JSON or hex, and — for
// tokens that may write — set, delete and TTL (keyvalue_basic, keyvalue_ttl).
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, describeError } from '../api.js';
import { asJson, asText, formatBytes, formatDuration, fromHex, hexDump, toHex } from '../format.js';
import { navigate } from '../route.js';
import { type NamespaceInfo, serves, useSession } from '../session.js';
import { ErrorMessage, NamespacePicker, Notice, Status } from './ui.js';

const PAGE_SIZES = [25, 50, 100, 250] as const;

interface Start {
  readonly cursor: string;
  readonly offset: number;
}

const FIRST: Start = { cursor: '', offset: 0 };

/** One page of keys from `cursor`: reads pages of the stream until `pageSize` keys or its end. */
async function scanPage(
  api: Api,
  namespace: string,
  prefix: string,
  cursor: string,
  pageSize: number,
): Promise<{ keys: string[]; next: string }> {
  const keys: string[] = [];
  let next = '';
  // No `limit`: a scan cut by its limit ends with an empty cursor. Leaving the loop cancels the stream.
  for await (const page of api.scan.scanKeys({ namespace, prefix, cursor, pageSize })) {
    keys.push(...page.keys);
    next = page.nextCursor;
    if (keys.length >= pageSize) break;
  }
  return { keys, next };
}

interface Ttl {
  readonly hasTtl: boolean;
  readonly ttlMs: number;
  /** When it was read (ms). */
  readonly at: number;
}

type ViewMode = 'text' | 'json' | 'hex';

function defaultMode(value: Uint8Array): ViewMode {
  if ('json' in asJson(value) && value.length > 0) return 'json';
  return asText(value) === undefined ? 'hex' : 'text';
}

function ValueView({ value, mode }: { value: Uint8Array; mode: ViewMode }) {
  if (mode === 'hex') return <pre class="value value-hex">{hexDump(value) || '(empty)'}</pre>;
  if (mode === 'json') {
    const j = asJson(value);
    return 'json' in j ? <pre class="value">{j.json}</pre> : <ErrorMessage>{j.error}</ErrorMessage>;
  }
  const text = asText(value);
  if (text === undefined) return <ErrorMessage>Not UTF-8 text: view it as hex.</ErrorMessage>;
  return <pre class="value">{text === '' ? '(empty value)' : text}</pre>;
}

/** The selected key: its value, TTL and (when writable) edit, delete and TTL controls. */
function KeyPanel({
  ns,
  keyName,
  writable,
  onDeleted,
}: {
  ns: NamespaceInfo;
  keyName: string;
  writable: boolean;
  onDeleted: () => void;
}) {
  const { api } = useSession();
  const [value, setValue] = useState<Uint8Array | null | undefined>(undefined);
  const [ttl, setTtl] = useState<Ttl | undefined>();
  const [mode, setMode] = useState<ViewMode>('text');
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState('');
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [encoding, setEncoding] = useState<'text' | 'hex'>('text');
  const [keepTtl, setKeepTtl] = useState(true);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [ttlSeconds, setTtlSeconds] = useState('');
  const hasTtl = serves(ns, 'keyvalue_ttl');

  const load = async () => {
    setError(undefined);
    try {
      const res = await api.kv.get({ namespace: ns.name, key: keyName });
      const v = res.found ? res.value : null;
      setValue(v);
      if (v) setMode(defaultMode(v));
      if (hasTtl && v) {
        const t = await api.ttl.getTTL({ namespace: ns.name, key: keyName }).catch(() => undefined);
        setTtl(t && { hasTtl: t.hasTtl, ttlMs: Number(t.ttlMs), at: Date.now() });
      } else setTtl(undefined);
    } catch (err) {
      setError(describeError(err));
    }
  };

  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // One column (narrow screens): the value is below the list, bring it into view.
    if (matchMedia('(max-width: 899px)').matches) heading.current?.scrollIntoView({ block: 'start' });
  }, [keyName]);

  useEffect(() => {
    setEditing(false);
    setConfirmDelete(false);
    setStatus('');
    setValue(undefined);
    void load();
  }, [ns.name, keyName, api]);

  const run = async (what: string, fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      setStatus(what);
      return true;
    } catch (err) {
      setError(describeError(err));
      return false;
    }
  };

  const startEdit = () => {
    const v = value ?? new Uint8Array();
    const text = asText(v);
    setEncoding(text === undefined ? 'hex' : 'text');
    setDraft(text ?? toHex(v));
    setEditing(true);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    let bytes: Uint8Array;
    try {
      bytes = encoding === 'hex' ? fromHex(draft) : new TextEncoder().encode(draft);
    } catch (err) {
      setError((err as Error).message);
      return;
    }
    const remaining = ttl?.hasTtl ? ttl.ttlMs - (Date.now() - ttl.at) : 0;
    const withTtl = keepTtl && remaining > 0;
    const ok = await run(`Saved ${formatBytes(bytes.length)}`, () =>
      withTtl
        ? api.ttl.setWithTTL({
            namespace: ns.name,
            key: keyName,
            value: bytes,
            ttlMs: BigInt(Math.ceil(remaining)),
          })
        : api.kv.set({ namespace: ns.name, key: keyName, value: bytes }),
    );
    if (ok) {
      setEditing(false);
      await load();
    }
  };

  const remove = async () => {
    if (await run(`Deleted ${keyName}`, () => api.kv.delete({ namespace: ns.name, key: keyName })))
      onDeleted();
  };

  const expire = async (e: Event) => {
    e.preventDefault();
    const seconds = Number(ttlSeconds);
    if (!(seconds > 0)) {
      setError('TTL must be a number of seconds above 0');
      return;
    }
    if (
      await run(`TTL set to ${formatDuration(seconds * 1000)}`, () =>
        api.ttl.expire({ namespace: ns.name, key: keyName, ttlMs: BigInt(Math.round(seconds * 1000)) }),
      )
    )
      await load();
  };

  const persist = async () => {
    if (await run('TTL removed', () => api.ttl.persist({ namespace: ns.name, key: keyName }))) await load();
  };

  return (
    <section class="panel" aria-labelledby="key-title">
      <h3 id="key-title" class="key-name" ref={heading}>
        {keyName}
      </h3>
      {value === undefined && !error && <p class="muted">Loading…</p>}
      {value === null && <Notice>This key does not exist (any more).</Notice>}
      {value && (
        <>
          <p class="muted">
            {formatBytes(value.length)}
            {hasTtl &&
              ttl &&
              (ttl.hasTtl ? ` · expires in ${formatDuration(ttl.ttlMs)}` : ' · no TTL (never expires)')}
          </p>
          {!editing && (
            <>
              <fieldset class="segmented">
                <legend>Show value as</legend>
                {(['text', 'json', 'hex'] as const).map((m) => (
                  <label key={m}>
                    <input
                      type="radio"
                      name="view-mode"
                      value={m}
                      checked={mode === m}
                      onChange={() => setMode(m)}
                    />
                    {m === 'text' ? 'Text' : m === 'json' ? 'JSON' : 'Hex'}
                  </label>
                ))}
              </fieldset>
              <ValueView value={value} mode={mode} />
            </>
          )}
        </>
      )}
      <ErrorMessage>{error}</ErrorMessage>
      {status && <Status>{status}</Status>}
      {writable && value && !editing && (
        <div class="actions">
          <button type="button" onClick={startEdit}>
            Edit value
          </button>
          {!confirmDelete ? (
            <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
              Delete key
            </button>
          ) : (
            <fieldset class="confirm">
              <legend>Delete {keyName}?</legend>
              <button type="button" class="danger" onClick={() => void remove()}>
                Yes, delete
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </fieldset>
          )}
        </div>
      )}
      {writable && editing && (
        <form class="editor" onSubmit={save}>
          <div class="field">
            <label for="value-editor">New value</label>
            <textarea
              id="value-editor"
              rows={8}
              spellcheck={false}
              value={draft}
              onInput={(e) => setDraft((e.currentTarget as HTMLTextAreaElement).value)}
            />
          </div>
          <div class="field">
            <label for="value-encoding">Write as</label>
            <select
              id="value-encoding"
              value={encoding}
              onChange={(e) => setEncoding((e.currentTarget as HTMLSelectElement).value as 'text' | 'hex')}
            >
              <option value="text">UTF-8 text</option>
              <option value="hex">Hex bytes</option>
            </select>
          </div>
          {ttl?.hasTtl && (
            <label class="check">
              <input
                type="checkbox"
                checked={keepTtl}
                onChange={(e) => setKeepTtl((e.currentTarget as HTMLInputElement).checked)}
              />
              Keep the remaining TTL (a plain Set clears it)
            </label>
          )}
          <div class="actions">
            <button type="submit" class="primary">
              Save
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {writable && value && hasTtl && !editing && (
        <form class="inline-form" onSubmit={expire}>
          <div class="field">
            <label for="ttl-seconds">TTL (seconds)</label>
            <input
              id="ttl-seconds"
              type="number"
              min="0.001"
              step="any"
              inputMode="decimal"
              value={ttlSeconds}
              onInput={(e) => setTtlSeconds((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
          <button type="submit">Set TTL</button>
          {ttl?.hasTtl && (
            <button type="button" onClick={() => void persist()}>
              Remove TTL
            </button>
          )}
        </form>
      )}
    </section>
  );
}

/** Adds a key (with an optional TTL). */
function NewKey({ ns, onCreated }: { ns: NamespaceInfo; onCreated: (key: string) => void }) {
  const { api } = useSession();
  const [key, setKey] = useState('');
  const [text, setText] = useState('');
  const [ttl, setTtl] = useState('');
  const [error, setError] = useState<string>();
  const hasTtl = serves(ns, 'keyvalue_ttl');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const value = new TextEncoder().encode(text);
    const seconds = Number(ttl);
    try {
      if (ttl && seconds > 0)
        await api.ttl.setWithTTL({
          namespace: ns.name,
          key,
          value,
          ttlMs: BigInt(Math.round(seconds * 1000)),
        });
      else await api.kv.set({ namespace: ns.name, key, value });
      onCreated(key);
      setKey('');
      setText('');
      setTtl('');
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <details class="panel">
      <summary>New key</summary>
      <form onSubmit={submit}>
        <div class="field">
          <label for="new-key">Key</label>
          <input
            id="new-key"
            required
            spellcheck={false}
            value={key}
            onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="new-value">Value (UTF-8 text)</label>
          <textarea
            id="new-value"
            rows={3}
            spellcheck={false}
            value={text}
            onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </div>
        {hasTtl && (
          <div class="field">
            <label for="new-ttl">TTL in seconds (empty: none)</label>
            <input
              id="new-ttl"
              type="number"
              min="0.001"
              step="any"
              value={ttl}
              onInput={(e) => setTtl((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
        )}
        <ErrorMessage>{error}</ErrorMessage>
        <button type="submit" class="primary">
          Set key
        </button>
      </form>
    </details>
  );
}

function Browser({ ns }: { ns: NamespaceInfo }) {
  const session = useSession();
  const { api } = session;
  const write = session.writeAccess(ns.name);
  const writable = write === 'yes';
  const canScan = serves(ns, 'keyvalue_scan');
  const [prefix, setPrefix] = useState('');
  const [scanned, setScanned] = useState('');
  const [pageSize, setPageSize] = useState<number>(50);
  /** starts[i]: the cursor that starts page i and the position of its first key. */
  const [starts, setStarts] = useState<Start[]>([FIRST]);
  const [page, setPage] = useState(0);
  const [keys, setKeys] = useState<string[] | undefined>();
  const [next, setNext] = useState('');
  const [count, setCount] = useState<bigint | undefined>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<string | undefined>();
  const [byName, setByName] = useState('');
  const generation = useRef(0);

  const load = async (pfx: string, list: Start[], index: number, size: number) => {
    const gen = ++generation.current;
    setLoading(true);
    setError(undefined);
    try {
      const [result, total] = await Promise.all([
        scanPage(api, ns.name, pfx, list[index]?.cursor ?? '', size),
        index === 0
          ? api.scan.count({ namespace: ns.name, prefix: pfx }).then(
              (r) => r.count,
              () => undefined,
            )
          : undefined,
      ]);
      if (gen !== generation.current) return;
      setKeys(result.keys);
      setNext(result.next);
      setStarts(list);
      setPage(index);
      setScanned(pfx);
      if (index === 0) setCount(total);
    } catch (err) {
      if (gen === generation.current) setError(describeError(err));
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    setSelected(undefined);
    setKeys(undefined);
    setCount(undefined);
    if (canScan) void load('', [FIRST], 0, pageSize);
  }, [ns.name, api]);

  const first = (starts[page]?.offset ?? 0) + 1;
  const shown = keys?.length ?? 0;
  const range = shown === 0 ? 'no keys' : `keys ${first}–${first + shown - 1}`;
  const total = count === undefined ? '' : ` of ${count.toLocaleString('en-US')}`;

  return (
    <div class="browser">
      <div class="browser-list">
        {write === 'unknown' && (
          <Notice>
            The proxy could not say whether this token may write to {ns.name}, so the write buttons are
            hidden; reload the page to ask again.
          </Notice>
        )}
        {write === 'no' && (
          <Notice>
            Read-only: this token has no write permission on {ns.name} (the proxy refused a write check), so
            the write buttons are hidden.
          </Notice>
        )}
        {canScan ? (
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              setSelected(undefined);
              void load(prefix, [FIRST], 0, pageSize);
            }}
          >
            <div class="field">
              <label for="prefix">Key prefix</label>
              <input
                id="prefix"
                value={prefix}
                spellcheck={false}
                autocomplete="off"
                placeholder="(all keys)"
                onInput={(e) => setPrefix((e.currentTarget as HTMLInputElement).value)}
              />
            </div>
            <div class="field">
              <label for="page-size">Page size</label>
              <select
                id="page-size"
                value={String(pageSize)}
                onChange={(e) => {
                  const size = Number((e.currentTarget as HTMLSelectElement).value);
                  setPageSize(size);
                  void load(scanned, [FIRST], 0, size);
                }}
              >
                {PAGE_SIZES.map((s) => (
                  <option key={s} value={String(s)}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" class="primary">
              Scan
            </button>
          </form>
        ) : (
          <Notice>{ns.name} has no keyvalue_scan: open keys by name.</Notice>
        )}
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (byName) setSelected(byName);
          }}
        >
          <div class="field">
            <label for="key-by-name">Open key by name</label>
            <input
              id="key-by-name"
              value={byName}
              spellcheck={false}
              autocomplete="off"
              onInput={(e) => setByName((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
          <button type="submit">Open</button>
        </form>
        <ErrorMessage>{error}</ErrorMessage>
        {canScan && keys && (
          <>
            <Status>
              {loading ? 'Loading… ' : ''}Page {page + 1}: {range}
              {total}
              {scanned ? ` starting with "${scanned}"` : ''}
            </Status>
            <ul class="key-list" aria-label={`Keys of ${ns.name}, page ${page + 1}`}>
              {keys.map((k) => (
                <li key={k}>
                  <button
                    type="button"
                    class="key-button"
                    aria-current={selected === k ? 'true' : undefined}
                    onClick={() => setSelected(k)}
                  >
                    {k}
                  </button>
                </li>
              ))}
            </ul>
            <nav class="pager" aria-label="Pages">
              <button
                type="button"
                disabled={page === 0 || loading}
                onClick={() => void load(scanned, starts, page - 1, pageSize)}
              >
                Previous page
              </button>
              <button
                type="button"
                disabled={!next || loading}
                onClick={() =>
                  void load(
                    scanned,
                    [...starts.slice(0, page + 1), { cursor: next, offset: first - 1 + shown }],
                    page + 1,
                    pageSize,
                  )
                }
              >
                Next page
              </button>
            </nav>
          </>
        )}
        {writable && (
          <NewKey
            ns={ns}
            onCreated={(k) => {
              setSelected(k);
              if (canScan) void load(scanned, starts, page, pageSize);
            }}
          />
        )}
      </div>
      <div class="browser-value">
        {selected ? (
          <KeyPanel
            ns={ns}
            keyName={selected}
            writable={writable}
            onDeleted={() => {
              setSelected(undefined);
              if (canScan) void load(scanned, starts, page, pageSize);
            }}
          />
        ) : (
          <p class="muted">Choose a key to see its value.</p>
        )}
      </div>
    </div>
  );
}

export function KeysScreen({ namespace }: { namespace: string | undefined }) {
  const session = useSession();
  const candidates = session.namespaces.filter((n) => serves(n, 'keyvalue_basic'));
  const ns = namespace
    ? (session.namespaces.find((n) => n.name === namespace) ?? { name: namespace })
    : undefined;
  return (
    <section aria-labelledby="keys-title">
      <div class="section-head">
        <h2 id="keys-title">Keys{ns ? ` · ${ns.name}` : ''}</h2>
        <NamespacePicker
          candidates={candidates}
          value={namespace}
          what="key/value"
          onChange={(name) => navigate('keys', name)}
        />
      </div>
      {ns && !serves(ns, 'keyvalue_basic') && (
        <Notice>
          {ns.name} is not a key/value namespace (it serves {ns.flavours?.join(', ')}).
        </Notice>
      )}
      {ns && serves(ns, 'keyvalue_basic') && <Browser key={ns.name} ns={ns} />}
    </section>
  );
}
