import DataLoader from 'dataloader';

/**
 * Per-request DataLoaders, created on first use by name. A resolver asks for
 * `ctx.loaders.get('templateByName', () => new DataLoader(batch))`; every nested field in the same
 * request shares that loader, so a list of N sessions resolves their templates in one batch.
 * Nothing is shared between requests, so one caller never sees another's cached rows.
 */
export class LoaderRegistry {
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  get<K, V>(name: string, create: () => DataLoader<K, V>): DataLoader<K, V> {
    let loader = this.loaders.get(name);
    if (!loader) {
      loader = create() as unknown as DataLoader<unknown, unknown>;
      this.loaders.set(name, loader);
    }
    return loader as unknown as DataLoader<K, V>;
  }
}
