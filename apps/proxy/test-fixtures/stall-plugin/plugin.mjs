// A plugin for the proxy's deadline tests (served as a sidecar by bin.mjs): Get answers only when its call is aborted, and every
// event is appended to `config.log` (one JSON line each), so a test can see what reached the plugin.
import { appendFileSync } from 'node:fs';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { definePlugin, implement, z } from '@prism/sdk';

const note = (file, event) => appendFileSync(file, `${JSON.stringify({ at: Date.now(), ...event })}\n`);

export default definePlugin({
  name: 'stall',
  version: '0.0.0',
  interfaces: [KeyValueBasic],
  configSchema: z.object({ log: z.string() }),
  create: (config) => ({
    bindings: [
      implement(KeyValueBasic, {
        get: (req, ctx) =>
          new Promise((resolve) => {
            note(config.log, { event: 'start', key: req.key, deadline: ctx.deadline ?? null });
            ctx.signal.addEventListener('abort', () => {
              note(config.log, { event: 'abort', key: req.key, code: ctx.signal.reason?.code ?? null });
              resolve({ found: false });
            });
          }),
        set: () => ({}),
        delete: () => ({ deleted: false }),
        exists: () => ({ exists: false }),
      }),
    ],
  }),
});
