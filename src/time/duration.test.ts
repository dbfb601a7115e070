import { describe, expect, it } from 'vitest';
import {
  Duration,
  durationAdd,
  durationClamp,
  durationMax,
  durationMin,
  durationMul,
  durationSub,
  formatDuration,
} from './duration.js';

describe('Duration', () => {
  it('converts between units as whole microseconds', () => {
    expect(Duration.fromMillis(200)).toBe(200_000);
    expect(Duration.fromSecs(1.5)).toBe(1_500_000);
    expect(Duration.fromMicros(35)).toBe(35);
    expect(Duration.toMillis(Duration.fromMicros(1500))).toBe(1.5);
    expect(Duration.toSecs(Duration.fromMillis(250))).toBe(0.25);
    expect(Duration.toMicros(Duration.fromSecs(2))).toBe(2_000_000);
  });

  it('rounds binary floating point error to the intended microsecond', () => {
    // 1.001 * 1000 is 1000.9999999999999 in binary floating point.
    expect(Duration.fromMillis(1.001)).toBe(1001);
    expect(Duration.fromSecs(0.000_001)).toBe(1);
    expect(Duration.fromSecs(4.35)).toBe(4_350_000);
  });

  it('is exact up to 2^53 us (about 285 years)', () => {
    const years285 = Duration.fromSecs(285 * 365 * 24 * 3600);
    expect(Number.isSafeInteger(years285)).toBe(true);
    expect(durationSub(durationAdd(years285, Duration.fromMicros(1)), years285)).toBe(1);
    expect(Duration.MAX).toBe(2 ** 53 - 1);
  });

  it('rejects values no Duration can hold', () => {
    expect(() => Duration.fromMicros(1.5)).toThrow(RangeError);
    expect(() => Duration.fromMicros(Number.NaN)).toThrow(RangeError);
    expect(() => Duration.fromMillis(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => Duration.fromSecs(1e10)).toThrow(RangeError); // 1e16 us > 2^53
    expect(() => durationMul(Duration.MAX, 2)).toThrow(RangeError);
  });

  it('normalises negative zero', () => {
    expect(Object.is(Duration.fromMillis(-0), 0)).toBe(true);
    expect(Object.is(Duration.fromMicros(-0), 0)).toBe(true);
  });

  it('does arithmetic', () => {
    const a = Duration.fromMillis(300);
    const b = Duration.fromMillis(200);
    expect(durationAdd(a, b)).toBe(500_000);
    expect(durationSub(b, a)).toBe(-100_000);
    expect(durationMul(a, 2)).toBe(600_000);
    expect(durationMul(Duration.fromMicros(3), 0.5)).toBe(2); // rounds half up
    expect(durationMin(a, b)).toBe(b);
    expect(durationMax(a, b)).toBe(a);
    const lo = Duration.fromSecs(1);
    const hi = Duration.fromSecs(60);
    expect(durationClamp(b, lo, hi)).toBe(lo);
    expect(durationClamp(Duration.fromSecs(120), lo, hi)).toBe(hi);
    expect(durationClamp(Duration.fromSecs(3), lo, hi)).toBe(3_000_000);
  });

  it('formats in the largest unit reached, exactly', () => {
    expect(formatDuration(Duration.fromSecs(1.5))).toBe('1.5 s');
    expect(formatDuration(Duration.fromMillis(200))).toBe('200 ms');
    expect(formatDuration(Duration.fromMicros(35))).toBe('35 us');
    expect(formatDuration(Duration.ZERO)).toBe('0 us');
    expect(formatDuration(Duration.fromSecs(1))).toBe('1 s');
    expect(formatDuration(Duration.fromMicros(1_000_400))).toBe('1.0004 s');
    expect(formatDuration(Duration.fromMicros(1_000_001))).toBe('1.000001 s');
    expect(formatDuration(Duration.fromMicros(2_250))).toBe('2.25 ms');
    expect(formatDuration(Duration.fromMicros(1_005))).toBe('1.005 ms');
    expect(formatDuration(Duration.fromMicros(999))).toBe('999 us');
    expect(formatDuration(Duration.fromMicros(-2_250))).toBe('-2.25 ms');
    expect(formatDuration(Duration.fromSecs(3600))).toBe('3600 s');
  });
});
