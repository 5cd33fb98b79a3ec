import { KeyValueScanInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_scan_pb';
import { checkKey, defineInterface, type InterfaceImpl, invalidArgument, type Limits } from '@prism/sdk';

export * from '@prism/proto/prism/keyvalue/v1/keyvalue_scan_pb';
export * from './cursor.js';

/** Items per page when a request leaves `page_size` at 0. */
export const DEFAULT_PAGE_SIZE = 100;
/** Largest `page_size` a request may ask for. */
export const MAX_PAGE_SIZE = 10_000;

/** A prefix may be empty (all keys); otherwise it follows the key rules, since no longer key can exist. */
function checkPrefix(prefix: string, limits: Limits): void {
  if (prefix.length > 0) checkKey(prefix, limits, 'prefix');
}

function checkPageSize(pageSize: number): void {
  if (pageSize > MAX_PAGE_SIZE)
    throw invalidArgument(
      `page_size is ${pageSize}; at most ${MAX_PAGE_SIZE} (0 means ${DEFAULT_PAGE_SIZE})`,
    );
}

/** The keyvalue_scan flavour: Scan and ScanKeys (server streams of pages) and Count, by literal prefix. */
export const KeyValueScan = defineInterface(
  'keyvalue_scan',
  KeyValueScanInterface,
  { scan: 'read', scanKeys: 'read', count: 'read' },
  {
    scan: (req, limits) => {
      checkPrefix(req.prefix, limits);
      checkPageSize(req.pageSize);
    },
    scanKeys: (req, limits) => {
      checkPrefix(req.prefix, limits);
      checkPageSize(req.pageSize);
    },
    count: (req, limits) => checkPrefix(req.prefix, limits),
  },
);

/** What an adapter implements for keyvalue_scan. */
export type KeyValueScanImpl = InterfaceImpl<typeof KeyValueScanInterface>;

/**
 * The page size a request asks for, resolved against the default. Adapters use it so every backend
 * pages the same way.
 */
export function effectivePageSize(pageSize: number): number {
  return pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
}
