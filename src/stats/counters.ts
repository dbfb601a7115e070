/**
 * Named event counters, like the lines of `netstat -s`. Layers that drop a
 * packet increment a counter instead of throwing, so drops stay visible.
 */
export class Counters {
  // Boxed values: a hot counter (per packet) costs one Map lookup and a
  // field add, instead of a get and a set that hashes the name twice.
  readonly #values = new Map<string, { n: number }>();

  increment(name: string, by = 1): void {
    const box = this.#values.get(name);
    if (box !== undefined) box.n += by;
    else this.#values.set(name, { n: by });
  }

  get(name: string): number {
    return this.#values.get(name)?.n ?? 0;
  }

  /** A sorted plain-object copy, for printing and assertions. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.#values.keys()].sort()) out[k] = this.#values.get(k)!.n;
    return out;
  }

  reset(): void {
    this.#values.clear();
  }
}
