// The "direct" side of each scenario: the backend's own Node client, or the adapter called in-process.
import { create } from '@bufbuild/protobuf';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { GetRequestSchema, SetRequestSchema } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import {
  AckRequestSchema,
  EnqueueRequestSchema,
  ReceiveRequestSchema,
} from '@prism/proto/prism/queue/v1/queue_basic_pb';
import { QueueBasic } from '@prism/queue-basic';
import { createLogger, instantiatePlugin, type PluginDefinition, type PluginHandle } from '@prism/sdk';
import { connect as connectNats } from 'nats';
import { createClient as createRedis, RESP_TYPES } from 'redis';
import { recordDelivery } from '../ops.js';
import { makeValue, stampPayload } from '../payload.js';
import type { Recorder } from '../recorder.js';
import type { Op } from '../scheduler.js';

const OK: Promise<undefined> = Promise.resolve(undefined);
const ctx = { signal: new AbortController().signal };
const silent = createLogger({ name: 'bench', level: 'silent' });
const keyNames = (n: number) => Array.from({ length: n }, (_, i) => `key-${i}`);
const settle = (r: unknown): Promise<undefined> => (r instanceof Promise ? r.then(() => undefined) : OK);

/** Starts a plugin in this process, as the proxy's in_process mode does (validation and error mapping included). */
export function startPlugin(
  def: PluginDefinition,
  config: unknown,
  namespace: string,
): Promise<PluginHandle> {
  return instantiatePlugin(def, config, { namespace, logger: silent });
}

/** KV get/set ops on an in-process adapter, with every key written first. */
export async function inProcessKv(handle: PluginHandle, keys: number, valueSize: number) {
  const kv = handle.get(KeyValueBasic);
  if (!kv) throw new Error(`${handle.plugin} does not implement keyvalue_basic`);
  const namespace = handle.namespace;
  const value = makeValue(valueSize);
  const names = keyNames(keys);
  const gets = names.map((key) => create(GetRequestSchema, { namespace, key }));
  const sets = names.map((key) => create(SetRequestSchema, { namespace, key, value }));
  for (const req of sets) await kv.set(req, ctx);
  const pick = () => Math.floor(Math.random() * keys);
  const get: Op = () => settle(kv.get(gets[pick()] as (typeof gets)[0], ctx));
  const set: Op = () => settle(kv.set(sets[pick()] as (typeof sets)[0], ctx));
  /** Gets per second in a tight loop without the scheduler's bookkeeping: the adapter's own ceiling. */
  const tightLoop = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = kv.get(gets[i % keys] as (typeof gets)[0], ctx);
      if (r instanceof Promise) await r;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  return { get, set, tightLoop };
}

/** node-redis GET/SET on 1 KB values (binary replies, as the adapter reads them). */
export async function redisDirect(url: string, keys: number, valueSize: number) {
  const client = createRedis({ url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await client.connect();
  const names = keyNames(keys).map((k) => `direct:${k}`);
  const value = Buffer.from(makeValue(valueSize));
  for (const k of names) await client.set(k, value);
  const pick = () => names[Math.floor(Math.random() * keys)] as string;
  const get: Op = () => client.get(pick()).then(() => undefined);
  return { get, close: () => client.close() };
}

/** nats.js: a subscriber connection recording delivery latency, and a publisher connection. */
export async function natsDirect(url: string, subject: string, valueSize: number) {
  const sub = await connectNats({ servers: url });
  const pub = await connectNats({ servers: url });
  const payload = makeValue(Math.max(12, valueSize));
  return {
    consume: async (rec: Recorder, signal: AbortSignal) => {
      const s = sub.subscribe(subject, { callback: (_err, msg) => recordDelivery(rec, msg.data) });
      await sub.flush();
      const done = new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      ).then(() => s.unsubscribe());
      return { done };
    },
    /** Fire-and-forget publish (what an app does at a fixed rate). */
    publish: (() => {
      pub.publish(subject, stampPayload(payload));
      return OK;
    }) as Op,
    /** Publish and wait for the server's PONG: one round trip per message, like an acknowledged RPC. */
    publishFlushed: (() => {
      pub.publish(subject, stampPayload(payload));
      return pub.flush().then(() => undefined);
    }) as Op,
    close: async () => {
      await pub.close();
      await sub.close();
    },
  };
}

/** queue_basic on an in-process adapter: enqueue op and receive+ack consumers. */
export function inProcessQueue(handle: PluginHandle, queue: string, valueSize: number) {
  const q = handle.get(QueueBasic);
  if (!q) throw new Error(`${handle.plugin} does not implement queue_basic`);
  const namespace = handle.namespace;
  const payload = makeValue(Math.max(12, valueSize));
  const enqueue: Op = () =>
    settle(
      q.enqueue(create(EnqueueRequestSchema, { namespace, queue, payload: stampPayload(payload) }), ctx),
    );
  const receiveReq = create(ReceiveRequestSchema, { namespace, queue, maxMessages: 32, waitMs: 200n });
  const consume = async (rec: Recorder, n: number, signal: AbortSignal) => {
    const worker = async () => {
      while (!signal.aborted) {
        try {
          const res = await q.receive(receiveReq, ctx);
          const messages = res.messages ?? [];
          if (!messages.length) continue;
          for (const m of messages) recordDelivery(rec, m.message?.payload ?? new Uint8Array());
          await q.ack(
            create(AckRequestSchema, { namespace, queue, receipts: messages.map((m) => m.receipt ?? '') }),
            ctx,
          );
        } catch (err) {
          rec.failure(
            (err as { code?: unknown }).code === undefined
              ? 'ERROR'
              : String((err as { code: unknown }).code),
          );
        }
      }
    };
    return { done: Promise.all(Array.from({ length: n }, worker)).then(() => {}) };
  };
  return { enqueue, consume };
}
