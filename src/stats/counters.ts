/**
 * Named event counters, like the lines of `netstat -s`. Layers that drop a
 * packet increment a counter instead of throwing, so drops stay visible.
 */
export class Counters {
  readonly #values = new Map<string, number>();

  increment(name: string, by = 1): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.#values.get(name) ?? 0;
  }

  /** A sorted plain-object copy, for printing and assertions. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.#values.keys()].sort()) out[k] = this.#values.get(k)!;
    return out;
  }

  reset(): void {
    this.#values.clear();
  }
}
