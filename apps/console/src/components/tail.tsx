// Live tail of a pub/sub topic (pubsub_basic Subscribe) or a stream (stream_basic Read with follow):
// a bounded buffer of the newest messages, with pause (messages keep arriving into the buffer, the view
// holds still) and clear.
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, isCancelled } from '../api.js';
import { BoundedBuffer } from '../buffer.js';
import { formatBytes, preview } from '../format.js';
import { navigate } from '../route.js';
import { type NamespaceInfo, serves, useSession } from '../session.js';
import { clock, ErrorMessage, NamespacePicker, Notice, Status } from './ui.js';

const BUFFER_SIZES = [100, 500, 1000, 5000] as const;

interface Row {
  readonly seq: number;
  /** Stream offset, or the message id for pub/sub. */
  readonly position: string;
  readonly topic: string;
  readonly at: number;
  readonly size: number;
  readonly payload: string;
  readonly metadata: string;
}

type Source = 'pubsub' | 'stream';

function Publish({ ns, topic }: { ns: NamespaceInfo; topic: string }) {
  const { api } = useSession();
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const [sent, setSent] = useState(0);
  return (
    <form
      class="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        try {
          await api.pubsub.publish({ namespace: ns.name, topic, payload: new TextEncoder().encode(text) });
          setSent((n) => n + 1);
        } catch (err) {
          setError(describeError(err));
        }
      }}
    >
      <div class="field">
        <label for="publish-text">Publish to {topic || 'the topic'}</label>
        <input
          id="publish-text"
          value={text}
          spellcheck={false}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      <button type="submit" disabled={!topic}>
        Publish
      </button>
      {sent > 0 && <span class="muted">{sent} published</span>}
      <ErrorMessage>{error}</ErrorMessage>
    </form>
  );
}

