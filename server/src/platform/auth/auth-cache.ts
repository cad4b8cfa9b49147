/**
 * A short-lived read-through cache for what every request's authentication reads (the caller's user row, "this
 * sign-in is not revoked"): an entry lives at most `ttlMs`, the map starts over when it holds `max`, and `forget`
 * (a change on this replica, or its pub/sub event from another) drops entries at once. A read that raced with a
 * `forget` is not kept (the generation moved on while it ran), so a change can never be hidden by a late read.
 */
export class AuthCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  private generation = 0;

  constructor(private readonly options: { ttlMs: number; max: number }) {}

  /** The cached value, or `load`'s (kept only when `keep` says so). */
  async read(key: string, load: () => Promise<V>, keep: (value: V) => boolean): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < this.options.ttlMs) return hit.value;
    const generation = this.generation;
    const value = await load();
    if (keep(value) && generation === this.generation) {
      if (this.entries.size >= this.options.max) this.entries.clear();
      this.entries.set(key, { value, at: Date.now() });
    }
    return value;
  }

  /** Drops one key's entry, or every entry. */
  forget(key?: string): void {
    this.generation++;
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }
}
