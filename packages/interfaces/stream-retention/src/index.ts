import {
  type RetentionPolicy,
  StreamRetentionInterface,
} from '@prism/proto/prism/stream/v1/stream_retention_pb';
import { checkTopic } from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/stream/v1/stream_retention_pb';

/** Bounds of stream_retention (see proto/prism/stream/v1/stream_retention.proto). */
export const RETENTION_BOUNDS = Object.freeze({
  /** max_age_ms: ten years. */
  maxAgeMs: 10 * 365 * 24 * 3600 * 1000,
});

/** Throws INVALID_ARGUMENT unless `policy` is present and its max age lies within 0..10 years. */
export function checkPolicy(policy: RetentionPolicy | undefined, field = 'policy'): void {
  if (!policy) throw invalidArgument(`${field} is required (send an empty policy to remove every limit)`);
  const age = policy.maxAgeMs;
  if (age < 0n) throw invalidArgument(`${field}.max_age_ms must not be negative (got ${age})`);
  if (age > BigInt(RETENTION_BOUNDS.maxAgeMs))
    throw invalidArgument(
      `${field}.max_age_ms is ${age} ms; at most ${RETENTION_BOUNDS.maxAgeMs} ms allowed`,
    );
}

/** The stream_retention flavour: SetRetention, GetRetention, TrimStream (reporting what it removed). */
export const StreamRetention = defineInterface(
  'stream_retention',
  StreamRetentionInterface,
  { setRetention: 'admin', getRetention: 'read', trimStream: 'write' },
  {
    setRetention: (req) => {
      checkTopic(req.stream, 'stream');
      checkPolicy(req.policy);
    },
    getRetention: (req) => checkTopic(req.stream, 'stream'),
    trimStream: (req) => {
      checkTopic(req.stream, 'stream');
      if (req.beforeTimestampMs < 0n)
        throw invalidArgument(`before_timestamp_ms must not be negative (got ${req.beforeTimestampMs})`);
    },
  },
);

/** What an adapter implements for stream_retention. */
export type StreamRetentionImpl = InterfaceImpl<typeof StreamRetentionInterface>;

/** A limit a backend cannot express: INVALID_ARGUMENT naming the field and the backend. */
export function unsupportedLimit(field: keyof typeof LIMIT_FIELDS, backend: string, why: string) {
  return invalidArgument(`policy.${LIMIT_FIELDS[field]} is not supported by the ${backend} backend: ${why}`);
}

const LIMIT_FIELDS = { maxAgeMs: 'max_age_ms', maxRecords: 'max_records', maxBytes: 'max_bytes' } as const;
