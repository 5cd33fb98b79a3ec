// Test-side view of a pub/sub subscription stream (Subscribe, SubscribePattern): waits for the
// `subscribed` event and exposes the delivered messages. Used by the pub/sub conformance suites.

import type { Message } from '@prism/proto/prism/common/v1/message_pb';
import type { CallContext } from '@prism/sdk';
import { DEFAULT_DEADLINE_MS, StreamCollector } from './kit.js';

/** The response shape shared by Subscribe and SubscribePattern. */
export interface PubSubEvent {
  readonly event:
    | { readonly case: 'subscribed'; readonly value: unknown }
    | { readonly case: 'message'; readonly value: Message }
    | { readonly case: undefined; readonly value?: undefined };
}

/** One open subscription stream. */
export class MessageSubscription {
  readonly #collector: StreamCollector<PubSubEvent>;

  /** `open` must return normalised responses (full messages, not init shapes). */
  constructor(open: (ctx: CallContext) => AsyncIterable<PubSubEvent>) {
    this.#collector = new StreamCollector(open);
  }

  /** Waits for the `subscribed` event, which must be the first response. */
  async ready(timeoutMs = DEFAULT_DEADLINE_MS): Promise<this> {
    const [first] = await this.#collector.atLeast(1, 'the subscribed event', timeoutMs);
    if (first?.event.case !== 'subscribed')
      throw new Error(`the first response must be the subscribed event, got ${first?.event.case}`);
    return this;
  }

  /** Messages delivered so far, in arrival order. */
  get messages(): Message[] {
    return this.#collector.items.flatMap((r) => (r.event.case === 'message' ? [r.event.value] : []));
  }

  /** Every response's event case, in order (to check `subscribed` comes once and first). */
  get cases(): (string | undefined)[] {
    return this.#collector.items.map((r) => r.event.case);
  }

  get ended(): boolean {
    return this.#collector.ended;
  }

  /** Waits until `predicate(messages)` holds. */
  async until(what: string, predicate: (messages: Message[]) => boolean, timeoutMs = DEFAULT_DEADLINE_MS) {
    await this.#collector.until(what, () => predicate(this.messages), timeoutMs);
    return this.messages;
  }

  /** Waits until at least `n` messages arrived. */
  atLeast(n: number, what = `${n} messages`, timeoutMs = DEFAULT_DEADLINE_MS): Promise<Message[]> {
    return this.until(what, (m) => m.length >= n, timeoutMs);
  }

  /** Waits for a message with `id`. */
  async waitForId(id: string, timeoutMs = DEFAULT_DEADLINE_MS): Promise<Message> {
    await this.until(`message ${id}`, (m) => m.some((x) => x.id === id), timeoutMs);
    return this.messages.find((x) => x.id === id)!;
  }

  /** Cancels the stream (unsubscribe) and waits for the implementation to end it. */
  cancel(timeoutMs = DEFAULT_DEADLINE_MS): Promise<void> {
    return this.#collector.cancel(timeoutMs);
  }
}
