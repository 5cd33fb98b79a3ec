import { unavailable } from '@prism/sdk';

/**
 * The keys of one data model in one namespace (sets, sorted sets): a map from key to value that refuses
 * every use, with UNAVAILABLE, once the namespace is shut down ({@link close}).
 */
export class KeySpace<V> {
  protected readonly entries = new Map<string, V>();
  private closed = false;

  constructor(private readonly namespace: string) {}

  /** Keys holding a value. */
  get size(): number {
    return this.entries.size;
  }

  close(): void {
    this.closed = true;
    this.entries.clear();
  }

  protected assertOpen(): void {
    if (this.closed)
      throw unavailable(
        `memstore backend of namespace "${this.namespace}" is closed; the namespace was shut down`,
      );
  }
}
