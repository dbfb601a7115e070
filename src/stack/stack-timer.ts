/**
 * The Stack's one clock timer (stack.ts): armed for the earliest deadline
 * of the stack's parts, and firing `fire` (a poll of everything). Exact
 * arming on simulated clocks; lazy arming on a real-time clock (see arm).
 */
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Instant } from '../time/instant.js';

export class StackTimer {
  readonly #clock: Clock;
  readonly #fire: () => void;
  /** See arm: real-time clocks only. */
  readonly lazy: boolean;
  #timer: TimerHandle | undefined;
  /** The deadline last asked for (undefined: none), whatever is armed. */
  #at: Instant | undefined;
  /** Lazy arming: when #timer fires, and the separate due-now wake-up. */
  #armedAt: Instant | undefined;
  #dueTimer: TimerHandle | undefined;

  constructor(clock: Clock, lazy: boolean, fire: () => void) {
    this.#clock = clock;
    this.lazy = lazy;
    this.#fire = fire;
  }

  /** The deadline last asked for (undefined: idle), for tests and simulators. */
  get at(): Instant | undefined {
    return this.#at;
  }

  /**
   * Lazy timers only: true when what is armed already covers a deadline at
   * `at` (undefined: none), so a caller whose only change is its own
   * deadline need not ask for the earliest of every part (Stack.rescheduleFor):
   * a due-now wake-up polls and re-arms anyway, and an armed timer not
   * later than `at` fires in time for it.
   */
  covers(at: Instant | undefined): boolean {
    if (this.#dueTimer !== undefined) return true;
    return this.#timer !== undefined && this.#armedAt !== undefined && (at === undefined || this.#armedAt <= at);
  }

  /** Arms for `at`, the earliest deadline (undefined: none). `now`: a recent clock reading, if the caller has one. */
  arm(at: Instant | undefined, now: Instant | undefined): void {
    if (at === this.#at) return;
    if (this.lazy) {
      this.#armLazy(at, now);
      return;
    }
    this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#at = at;
    if (at === undefined) return;
    this.#timer = this.#clock.setTimer(at, this.#onTimer);
  }

  /**
   * Real-time clocks only: every clearTimeout/setTimeout pair is a platform
   * timer-list removal and insertion, and a connection moves its deadline
   * (RTO, delayed ACK) on nearly every segment, which made timer churn a
   * large share of a request/response round trip (issue 9). So the platform
   * timer is only re-armed when the deadline moves EARLIER; a later or
   * vanished deadline leaves it armed, it fires early, the poll finds
   * nothing due and arms the real deadline. Due-now wake-ups use a second
   * timer (no platform timer, see SystemClock) and never disturb the first.
   * Simulated clocks keep exact arming (above): their timers are cheap, and
   * tests and packetdrill scripts see the same timer events as before.
   */
  #armLazy(at: Instant | undefined, now: Instant | undefined): void {
    this.#at = at;
    if (at === undefined) return;
    // A reading from earlier in this call is good enough: a deadline that fell
    // due since then takes the other branch, whose setTimer sees it is due.
    if (at <= (now ?? this.#clock.now())) {
      this.#dueTimer ??= this.#clock.setTimer(at, this.#onDue);
      return;
    }
    if (this.#timer !== undefined && this.#armedAt !== undefined && this.#armedAt <= at) return;
    this.#clock.clearTimer(this.#timer);
    this.#armedAt = at;
    this.#timer = this.#clock.setTimer(at, this.#onTimer);
  }

  /** Disarms both timers (the stack closes). */
  stop(): void {
    this.#clock.clearTimer(this.#timer);
    this.#clock.clearTimer(this.#dueTimer);
    this.#timer = undefined;
    this.#dueTimer = undefined;
    this.#at = undefined;
    this.#armedAt = undefined;
  }

  /** The one timer's callback, made once rather than per arming. */
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#armedAt = undefined;
    this.#at = undefined;
    this.#fire();
  };

  readonly #onDue = (): void => {
    this.#dueTimer = undefined;
    this.#at = undefined;
    this.#fire();
  };
}
