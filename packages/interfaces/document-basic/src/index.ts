import { DocumentBasicInterface } from '@prism/proto/prism/document/v1/document_basic_pb';
import {
  aborted,
  checkKey,
  defineInterface,
  type InterfaceImpl,
  invalidArgument,
  type Limits,
} from '@prism/sdk';

export * from '@prism/proto/prism/document/v1/document_basic_pb';

/** A JSON value as JSON.parse returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
/** A JSON object as JSON.parse returns it. */
export type JsonObject = { [name: string]: JsonValue };

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/** Whether `s` holds a C0 control character or DEL (which ids and field paths must not contain). */
export const hasControlCharacters = (s: string): boolean => CONTROL_RE.test(s);

/** Throws INVALID_ARGUMENT unless `id` is a document id: 1..max_key_bytes, no control characters. */
export function checkDocumentId(id: string, limits: Limits, field = 'id'): void {
  checkKey(id, limits, field);
  if (CONTROL_RE.test(id)) throw invalidArgument(`${field} must not contain control characters`);
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses `text` as a JSON object: INVALID_ARGUMENT with the parser's message (and position) for non-JSON,
 * and naming the type for JSON that is not an object.
 */
export function parseJsonObject(text: string, field = 'json'): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${field} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(value))
    throw invalidArgument(
      `${field} must be a JSON object (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`})`,
    );
  return value;
}

/** The canonical form of a JSON text (JSON.parse, then JSON.stringify), as every backend stores it. */
export function canonicalJson(text: string): string {
  return JSON.stringify(JSON.parse(text));
}

/** Throws INVALID_ARGUMENT when a document's text exceeds the namespace's value limit. */
export function checkDocumentSize(text: string, limits: Limits, field = 'json'): void {
  // Fast path: n UTF-16 units are at most 3n UTF-8 bytes.
  if (text.length * 3 <= limits.maxValueBytes) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxValueBytes)
    throw invalidArgument(`${field} is ${bytes} bytes; the namespace allows at most ${limits.maxValueBytes}`);
}

/** A document ready to store: its parsed object and canonical text (within the size limit). */
export interface PreparedDocument {
  readonly doc: JsonObject;
  readonly json: string;
}

/** Parses, canonicalises and size-checks a Put's text; what every adapter stores. */
export function prepareDocument(text: string, limits: Limits, field = 'json'): PreparedDocument {
  const doc = parseJsonObject(text, field);
  const json = JSON.stringify(doc);
  checkDocumentSize(json, limits, field);
  return { doc, json };
}

/** RFC 7386 JSON merge patch: null removes a member, objects merge recursively, anything else replaces. */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete out[name];
    // defineProperty: a member named "__proto__" is data, not the prototype.
    else
      Object.defineProperty(out, name, {
        value: applyMergePatch(Object.hasOwn(out, name) ? out[name] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}

/** Applies a Patch request's merge patch to a stored document's text; the result is size-checked. */
export function patchDocument(current: string, mergePatch: string, limits: Limits): PreparedDocument {
  const patch = parseJsonObject(mergePatch, 'merge_patch');
  const doc = applyMergePatch(JSON.parse(current) as JsonObject, patch) as JsonObject;
  const json = JSON.stringify(doc);
  checkDocumentSize(json, limits, 'patched document');
  return { doc, json };
}

/** The ABORTED error of a write whose expected_version does not match (same wording everywhere). */
export function versionMismatch(id: string, expected: bigint, actual: bigint | undefined): Error {
  const found = actual === undefined ? 'it does not exist' : `it is at version ${actual}`;
  const wanted =
    expected === 0n ? 'expected it not to exist (expected_version 0)' : `expected version ${expected}`;
  return aborted(`document "${id}": ${wanted}, but ${found}; read it again and retry`);
}

/** Whether a write with `expected` may proceed on a document at `actual` (undefined = missing). */
export function versionMatches(expected: bigint | undefined, actual: bigint | undefined): boolean {
  if (expected === undefined) return true;
  return expected === 0n ? actual === undefined : actual === expected;
}

/** The document_basic flavour: JSON documents by id with optimistic versions. */
export const DocumentBasic = defineInterface(
  'document_basic',
  DocumentBasicInterface,
  { put: 'write', get: 'read', patch: 'write', delete: 'write' },
  {
    put: (req, limits) => {
      checkDocumentId(req.id, limits);
      checkDocumentSize(req.json, limits);
      parseJsonObject(req.json);
    },
    get: (req, limits) => checkDocumentId(req.id, limits),
    patch: (req, limits) => {
      checkDocumentId(req.id, limits);
      checkDocumentSize(req.mergePatch, limits, 'merge_patch');
      parseJsonObject(req.mergePatch, 'merge_patch');
    },
    delete: (req, limits) => checkDocumentId(req.id, limits),
  },
);

/** What an adapter implements for document_basic. */
export type DocumentBasicImpl = InterfaceImpl<typeof DocumentBasicInterface>;
