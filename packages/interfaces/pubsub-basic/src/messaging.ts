// Input rules shared by every messaging interface (pub/sub, streams, queues). They are defined once, in
// prism/common/v1/message.proto, and enforced here so every adapter rejects the same inputs.
import { checkValue, invalidArgument, type Limits } from '@prism/sdk';

/** Bounds of the messaging interfaces (see prism.common.v1.Message and each proto). */
export const MESSAGING_BOUNDS = Object.freeze({
  /** Topic, stream and queue names: characters. */
  maxNameChars: 128,
  /** Group, consumer and subscription names: characters. */
  maxMemberNameChars: 64,
  maxMetadataEntries: 32,
  maxMetadataKeyChars: 128,
  /** Keys plus values, UTF-8 bytes. */
  maxMetadataBytes: 8 * 1024,
  /** Ack ids / receipts per call. */
  maxAckIds: 1000,
  /** Messages per Receive. */
  maxReceiveMessages: 100,
  maxWaitMs: 20_000,
  /** Visibility, ack-wait and claim timeouts. */
  maxTimeoutMs: 43_200_000,
  maxDelayMs: 604_800_000,
  maxInFlight: 1000,
  maxDeliveries: 1000,
});

/** Defaults applied when a request leaves a field at 0. */
export const MESSAGING_DEFAULTS = Object.freeze({
  visibilityTimeoutMs: 30_000,
  ackWaitMs: 30_000,
  claimTimeoutMs: 30_000,
  maxInFlight: 64,
});

const TOPIC_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const MEMBER_RE = /^[A-Za-z0-9_-]+$/;
const METADATA_KEY_RE = /^[a-z0-9][a-z0-9_.-]*$/;

/** Throws INVALID_ARGUMENT unless `name` is a valid topic / stream / queue name. */
export function checkTopic(name: string, field = 'topic'): void {
  if (name.length === 0) throw invalidArgument(`${field} must not be empty`);
  if (name.length > MESSAGING_BOUNDS.maxNameChars)
    throw invalidArgument(
      `${field} is ${name.length} characters; at most ${MESSAGING_BOUNDS.maxNameChars} allowed`,
    );
  if (!TOPIC_RE.test(name))
    throw invalidArgument(
      `${field} "${name}" is invalid: use tokens of [A-Za-z0-9_-] separated by single dots, e.g. "orders.eu"`,
    );
}

/** Throws INVALID_ARGUMENT unless `name` is a valid group, consumer or subscription name. */
export function checkMemberName(name: string, field: string): void {
  if (name.length === 0) throw invalidArgument(`${field} must not be empty`);
  if (name.length > MESSAGING_BOUNDS.maxMemberNameChars || !MEMBER_RE.test(name))
    throw invalidArgument(
      `${field} "${name.slice(0, 80)}" is invalid: use 1..${MESSAGING_BOUNDS.maxMemberNameChars} characters of [A-Za-z0-9_-]`,
    );
}

/** Throws INVALID_ARGUMENT unless metadata respects the key syntax and size bounds. */
export function checkMetadata(metadata: Readonly<Record<string, string>>, field = 'metadata'): void {
  const entries = Object.entries(metadata);
  if (entries.length > MESSAGING_BOUNDS.maxMetadataEntries)
    throw invalidArgument(
      `${field} has ${entries.length} entries; at most ${MESSAGING_BOUNDS.maxMetadataEntries}`,
    );
  let bytes = 0;
  for (const [key, value] of entries) {
    if (key.length > MESSAGING_BOUNDS.maxMetadataKeyChars || !METADATA_KEY_RE.test(key))
      throw invalidArgument(
        `${field} key "${key.slice(0, 80)}" is invalid: use lower case [a-z0-9_.-], starting with a letter or digit, at most ${MESSAGING_BOUNDS.maxMetadataKeyChars} characters`,
      );
    if (key.startsWith('prism-'))
      throw invalidArgument(`${field} key "${key}" uses the reserved prefix "prism-"`);
    if (/[\r\n]/.test(value)) throw invalidArgument(`${field} value of "${key}" must not contain CR or LF`);
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (bytes > MESSAGING_BOUNDS.maxMetadataBytes)
    throw invalidArgument(`${field} is ${bytes} bytes; at most ${MESSAGING_BOUNDS.maxMetadataBytes} allowed`);
}

/** The fields every publish/append/enqueue request carries. */
export interface OutgoingMessage {
  readonly payload: Uint8Array;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Checks payload size (namespace limit) and metadata of a message about to be sent. */
export function checkOutgoing(msg: OutgoingMessage, limits: Limits): void {
  checkValue(msg.payload, limits, 'payload');
  checkMetadata(msg.metadata);
}

/**
 * Checks an optional millisecond duration: 0 means "use the default" when `zeroAllowed`, otherwise
 * it must lie in 1..max. Negative values are always rejected.
 */
export function checkMillis(value: bigint | number, field: string, max: number, zeroAllowed = true): void {
  const n = Number(value);
  if (n < 0) throw invalidArgument(`${field} must not be negative (got ${value})`);
  if (n === 0 && !zeroAllowed) throw invalidArgument(`${field} must be greater than 0`);
  if (n > max) throw invalidArgument(`${field} is ${value} ms; at most ${max} ms allowed`);
}

/** Checks a count field where 0 means "default": must be at most `max`. */
export function checkAtMost(value: number, field: string, max: number): void {
  if (value > max) throw invalidArgument(`${field} is ${value}; at most ${max} allowed`);
}

/** Checks a list of ack ids / receipts: 1..maxAckIds non-empty strings. */
export function checkTokens(tokens: readonly string[], field: string): void {
  if (tokens.length === 0) throw invalidArgument(`${field} must contain at least one entry`);
  if (tokens.length > MESSAGING_BOUNDS.maxAckIds)
    throw invalidArgument(
      `${field} has ${tokens.length} entries; at most ${MESSAGING_BOUNDS.maxAckIds} per call`,
    );
  if (tokens.some((t) => t.length === 0)) throw invalidArgument(`${field} must not contain empty strings`);
}

/** Resolves a 0-means-default number. */
export function orDefault(value: bigint | number, fallback: number): number {
  const n = Number(value);
  return n === 0 ? fallback : n;
}
