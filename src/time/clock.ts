/**
 * The one source of time for a stack. Protocol code never reads a clock (it
 * gets `now` passed in); the Stack asks its Clock for `now()` and keeps one
 * timer armed for its next poll_at, re-arming it after every poll. So both
 * arming and clearing a timer must be cheap, and clearing must be safe for a
 * handle that has already fired or been cleared.
 */
import type { Instant } from './instant.js';

declare const timerHandleBrand: unique symbol;

/**
 * An armed timer, to pass back to `clearTimer` of the clock that made it.
 * Opaque: each Clock implementation decides what it really is.
 */
export type TimerHandle = { readonly [timerHandleBrand]: 'TimerHandle' };

export type TimerCallback = () => void;

export interface Clock {
  /** The current time. Never decreases. */
  now(): Instant;
  /**
   * Runs `fn` once, when the clock reaches `at` (an absolute time, not a
   * delay): inside `fn`, `now() >= at`. An `at` in the past fires as soon as
   * the clock next gets the chance, never synchronously inside setTimer.
   */
  setTimer(at: Instant, fn: TimerCallback): TimerHandle;
  /**
   * Disarms a timer. A no-op for undefined, for a timer that has already
   * fired or been cleared, and for a handle from another clock.
   */
  clearTimer(handle: TimerHandle | undefined): void;
}
