import { describe, expect, it } from 'vitest';
import type { Instant } from '../time/instant.js';
import { Duration } from '../time/duration.js';
import type { SystemClock } from '../time/system-clock.js';
import { ManualClock } from '../time/manual-clock.js';
import { Stack } from './stack.js';
import { DeadlineProtocol } from './deadline-protocol.fixtures.js';
import { RecordingClock } from './recording-clock.fixtures.js';

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
