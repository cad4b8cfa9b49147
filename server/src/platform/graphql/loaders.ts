import DataLoader from 'dataloader';

/**
 * Per-request DataLoaders, created on first use by name. A resolver asks for
 * `ctx.loaders.get('templateByName', () => new DataLoader(batch))`; every nested field in the same
 * request shares that loader, so a list of N sessions resolves their templates in one batch.
 * Nothing is shared between requests, so one caller never sees another's cached rows.
 */
export class LoaderRegistry {
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  private readonly maps = new Map<string, Map<unknown, unknown>>();

  /** A plain map kept for this request: for values known without waiting (a watch cache), which need no batching. */
  map<K, V>(name: string): Map<K, V> {
    let map = this.maps.get(name);
    if (!map) this.maps.set(name, (map = new Map()));
    return map as Map<K, V>;
  }

  get<K, V>(name: string, create: () => DataLoader<K, V>): DataLoader<K, V> {
    let loader = this.loaders.get(name);
    if (!loader) {
      loader = create() as unknown as DataLoader<unknown, unknown>;
      this.loaders.set(name, loader);
    }
    return loader as unknown as DataLoader<K, V>;
  }
}
