/**
 * Named event counters, like the lines of `netstat -s`. Layers that drop a
 * packet increment a counter instead of throwing, so drops stay visible.
 */

/**
 * One counter's storage, for a per-packet path: `cell.n += k` is a field add,
 * where `increment(name)` hashes the name on every call (issue 9 profiles:
 * ~3% of a bulk transfer at MTU 1500 went to Map lookups of counter names).
 * Add only positive amounts through a cell: a counter shows up in
 * `snapshot()` once it is non-zero or has been passed to `increment`, so
 * taking a cell alone changes no output.
 */
export interface CounterCell {
  n: number;
}

class Cell implements CounterCell {
  n = 0;
  /** Passed to increment() (perhaps by 0) since the last reset: listed even at 0. */
  seen = false;
}

export class Counters {
  readonly #values = new Map<string, Cell>();

  increment(name: string, by = 1): void {
    let cell = this.#values.get(name);
    if (cell === undefined) {
      cell = new Cell();
      this.#values.set(name, cell);
    }
    cell.n += by;
    cell.seen = true;
  }

  /** The storage of counter `name`, to keep and add to directly on a hot path (see CounterCell). */
  cell(name: string): CounterCell {
    let cell = this.#values.get(name);
    if (cell === undefined) {
      cell = new Cell();
      this.#values.set(name, cell);
    }
    return cell;
  }

  get(name: string): number {
    return this.#values.get(name)?.n ?? 0;
  }

  /** A sorted plain-object copy, for printing and assertions. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.#values.keys()].sort()) {
      const cell = this.#values.get(k)!;
      if (cell.n !== 0 || cell.seen) out[k] = cell.n;
    }
    return out;
  }

  /** Zeroes every counter; cells handed out stay valid (and count from 0). */
  reset(): void {
    for (const cell of this.#values.values()) {
      cell.n = 0;
      cell.seen = false;
    }
  }
}
