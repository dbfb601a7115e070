/**
 * Real time, from `performance.now()` and `setTimeout`: both exist in every
 * runtime we target (Node, browsers, Deno, Bun), so no `node:` import.
 *
 * Timers that are already due when armed (at <= now) skip the platform timer:
 * a Stack wakes itself, and a MemoryNetwork delivers every frame, through
 * `setTimer(now)`, and setTimeout(0) is clamped to >= 1 ms (Node, browsers
 * after nesting), which made every hop cost a millisecond of idle time. They
 * go through a macrotask queue instead (setImmediate, else a MessageChannel,
 * else setTimeout(0)): still asynchronous, in arming order, cancellable, and
 * microtasks drain between two callbacks as between two setTimeout callbacks.
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
   * armed timers hold the process open. Timers already due when armed run
   * before the process exits either way (they wait for nothing).
   */
  readonly keepAlive?: boolean;
}

type Timeout = ReturnType<typeof setTimeout>;

/** Our handle: the platform timer underneath changes when a long wait is split up. */
interface Entry {
  readonly owner: SystemClock;
  readonly at: Instant;
  readonly fn: TimerCallback;
  /** The platform timer while waiting for a future instant. */
  timeout: Timeout | undefined;
  /** Queued on the fast path (due when armed): cleared by flipping this. */
  queued: boolean;
}

/** Runs a callback in a later macrotask. */
type Immediate = (fn: () => void) => void;

/**
 * The cheapest unclamped macrotask of the runtime. Structural types: this
 * file must not depend on Node's type definitions.
 *
 * These macrotasks are never unref'd, whatever keepAlive says: the timer is
 * due, so the process stays up only for the moment it takes to run it. (An
 * unref'd immediate is worse than useless in Node: the loop then blocks in
 * its poll phase and runs the callback only when something else wakes it.)
 */
function platformImmediate(): Immediate {
  const g = globalThis as unknown as {
    setImmediate?: (fn: () => void) => unknown;
    MessageChannel?: new () => {
      port1: { onmessage: (() => void) | null; unref?: () => unknown };
      port2: { postMessage(m: unknown): void };
    };
  };
  const immediate = g.setImmediate;
  if (typeof immediate === 'function') {
    // Node, Bun. Immediates queued before a check phase all run in it, with
    // microtasks drained between them.
    return (fn) => void immediate(fn);
  }
  const Channel = g.MessageChannel;
  if (typeof Channel === 'function') {
    // Browsers: a posted message is a task that is not clamped like nested
    // setTimeout(0). One channel, a FIFO of callbacks, one message each.
    const channel = new Channel();
    const queue: (() => void)[] = [];
    let head = 0;
    channel.port1.onmessage = () => {
      const fn = queue[head];
      queue[head++] = undefined as unknown as () => void;
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
      }
      fn?.();
    };
    // A port with a handler would otherwise keep Deno alive forever; a
    // pending message is still delivered.
    if (typeof channel.port1.unref === 'function') channel.port1.unref();
    return (fn) => {
      queue.push(fn);
      channel.port2.postMessage(null);
    };
  }
  return (fn) => void setTimeout(fn, 0);
}

/**
 * setTimeout's delay is a signed 32-bit millisecond count: anything longer
 * (about 24.8 days) fires after 1 ms in Node and browsers. Longer waits are
 * split into steps of at most this.
 */
const MAX_DELAY_MS = 0x7fffffff;

/** The part of the runtime's Performance object a clock reads. */
interface Performance {
  now(): number;
  readonly timeOrigin?: number;
}

export class SystemClock implements Clock {
  readonly #originMs: number;
  readonly #keepAlive: boolean;
  /**
   * The runtime's `performance`, read once: in Node the global is a lazy
   * accessor, so `performance.now()` ran a getter before every reading
   * (issue 9: 38 -> 30 ns a reading, four readings a request/response round
   * trip).
   */
  readonly #performance: Performance;
  #last = 0;
  #pending = 0;
  #immediate: Immediate | undefined;

  constructor(options: SystemClockOptions = {}) {
    this.#keepAlive = options.keepAlive ?? false;
    const perf: Performance = globalThis.performance;
    this.#performance = perf;
    if ((options.epoch ?? 'unix') === 'unix') {
      // timeOrigin is the Unix-epoch time of performance.now() === 0. Read it
      // once: adding a constant keeps performance.now()'s monotonicity.
      const origin = perf.timeOrigin;
      this.#originMs = typeof origin === 'number' && origin > 0 ? origin : Date.now() - perf.now();
    } else {
      this.#originMs = 0;
    }
  }

  now(): Instant {
    const v = Math.floor((this.#originMs + this.#performance.now()) * 1000);
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
    const entry: Entry = { owner: this, at, fn, timeout: undefined, queued: false };
    this.#pending++;
    if (at <= this.now()) {
      // Due already: the fast path, no platform timer (see the file comment).
      entry.queued = true;
      this.#immediate ??= platformImmediate();
      this.#immediate(() => this.#runQueued(entry));
    } else {
      this.#arm(entry);
    }
    return entry as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const entry = handle as unknown as Entry;
    if (entry.owner !== this) return;
    if (entry.queued) {
      // Its macrotask still comes, and finds nothing to do.
      entry.queued = false;
      this.#pending--;
      return;
    }
    if (entry.timeout === undefined) return;
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

  #runQueued(entry: Entry): void {
    if (!entry.queued) return; // cleared meanwhile
    entry.queued = false;
    this.#pending--;
    entry.fn();
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
