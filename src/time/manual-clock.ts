/**
 * A clock that only moves when told to: for tests and deterministic
 * simulation. Time jumps straight to each timer's due time, so an hour of
 * retransmission timeouts runs in microseconds of real time, and the same
 * calls always produce the same order of events.
 */
import type { Clock, TimerCallback, TimerHandle } from './clock.js';
import type { Duration } from './duration.js';
import type { Instant } from './instant.js';
import { formatInstant } from './instant.js';

/** One armed timer. It is also the handle handed out, so clearing costs no lookup. */
interface Entry {
  readonly owner: ManualClock;
  readonly at: Instant;
  /** Arming order: breaks ties between timers due at the same instant. */
  readonly seq: number;
  readonly fn: TimerCallback;
  /** Position in the heap array, -1 once fired or cleared. */
  index: number;
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export class ManualClock implements Clock {
  #now: Instant;
  /**
   * A binary min-heap ordered by (at, seq). Each entry knows its index, so
   * clearTimer removes it in O(log n) instead of leaving a tombstone: the
   * stack re-arms its poll timer after every poll, and tombstones of far
   * future timers would pile up.
   */
  readonly #heap: Entry[] = [];
  #seq = 0;
  #running = false;

  constructor(start: Instant = 0 as Instant) {
    if (!Number.isSafeInteger(start)) {
      throw new RangeError(`ManualClock: start is not a whole microsecond count: ${start}`);
    }
    this.#now = start;
  }

  now(): Instant {
    return this.#now;
  }

  setTimer(at: Instant, fn: TimerCallback): TimerHandle {
    if (!Number.isSafeInteger(at)) throw new RangeError(`ManualClock.setTimer: not a whole microsecond instant: ${at}`);
    const entry: Entry = { owner: this, at, seq: this.#seq++, fn, index: this.#heap.length };
    this.#heap.push(entry);
    this.#siftUp(entry.index);
    return entry as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const entry = handle as unknown as Entry;
    if (entry.owner !== this || entry.index < 0) return;
    this.#removeAt(entry.index);
  }

  /** Armed timers that have neither fired nor been cleared. */
  get pendingTimers(): number {
    return this.#heap.length;
  }

  /** When the earliest armed timer is due; undefined when none is armed. */
  nextTimerAt(): Instant | undefined {
    return this.#heap[0]?.at;
  }

  /** Moves time forward by `d` (see advanceTo). Returns the number of timers run. */
  advance(d: Duration): number {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`ManualClock.advance: not a non-negative whole duration: ${d}`);
    }
    return this.advanceTo((this.#now + d) as Instant);
  }

  /**
   * Moves time forward to `t`, running every timer due at or before `t` in
   * (due time, arming order) order, with `now()` set to each timer's due time
   * while it runs (timers armed in the past run at the current time). Timers
   * that callbacks arm inside the window run too. Ends with `now() === t`.
   * Returns the number of timers run.
   *
   * If a callback throws, the error propagates and the clock stays at that
   * timer's due time with the remaining timers still armed.
   */
  advanceTo(t: Instant): number {
    if (!Number.isSafeInteger(t)) throw new RangeError(`ManualClock.advanceTo: not a whole microsecond instant: ${t}`);
    if (t < this.#now) {
      throw new RangeError(
        `ManualClock.advanceTo: ${formatInstant(t)} is before now (${formatInstant(this.#now)}); time never goes back`,
      );
    }
    this.#enter('advanceTo');
    let ran = 0;
    try {
      for (;;) {
        const top = this.#heap[0];
        if (top === undefined || top.at > t) break;
        this.#fire(top);
        ran++;
      }
      this.#now = t;
    } finally {
      this.#running = false;
    }
    return ran;
  }

  /**
   * Jumps from timer to timer until none is armed, and returns how many ran.
   * Throws after `limit` timers: a timer that keeps re-arming itself (a
   * keepalive, a retransmission loop) would otherwise never let this return.
   */
  runUntilIdle(limit = 100_000): number {
    this.#enter('runUntilIdle');
    let ran = 0;
    try {
      for (;;) {
        const top = this.#heap[0];
        if (top === undefined) break;
        if (ran >= limit) {
          throw new Error(
            `ManualClock.runUntilIdle: ${this.#heap.length} timer(s) still armed after running ${limit}; ` +
              `does a timer keep re-arming itself? (now ${formatInstant(this.#now)})`,
          );
        }
        this.#fire(top);
        ran++;
      }
    } finally {
      this.#running = false;
    }
    return ran;
  }

  #enter(what: string): void {
    // Re-entering from a callback would run later timers before the current
    // one finishes, breaking the time order every caller relies on.
    if (this.#running) throw new Error(`ManualClock.${what}: called from inside a timer callback`);
    this.#running = true;
  }

  #fire(top: Entry): void {
    this.#removeAt(0);
    if (top.at > this.#now) this.#now = top.at;
    top.fn();
  }

  #removeAt(i: number): void {
    const heap = this.#heap;
    const removed = heap[i]!;
    removed.index = -1;
    const last = heap.pop()!;
    if (last === removed) return;
    heap[i] = last;
    last.index = i;
    // The moved entry may belong above or below its new place.
    if (i > 0 && before(last, heap[(i - 1) >> 1]!)) this.#siftUp(i);
    else this.#siftDown(i);
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    const e = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!before(e, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = e;
    e.index = i;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const e = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(heap[r]!, heap[l]!)) c = r;
      const child = heap[c]!;
      if (!before(child, e)) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = e;
    e.index = i;
  }
}
