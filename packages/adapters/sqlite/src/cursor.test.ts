import { describeScanCursorValidation } from '@prism/keyvalue-scan/conformance';
import { instantiatePlugin } from '@prism/sdk';
import plugin from './index.js';

// SQLite cursors are base64url of the last key (the shared keyvalue-scan encoding).
describeScanCursorValidation(
  'sqlite adapter',
  (opts) => instantiatePlugin(plugin, { path: ':memory:' }, opts),
  {
    forge: (key) => Buffer.from(key, 'utf8').toString('base64url'),
    malformed: '_w',
  },
);
