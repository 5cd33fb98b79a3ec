import type { Limits, z } from '@prism/sdk';

/**
 * What the caller knows about backends: the proxy builds it from plugin definitions
 * (`name` → `type`, interface names → `interfaces`, `configSchema`).
 */
export interface BackendCatalog {
  /** Known backend types, e.g. `['memstore', 'redis']`. */
  types(): readonly string[];
  /** Flavours a backend implements (e.g. `keyvalue_basic`) and its config schema; undefined when unknown. */
  describe(type: string): { interfaces: readonly string[]; configSchema?: z.ZodType } | undefined;
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
  /** Where the namespace is declared (its list item). */
  source: { file: string; line: number };
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
  /** Request metrics (`prism_requests_total`, …) on `/metrics`; default on. */
  metrics: { enabled: boolean };
  /** OpenTelemetry traces over OTLP/HTTP; off when absent. */
  tracing?: { otlpEndpoint: string; sampleRatio: number };
}

/** A fully validated config file. */
export interface PrismConfig {
  file: string;
  proxy: ProxyConfig;
  namespaces: readonly NamespaceConfig[];
}
