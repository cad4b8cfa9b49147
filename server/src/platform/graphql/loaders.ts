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

/** Orders batch results to match the keys, as DataLoader requires; missing keys resolve to null. */
export function byKeys<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): (V | null)[] {
  const map = new Map<K, V>();
  for (const row of rows) map.set(keyOf(row), row);
  return keys.map((k) => map.get(k) ?? null);
}
