import { describe, expect, it } from 'vitest';
import { Instant } from '../time/instant.js';
import { IcmpRateLimiter, TokenBucket } from './rate-limit.js';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate', () => {
    const b = new TokenBucket(2, 3);
    const t = Instant.fromSecs(1);
    expect([b.take(t), b.take(t), b.take(t), b.take(t)]).toEqual([true, true, true, false]);
    expect(b.take(Instant.fromSecs(1.25))).toBe(false);
    expect(b.take(Instant.fromSecs(1.5))).toBe(true);
    expect(b.isFull(Instant.fromSecs(10))).toBe(true);
  });
});

describe('IcmpRateLimiter', () => {
  it('limits per destination and globally', () => {
    const l = new IcmpRateLimiter({ globalRate: 1000, globalBurst: 8, perDestinationBurst: 6 });
    const t = Instant.ZERO;
    const one = Array.from({ length: 8 }, () => l.allow(t, 1));
    expect(one.filter(Boolean)).toHaveLength(6);
    // Only two global tokens are left for everyone else.
    expect([l.allow(t, 2), l.allow(t, 3), l.allow(t, 4)]).toEqual([true, true, false]);
    expect(l.allow(Instant.fromSecs(1), 1)).toBe(true);
  });
});
