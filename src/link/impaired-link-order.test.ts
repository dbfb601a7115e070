/**
 * impairLink on a clock that does not fire due timers in arrival order: a
 * real-time clock runs a frame due now from setImmediate while an earlier
 * frame still waits on a late setTimeout. The wrapper must still behave
 * like a cable: in-order frames never overtake each other; only frames it
 * reorders on purpose may.
 */
import { describe, expect, it } from 'vitest';
import type { Clock, TimerCallback, TimerHandle } from '../time/clock.js';
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { impairLink } from './impaired-link.js';
import type { FrameHandler, Link } from './link.js';
import { LinkType } from './link.js';

/** Hand-driven time whose due timers fire newest-armed first: the worst a busy event loop can do. */
class UnrulyClock implements Clock {
  t = 0;
  readonly timers: { at: number; fn: TimerCallback; live: boolean }[] = [];
  now(): Instant {
    return this.t as Instant;
  }
  setTimer(at: Instant, fn: TimerCallback): TimerHandle {
    const timer = { at, fn, live: true };
    this.timers.push(timer);
    return timer as unknown as TimerHandle;
  }
  clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) (handle as unknown as { live: boolean }).live = false;
  }
  fireDue(): void {
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= this.t);
      const newest = due[due.length - 1];
      if (newest === undefined) return;
      newest.live = false;
      newest.fn();
    }
  }
}

class Sink implements Link {
  readonly linkType = LinkType.RawIp;
  readonly mtu = 1500;
  readonly sent: number[] = [];
  send(frame: Uint8Array): void {
    this.sent.push(frame[0] ?? -1);
  }
  setReceiver(_handler: FrameHandler | undefined): void {}
  close(): void {}
}

function run(reorder: number): { order: number[]; reordered: number } {
  const clock = new UnrulyClock();
  const sink = new Sink();
  const link = impairLink(sink, { clock, seed: 5, egress: { jitter: Duration.fromMicros(50), reorder, reorderDelay: Duration.fromMicros(200) } });
  for (let seq = 0; seq < 100; seq++) {
    link.send(Uint8Array.of(seq));
    clock.t += 10;
    // Every few sends the loop "catches up" on whatever is due, newest first.
    if (seq % 7 === 6) clock.fireDue();
  }
  clock.t += 1_000;
  clock.fireDue();
  expect(link.pendingFrames).toBe(0);
  return { order: sink.sent, reordered: link.egress.counters.get('reordered') };
}

describe('impairLink on a clock that fires due timers out of order', () => {
  it('keeps in-order frames in order (jitter never reorders)', () => {
    const { order } = run(0);
    expect(order).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('still reorders exactly the frames it holds back on purpose, and loses none', () => {
    const { order, reordered } = run(0.1);
    expect(reordered).toBeGreaterThan(0);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // Removing the held-back frames leaves a strictly increasing sequence.
    const late = new Set<number>();
    let max = -1;
    for (const s of order) {
      if (s < max) late.add(s);
      else max = s;
    }
    const rest = order.filter((s) => !late.has(s));
    expect(rest).toEqual([...rest].sort((a, b) => a - b));
    expect(late.size).toBeLessThanOrEqual(reordered);
  });
});
