/**
 * Real time, from `performance.now()` and `setTimeout`: both exist in every
 * runtime we target (Node, browsers, Deno, Bun), so no `node:` import.
 */
import type { Clock, TimerCallback, TimerHandle } from './clock.js';
import type { Instant } from './instant.js';

export interface SystemClockOptions {
  /**
   * What `now()` counts from. 'unix' (the default): microseconds since
   * 1970-01-01 UTC, so pcap captures carry real dates; still monotonic, since
   * it is performance.now() plus a fixed origin, not the wall clock (which
   * NTP may step back). 'origin': microseconds since the runtime's
   * performance time origin (about process start), smaller numbers for logs.
   */
  readonly epoch?: 'unix' | 'origin';
  /**
   * Whether an armed timer may keep the process alive. Default false: timers
   * are unref'd where the runtime supports it (Node, Bun, Deno), so a clock
   * never keeps a process alive by itself: a stack whose only pending work is
   * a keepalive or TIME-WAIT timer lets the program exit. Pass `true` to make
   * armed timers hold the process open.
   */
  readonly keepAlive?: boolean;
}

type Timeout = ReturnType<typeof setTimeout>;

/** Our handle: the platform timer underneath changes when a long wait is split up. */
interface Entry {
  readonly owner: SystemClock;
  readonly at: Instant;
  readonly fn: TimerCallback;
  timeout: Timeout | undefined;
}

/**
 * setTimeout's delay is a signed 32-bit millisecond count: anything longer
 * (about 24.8 days) fires after 1 ms in Node and browsers. Longer waits are
 * split into steps of at most this.
 */
const MAX_DELAY_MS = 0x7fffffff;

export class SystemClock implements Clock {
  readonly #originMs: number;
  readonly #keepAlive: boolean;
  #last = 0;
  #pending = 0;

  constructor(options: SystemClockOptions = {}) {
    this.#keepAlive = options.keepAlive ?? false;
    if ((options.epoch ?? 'unix') === 'unix') {
      // timeOrigin is the Unix-epoch time of performance.now() === 0. Read it
      // once: adding a constant keeps performance.now()'s monotonicity.
      const origin = (globalThis.performance as { timeOrigin?: number }).timeOrigin;
      this.#originMs = typeof origin === 'number' && origin > 0 ? origin : Date.now() - performance.now();
    } else {
      this.#originMs = 0;
    }
  }

  now(): Instant {
    const v = Math.floor((this.#originMs + performance.now()) * 1000);
    // Belt and braces: some runtimes coarsen performance.now() (timing-attack
    // mitigations) and floating error could in principle step back by 1 us.
    if (v > this.#last) this.#last = v;
    return this.#last as Instant;
  }

  /** Timers armed and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#pending;
  }

  setTimer(at: Instant, fn: TimerCallback): TimerHandle {
    if (Number.isNaN(at)) throw new RangeError('SystemClock.setTimer: at is NaN');
    const entry: Entry = { owner: this, at, fn, timeout: undefined };
    this.#pending++;
    this.#arm(entry);
    return entry as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const entry = handle as unknown as Entry;
    if (entry.owner !== this || entry.timeout === undefined) return;
    clearTimeout(entry.timeout);
    entry.timeout = undefined;
    this.#pending--;
  }

  #arm(entry: Entry): void {
    const waitMs = (entry.at - this.now()) / 1000;
    // Round up: a timer that fires a fraction of a millisecond early would
    // only be re-armed below.
    const delay = Math.min(Math.max(0, Math.ceil(waitMs)), MAX_DELAY_MS);
    const t = setTimeout(() => this.#expire(entry), delay);
    if (!this.#keepAlive) {
      const u = t as unknown as { unref?: unknown };
      if (typeof u.unref === 'function') (u.unref as () => void).call(t);
    }
    entry.timeout = t;
  }

  #expire(entry: Entry): void {
    if (entry.timeout === undefined) return; // cleared meanwhile
    // The Clock contract promises now() >= at inside the callback, but
    // runtimes may fire a millisecond early (Node's loop time is coarser than
    // performance.now()) and long waits are split: wait again for the rest.
    if (this.now() < entry.at) {
      this.#arm(entry);
      return;
    }
    entry.timeout = undefined;
    this.#pending--;
    entry.fn();
  }
}
