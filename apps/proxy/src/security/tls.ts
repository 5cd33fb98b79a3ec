import { readFileSync } from 'node:fs';
import type { ServerTlsConfig } from '@prism/config';
import type { ListenerTls } from '../listener.js';

/** Reads the client port's certificate files (at start and on SIGHUP); errors name the file. */
export function loadListenerTls(config: ServerTlsConfig): ListenerTls {
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`proxy.tls.${what}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  return {
    cert: read('cert_file', config.certFile),
    key: read('key_file', config.keyFile),
    ca: config.clientCaFile === undefined ? undefined : read('client_ca_file', config.clientCaFile),
    requireClientCert: config.requireClientCert,
  };
}
