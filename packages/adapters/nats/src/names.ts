import { createHash } from 'node:crypto';

/**
 * Subject and JetStream names of one namespace. Everything a namespace touches lives under the
 * subject prefix `prism.<namespace>.` and in streams named `<stream_prefix>_<namespace>_...`, so
 * namespaces sharing a NATS server never see each other's messages.
 */

/**
 * Encodes a user-supplied name (stream, queue, group, subscription) into one token that is valid as a
 * subject token, a stream name and a consumer name: [A-Za-z0-9-] stay, everything else (including
 * "_", so the mapping is injective) becomes `_xx` per UTF-8 byte.
 */
export function encodeToken(name: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(name)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Inverse of {@link encodeToken}. */
export function decodeToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '_') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/**
 * Keeps a JetStream stream or consumer name within `max` characters (they become directory names, so
 * 255 bytes is a hard limit): longer names keep a readable head and end in a SHA-1 of the whole name.
 */
export function fitName(name: string, max = 200): string {
  if (name.length <= max) return name;
  return `${name.slice(0, max - 42)}-H${createHash('sha1').update(name).digest('hex')}`;
}

/** Durable consumer shared by every receiver of a queue. */
export const QUEUE_CONSUMER = 'receivers';

/** Names derived from one namespace. */
export class Names {
  /** Subject prefix of the namespace, ending with a dot. */
  readonly root: string;
  private readonly streamBase: string;

  constructor(
    readonly namespace: string,
    streamPrefix: string,
  ) {
    if (!/^[A-Za-z0-9-]+$/.test(namespace))
      throw new Error(`namespace "${namespace}" cannot be mapped to NATS subjects: use [a-z0-9-]`);
    this.root = `prism.${namespace}.`;
    this.streamBase = `${streamPrefix}_${namespace}`;
  }

  /** Core NATS subject of a pub/sub topic (topics are dot-separated, like NATS subjects). */
  topicSubject(topic: string): string {
    return `${this.root}t.${topic}`;
  }
  /** The topic a core subject carries, or undefined for a subject outside this namespace. */
  topicOf(subject: string): string | undefined {
    const p = `${this.root}t.`;
    return subject.startsWith(p) ? subject.slice(p.length) : undefined;
  }

  /** JetStream stream holding every persistent pub/sub topic of the namespace. */
  get durableTopicsStream(): string {
    return `${this.streamBase}_TOPICS`;
  }
  durableTopicSubject(topic: string): string {
    return `${this.root}dt.${topic}`;
  }
  /** JetStream stream of one Prism stream (offsets are its sequences, so they are dense). */
  stream(name: string): string {
    return fitName(`${this.streamBase}_S_${encodeToken(name)}`);
  }
  streamSubject(name: string): string {
    return `${this.root}s.${encodeToken(name)}`;
  }

  /** JetStream work-queue stream of one Prism queue. */
  queue(name: string): string {
    return fitName(`${this.streamBase}_Q_${encodeToken(name)}`);
  }
  queueSubject(name: string): string {
    return `${this.root}q.${encodeToken(name)}`;
  }
  /** Stream holding delayed messages of every queue until they are due. */
  get delayedStream(): string {
    return `${this.streamBase}_DELAYED`;
  }
  delayedSubject(queue: string): string {
    return `${this.root}delayed.${encodeToken(queue)}`;
  }
  /** Prefix of every stream of this namespace (for cleanup and isolation checks). */
  get streamPrefix(): string {
    return `${this.streamBase}_`;
  }
}
