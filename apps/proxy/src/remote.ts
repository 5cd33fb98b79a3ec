import { readFile } from 'node:fs/promises';
import type { NamespaceConfig, TlsConfig } from '@prism/config';
import { createPluginTransport, type InterfaceDefinition, type PluginClientTls } from '@prism/sdk';
import { attachPlugin, detachPlugin } from './attach.js';
import type { PluginConnection } from './supervisor.js';

/** Reads the PEM files of a `plugin.tls` block (paths are absolute after config loading). */
export async function readClientTls(tls: TlsConfig | undefined): Promise<PluginClientTls | undefined> {
  if (!tls) return undefined;
  const read = async (file: string | undefined, what: string) => {
    if (!file) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`cannot read plugin.tls.${what} ${file}: ${(err as Error).message}`);
    }
  };
  const [ca, cert, key] = await Promise.all([
    read(tls.ca, 'ca'),
    read(tls.cert, 'cert'),
    read(tls.key, 'key'),
  ]);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tls.serverName ? { serverName: tls.serverName } : {}),
    ...(tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
  };
}

/** Everything a remote connection needs; reused on each reconnect. */
export interface RemoteSpec {
  readonly namespace: NamespaceConfig;
  readonly endpoint: string;
  readonly tls: PluginClientTls | undefined;
  readonly interfaces: readonly InterfaceDefinition[];
}

/** Connects to a plugin server at `endpoint` (TLS/mTLS from the config) and runs Describe/Initialize/Start. */
export async function connectRemote(spec: RemoteSpec): Promise<PluginConnection> {
  const transport = createPluginTransport({ url: spec.endpoint, ...(spec.tls ? { tls: spec.tls } : {}) });
  try {
    const attached = await attachPlugin(
      transport,
      spec.namespace,
      spec.interfaces,
      `remote plugin ${spec.endpoint}`,
    );
    return {
      attached,
      dispose: async () => {
        await detachPlugin(attached, 5000);
        transport.close();
      },
    };
  } catch (err) {
    transport.close();
    throw err;
  }
}
