/// <reference lib="dom" />
// Prism from a browser: key/value and a pub/sub stream over Connect and gRPC-web with connect-web.
// e2e/src/browser.test.ts builds this page with Vite (build.mjs) and calls `window.prism` in Chromium; the
// README's "From a browser" section shows this file from the imports to `subscribe`.
import { ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-web';
import { KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { PubSubBasicInterface } from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';

// The proxy, e.g. index.html?proxy=http://127.0.0.1:8980 (another origin: it must list this page's in CORS).
const baseUrl = new URLSearchParams(location.search).get('proxy') ?? 'http://127.0.0.1:8980';

export type Protocol = 'connect' | 'grpc-web';

/** A transport to the proxy; with a token, every call sends `Authorization: Bearer <token>`. */
function transport(protocol: Protocol, token?: string) {
  const bearer: Interceptor = (next) => (req) => {
    if (token) req.header.set('Authorization', `Bearer ${token}`);
    return next(req);
  };
  const options = { baseUrl, interceptors: [bearer] };
  return protocol === 'connect' ? createConnectTransport(options) : createGrpcWebTransport(options);
}

/** Sets `key` to `text` and reads it back; a failed call gives its Connect code (16: UNAUTHENTICATED). */
async function kvSetGet(protocol: Protocol, namespace: string, key: string, text: string, token?: string) {
  const kv = createClient(KeyValueBasicInterface, transport(protocol, token));
  try {
    await kv.set({ namespace, key, value: new TextEncoder().encode(text) });
    const value = new TextDecoder().decode((await kv.get({ namespace, key })).value);
    show(`${protocol}: ${key} = ${value}`);
    return { value };
  } catch (err) {
    const { code, message } = ConnectError.from(err);
    show(`${protocol}: ${message}`);
    return { code, message };
  }
}

const received: string[] = [];

/** Subscribes to `topic`: resolves once the subscription is active, then keeps every message's payload. */
function subscribe(protocol: Protocol, namespace: string, topic: string): Promise<void> {
  const pubsub = createClient(PubSubBasicInterface, transport(protocol));
  return new Promise((active, failed) => {
    (async () => {
      for await (const { event } of pubsub.subscribe({ namespace, topic })) {
        if (event.case === 'subscribed') {
          show(`${protocol}: subscribed to ${topic}`);
          active();
        } else if (event.case === 'message') {
          received.push(new TextDecoder().decode(event.value.payload));
          show(`${protocol} ${topic}: ${received.at(-1)}`);
        }
      }
    })().catch(failed);
  });
}

/** Appends a line to the page (what the screenshots show). */
function show(line: string) {
  document.getElementById('log')?.append(`${line}\n`);
}

const prism = { kvSetGet, subscribe, received };
export type PrismPage = typeof prism;
declare global {
  interface Window {
    prism: PrismPage;
  }
}
window.prism = prism;
