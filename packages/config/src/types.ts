import type { Isolation, Limits, Permission, z } from '@prism/sdk';

/** What a catalog knows about one backend type. */
export interface BackendDescription {
  /** Flavours the backend implements, e.g. `keyvalue_basic`. */
  interfaces: readonly string[];
  configSchema?: z.ZodType;
  /**
   * Where a namespace's data lives on the backend (the plugin definition's `isolation`), called with the
   * config parsed by `configSchema`. Namespaces on a shared endpoint whose scopes overlap are rejected.
   */
  isolation?: (config: unknown, namespace: string) => Isolation | undefined;
}

/**
 * What the caller knows about backends: the proxy builds it from plugin definitions
 * (`name` → `type`, interface names → `interfaces`, `configSchema`, `isolation`).
 */
export interface BackendCatalog {
  /** Known backend types, e.g. `['memstore', 'redis']`. */
  types(): readonly string[];
  /** Flavours a backend implements, its config schema and isolation; undefined when unknown. */
  describe(type: string): BackendDescription | undefined;
}

/** How the proxy runs a backend plugin. */
export type PluginMode = 'in_process' | 'sidecar' | 'remote';

/** TLS settings for a sidecar or remote plugin. Paths are absolute (resolved against the config file). */
export interface TlsConfig {
  /** PEM file with the CA bundle that signs the plugin's certificate. */
  ca?: string;
  /** PEM client certificate (mutual TLS); set together with `key`. */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
  /** Name to verify in the plugin's certificate instead of the endpoint host. */
  serverName?: string;
  /** Skips certificate verification; for development only. */
  insecureSkipVerify?: boolean;
}

/** One backend: its type, how the plugin runs, and its (reference-resolved, not yet schema-parsed) config. */
export interface BackendConfig {
  type: string;
  plugin: { mode: PluginMode; endpoint?: string; tls?: TlsConfig; package?: string };
  /** `backend.config` as written, with `${env:}`/`${file:}` resolved; the plugin's schema applies its defaults. */
  config: Record<string, unknown>;
  /**
   * Paths inside `config` of the strings that came from `${env:}`/`${file:}` references (secrets). Sidecar
   * and remote plugins get these in Initialize `credentials`, never in the config blob. Absent = none.
   */
  secretPaths?: readonly (readonly (string | number)[])[];
  /**
   * Environment variables `config` references (`${env:NAME}`), sorted. A sidecar process gets these and a
   * minimal base environment, never the rest of the proxy's. Absent = none.
   */
  envNames?: readonly string[];
}

/** One validated namespace. */
export interface NamespaceConfig {
  name: string;
  /** Client-facing pattern: `keyvalue`, `list`, `pubsub`, `queue`, `stream`, ..., or a slot pattern such as `multicast-registry`. */
  pattern: string;
  /** Flavours the backend must implement, including the pattern's `<model>_basic`; empty for slot patterns. */
  needs: readonly string[];
  /** Set for single-backend patterns. */
  backend?: BackendConfig;
  /** Set for slot patterns (see {@link SLOT_PATTERNS}). */
  slots?: Readonly<Record<string, BackendConfig>>;
  /** Namespace limits over proxy limits over `DEFAULT_LIMITS`. */
  limits: Limits;
  /** Who may do what (`access:`); empty means nobody when `proxy.auth` is set. */
  access: readonly AccessRule[];
  /** `limits.rate`: a token bucket per namespace or per principal. */
  rate?: RateLimit;
  /** `limits.max_concurrent`: calls (open streams included) the namespace runs at once, per replica. */
  maxConcurrent?: number;
  /**
   * `per_worker: true`: with `--workers N`, each worker may hold its own copy of a backend that keeps its
   * data in the plugin's process (MemStore). Without it such a namespace is refused with more than one worker.
   */
  perWorker?: boolean;
  /** Where the namespace is declared (its list item). */
  source: { file: string; line: number };
}

/**
 * One `access:` rule: any of `principals` gets all of `permissions`. A principal pattern is
 * `sub:NAME`, `group:NAME`, a `spiffe://` id, `*` (any authenticated caller) or `anonymous`.
 */
export interface AccessRule {
  principals: string[];
  permissions: Permission[];
}

