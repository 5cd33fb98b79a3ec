import { describeScanCursorValidation } from '@prism/keyvalue-scan/conformance';
import { instantiatePlugin } from '@prism/sdk';
import plugin from './index.js';

// MemStore cursors are "k" + base64url of the last key.
describeScanCursorValidation('memstore adapter', (opts) => instantiatePlugin(plugin, {}, opts), {
  forge: (key) => `k${Buffer.from(key, 'utf8').toString('base64url')}`,
  malformed: 'k',
});
