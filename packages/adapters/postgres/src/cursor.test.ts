import { describeScanCursorValidation } from '@prism/keyvalue-scan/conformance';
import { instantiatePlugin } from '@prism/sdk';
import { createDatabase, testServerUrl } from '@prism/testing';
import plugin from './index.js';

// PostgreSQL cursors are base64url of the last key (the shared keyvalue-scan encoding).
describeScanCursorValidation(
  'postgres adapter',
  async (opts) =>
    instantiatePlugin(plugin, { url: await createDatabase(testServerUrl('postgres')), pool_size: 2 }, opts),
  { forge: (key) => Buffer.from(key, 'utf8').toString('base64url'), malformed: '_w' },
);
