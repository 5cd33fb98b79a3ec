import { create, type DescMessage, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import {
  GetRequestSchema,
  KeyValueBasicInterface,
  SetRequestSchema,
} from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import {
  PublishRequestSchema,
  PubSubBasicInterface,
  SubscribeRequestSchema,
  SubscribeResponseSchema,
} from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
import {
  AckRequestSchema,
  EnqueueRequestSchema,
  QueueBasicInterface,
  ReceiveRequestSchema,
  ReceiveResponseSchema,
} from '@prism/proto/prism/queue/v1/queue_basic_pb';
import { epochMs, makeValue, readStamp, STAMP_BYTES, stampPayload } from './payload.js';
import type { Recorder } from './recorder.js';
import type { Op } from './scheduler.js';
import type { RpcClient } from './wire/client.js';

/** Operations prism-load can drive. */
export const OP_KINDS = ['set', 'get', 'mixed', 'publish', 'subscribe', 'enqueue', 'receive'] as const;
export type OpKind = (typeof OP_KINDS)[number];

/** What a workload needs to know about the data it sends. */
export interface WorkloadOptions {
  readonly namespace: string;
  readonly op: OpKind;
  /** mixed: share of reads (0–1). */
  readonly ratio: number;
  readonly valueSize: number;
  /** Size of the key space (`key-0` … `key-(N-1)`). */
  readonly keys: number;
  /** Topic (publish/subscribe) or queue (enqueue/receive) name. */
  readonly topic: string;
}

/**
 * A workload: either request/response calls driven by the scheduler (`op`), or consumers that record
 * the delivery latency of stamped messages as they arrive (`consume`).
 */
export interface Workload {
  /** Runs before the clock starts (e.g. writes every key so gets find values). */
  prepare?(concurrency: number): Promise<void>;
  readonly op?: Op;
  /** Starts `concurrency` consumers; resolves once all are subscribed / polling. */
  consume?(rec: Recorder, concurrency: number, signal: AbortSignal): Promise<{ done: Promise<void> }>;
}

const path = (service: { typeName: string }, method: { name: string }) =>
  `/${service.typeName}/${method.name}`;
const encode = <D extends DescMessage>(schema: D, init: MessageInitShape<D>) =>
  toBinary(schema, create(schema, init));
const kv = KeyValueBasicInterface.method;

/** Builds the workload for `opts.op` against a client. */
export function buildWorkload(client: RpcClient, opts: WorkloadOptions): Workload {
  const { namespace } = opts;
  const keys = Array.from({ length: Math.max(1, opts.keys) }, (_, i) => `key-${i}`);
  const value = makeValue(opts.valueSize);
  const pick = () => Math.floor(Math.random() * keys.length);
  // Requests are encoded once per key: the generator should spend its CPU sending, not encoding.
  const lazy = (fn: (key: string) => Uint8Array) => {
    const cache: (Uint8Array | undefined)[] = new Array(keys.length);
    return (i: number) => (cache[i] ??= fn(keys[i] as string));
  };
  const setBody = lazy((key) => encode(SetRequestSchema, { namespace, key, value }));
  const getBody = lazy((key) => encode(GetRequestSchema, { namespace, key }));
  const setPath = path(KeyValueBasicInterface, kv.set);
  const getPath = path(KeyValueBasicInterface, kv.get);
  const call = (p: string, body: Uint8Array): Promise<string | undefined> =>
    client.unary(p, body).then((r) => r.code);
  const set: Op = () => call(setPath, setBody(pick()));
  const get: Op = () => call(getPath, getBody(pick()));
  const preload = async (concurrency: number) => {
    let i = 0;
    const worker = async () => {
      while (i < keys.length) {
        const code = await call(setPath, setBody(i++));
        if (code) throw new Error(`preloading keys failed: Set answered ${code}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  };
  const stamped = makeValue(Math.max(STAMP_BYTES, opts.valueSize));

  switch (opts.op) {
    case 'set':
      return { op: set };
    case 'get':
      return { op: get, prepare: preload };
    case 'mixed':
      return { op: () => (Math.random() < opts.ratio ? get() : set()), prepare: preload };
    case 'publish': {
      const p = path(PubSubBasicInterface, PubSubBasicInterface.method.publish);
      return {
        op: () =>
          call(
            p,
            encode(PublishRequestSchema, { namespace, topic: opts.topic, payload: stampPayload(stamped) }),
          ),
      };
    }
    case 'enqueue': {
      const p = path(QueueBasicInterface, QueueBasicInterface.method.enqueue);
      return {
        op: () =>
          call(
            p,
            encode(EnqueueRequestSchema, { namespace, queue: opts.topic, payload: stampPayload(stamped) }),
          ),
      };
    }
    case 'subscribe':
      return { consume: (rec, n, signal) => subscribers(client, namespace, opts.topic, rec, n, signal) };
    case 'receive':
      return { consume: (rec, n, signal) => receivers(client, namespace, opts.topic, rec, n, signal) };
  }
}

/** Records the delivery latency of a stamped payload; unstamped messages only count. */
export function recordDelivery(rec: Recorder, payload: Uint8Array): void {
  const sent = readStamp(payload);
  if (sent === undefined) rec.ok++;
  else rec.success(epochMs() - sent);
}

async function subscribers(
  client: RpcClient,
  namespace: string,
  topic: string,
  rec: Recorder,
  n: number,
  signal: AbortSignal,
): Promise<{ done: Promise<void> }> {
  const p = path(PubSubBasicInterface, PubSubBasicInterface.method.subscribe);
  const body = encode(SubscribeRequestSchema, { namespace, topic });
  const ready: Promise<void>[] = [];
  const done: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    let subscribed: () => void = () => {};
    let failed: (err: Error) => void = () => {};
    ready.push(
      new Promise<void>((resolve, reject) => {
        subscribed = resolve;
        failed = reject;
      }),
    );
    const stream = client.serverStream(
      p,
      body,
      (data) => {
        const res = fromBinary(SubscribeResponseSchema, data);
        if (res.event.case === 'subscribed') subscribed();
        else if (res.event.case === 'message') recordDelivery(rec, res.event.value.payload);
      },
      signal,
    );
    done.push(
      stream.then(
        (code) => {
          if (code) {
            rec.failure(code);
            failed(new Error(`Subscribe ended with ${code}`));
          }
        },
        (err: Error) => {
          rec.failure('TRANSPORT');
          failed(err);
        },
      ),
    );
  }
  await Promise.all(ready);
  return { done: Promise.all(done).then(() => {}) };
}

async function receivers(
  client: RpcClient,
  namespace: string,
  queue: string,
  rec: Recorder,
  n: number,
  signal: AbortSignal,
): Promise<{ done: Promise<void> }> {
  const qb = QueueBasicInterface.method;
  const receivePath = path(QueueBasicInterface, qb.receive);
  const ackPath = path(QueueBasicInterface, qb.ack);
  const body = encode(ReceiveRequestSchema, { namespace, queue, maxMessages: 32, waitMs: 200n });
  const worker = async () => {
    while (!signal.aborted) {
      const res = await client
        .unary(receivePath, body)
        .catch(() => ({ code: 'TRANSPORT', message: undefined }));
      if (res.code) {
        rec.failure(res.code);
        continue;
      }
      const got = fromBinary(ReceiveResponseSchema, res.message ?? new Uint8Array());
      if (got.messages.length === 0) continue;
      for (const m of got.messages) recordDelivery(rec, m.message?.payload ?? new Uint8Array());
      const ack = await client.unary(
        ackPath,
        encode(AckRequestSchema, { namespace, queue, receipts: got.messages.map((m) => m.receipt) }),
      );
      if (ack.code) rec.failure(`ACK_${ack.code}`);
    }
  };
  return { done: Promise.all(Array.from({ length: n }, worker)).then(() => {}) };
}
