/**
 * The TCP protocol's timer queue: every connection with a deadline sits in
 * one indexed min-heap, so the stack asks "when is the next one due" in O(1)
 * and moves a connection's deadline in O(log n), with 100k connections too.
 * The heap index and deadline live on the entry itself (no side map).
 */
import type { ConnEntry, TimeWaitEntry } from './tcp-entry.js';

/** What the heap holds: connections, and TIME-WAIT records (their 2 MSL deadline). */
type HeapEntry = ConnEntry | TimeWaitEntry;

/** Indexed binary min-heap of connections by deadline: O(log n) insert, update and removal. */
export class DeadlineHeap {
  readonly #a: HeapEntry[] = [];

  get size(): number {
    return this.#a.length;
  }

  peek(): HeapEntry | undefined {
    return this.#a[0];
  }

  /** Sets (or clears, with undefined) an entry's deadline. */
  set(e: HeapEntry, at: number | undefined): void {
    if (at === undefined) {
      this.remove(e);
      return;
    }
    if (e.heapIndex < 0) {
      e.deadline = at;
      e.heapIndex = this.#a.length;
      this.#a.push(e);
      this.#up(e.heapIndex);
      return;
    }
    const old = e.deadline;
    e.deadline = at;
    if (at < old) this.#up(e.heapIndex);
    else if (at > old) this.#down(e.heapIndex);
  }

  /** Puts `e` in `old`'s place with deadline `at` (`old` leaves the heap), in one sift instead of a removal and an insertion. */
  replace(old: HeapEntry, e: HeapEntry, at: number): void {
    const i = old.heapIndex;
    if (i < 0 || e.heapIndex >= 0) {
      this.remove(old);
      this.set(e, at);
      return;
    }
    old.heapIndex = -1;
    old.deadline = Number.POSITIVE_INFINITY;
    this.#a[i] = e;
    e.heapIndex = i;
    e.deadline = at;
    this.#up(i);
    this.#down(e.heapIndex);
  }

  remove(e: HeapEntry): void {
    const i = e.heapIndex;
    if (i < 0) return;
    const last = this.#a.pop()!;
    e.heapIndex = -1;
    e.deadline = Number.POSITIVE_INFINITY;
    if (last === e) return;
    this.#a[i] = last;
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  #swap(i: number, j: number): void {
    const a = this.#a[i]!;
    const b = this.#a[j]!;
    this.#a[i] = b;
    this.#a[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.#a[p]!.deadline <= this.#a[i]!.deadline) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const n = this.#a.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#a[l]!.deadline < this.#a[m]!.deadline) m = l;
      if (r < n && this.#a[r]!.deadline < this.#a[m]!.deadline) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
