import { describe, expect, it } from 'vitest';
import type { TimerCallback, TimerHandle } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import { Duration } from '../time/duration.js';
import { SystemClock } from '../time/system-clock.js';
import { ManualClock } from '../time/manual-clock.js';
import { Stack } from './stack.js';
import { DeadlineProtocol } from './deadline-protocol.fixtures.js';

/**
 * A SystemClock (so the stack arms its timer lazily) whose time and timers
 * are the test's: nothing real is armed, every arming is recorded.
 */
class RecordingClock extends SystemClock {
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

function setup<C extends SystemClock | ManualClock>(clock: C): { clock: C; stack: Stack; p: DeadlineProtocol } {
  const stack = new Stack({ clock, seed: 1 });
  const p = new DeadlineProtocol();
  stack.registerProtocol(p);
  return { clock, stack, p };
}

describe('Stack.rescheduleFor', () => {
  it('with lazy timers, arms only when the deadline moves earlier than the armed timer', () => {
    const clock = new RecordingClock();
    const { stack, p } = setup(clock);
    // registerProtocol woke the stack: its due-now wake-up polls and finds no deadline.
    clock.fireDue();
    clock.armed.length = 0;
    const at = (d: number): Instant => (clock.t + d) as Instant;
    // Nothing armed: a deadline gets a timer.
    p.at = at(5000);
    stack.rescheduleFor(clock.now(), p.at);
    expect(clock.armed).toEqual([at(5000)]);
    // Later, or gone: the armed timer covers it (it fires early and re-sweeps).
    p.at = at(9000);
    stack.rescheduleFor(clock.now(), p.at);
    p.at = undefined;
    stack.rescheduleFor(clock.now(), p.at);
    expect(clock.armed).toEqual([at(5000)]);
    // Earlier: re-armed at once.
    p.at = at(2000);
    stack.rescheduleFor(clock.now(), p.at);
    expect(clock.armed).toEqual([at(5000), at(2000)]);
    expect(clock.cleared).toEqual([at(5000)]);
    // A due-now wake-up pending: its poll re-arms, so nothing is armed here...
    stack.wake();
    clock.armed.length = 0;
    p.at = at(1000);
    stack.rescheduleFor(clock.now(), p.at);
    expect(clock.armed).toEqual([]);
    // ...but when it runs.
    clock.fireDue();
    expect(clock.armed).toEqual([at(1000)]);
    stack.close();
  });

  it('with exact timers (a simulated clock), follows every move like reschedule()', () => {
    const clock = new ManualClock();
    const { stack, p } = setup(clock);
    // The wake-up registerProtocol asked for.
    clock.advance(Duration.fromMillis(0));
    const base = clock.now();
    p.at = (base + 5000) as Instant;
    stack.rescheduleFor(clock.now(), p.at);
    expect(stack.nextPollAt).toBe(p.at);
    p.at = (base + 9000) as Instant;
    stack.rescheduleFor(clock.now(), p.at);
    expect(stack.nextPollAt).toBe(p.at);
    p.at = undefined;
    stack.rescheduleFor(clock.now(), p.at);
    expect(stack.nextPollAt).toBeUndefined();
    stack.close();
  });
});
