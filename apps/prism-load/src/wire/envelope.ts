/** Envelope flag of a gRPC-web trailer frame. */
export const FLAG_GRPC_WEB_TRAILER = 0x80;
/** Envelope flag of a Connect end-of-stream message. */
export const FLAG_CONNECT_END = 0x02;

/** Wraps a message into the 5-byte-prefixed envelope shared by gRPC, gRPC-web and Connect streaming. */
export function encodeEnvelope(message: Uint8Array, flags = 0): Buffer {
  const out = Buffer.allocUnsafe(5 + message.byteLength);
  out[0] = flags;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/** One parsed envelope. */
export interface Envelope {
  readonly flags: number;
  readonly data: Buffer;
}

/** Splits a byte stream into envelopes as chunks arrive. */
export class EnvelopeReader {
  private buf: Buffer | undefined;

  /** Feeds a chunk; returns the envelopes it completed. */
  push(chunk: Buffer): Envelope[] {
    let buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Envelope[] = [];
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      out.push({ flags: buf[0] as number, data: buf.subarray(5, 5 + len) });
      buf = buf.subarray(5 + len);
    }
    this.buf = buf.length ? buf : undefined;
    return out;
  }

  /** Bytes received that do not yet form a whole envelope. */
  get pending(): number {
    return this.buf?.length ?? 0;
  }
}

/** Parses a complete body into envelopes (unary responses). */
export function parseEnvelopes(body: Buffer): Envelope[] {
  const reader = new EnvelopeReader();
  const out = reader.push(body);
  if (reader.pending) throw new Error(`truncated envelope: ${reader.pending} trailing bytes`);
  return out;
}

/** Parses a gRPC-web trailer frame (`name: value\r\n` lines) into lower-cased headers. */
export function parseTrailerFrame(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of data.toString('latin1').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}