function Tail({ ns }: { ns: NamespaceInfo }) {
  const session = useSession();
  const { api } = session;
  const sources: Source[] = [
    ...(serves(ns, 'pubsub_basic') ? (['pubsub'] as const) : []),
    ...(serves(ns, 'stream_basic') ? (['stream'] as const) : []),
  ];
  const [source, setSource] = useState<Source>(sources[0] ?? 'pubsub');
  const [topic, setTopic] = useState('');
  const [fromOffset, setFromOffset] = useState('0');
  const [capacity, setCapacity] = useState(500);
  const [running, setRunning] = useState<{ topic: string; source: Source } | undefined>();
  const [active, setActive] = useState(false);
  const [paused, setPaused] = useState(false);
  const [rows, setRows] = useState<Row[]>([]);
  const [counts, setCounts] = useState({ received: 0, dropped: 0 });
  const [error, setError] = useState<string>();
  const buffer = useRef(new BoundedBuffer<Row>(capacity));
  const abort = useRef<AbortController | undefined>(undefined);
  const pausedRef = useRef(false);
  const flush = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // Renders at most every 100 ms however fast messages come; a paused view only updates its counts.
  const schedule = () => {
    if (flush.current) return;
    flush.current = setTimeout(() => {
      flush.current = undefined;
      const b = buffer.current;
      setCounts({ received: b.received, dropped: b.dropped });
      if (!pausedRef.current) setRows(b.newestFirst());
    }, 100);
  };

  const stop = () => {
    abort.current?.abort();
    abort.current = undefined;
    setRunning(undefined);
    setActive(false);
  };

  useEffect(
    () => () => {
      abort.current?.abort();
      clearTimeout(flush.current);
    },
    [],
  );

  const start = (e: Event) => {
    e.preventDefault();
    stop();
    setError(undefined);
    const controller = new AbortController();
    abort.current = controller;
    const name = topic.trim();
    setRunning({ topic: name, source });
    const add = (
      position: string,
      m:
        | { topic: string; payload: Uint8Array; metadata: Record<string, string>; timestampMs: bigint }
        | undefined,
    ) => {
      if (!m) return;
      const meta = Object.entries(m.metadata);
      buffer.current.push({
        seq: buffer.current.received,
        position,
        topic: m.topic || name,
        at: Number(m.timestampMs) || Date.now(),
        size: m.payload.length,
        payload: preview(m.payload),
        metadata: meta.map(([k, v]) => `${k}=${v}`).join(', '),
      });
      schedule();
    };
    void (async () => {
      try {
        if (source === 'pubsub') {
          for await (const { event } of api.pubsub.subscribe(
            { namespace: ns.name, topic: name },
            { signal: controller.signal },
          )) {
            if (event.case === 'subscribed') setActive(true);
            else if (event.case === 'message') add(event.value.id, event.value);
          }
        } else {
          setActive(true);
          const from = BigInt(/^\d+$/.test(fromOffset) ? fromOffset : '0');
          for await (const r of api.stream.read(
            { namespace: ns.name, stream: name, fromOffset: from, follow: true },
            { signal: controller.signal },
          ))
            add(String(r.offset), r.message);
        }
        if (!controller.signal.aborted) setError('The stream ended.');
      } catch (err) {
        if (!controller.signal.aborted && !isCancelled(err)) setError(describeError(err));
      } finally {
        if (abort.current === controller) {
          abort.current = undefined;
          setRunning(undefined);
          setActive(false);
        }
      }
    })();
  };

  const togglePause = () => {
    pausedRef.current = !pausedRef.current;
    setPaused(pausedRef.current);
    if (!pausedRef.current) setRows(buffer.current.newestFirst());
  };

  const clear = () => {
    buffer.current.clear();
    setRows([]);
    setCounts({ received: 0, dropped: 0 });
  };

  const writable = session.writeAccess(ns.name) === 'yes';
  const behind = paused ? counts.received - (rows[0] ? rows[0].seq + 1 : 0) : 0;

  if (sources.length === 0)
    return <Notice>{ns.name} serves neither pubsub_basic nor stream_basic: there is nothing to tail.</Notice>;
  return (
    <>
      <form class="inline-form" onSubmit={start}>
        {sources.length > 1 && (
          <div class="field">
            <label for="tail-source">Source</label>
            <select
              id="tail-source"
              value={source}
              onChange={(e) => setSource((e.currentTarget as HTMLSelectElement).value as Source)}
            >
              <option value="pubsub">Pub/sub topic</option>
              <option value="stream">Stream</option>
            </select>
          </div>
        )}
        <div class="field">
          <label for="tail-topic">{source === 'pubsub' ? 'Topic' : 'Stream'}</label>
          <input
            id="tail-topic"
            required
            spellcheck={false}
            autocomplete="off"
            placeholder="orders.created"
            value={topic}
            onInput={(e) => setTopic((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        {source === 'stream' && (
          <div class="field">
            <label for="tail-offset">From offset</label>
            <input
              id="tail-offset"
              inputMode="numeric"
              value={fromOffset}
              onInput={(e) => setFromOffset((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
        )}
        <div class="field">
          <label for="tail-buffer">Keep newest</label>
          <select
            id="tail-buffer"
            value={String(capacity)}
            onChange={(e) => {
              const n = Number((e.currentTarget as HTMLSelectElement).value);
              setCapacity(n);
              buffer.current.resize(n);
              setRows(buffer.current.newestFirst());
              setCounts({ received: buffer.current.received, dropped: buffer.current.dropped });
            }}
          >
            {BUFFER_SIZES.map((n) => (
              <option key={n} value={String(n)}>
                {n} messages
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="primary">
          {running ? 'Restart tail' : 'Start tail'}
        </button>
        {running && (
          <button type="button" onClick={stop}>
            Stop
          </button>
        )}
        <button type="button" aria-pressed={paused} onClick={togglePause}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" onClick={clear}>
          Clear
        </button>
      </form>
      {writable && source === 'pubsub' && <Publish ns={ns} topic={running?.topic ?? topic.trim()} />}
      <ErrorMessage>{error}</ErrorMessage>
      <Status>
        {running
          ? active
            ? `Tailing ${running.source === 'pubsub' ? 'topic' : 'stream'} ${running.topic}`
            : `Subscribing to ${running.topic}…`
          : 'Stopped'}
        {' · '}
        {counts.received} received · {rows.length} shown
        {counts.dropped > 0 ? ` · ${counts.dropped} older dropped (buffer of ${capacity})` : ''}
        {paused ? ` · paused${behind > 0 ? `, ${behind} new not shown` : ''}` : ''}
      </Status>
      <div class="table-wrap">
        <table class="messages">
          <caption class="visually-hidden">Messages, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">{running?.source === 'stream' ? 'Offset' : 'Id'}</th>
              <th scope="col">Payload</th>
              <th scope="col">Size</th>
              <th scope="col">Metadata</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.seq}>
                <td>{clock(r.at)}</td>
                <td class="mono">{r.position}</td>
                <td class="mono payload">{r.payload}</td>
                <td>{formatBytes(r.size)}</td>
                <td class="mono">{r.metadata}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function TailScreen({ namespace }: { namespace: string | undefined }) {
  const session = useSession();
  const candidates = session.namespaces.filter((n) => serves(n, 'pubsub_basic') || serves(n, 'stream_basic'));
  const ns = namespace
    ? (session.namespaces.find((n) => n.name === namespace) ?? { name: namespace })
    : undefined;
  return (
    <section aria-labelledby="tail-title">
      <div class="section-head">
        <h2 id="tail-title">Live tail{ns ? ` · ${ns.name}` : ''}</h2>
        <NamespacePicker
          candidates={candidates}
          value={namespace}
          what="pub/sub or stream"
          onChange={(name) => navigate('tail', name)}
        />
      </div>
      {ns && <Tail key={ns.name} ns={ns} />}
    </section>
  );
}
