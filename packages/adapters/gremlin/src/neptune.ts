import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { type PluginContext, type PluginInstance, unauthenticated, z } from '@prism/sdk';
import { SignatureV4 } from '@smithy/signature-v4';
import { gremlinFields } from './config.js';

// graph_query is not offered on Neptune, so its fields are not accepted either.
const { allow_writes: _allowWrites, read_only_traversal_source: _readOnly, ...neptuneFields } = gremlinFields;

import { createGremlinInstance } from './instance.js';

/** AWS credentials for signing: an access key pair, with a session token for temporary credentials. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** `backend.config` of a neptune namespace. Unknown fields are rejected so typos surface at load. */
export const NeptuneConfig = z
  .strictObject({
    /** The cluster (or instance) endpoint host, e.g. `db.cluster-xyz.eu-west-1.neptune.amazonaws.com`. */
    endpoint: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9.-]+$/, { message: 'must be a host name' }),
    port: z.number().int().min(1).max(65535).default(8182),
    /** AWS region of the cluster, for the SigV4 signature (e.g. `eu-west-1`). */
    region: z.string().min(1).optional(),
    /** Sign the WebSocket handshake with IAM SigV4 (service `neptune-db`). Default true. */
    iam_auth: z.boolean().default(true),
    /**
     * Explicit credentials. Prefer `${env:NAME}` / `${file:/path}` references. Unset: the default AWS chain
     * (environment, shared config and SSO, web identity, ECS/EC2 instance roles).
     */
    access_key_id: z.string().min(1).optional(),
    secret_access_key: z.string().min(1).optional(),
    session_token: z.string().min(1).optional(),
    /** TLS (wss://) is on by default, as Neptune requires; `false` only for local tests and tunnels. */
    tls: z.boolean().default(true),
    /** Extra trusted CA certificate(s), PEM, for `wss://`. */
    ca: z.string().optional(),
    /** Verify the server certificate (default true; false only for tests). */
    reject_unauthorized: z.boolean().default(true),
    ...neptuneFields,
  })
  .refine((c) => !c.iam_auth || c.region !== undefined, {
    message: 'iam_auth needs the cluster region (e.g. region: eu-west-1)',
    path: ['region'],
  })
  .refine((c) => (c.access_key_id === undefined) === (c.secret_access_key === undefined), {
    message: 'access_key_id and secret_access_key go together',
    path: ['secret_access_key'],
  });

/** Config accepted by the neptune backend (defaults applied). */
export type NeptuneConfig = z.output<typeof NeptuneConfig>;

/** What {@link signNeptuneHandshake} signs. */
export interface NeptuneHandshake {
  readonly host: string;
  readonly port: number;
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** The signing time (default now); fixed in tests. */
  readonly date?: Date;
}

/**
 * SigV4 headers for the WebSocket handshake `GET https://<host>:<port>/gremlin` (service `neptune-db`, empty
 * body): `host`, `x-amz-date`, `authorization` and, for temporary credentials, `x-amz-security-token`.
 */
export async function signNeptuneHandshake(h: NeptuneHandshake): Promise<Record<string, string>> {
  const host = `${h.host}:${h.port}`;
  const signer = new SignatureV4({
    credentials: h.credentials,
    region: h.region,
    service: 'neptune-db',
    sha256: Sha256,
    // Neptune signs host and x-amz-date only (no x-amz-content-sha256 header), like its own SigV4 clients.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: h.host,
      port: h.port,
      path: '/gremlin',
      query: {},
      headers: { host },
    },
    h.date ? { signingDate: h.date } : {},
  );
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) out[k.toLowerCase()] = String(v);
  return out;
}

/** The credentials a config names: explicit keys, or the default AWS provider chain. */
export function neptuneCredentials(config: NeptuneConfig): () => Promise<AwsCredentials> {
  if (config.access_key_id && config.secret_access_key) {
    const creds: AwsCredentials = {
      accessKeyId: config.access_key_id,
      secretAccessKey: config.secret_access_key,
      ...(config.session_token ? { sessionToken: config.session_token } : {}),
    };
    return async () => creds;
  }
  // The chain caches and refreshes temporary credentials itself.
  const chain = fromNodeProviderChain();
  return async () => {
    try {
      return await chain();
    } catch (err) {
      throw unauthenticated(`no AWS credentials for Neptune IAM auth: ${(err as Error).message}`);
    }
  };
}

/** The Neptune instance for one namespace: the Gremlin adapter over wss:// with a signed handshake. */
export function createNeptuneInstance(config: NeptuneConfig, ctx: PluginContext): PluginInstance {
  const url = `${config.tls ? 'wss' : 'ws'}://${config.endpoint}:${config.port}/gremlin`;
  const credentials = neptuneCredentials(config);
  const region = config.region ?? '';
  return createGremlinInstance(
    {
      url,
      backend: 'neptune',
      fields: { ...config, allow_writes: false },
      query: false,
      ...(config.ca === undefined ? {} : { ca: config.ca }),
      rejectUnauthorized: config.reject_unauthorized,
      ...(config.iam_auth
        ? {
            // Signed again for every new connection: a signature is only accepted for a few minutes.
            headers: async () =>
              signNeptuneHandshake({
                host: config.endpoint,
                port: config.port,
                region,
                credentials: await credentials(),
              }),
          }
        : {}),
    },
    ctx,
  );
}
