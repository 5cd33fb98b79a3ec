import { KeyValueBasic } from '@prism/keyvalue-basic';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { ListBasic } from '@prism/list-basic';
import type { InterfaceDefinition } from '@prism/sdk';

/**
 * Every interface flavour the proxy serves. Each is mounted once; a namespace whose backend lacks one
 * answers UNIMPLEMENTED. Adding a flavour = adding its contract package here.
 */
export const KNOWN_INTERFACES: readonly InterfaceDefinition[] = [
  KeyValueBasic,
  KeyValueTTL,
  KeyValueScan,
  ListBasic,
];
