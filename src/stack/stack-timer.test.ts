import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { instantAdd } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { ManualClock } from '../time/manual-clock.js';
import { StackTimer } from './stack-timer.js';

function setup(lazy: boolean): { clock: ManualClock; timer: StackTimer; fired: Instant[]; at: (ms: number) => Instant } {
  const clock = new ManualClock();
  const fired: Instant[] = [];
  const timer = new StackTimer(clock, lazy, () => fired.push(clock.now()));
  const t0 = clock.now();
  return { clock, timer, fired, at: (ms) => instantAdd(t0, Duration.fromMillis(ms)) };
}

describe('StackTimer', () => {
  it('exact arming: fires at the deadline last asked for, later or earlier', () => {
    const { clock, timer, fired, at } = setup(false);
    timer.arm(at(10), undefined);
    timer.arm(at(30), undefined);
    expect(timer.at).toBe(at(30));
    clock.advance(Duration.fromMillis(20));
    expect(fired).toEqual([]);
    clock.advance(Duration.fromMillis(10));
    expect(fired).toEqual([at(30)]);
    expect(timer.at).toBeUndefined();
    timer.arm(at(50), undefined);
    timer.arm(undefined, undefined);
    clock.advance(Duration.fromMillis(100));
    expect(fired).toEqual([at(30)]);
  });

  it('lazy arming: a later deadline leaves the earlier timer armed (it fires early), an earlier one re-arms', () => {
    const { clock, timer, fired, at } = setup(true);
    timer.arm(at(10), undefined);
    timer.arm(at(30), undefined);
    expect(timer.covers(at(30))).toBe(true);
    expect(timer.covers(at(5))).toBe(false);
    clock.advance(Duration.fromMillis(10));
    expect(fired).toEqual([at(10)]);
    timer.arm(at(40), undefined);
    timer.arm(at(25), undefined);
    clock.advance(Duration.fromMillis(15));
    expect(fired).toEqual([at(10), at(25)]);
  });

  it('lazy arming: a deadline already due takes the due-now timer and does not disturb the armed one', () => {
    const { clock, timer, fired, at } = setup(true);
    timer.arm(at(50), undefined);
    clock.advance(Duration.fromMillis(5));
    timer.arm(at(5), at(5));
    expect(timer.covers(undefined)).toBe(true);
    clock.advance(Duration.ZERO);
    expect(fired).toEqual([at(5)]);
    clock.advance(Duration.fromMillis(45));
    expect(fired).toEqual([at(5), at(50)]);
  });

  it('stop disarms both timers', () => {
    const { clock, timer, fired, at } = setup(true);
    timer.arm(at(50), undefined);
    timer.arm(at(0), at(0));
    timer.stop();
    expect(timer.at).toBeUndefined();
    expect(timer.covers(at(100))).toBe(false);
    clock.advance(Duration.fromMillis(100));
    expect(fired).toEqual([]);
  });
});
