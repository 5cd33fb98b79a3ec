import { KNOWN_FLAVOURS, MODELS, parseFlavour, SLOT_PATTERNS } from '@prism/config';
import { type BackendInfo, backendsImplementing, modelFlavours } from './metadata.js';

/** Status of a pattern whose namespaces the proxy starts. */
export const SERVED = 'served';
/** Status of a pattern the config accepts but the proxy refuses to start (slot patterns, today). */
export const NOT_SERVED = 'not served by this proxy version';

/** One flavour of a model pattern. */
export interface FlavourInfo {
  /** E.g. `keyvalue_ttl`. */
  readonly interface: string;
  /** E.g. `ttl`: what `needs: { ttl: true }` asks for. */
  readonly feature: string;
  /** Listed in the config's KNOWN_FLAVOURS (false: only declared by some backend). */
  readonly known: boolean;
  /** Installed backends implementing it. */
  readonly backends: readonly string[];
}

/** A data model used as a single-backend pattern (`pattern: keyvalue`, `backend:`, `needs:`). */
export interface ModelPatternInfo {
  readonly name: string;
  readonly kind: 'model';
  /** {@link SERVED}, or why not (no installed backend implements `<model>_basic`). */
  readonly status: string;
  readonly served: boolean;
  /** `<model>_basic` first. */
  readonly flavours: readonly FlavourInfo[];
  /** Installed backends that can serve it (implement `<model>_basic`). */
  readonly backends: readonly string[];
}

/** One slot of a slot pattern. */
export interface SlotInfo {
  readonly slot: string;
  readonly description: string;
  /** Whether a namespace may leave it out. */
  readonly optional: boolean;
  /** Interfaces its backend must implement. */
  readonly required: readonly string[];
  /** Interfaces that are nice to have. */
  readonly optionalInterfaces: readonly string[];
  /** Installed backends that can fill it (implement every required interface). */
  readonly backends: readonly string[];
  /** Those of {@link backends} that also implement every optional interface. */
  readonly fullBackends: readonly string[];
}

/** A composed pattern that fills named slots with backends (`slots:`). */
export interface SlotPatternInfo {
  readonly name: string;
  readonly kind: 'slots';
  readonly status: string;
  readonly served: boolean;
  readonly slots: readonly SlotInfo[];
}

/** A pattern as `prismctl patterns` shows it. */
export type PatternInfo = ModelPatternInfo | SlotPatternInfo;

const types = (bs: readonly BackendInfo[]) => bs.map((b) => b.type);

function modelPattern(model: (typeof MODELS)[number], backends: readonly BackendInfo[]): ModelPatternInfo {
  const basic = `${model}_basic`;
  const flavours = modelFlavours(model, backends).map(
    (f): FlavourInfo => ({
      interface: f,
      feature: parseFlavour(f)?.feature ?? f,
      known: KNOWN_FLAVOURS[model].includes(parseFlavour(f)?.feature ?? ''),
      backends: types(backendsImplementing(backends, [f])),
    }),
  );
  const serving = types(backendsImplementing(backends, [basic]));
  return {
    name: model,
    kind: 'model',
    status: serving.length ? SERVED : `no installed backend implements ${basic}`,
    served: serving.length > 0,
    flavours,
    backends: serving,
  };
}

function slotPattern(name: string, backends: readonly BackendInfo[]): SlotPatternInfo {
  const slots = Object.entries(SLOT_PATTERNS[name] ?? {}).map(([slot, s]): SlotInfo => {
    const fit = backendsImplementing(backends, s.needs);
    const optionalInterfaces = s.optionalNeeds ?? [];
    return {
      slot,
      description: s.description,
      optional: s.optional === true,
      required: s.needs,
      optionalInterfaces,
      backends: types(fit),
      fullBackends: types(backendsImplementing(fit, optionalInterfaces)),
    };
  });
  // The config validates slot namespaces, but the proxy refuses to start them (see loadProxyConfig).
  return { name, kind: 'slots', status: NOT_SERVED, served: false, slots };
}

/** Every pattern: the models, then the slot patterns, with the installed backends that fit. */
export function describePatterns(backends: readonly BackendInfo[]): PatternInfo[] {
  return [
    ...MODELS.map((m) => modelPattern(m, backends)),
    ...Object.keys(SLOT_PATTERNS).map((p) => slotPattern(p, backends)),
  ];
}
