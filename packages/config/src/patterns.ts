/** Data models; each is also a single-backend pattern whose basic flavour is `<model>_basic`. */
export const MODELS = [
  'keyvalue',
  'list',
  'pubsub',
  'stream',
  'queue',
  'set',
  'sortedset',
  'timeseries',
  'graph',
  'document',
  'object',
] as const;

/** A data model name. */
export type Model = (typeof MODELS)[number];

/**
 * Flavours known today per model (without the model prefix). Only used for suggestions: a backend may
 * implement flavours this list does not know yet, so `needs` is checked against the catalog, not this list.
 */
export const KNOWN_FLAVOURS: Readonly<Record<Model, readonly string[]>> = {
  keyvalue: ['basic', 'ttl', 'scan', 'batch', 'cas', 'transactional'],
  list: ['basic', 'indexing', 'range', 'blocking'],
  pubsub: ['basic', 'wildcards', 'persistent', 'filtering', 'ordering'],
  stream: ['basic', 'consumer_groups', 'replay', 'retention', 'partitioning'],
  queue: ['basic', 'visibility', 'dead_letter', 'delayed', 'priority'],
  set: ['basic', 'operations', 'cardinality', 'random'],
  sortedset: ['basic', 'range', 'rank', 'operations', 'lex'],
  timeseries: ['basic', 'aggregation', 'retention', 'interpolation'],
  graph: ['basic', 'traversal', 'query', 'analytics'],
  document: ['basic', 'query', 'indexing'],
  object: ['basic'],
};

/** One backend slot of a composed pattern. */
export interface SlotSpec {
  /** Flavours the slot's backend must implement. */
  readonly needs: readonly string[];
  /**
   * Flavours that are nice to have in the slot's backend (e.g. TTL to expire offline identities). Not
   * required, so not checked at load; `prismctl validate` reports whether the chosen backend has them.
   */
  readonly optionalNeeds?: readonly string[];
  /** Whether the namespace may leave the slot out. */
  readonly optional?: boolean;
  readonly description: string;
}

/** Composed patterns: each fills named slots with backends instead of one `backend`. */
export const SLOT_PATTERNS: Readonly<Record<string, Readonly<Record<string, SlotSpec>>>> = {
  'multicast-registry': {
    registry: {
      needs: ['keyvalue_basic', 'keyvalue_scan'],
      optionalNeeds: ['keyvalue_ttl'],
      description: 'identity → metadata store',
    },
    messaging: {
      needs: ['pubsub_basic'],
      optionalNeeds: ['pubsub_persistent'],
      description: 'delivers multicast messages',
    },
    durability: {
      needs: ['queue_basic', 'queue_visibility', 'queue_dead_letter'],
      optional: true,
      description: 'keeps undelivered messages for offline identities',
    },
  },
};

/**
 * Composed patterns of the design documents that this version does not implement yet, with what each does.
 * Only used in messages: a namespace asking for one is told it is not in this version, not merely "unknown".
 */
export const PLANNED_PATTERNS: Readonly<Record<string, string>> = {
  outbox: 'Outbox: a write and the events it publishes commit in one transaction',
  'claim-check': 'Claim Check: large payloads go to object storage, messages carry a reference',
  wal: 'WAL: writes are logged durably before they are applied',
  'tiered-storage': 'Tiered Storage: older data moves from the hot backend to cheaper storage',
  cdc: 'CDC: changes of a database are streamed as events',
};

/** Names the design documents use for a pattern that is named differently here (for messages). */
export const PATTERN_ALIASES: Readonly<Record<string, string>> = {
  'event-stream': 'stream',
  'transactional-queue': 'outbox',
};

/** Every pattern name a namespace may use. */
export const PATTERNS: readonly string[] = [...MODELS, ...Object.keys(SLOT_PATTERNS)];

const FLAVOUR = /^([a-z]+)_([a-z0-9]+(?:_[a-z0-9]+)*)$/;

/** Whether `name` is a model pattern (single backend). */
export function isModel(name: string): name is Model {
  return (MODELS as readonly string[]).includes(name);
}

/** Splits `keyvalue_ttl` into model and feature; undefined unless it is `<known model>_<feature>`. */
export function parseFlavour(name: string): { model: Model; feature: string } | undefined {
  const m = FLAVOUR.exec(name);
  if (!m || !isModel(m[1]!)) return undefined;
  return { model: m[1] as Model, feature: m[2]! };
}

/** Every known flavour name (`keyvalue_ttl`, ...), for suggestions. */
export function knownFlavourNames(): string[] {
  return MODELS.flatMap((m) => KNOWN_FLAVOURS[m].map((f) => `${m}_${f}`));
}