/** A token bucket: `requestsPerSecond` refill, `burst` capacity, one bucket per namespace or principal. */
export interface RateLimit {
  requestsPerSecond: number;
  burst: number;
  per: 'namespace' | 'principal';
}

/** `proxy.tls`: TLS on the client port. Paths are absolute (resolved against the config file). */
export interface ServerTlsConfig {
  certFile: string;
  keyFile: string;
  /** CA bundle client certificates are verified against (mutual TLS). */
  clientCaFile?: string;
  /** Refuse connections without a valid client certificate (default false: optional). */
  requireClientCert: boolean;
}

/** A JWT (OIDC) authentication provider. */
export interface JwtProviderConfig {
  name: string;
  type: 'jwt';
  issuer: string;
  audience: string[];
  /** Where the signing keys are; absent: discovered from `${issuer}/.well-known/openid-configuration`. */
  jwksUrl?: string;
  /** Accepted signature algorithms (asymmetric only). */
  algorithms: string[];
  /** Claim holding the caller's groups (a list or a space-separated string). */
  groupsClaim: string;
  /** Allowance for clock skew when checking `exp` and `nbf`. */
  clockSkewSeconds: number;
}

/** Client-certificate authentication (needs `proxy.tls.client_ca_file`). */
export interface MtlsProviderConfig {
  name: string;
  type: 'mtls';
}

export type AuthProviderConfig = JwtProviderConfig | MtlsProviderConfig;

/** `proxy.auth`: who callers are. */
export interface AuthConfig {
  providers: AuthProviderConfig[];
  /** Calls without credentials go on as principal `anonymous` instead of failing (default false). */
  allowAnonymous: boolean;
}

/** `proxy.connections` (every field has a default; see PROXY_DEFAULTS). */
export interface ConnectionsConfig {
  max: number;
  maxPerIp: number;
  maxStreamsPerConnection: number;
  /** Server streams open in the proxy at once (subscriptions, scans). */
  maxOpenStreams: number;
  /** Request bytes being read or waiting for an answer, all calls together. */
  maxInflightRequestBytes: number;
  firstBytesTimeoutMs: number;
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleSessionTimeoutMs: number;
}

/** `proxy.audit`: one record per call, to its own sink. */
export interface AuditConfig {
  /** File the records are appended to (JSON lines); absent: stdout. */
  path?: string;
  /** Share of successful reads recorded (writes, admin calls and failures always are). */
  sampleReads: number;
}

/** Proxy-wide settings. */
export interface ProxyConfig {
  listen: { host: string; port: number };
  /** Largest request message the proxy accepts, in bytes. */
  readMaxBytes: number;
  cors: { allowedOrigins: string[] };
  /** How long SIGTERM waits for in-flight calls before closing them. */
  shutdownTimeoutMs: number;
  /** Default limits for every namespace (over `DEFAULT_LIMITS`). */
  limits: Limits;
  adminToken?: string;
  /**
   * `proxy.admin`: the admin API (`prism.admin.v1.AdminService`) on its own listener; absent = none. A
   * listen address off loopback needs `adminToken` or `auth` (the admin API restarts plugins).
   */
  admin?: { listen: { host: string; port: number } };
  /** Request metrics (`prism_requests_total`, …) on `/metrics`; default on. `listen`: a separate listener for `/metrics`. */
  metrics: { enabled: boolean; listen?: { host: string; port: number } };
  tls?: ServerTlsConfig;
  auth?: AuthConfig;
  audit?: AuditConfig;
  /** Rules that apply to every namespace; `admin` here also grants `/metrics` and the admin surface. */
  access: AccessRule[];
  /** `proxy.connections`: what one client, and all together, may hold open, and for how long. */
  connections: ConnectionsConfig;
  /** OpenTelemetry traces over OTLP/HTTP; off when absent. */
  tracing?: { otlpEndpoint: string; sampleRatio: number };
  /**
   * Fail the start when any namespace's backend cannot be reached (`require_all_backends`). Default false:
   * such a namespace answers UNAVAILABLE and is NOT_SERVING while the proxy keeps starting it with backoff.
   */
  requireAllBackends: boolean;
}

/** A fully validated config file. */
export interface PrismConfig {
  file: string;
  proxy: ProxyConfig;
  namespaces: readonly NamespaceConfig[];
}
