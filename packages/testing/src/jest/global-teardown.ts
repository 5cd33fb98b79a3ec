import type { TestServer } from '../server.js';
import { SERVERS_KEY } from './global-setup.js';

/** Jest globalTeardown: stops every server the global setup started and removes their temp dirs. */
export default async function globalTeardown(): Promise<void> {
  const servers = ((globalThis as Record<string, unknown>)[SERVERS_KEY] as TestServer[] | undefined) ?? [];
  await Promise.all(servers.map((s) => s.dispose()));
  servers.length = 0;
}
