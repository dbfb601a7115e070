import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { RTO_INITIAL, RTO_MAX, RTO_MIN, RttEstimator } from './rtt.js';

const ms = (n: number): Duration => Duration.fromMillis(n);

describe('RttEstimator (RFC 6298)', () => {
  it('starts with a 1 s RTO and no estimates (2.1)', () => {
    const r = new RttEstimator();
    expect(r.rto).toBe(RTO_INITIAL);
    expect(r.srtt).toBeUndefined();
    expect(r.rttvar).toBeUndefined();
    expect(r.minRtt).toBeUndefined();
    expect(r.hasSample).toBe(false);
  });

  it('takes the first sample as SRTT = R, RTTVAR = R/2 (2.2)', () => {
    const r = new RttEstimator();
    r.sample(ms(100));
    expect(r.srtt).toBe(ms(100));
    expect(r.rttvar).toBe(ms(50));
    // RTO = SRTT + max(G, 4 * RTTVAR) = 100 + 200 ms.
    expect(r.rto).toBe(ms(300));
  });

  it('smooths later samples with alpha 1/8 and beta 1/4, RTTVAR first (2.3)', () => {
    const r = new RttEstimator();
    r.sample(ms(100));
    r.sample(ms(200));
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5.
    expect(r.rttvar).toBe(Duration.fromMicros(62_500));
    expect(r.srtt).toBe(Duration.fromMicros(112_500));
    expect(r.rto).toBe(Duration.fromMicros(112_500 + 4 * 62_500));
    expect(r.minRtt).toBe(ms(100));
  });

  it('converges on a steady RTT and is floored at 200 ms (2.4, Linux TCP_RTO_MIN)', () => {
    const r = new RttEstimator();
    for (let i = 0; i < 200; i++) r.sample(ms(10));
    expect(r.srtt).toBe(ms(10));
    expect(r.rttvar).toBe(Duration.ZERO);
    expect(r.rto).toBe(RTO_MIN);
  });

  it('uses the clock granularity G when RTTVAR is tiny', () => {
    const r = new RttEstimator({ minRto: Duration.fromMicros(1), granularity: ms(5) });
    for (let i = 0; i < 200; i++) r.sample(ms(10));
    expect(r.rto).toBe(ms(15));
  });

  it('caps the RTO at 120 s (2.5)', () => {
    const r = new RttEstimator();
    r.sample(Duration.fromSecs(100));
    expect(r.rto).toBe(RTO_MAX);
  });

  it('backs off exponentially up to the maximum, and a sample resets it (5.5, Karn)', () => {
    const r = new RttEstimator();
    r.sample(ms(100)); // rto 300 ms
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      seen.push(Duration.toMillis(r.rto));
      r.backoff();
    }
    expect(seen).toEqual([300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 76800, 120000, 120000, 120000]);
    expect(r.backoffCount).toBe(12);
    r.sample(ms(100));
    expect(r.backoffCount).toBe(0);
    expect(r.rto).toBeLessThan(ms(400));
  });

  it('resetBackoff drops the backoff but keeps the estimate', () => {
    const r = new RttEstimator();
    r.sample(ms(100));
    r.backoff();
    r.backoff();
    expect(r.rto).toBe(ms(1200));
    r.resetBackoff();
    expect(r.rto).toBe(ms(300));
    expect(r.srtt).toBe(ms(100));
  });

  it('backs off the initial RTO before any sample', () => {
    const r = new RttEstimator();
    r.backoff();
    expect(r.rto).toBe(Duration.fromSecs(2));
  });

  it('uses 3 s for data after a SYN timeout without a sample (5.7)', () => {
    const r = new RttEstimator();
    r.backoff();
    r.synTimedOut();
    expect(r.rto).toBe(Duration.fromSecs(3));
    r.sample(ms(100));
    r.synTimedOut(); // no effect once a sample exists
    expect(r.rto).toBe(ms(300));
  });

  it('can forget bogus estimates after repeated backoffs, keeping the backed-off RTO', () => {
    const r = new RttEstimator();
    r.sample(ms(100));
    r.backoff();
    r.backoff();
    r.forgetSamples();
    expect(r.srtt).toBeUndefined();
    expect(r.rto).toBe(ms(1200));
    r.sample(ms(40)); // a fresh 2.2 start
    expect(r.srtt).toBe(ms(40));
    expect(r.rttvar).toBe(ms(20));
  });

  it('ignores negative samples and accepts zero', () => {
    const r = new RttEstimator();
    r.sample(Duration.fromMicros(-5));
    expect(r.hasSample).toBe(false);
    r.sample(Duration.ZERO);
    expect(r.srtt).toBe(Duration.ZERO);
    expect(r.minRtt).toBe(Duration.ZERO);
    expect(r.rto).toBe(RTO_MIN);
  });

  it('tracks the minimum sample', () => {
    const r = new RttEstimator();
    for (const v of [50, 30, 70, 31, 90]) r.sample(ms(v));
    expect(r.minRtt).toBe(ms(30));
  });

  it('rejects inconsistent bounds', () => {
    expect(() => new RttEstimator({ minRto: ms(500), maxRto: ms(100) })).toThrow(RangeError);
  });
});

describe('Linux RTO formula (linuxRto)', () => {
  it('RTO = SRTT + max(4*RTTVAR, minRto): the floor applies to the variance term', () => {
    const rfc = new RttEstimator();
    const linux = new RttEstimator({ linuxRto: true });
    rfc.sample(Duration.fromMillis(10));
    linux.sample(Duration.fromMillis(10));
    // RFC 6298: max(200, 10 + 4*5) = 200 ms; Linux: 10 + max(20, 200) = 210 ms.
    expect(rfc.rto).toBe(Duration.fromMillis(200));
    expect(linux.rto).toBe(Duration.fromMillis(210));
    // A large variance dominates both the same way.
    const big = new RttEstimator({ linuxRto: true });
    big.sample(Duration.fromMillis(100));
    expect(big.rto).toBe(Duration.fromMillis(100 + 200));
  });
});
