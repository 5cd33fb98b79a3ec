import { headers, type MsgHdrs, nuid } from 'nats';

/** Reserved header carrying the Prism message id (kept across redeliveries and dead-lettering). */
export const H_ID = 'prism-id';
/** Reserved header carrying the publish time (ms) of core NATS messages, which have no server timestamp. */
export const H_TS = 'prism-ts';
/** Reserved header of dead-lettered messages: the queue they came from. */
export const H_DLQ_SOURCE = 'prism-dead-letter-source';

/** Lists metadata keys whose values are percent-encoded (NATS trims header values). */
const H_ENC = 'prism-enc';

/** A new globally unique message id. */
export const newId = (): string => nuid.next();

/** Builds NATS headers from application metadata plus reserved `prism-*` entries. */
export function toHeaders(
  metadata: Readonly<Record<string, string>>,
  reserved: Record<string, string>,
): MsgHdrs {
  const h = headers();
  const encoded: string[] = [];
  for (const [k, v] of Object.entries(metadata)) {
    // Header values lose leading/trailing whitespace on the wire: carry such values encoded.
    if (v !== v.trim()) {
      encoded.push(k);
      h.set(k, encodeURIComponent(v));
    } else h.set(k, v);
  }
  if (encoded.length) h.set(H_ENC, encoded.join(','));
  for (const [k, v] of Object.entries(reserved)) h.set(k, v);
  return h;
}

/** Reserved headers used internally; other `prism-*` headers (e.g. the dead-letter source) are metadata. */
export const H_DELIVER_AT = 'prism-deliver-at';
const INTERNAL = new Set([H_ID, H_TS, H_ENC, H_DELIVER_AT]);

/** Application metadata of received headers: everything except internal `prism-*` and NATS' own `Nats-*`. */
export function metadataOf(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  const encoded = new Set(h.has(H_ENC) ? h.get(H_ENC).split(',') : []);
  for (const k of h.keys()) {
    const lower = k.toLowerCase();
    if (INTERNAL.has(lower) || lower.startsWith('nats-')) continue;
    const v = h.get(k);
    out[k] = encoded.has(k) ? decodeURIComponent(v) : v;
  }
  return out;
}

/** A reserved header value, or undefined. */
export function reservedOf(h: MsgHdrs | undefined, key: string): string | undefined {
  return h?.has(key) ? h.get(key) : undefined;
}
