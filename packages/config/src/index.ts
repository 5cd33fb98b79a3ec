export { DEFAULT_CONFIG_YAML } from './default.js';
export { loadConfig } from './load.js';
export { type ParseOptions, parseConfig } from './parse.js';
export {
  isModel,
  KNOWN_FLAVOURS,
  knownFlavourNames,
  MODELS,
  type Model,
  PATTERN_ALIASES,
  PATTERNS,
  PLANNED_PATTERNS,
  parseFlavour,
  SLOT_PATTERNS,
  type SlotSpec,
} from './patterns.js';
export { ConfigError, type ConfigProblem, formatProblem } from './problems.js';
export { DEFAULT_ADMIN_LISTEN, PROXY_DEFAULTS } from './proxy.js';
export { DEFAULT_CLOCK_SKEW_SECONDS, JWT_ALGORITHMS } from './security.js';
export type {
  AccessRule,
  AuditConfig,
  AuthConfig,
  AuthProviderConfig,
  BackendCatalog,
  BackendConfig,
  BackendDescription,
  JwtProviderConfig,
  MtlsProviderConfig,
  NamespaceConfig,
  PluginMode,
  PrismConfig,
  ProxyConfig,
  RateLimit,
  ServerTlsConfig,
  TlsConfig,
} from './types.js';
