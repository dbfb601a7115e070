/**
 * For the stack scheduling tests (stack-reschedule, deadline-watch): a
 * clock whose time and timers the test drives. Test-only (excluded from the
 * build as *.fixtures.ts).
 */
import type { TimerCallback, TimerHandle } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import { SystemClock } from '../time/system-clock.js';

/**
 * A SystemClock (so the stack arms its timer lazily) whose time and timers
 * are the test's: nothing real is armed, every arming is recorded.
 */
export class RecordingClock extends SystemClock {
  t = 1_000_000;
  readonly armed: number[] = [];
  readonly cleared: number[] = [];
  readonly #at = new Map<TimerHandle, number>();
  readonly #fn = new Map<TimerHandle, TimerCallback>();

  override now(): Instant {
    return this.t as Instant;
  }

  override setTimer(at: Instant, fn: TimerCallback): TimerHandle {
    const h = { at } as unknown as TimerHandle;
    this.#at.set(h, at);
    this.#fn.set(h, fn);
    this.armed.push(at);
    return h;
  }

  override clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const at = this.#at.get(handle);
    if (at === undefined) return;
    this.#at.delete(handle);
    this.#fn.delete(handle);
    this.cleared.push(at);
  }

  /** Runs the timers due at the current time, as the platform would. */
  fireDue(): void {
    for (const [h, at] of [...this.#at]) {
      if (at > this.t) continue;
      const fn = this.#fn.get(h)!;
      this.#at.delete(h);
      this.#fn.delete(h);
      fn();
    }
  }
}
