/**
 * For tests of a stack's real-time paths (lazy timers, batched frame runs,
 * GRO) that must still run the same every time: a SystemClock, so the
 * stack and a MemoryNetwork take their real-time branches, whose time and
 * timers are a ManualClock's that the test advances. Test-only (excluded
 * from the build as *.fixtures.ts).
 */
import type { TimerCallback, TimerHandle } from './clock.js';
import type { Instant } from './instant.js';
import { ManualClock } from './manual-clock.js';
import { SystemClock } from './system-clock.js';

export class SteppedSystemClock extends SystemClock {
  readonly manual = new ManualClock();
  override now(): Instant {
    return this.manual.now();
  }
  override setTimer(at: Instant, fn: TimerCallback): TimerHandle {
    return this.manual.setTimer(at, fn);
  }
  override clearTimer(handle: TimerHandle | undefined): void {
    this.manual.clearTimer(handle);
  }
}
