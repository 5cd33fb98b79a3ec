import { Code, ConnectError } from '@connectrpc/connect';
import { describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { PubSubBasicInterface } from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
import { Call } from './call.js';
import { codeName } from './errors.js';
import { defineInterface } from './interface.js';
import { deadlines } from './middleware/deadlines.js';
import { compose, type Middleware, Pipeline } from './pipeline.js';

const kv = defineInterface('keyvalue_basic', KeyValueBasicInterface, {
  set: 'write',
  get: 'read',
  delete: 'write',
  exists: 'read',
});
const pubsub = defineInterface('pubsub_basic', PubSubBasicInterface, { publish: 'write', subscribe: 'read' });
const unaryCall = (init: Partial<ConstructorParameters<typeof Call>[0]> = {}) =>
  new Call({
    namespace: 'ns',
    definition: kv,
    method: KeyValueBasicInterface.method.get,
    request: {},
    ...init,
  });
const streamCall = () =>
  new Call({
    namespace: 'ns',
    definition: pubsub,
    method: PubSubBasicInterface.method.subscribe,
    request: {},
  });

/** Records the order middleware run in and what each call ended with. */
function recorder(name: string, log: string[]): Middleware {
  return (next) => (call) => {
    log.push(`${name}>`);
    call.onEnd((err) => log.push(`${name} end ${codeName(err?.code)}`));
    return next(call);
  };
}

describe('compose and Pipeline', () => {
  it('runs middleware outermost first and ends a unary call once, sync or async', async () => {
    const log: string[] = [];
    const sync = new Pipeline([recorder('a', log), recorder('b', log)], () => ({ found: true }));
    expect(sync.unary(unaryCall())).toEqual({ found: true }); // a sync answer stays sync
    const async_ = new Pipeline([recorder('a', log)], async () => ({ found: false }));
    await expect(async_.unary(unaryCall())).resolves.toEqual({ found: false });
    expect(log).toEqual(['a>', 'b>', 'a end OK', 'b end OK', 'a>', 'a end OK']);
    expect(sync.inflight.count + async_.inflight.count).toBe(0);
  });

  it('maps anything thrown to a ConnectError seen by onEnd and the caller', async () => {
    const log: string[] = [];
    const throwing = new Pipeline([recorder('m', log)], () => {
      throw new Error('boom');
    });
    const err = await Promise.resolve(throwing.unary(unaryCall())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Internal);
    expect((err as ConnectError).rawMessage).toMatch(/namespace "ns" failed: boom/);
    const rejecting = new Pipeline([recorder('m', log)], async () => {
      throw new ConnectError('nope', Code.PermissionDenied);
    });
    await expect(rejecting.unary(unaryCall())).rejects.toMatchObject({ code: Code.PermissionDenied });
    expect(log).toEqual(['m>', 'm end INTERNAL', 'm>', 'm end PERMISSION_DENIED']);
  });

  it('ends a stream when its iteration ends, errors or is abandoned, and counts open streams', async () => {
    const log: string[] = [];
    async function* three() {
      yield 1;
      yield 2;
      yield 3;
    }
    const p = new Pipeline([recorder('s', log)], () => three());
    const seen: unknown[] = [];
    for await (const m of p.stream(streamCall())) seen.push(m);
    expect(seen).toEqual([1, 2, 3]);
    // Abandoned after one message (a client that goes away): still ends once, and the counters drop.
    const call = streamCall();
    for await (const _ of p.stream(call)) {
      expect(p.streams).toBe(1);
      call.abort(new ConnectError('gone', Code.Canceled));
      break;
    }
    expect(p.streams).toBe(0);
    expect(p.inflight.count).toBe(0);
    expect(log).toEqual(['s>', 's end OK', 's>', 's end CANCELED']);
  });

  it('lets a drain wait for calls in flight', async () => {
    let release: (() => void) | undefined;
    const p = new Pipeline([], () => new Promise<object>((r) => (release = () => r({}))));
    const running = p.unary(unaryCall());
    expect(await p.inflight.idle(20)).toBe(1); // timed out with one still running
    const idle = p.inflight.idle(5000);
    release?.();
    await running;
    expect(await idle).toBe(0);
  });

  it('compose alone builds the same onion', () => {
    const order: string[] = [];
    const m =
      (n: string): Middleware =>
      (next) =>
      (call) => {
        order.push(n);
        return next(call);
      };
    compose([m('1'), m('2'), m('3')], () => order.push('end'))(unaryCall());
    expect(order).toEqual(['1', '2', '3', 'end']);
  });
});

describe('deadlines', () => {
  it('answers DEADLINE_EXCEEDED at the deadline and aborts the implementation', async () => {
    let reason: unknown;
    const p = new Pipeline([deadlines], (call) => {
      const c = call as Call;
      return new Promise((resolve) => {
        c.signal.addEventListener('abort', () => {
          reason = c.signal.reason;
          resolve({ late: true });
        });
      });
    });
    const t0 = Date.now();
    const err = await Promise.resolve(p.unary(unaryCall({ deadline: Date.now() + 150 }))).catch(
      (e: unknown) => e,
    );
    const took = Date.now() - t0;
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(400);
    expect((reason as ConnectError).code).toBe(Code.DeadlineExceeded);
  });

  it('refuses a call whose deadline already passed without running it', async () => {
    let ran = false;
    const p = new Pipeline([deadlines], () => {
      ran = true;
      return {};
    });
    await expect(p.unary(unaryCall({ deadline: Date.now() - 1 }))).rejects.toMatchObject({
      code: Code.DeadlineExceeded,
    });
    expect(ran).toBe(false);
  });

  it('aborts a stream at its deadline', async () => {
    const p = new Pipeline([deadlines], (call) =>
      (async function* () {
        const c = call as Call;
        yield 1;
        await new Promise((r) => c.onAbort(r));
        throw c.abortReason;
      })(),
    );
    const call = new Call({
      namespace: 'ns',
      definition: pubsub,
      method: PubSubBasicInterface.method.subscribe,
      request: {},
      deadline: Date.now() + 100,
    });
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const m of p.stream(call)) seen.push(m);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
  });
});
