import { describe, expect, it } from 'vitest';
import { Duration } from './duration.js';
import { Instant, formatInstant, instantAdd, instantDiff, instantMax, instantMin, instantSub } from './instant.js';

describe('Instant', () => {
  it('converts between units as whole microseconds', () => {
    expect(Instant.fromMillis(1.5)).toBe(1500);
    expect(Instant.fromSecs(2)).toBe(2_000_000);
    expect(Instant.fromMicros(7)).toBe(7);
    expect(Instant.toMillis(Instant.fromMicros(2500))).toBe(2.5);
    expect(Instant.toSecs(Instant.fromMillis(500))).toBe(0.5);
    expect(Instant.toMicros(Instant.fromSecs(1))).toBe(1_000_000);
    expect(() => Instant.fromMicros(0.5)).toThrow(RangeError);
    expect(() => Instant.fromSecs(Number.NaN)).toThrow(RangeError);
  });

  it('moves by durations and subtracts to durations', () => {
    const t = Instant.fromSecs(10);
    const later = instantAdd(t, Duration.fromMillis(250));
    expect(later).toBe(10_250_000);
    expect(instantSub(later, Duration.fromMillis(250))).toBe(t);
    expect(instantDiff(later, t)).toBe(250_000);
    expect(instantDiff(t, later)).toBe(-250_000);
    expect(instantMin(t, later)).toBe(t);
    expect(instantMax(t, later)).toBe(later);
    expect(Instant.MAX > Instant.fromSecs(285 * 365 * 24 * 3600)).toBe(true);
  });

  it('holds today as Unix microseconds exactly', () => {
    // 2024-01-01T00:00:00.000001Z: about 1.7e15, well inside 2^53.
    const t = instantAdd(Instant.fromSecs(1_704_067_200), Duration.fromMicros(1));
    expect(t).toBe(1_704_067_200_000_001);
    expect(t % 1_000_000).toBe(1);
  });

  it('formats as time since the epoch', () => {
    expect(formatInstant(Instant.fromMillis(12_500))).toBe('@12.5 s');
    expect(formatInstant(Instant.ZERO)).toBe('@0 us');
  });
});
