/**
 * A ManualClock that drives itself. Whenever timers are armed it schedules
 * one macrotask; by the time that runs, the microtask queue has drained (all
 * the `await` continuations that the previous timer released have run and
 * armed whatever they arm), so nothing can happen before the next timer
 * except that timer itself. The task then jumps virtual time to it, runs it,
 * and schedules the next step. So async code such as
 * `await sys.accept(fd)` runs on virtual time with no manual driving, a
 * two-hour keepalive finishes in milliseconds, and the order of events is
 * exactly the ManualClock's: same program, same run.
 *
 * One timer runs per macrotask, as in a real event loop where microtasks
 * drain between two timer callbacks due at the same moment: a promise
 * resolved by the first timer can still cancel the second.
 *
 * Only code that waits on this clock may run under it: anything waiting on
 * real I/O would see virtual time race ahead while it waits.
 */
import type { TimerCallback, TimerHandle } from '../time/clock.js';
import type { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { formatInstant } from '../time/instant.js';
import { ManualClock } from '../time/manual-clock.js';

/** Runs `fn` in a later macrotask. */
export type MacrotaskScheduler = (fn: () => void) => void;

export interface VirtualClockOptions {
  /** Where virtual time starts. Default 0. */
  readonly start?: Instant;
  /**
   * Safety stop: the clock stops advancing by itself rather than run a timer
   * due after this instant (a runaway retransmission or keepalive loop), and
   * `idle()` rejects. Manual advance still works.
   */
  readonly maxTime?: Instant;
  /** How to get a macrotask. Default: setImmediate where it exists (Node, Bun), else a MessageChannel (browsers, Deno), else setTimeout(0). */
  readonly schedule?: MacrotaskScheduler;
}

/** The timer handle handed out: it wraps the ManualClock's, so a timer can be held back between macrotasks. */
interface VirtualTimer {
  readonly owner: VirtualClock;
  readonly fn: TimerCallback;
  inner: TimerHandle | undefined;
  /** armed: in the ManualClock heap; held: due and waiting for its own macrotask; done: fired or cleared. */
  state: 'armed' | 'held' | 'done';
}

interface IdleWaiter {
  resolve(): void;
  reject(e: Error): void;
}

function defaultScheduler(): MacrotaskScheduler {
  // Structural types: this file must not depend on Node's type definitions.
  const g = globalThis as unknown as {
    setImmediate?: (fn: () => void) => unknown;
    setTimeout?: (fn: () => void, ms: number) => unknown;
    MessageChannel?: new () => {
      port1: { onmessage: (() => void) | null; unref?: () => unknown };
      port2: { postMessage(m: unknown): void };
    };
  };
  const immediate = g.setImmediate;
  // setImmediate does not clamp like nested setTimeout(0) (>= 1-4 ms each),
  // which would make thousands of virtual timers take seconds of real time.
  if (typeof immediate === 'function') return (fn) => void immediate(fn);
  const Channel = g.MessageChannel;
  if (typeof Channel === 'function') {
    // Browsers have no setImmediate; a posted message is an unclamped task
    // (with setTimeout(0) a 1 MiB transfer in Chromium took ~10 s instead of
    // well under one). One message per callback, run in posting order.
    const channel = new Channel();
    const queue: (() => void)[] = [];
    channel.port1.onmessage = () => {
      queue.shift()?.();
    };
    // A port with a handler would otherwise keep Deno alive; a posted message is still delivered.
    if (typeof channel.port1.unref === 'function') channel.port1.unref();
    return (fn) => {
      queue.push(fn);
      channel.port2.postMessage(null);
    };
  }
  const timeout = g.setTimeout;
  if (typeof timeout === 'function') return (fn) => void timeout(fn, 0);
  throw new Error('VirtualClock: no setImmediate or setTimeout in this runtime; pass options.schedule');
}

export class VirtualClock extends ManualClock {
  readonly #schedule: MacrotaskScheduler;
  readonly #maxTime: Instant | undefined;
  /** Timers that came due during a step after the one it ran, in firing order. */
  #held: VirtualTimer[] = [];
  #heldLive = 0;
  #scheduled = false;
  #stopped = false;
  /** Inside a self-driven step: only the first due timer may run. */
  #stepping = false;
  #budget = 0;
  #idleWaiters: IdleWaiter[] = [];
  #failure: Error | undefined = undefined;

  constructor(options: VirtualClockOptions = {}) {
    super(options.start ?? (0 as Instant));
    this.#schedule = options.schedule ?? defaultScheduler();
    this.#maxTime = options.maxTime;
  }

  override setTimer(at: Instant, fn: TimerCallback): TimerHandle {
    const timer: VirtualTimer = { owner: this, fn, inner: undefined, state: 'armed' };
    timer.inner = super.setTimer(at, () => this.#dispatch(timer));
    this.#wake();
    return timer as unknown as TimerHandle;
  }

  override clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const timer = handle as unknown as VirtualTimer;
    if (timer.owner !== this || timer.state === 'done') return;
    if (timer.state === 'held') this.#heldLive--;
    else super.clearTimer(timer.inner);
    timer.state = 'done';
  }

  override get pendingTimers(): number {
    return super.pendingTimers + this.#heldLive;
  }

  override nextTimerAt(): Instant | undefined {
    return this.#heldLive > 0 ? this.now() : super.nextTimerAt();
  }

  /** Manual driving still works; held-back timers run first, as they are due first. */
  override advanceTo(t: Instant): number {
    const ran = this.#runHeld();
    return ran + super.advanceTo(t);
  }

  override runUntilIdle(limit = 100_000): number {
    const ran = this.#runHeld();
    return ran + super.runUntilIdle(limit);
  }

  /** Whether the clock still advances by itself. */
  get running(): boolean {
    return !this.#stopped;
  }

  /**
   * Stops advancing by itself (timers stay armed; manual advance still
   * works). Pending `idle()` promises reject, since they would never settle.
   */
  stop(): void {
    this.#halt(new Error(`VirtualClock stopped at ${formatInstant(this.now())} with ${this.pendingTimers} timer(s) armed`));
  }

  /** Advances by itself again after stop() or a maxTime stop. */
  resume(): void {
    this.#stopped = false;
    this.#failure = undefined;
    this.#wake();
  }

  /**
   * Resolves once no timer is armed any more (after the microtasks that the
   * last timer released have run). Rejects if the clock stops first: stop(),
   * maxTime, or a timer callback that throws (with that error).
   */
  idle(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#stopped) {
        if (this.pendingTimers === 0) resolve();
        else reject(this.#failure ?? new Error('VirtualClock is stopped'));
        return;
      }
      this.#idleWaiters.push({ resolve, reject });
      this.#wake();
    });
  }

  /** A promise that resolves when virtual time has moved `d` forward. */
  sleep(d: Duration): Promise<void> {
    return this.sleepUntil((this.now() + d) as Instant);
  }

  /** A promise that resolves at virtual time `t` (at once, via a timer, if `t` has passed). */
  sleepUntil(t: Instant): Promise<void> {
    return new Promise<void>((resolve) => {
      this.setTimer(t, resolve);
    });
  }

  #dispatch(timer: VirtualTimer): void {
    if (this.#stepping) {
      if (this.#budget === 0) {
        // Due now, but it gets its own macrotask so that microtasks released
        // by the timer that just ran come first, as in a real event loop.
        timer.state = 'held';
        this.#held.push(timer);
        this.#heldLive++;
        return;
      }
      this.#budget--;
    }
    timer.state = 'done';
    timer.fn();
  }

  /** Runs the held-back timers in order; returns how many ran. */
  #runHeld(): number {
    let ran = 0;
    while (this.#heldLive > 0) {
      if (this.#runOneHeld()) ran++;
    }
    return ran;
  }

  #runOneHeld(): boolean {
    const timer = this.#held.shift();
    if (timer === undefined) {
      this.#heldLive = 0;
      return false;
    }
    if (timer.state !== 'held') return false;
    this.#heldLive--;
    timer.state = 'done';
    timer.fn();
    return true;
  }

  #wake(): void {
    if (this.#scheduled || this.#stopped) return;
    if (this.pendingTimers === 0 && this.#idleWaiters.length === 0) return;
    this.#scheduled = true;
    this.#schedule(this.#step);
  }

  readonly #step = (): void => {
    this.#scheduled = false;
    if (this.#stopped) return;
    try {
      if (this.#heldLive > 0) {
        // Skip cleared entries until one runs (or none is left).
        while (this.#heldLive > 0 && !this.#runOneHeld()) {
          /* cleared timer: keep looking */
        }
      } else {
        const next = super.nextTimerAt();
        if (next === undefined) {
          const waiters = this.#idleWaiters;
          this.#idleWaiters = [];
          for (const w of waiters) w.resolve();
          return;
        }
        if (this.#maxTime !== undefined && next > this.#maxTime) {
          this.#halt(
            new Error(
              `VirtualClock: next timer at ${formatInstant(next)} is past maxTime ${formatInstant(this.#maxTime)}; ` +
                `stopped with ${this.pendingTimers} timer(s) armed (does something keep re-arming?)`,
            ),
          );
          return;
        }
        const now = this.now();
        this.#stepping = true;
        this.#budget = 1;
        try {
          super.advanceTo(next > now ? next : now);
        } finally {
          this.#stepping = false;
        }
      }
    } catch (e) {
      // A throwing callback must not vanish into the event loop: it stops
      // the clock and rejects idle(); with nobody waiting, it is rethrown.
      const hadWaiters = this.#idleWaiters.length > 0;
      this.#halt(e);
      if (!hadWaiters) throw e;
      return;
    }
    this.#wake();
  };

  #halt(cause: unknown): void {
    const reason = cause instanceof Error ? cause : new Error(`VirtualClock: a timer callback threw ${String(cause)}`);
    this.#stopped = true;
    this.#failure = reason;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w.reject(reason);
  }
}
