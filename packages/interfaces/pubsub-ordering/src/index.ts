import { PubSubOrderingInterface } from '@prism/proto/prism/pubsub/v1/pubsub_ordering_pb';
import { checkOutgoing, checkTopic } from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/pubsub/v1/pubsub_ordering_pb';

/** Bounds of pubsub_ordering (see pubsub_ordering.proto). */
export const ORDERING_BOUNDS = Object.freeze({
  /** UTF-8 bytes of an ordering key. */
  maxKeyBytes: 256,
  /** Keys a SubscribeOrdered may be limited to. */
  maxSubscribeKeys: 100,
});

// C0 controls and DEL: they would break headers, logs and subject encodings.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/** Throws INVALID_ARGUMENT unless `key` is a valid ordering key (1..256 UTF-8 bytes, no control characters). */
export function checkOrderingKey(key: string, field = 'ordering_key'): void {
  if (key.length === 0) throw invalidArgument(`${field} must not be empty`);
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > ORDERING_BOUNDS.maxKeyBytes)
    throw invalidArgument(`${field} is ${bytes} bytes; at most ${ORDERING_BOUNDS.maxKeyBytes} allowed`);
  if (CONTROL_RE.test(key))
    throw invalidArgument(`${field} must not contain control characters (U+0000..U+001F, U+007F)`);
}

/** The keys a subscription is limited to, deduplicated; `undefined` = every key. */
export function keySet(keys: readonly string[]): ReadonlySet<string> | undefined {
  return keys.length === 0 ? undefined : new Set(keys);
}

/** The pubsub_ordering flavour (at-most-once, per-key order): PublishOrdered, SubscribeOrdered. */
export const PubSubOrdering = defineInterface(
  'pubsub_ordering',
  PubSubOrderingInterface,
  { publishOrdered: 'write', subscribeOrdered: 'read' },
  {
    publishOrdered: (req, limits) => {
      checkTopic(req.topic);
      checkOrderingKey(req.orderingKey);
      checkOutgoing(req, limits);
    },
    subscribeOrdered: (req) => {
      checkTopic(req.topic);
      if (req.orderingKeys.length > ORDERING_BOUNDS.maxSubscribeKeys)
        throw invalidArgument(
          `ordering_keys has ${req.orderingKeys.length} entries; at most ${ORDERING_BOUNDS.maxSubscribeKeys} allowed`,
        );
      req.orderingKeys.forEach((k, i) => {
        checkOrderingKey(k, `ordering_keys[${i}]`);
      });
    },
  },
);

/** What an adapter implements for pubsub_ordering. */
export type PubSubOrderingImpl = InterfaceImpl<typeof PubSubOrderingInterface>;
