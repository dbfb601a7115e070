/**
 * Review (issue 9): on a real-time clock MemoryNetwork delivers frames that
 * are due at once in microtask batches, while frames with a future arrival
 * (latency, jitter) wait for a platform timer. A cable is a FIFO: a frame
 * may never overtake an earlier one on the same path unless the network
 * reorders it on purpose. Platform timers run late whenever the event loop
 * is busy, so a later frame that is due "now" must still queue behind an
 * earlier one whose timer has not fired yet.
 *
 * The clock here is a SystemClock (so the network batches, as in real
 * time) whose time and timers the test drives by hand: "the event loop was
 * busy" becomes "the test has not fired the timer yet", deterministically.
 */
import { describe, expect, it } from 'vitest';
import type { TimerCallback, TimerHandle } from '../time/clock.js';
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { SystemClock } from '../time/system-clock.js';
import { microtasks, seqFrame as frame } from './memory.fixtures.js';
import { MemoryNetwork } from './memory.js';

/** A SystemClock in type (the network batches for it) with hand-driven time and timers. */
class HandClock extends SystemClock {
  t = 0;
  readonly timers: { at: number; fn: TimerCallback; live: boolean }[] = [];

  override now(): Instant {
    return this.t as Instant;
  }

  override setTimer(at: Instant, fn: TimerCallback): TimerHandle {
    const timer = { at, fn, live: true };
    this.timers.push(timer);
    return timer as unknown as TimerHandle;
  }

  override clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) (handle as unknown as { live: boolean }).live = false;
  }

  /** Fires every timer due by `t`, earliest first (a late but orderly event loop). */
  fireDue(): void {
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= this.t).sort((a, b) => a.at - b.at);
      const first = due[0];
      if (first === undefined) return;
      first.live = false;
      first.fn();
    }
  }
}

describe('MemoryNetwork on a real-time clock', () => {
  it('never lets a frame due now overtake an earlier frame still waiting for its timer (jitter, busy event loop)', async () => {
    const clock = new HandClock();
    // Jitter only: each frame arrives 0 or 1 us after it is sent, in FIFO order.
    const network = new MemoryNetwork({ clock, seed: 3, jitter: Duration.fromMicros(1) });
    const a = network.attach();
    const b = network.attach();
    const got: number[] = [];
    b.setReceiver((f) => got.push(f[14]!));
    // Teach the switch where b is, so frames go to b alone.
    b.send(frame(a.mac, b.mac, 255));
    for (let seq = 0; seq < 40; seq++) {
      a.send(frame(b.mac, a.mac, seq));
      // Time passes (the sender is busy, or other work runs) but timers do not get to fire yet...
      clock.t += 3_000;
      // ...while microtasks do.
      await microtasks();
      if (seq % 8 === 7) clock.fireDue();
    }
    clock.t += 1_000_000;
    clock.fireDue();
    await microtasks();
    clock.fireDue();
    expect(got).toEqual([...Array(40).keys()]);
  });
});
