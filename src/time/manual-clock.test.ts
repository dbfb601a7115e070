import { describe, expect, it } from 'vitest';
import type { TimerHandle } from './clock.js';
import { Duration } from './duration.js';
import { Instant } from './instant.js';
import { ManualClock } from './manual-clock.js';
import { SeededRng } from '../random/rng.js';

const us = (n: number): Instant => Instant.fromMicros(n);
const d = (n: number): Duration => Duration.fromMicros(n);

describe('ManualClock', () => {
  it('starts at 0 or at the given instant', () => {
    expect(new ManualClock().now()).toBe(0);
    expect(new ManualClock(us(42)).now()).toBe(42);
    expect(() => new ManualClock(0.5 as Instant)).toThrow(RangeError);
  });

  it('runs due timers in time order, with now() at each due time', () => {
    const clock = new ManualClock();
    const log: string[] = [];
    clock.setTimer(us(300), () => log.push(`c@${clock.now()}`));
    clock.setTimer(us(100), () => log.push(`a@${clock.now()}`));
    clock.setTimer(us(200), () => log.push(`b@${clock.now()}`));
    clock.setTimer(us(1000), () => log.push(`late@${clock.now()}`));
    expect(clock.pendingTimers).toBe(4);
    expect(clock.nextTimerAt()).toBe(100);

    expect(clock.advance(d(500))).toBe(3);
    expect(log).toEqual(['a@100', 'b@200', 'c@300']);
    expect(clock.now()).toBe(500);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(1000);
  });

  it('fires a timer due exactly at the end of the window, not one a microsecond later', () => {
    const clock = new ManualClock();
    const log: number[] = [];
    clock.setTimer(us(100), () => log.push(100));
    clock.setTimer(us(101), () => log.push(101));
    clock.advanceTo(us(100));
    expect(log).toEqual([100]);
    clock.advanceTo(us(101));
    expect(log).toEqual([100, 101]);
  });

  it('breaks ties in arming order', () => {
    const clock = new ManualClock();
    const log: number[] = [];
    for (let i = 0; i < 20; i++) clock.setTimer(us(50), () => log.push(i));
    clock.setTimer(us(10), () => log.push(-1));
    clock.advance(d(50));
    expect(log).toEqual([-1, ...Array.from({ length: 20 }, (_, i) => i)]);
  });

  it('runs timers that callbacks arm inside the window, in order', () => {
    const clock = new ManualClock();
    const log: string[] = [];
    clock.setTimer(us(100), () => {
      log.push(`a@${clock.now()}`);
      clock.setTimer(us(150), () => log.push(`inner@${clock.now()}`)); // inside the window
      clock.setTimer(us(900), () => log.push(`outside@${clock.now()}`)); // beyond it
      clock.setTimer(us(100), () => log.push(`same-instant@${clock.now()}`));
    });
    clock.setTimer(us(200), () => log.push(`b@${clock.now()}`));
    clock.advanceTo(us(500));
    expect(log).toEqual(['a@100', 'same-instant@100', 'inner@150', 'b@200']);
    expect(clock.pendingTimers).toBe(1);
    clock.advanceTo(us(900));
    expect(log.at(-1)).toBe('outside@900');
  });

  it('runs a timer armed in the past at the current time, never moving time back', () => {
    const clock = new ManualClock(us(1000));
    const seen: number[] = [];
    clock.setTimer(us(10), () => seen.push(clock.now()));
    expect(seen).toEqual([]); // never synchronously
    clock.advance(Duration.ZERO);
    expect(seen).toEqual([1000]);
    // And from inside a callback, a past timer runs next, at the callback's time.
    clock.setTimer(us(2000), () => clock.setTimer(us(1500), () => seen.push(clock.now())));
    clock.advanceTo(us(3000));
    expect(seen).toEqual([1000, 2000]);
  });

  it('advance by zero runs only what is due now', () => {
    const clock = new ManualClock(us(5));
    const log: number[] = [];
    clock.setTimer(us(5), () => log.push(5));
    clock.setTimer(us(6), () => log.push(6));
    expect(clock.advance(Duration.ZERO)).toBe(1);
    expect(log).toEqual([5]);
    expect(clock.now()).toBe(5);
  });

  it('clears timers, and clearing is idempotent and safe after firing', () => {
    const clock = new ManualClock();
    const log: number[] = [];
    const a = clock.setTimer(us(10), () => log.push(10));
    const b = clock.setTimer(us(20), () => log.push(20));
    const c = clock.setTimer(us(30), () => log.push(30));
    clock.clearTimer(b);
    clock.clearTimer(b);
    clock.clearTimer(undefined);
    expect(clock.pendingTimers).toBe(2);
    clock.advance(d(15));
    clock.clearTimer(a); // already fired
    expect(clock.pendingTimers).toBe(1);
    clock.advance(d(100));
    expect(log).toEqual([10, 30]);
    clock.clearTimer(c);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('ignores handles from another clock', () => {
    const one = new ManualClock();
    const two = new ManualClock();
    let fired = false;
    const h = one.setTimer(us(1), () => (fired = true));
    two.setTimer(us(1), () => undefined);
    two.clearTimer(h);
    expect(two.pendingTimers).toBe(1);
    one.advance(d(1));
    expect(fired).toBe(true);
  });

  it('lets a callback clear a later timer in the same window', () => {
    const clock = new ManualClock();
    const log: number[] = [];
    const late = clock.setTimer(us(20), () => log.push(20));
    clock.setTimer(us(10), () => {
      log.push(10);
      clock.clearTimer(late);
    });
    clock.advance(d(100));
    expect(log).toEqual([10]);
  });

  it('re-arms one poll timer cheaply without leaving garbage behind', () => {
    // The stack's pattern: clear the poll timer and arm a new one after every poll.
    const clock = new ManualClock();
    let h: TimerHandle | undefined;
    for (let i = 0; i < 10_000; i++) {
      clock.clearTimer(h);
      h = clock.setTimer(us(1_000_000 + (i % 7)), () => undefined);
    }
    expect(clock.pendingTimers).toBe(1);
  });

  it('makes large jumps exactly', () => {
    const clock = new ManualClock();
    const at = Instant.fromSecs(200 * 365 * 24 * 3600); // 200 years
    let seen = -1;
    clock.setTimer(at, () => (seen = clock.now()));
    clock.advance(Duration.fromSecs(250 * 365 * 24 * 3600));
    expect(seen).toBe(at);
    expect(clock.now()).toBe(250 * 365 * 24 * 3600 * 1_000_000);
  });

  it('rejects going backwards, fractions and re-entrance', () => {
    const clock = new ManualClock(us(100));
    expect(() => clock.advanceTo(us(99))).toThrow(RangeError);
    expect(() => clock.advance(-1 as Duration)).toThrow(RangeError);
    expect(() => clock.advance(0.5 as Duration)).toThrow(RangeError);
    expect(() => clock.setTimer(Number.NaN as Instant, () => undefined)).toThrow(RangeError);
    clock.setTimer(us(100), () => clock.advance(d(1)));
    expect(() => clock.advance(Duration.ZERO)).toThrow(/inside a timer callback/);
    // The clock is still usable afterwards.
    let ok = false;
    clock.setTimer(us(101), () => (ok = true));
    clock.advance(d(1));
    expect(ok).toBe(true);
  });

  it('propagates a callback error and keeps the remaining timers armed', () => {
    const clock = new ManualClock();
    const log: number[] = [];
    clock.setTimer(us(10), () => {
      throw new Error('boom');
    });
    clock.setTimer(us(20), () => log.push(20));
    expect(() => clock.advance(d(100))).toThrow('boom');
    expect(clock.now()).toBe(10);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(d(90));
    expect(log).toEqual([20]);
    expect(clock.now()).toBe(100);
  });

  it('runUntilIdle jumps from timer to timer until none is left', () => {
    const clock = new ManualClock();
    const log: number[] = [];
    clock.setTimer(us(5_000_000), () => {
      log.push(clock.now());
      clock.setTimer(us(7_000_000), () => log.push(clock.now()));
    });
    clock.setTimer(us(3), () => log.push(clock.now()));
    expect(clock.runUntilIdle()).toBe(3);
    expect(log).toEqual([3, 5_000_000, 7_000_000]);
    expect(clock.now()).toBe(7_000_000);
    expect(clock.runUntilIdle()).toBe(0);
  });

  it('runUntilIdle stops a timer that re-arms itself forever', () => {
    const clock = new ManualClock();
    let n = 0;
    const tick = (): void => {
      n++;
      clock.setTimer(Instant.fromMicros(clock.now() + 1000), tick);
    };
    clock.setTimer(us(0), tick);
    expect(() => clock.runUntilIdle(50)).toThrow(/re-arming/);
    expect(n).toBe(50);
    expect(clock.now()).toBe(49_000);
  });

  it('agrees with a sorted reference model on a seeded random workload', () => {
    for (const seed of [1, 2, 3, 0xdecaf]) {
      const randRng = new SeededRng(seed);
      const rand = (): number => randRng.nextFloat();
      const clock = new ManualClock();
      const fired: number[] = [];
      // Reference: every armed timer (id, at, seq); fired in (at, seq) order.
      const model = new Map<number, { at: number; seq: number }>();
      const handles = new Map<number, TimerHandle>();
      const expected: number[] = [];
      let seq = 0;
      let id = 0;
      for (let step = 0; step < 2000; step++) {
        const r = rand();
        if (r < 0.55) {
          const at = clock.now() + Math.floor(rand() * 1000);
          const myId = id++;
          handles.set(myId, clock.setTimer(us(at), () => fired.push(myId)));
          model.set(myId, { at, seq: seq++ });
        } else if (r < 0.8) {
          const ids = [...model.keys()];
          const victim = ids[Math.floor(rand() * ids.length)];
          if (victim !== undefined) {
            clock.clearTimer(handles.get(victim));
            model.delete(victim);
          }
        } else {
          const to = clock.now() + Math.floor(rand() * 300);
          const due = [...model.entries()]
            .filter(([, t]) => t.at <= to)
            .sort(([, x], [, y]) => x.at - y.at || x.seq - y.seq);
          for (const [k] of due) {
            expected.push(k);
            model.delete(k);
          }
          clock.advanceTo(us(to));
        }
        expect(clock.pendingTimers).toBe(model.size);
      }
      expect(fired).toEqual(expected);
      expect(fired.length).toBeGreaterThan(100);
    }
  });
});
