/** Marks payloads that carry a send timestamp, so consumers can tell them from foreign messages. */
const MAGIC = 0x504c5431; // "PLT1"
/** Smallest payload that can carry a timestamp. */
export const STAMP_BYTES = 12;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Writes the magic and the current time into the first 12 bytes of `payload` (which it returns). */
export function stampPayload(payload: Uint8Array): Uint8Array {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  view.setUint32(0, MAGIC);
  view.setFloat64(4, epochMs(), true);
  return payload;
}

/** The send time stamped into a payload, or undefined when it carries none. */
export function readStamp(payload: Uint8Array): number | undefined {
  if (payload.byteLength < STAMP_BYTES) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return view.getUint32(0) === MAGIC ? view.getFloat64(4, true) : undefined;
}

/** A value of `size` bytes with a recognisable pattern (not all zeros, so nothing compresses it away). */
export function makeValue(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + 7) & 0xff;
  return out;
}
