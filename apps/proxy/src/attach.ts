import { Code, ConnectError } from '@connectrpc/connect';
import type { NamespaceConfig } from '@prism/config';
import type { DescribeResponse } from '@prism/proto/prism/plugin/v1/lifecycle_pb';
import {
  connectPlugin,
  type InterfaceDefinition,
  type LifecycleClient,
  lifecycleClient,
  type PluginHandle,
  type PluginTransport,
  splitCredentials,
} from '@prism/sdk';

/** A started instance on a plugin server, as the supervisor holds it. */
export interface Attached {
  readonly describe: DescribeResponse;
  readonly instanceId: string;
  readonly lifecycle: LifecycleClient;
  /** Interfaces are Connect clients carrying the instance header. */
  readonly handle: PluginHandle;
  /** The interface definitions this proxy mounts and the plugin implements. */
  readonly interfaces: readonly InterfaceDefinition[];
}

const LIFECYCLE_TIMEOUT_MS = 30_000;

/** Flavours the plugin lacks among those the namespace needs (flavour names, or service type names). */
export function missingNeeds(
  needs: readonly string[],
  describe: DescribeResponse,
  known: readonly InterfaceDefinition[],
) {
  const have = new Set([...describe.flavours, ...describe.interfaces]);
  return needs.filter((need) => {
    if (have.has(need)) return false;
    const iface = known.find((i) => i.name === need);
    return !iface || !have.has(iface.service.typeName);
  });
}

/**
 * Runs the plugin lifecycle for one namespace on a plugin server: Describe, check the namespace's
 * `needs`, Initialize (config without secrets, credentials, limits), Start. Errors name the namespace
 * and the plugin; a failed Initialize or Start keeps the plugin's Connect code.
 */
export async function attachPlugin(
  transport: PluginTransport,
  namespace: NamespaceConfig,
  known: readonly InterfaceDefinition[],
  where: string,
): Promise<Attached> {
  const lifecycle = lifecycleClient(transport);
  const opts = { timeoutMs: LIFECYCLE_TIMEOUT_MS };
  const backend = namespace.backend;
  if (!backend) throw new Error(`namespace "${namespace.name}" has no backend`);
  // Keeps the plugin's code (UNAUTHENTICATED for a refused secret, INVALID_ARGUMENT for a bad config).
  const fail = (step: string, err: unknown): never => {
    const ce = ConnectError.from(err);
    throw new ConnectError(
      `namespace "${namespace.name}": ${where}: ${step} failed (${Code[ce.code]}): ${ce.rawMessage}`,
      ce.code,
      undefined,
      undefined,
      err,
    );
  };
  const describe = await lifecycle.describe({}, opts).catch((err) => fail('Describe', err));
  if (describe.name !== backend.type)
    throw new Error(
      `namespace "${namespace.name}": ${where} is plugin "${describe.name}", but the namespace's backend type is "${backend.type}"`,
    );
  const missing = missingNeeds(namespace.needs, describe, known);
  if (missing.length)
    throw new Error(
      `namespace "${namespace.name}" needs ${missing.join(', ')}, but plugin "${describe.name}" at ${where} implements only ${describe.flavours.join(', ') || 'nothing'}`,
    );
  // Secrets (values from ${env:}/${file:}) go in `credentials`, never in the config blob.
  const { config, credentials } = splitCredentials(backend.config ?? {}, backend.secretPaths ?? []);
  const init = await lifecycle
    .initialize(
      {
        namespace: namespace.name,
        configJson: JSON.stringify(config),
        credentials,
        limits: { maxKeyBytes: namespace.limits.maxKeyBytes, maxValueBytes: namespace.limits.maxValueBytes },
      },
      opts,
    )
    .catch((err) => fail('Initialize', err));
  await lifecycle.start({ instanceId: init.instanceId }, opts).catch(async (err) => {
    await lifecycle.stop({ instanceId: init.instanceId }, { timeoutMs: 2000 }).catch(() => {});
    return fail('Start', err);
  });
  const served = new Set(describe.interfaces);
  const interfaces = known.filter((i) => served.has(i.service.typeName));
  const handle = connectPlugin(transport, interfaces, {
    namespace: namespace.name,
    plugin: describe.name,
    version: describe.version,
    instanceId: init.instanceId,
  });
  return { describe, instanceId: init.instanceId, lifecycle, handle, interfaces };
}

/** Drains and stops an instance, best effort (the plugin may already be gone). */
export async function detachPlugin(attached: Attached, drainTimeoutMs: number): Promise<void> {
  const { lifecycle, instanceId } = attached;
  await lifecycle
    .drain({ instanceId, timeoutMs: drainTimeoutMs }, { timeoutMs: drainTimeoutMs + 1000 })
    .catch(() => {});
  await lifecycle.stop({ instanceId }, { timeoutMs: 5000 }).catch(() => {});
}
