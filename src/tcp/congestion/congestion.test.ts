import { describe, expect, it } from 'vitest';
import { Duration } from '../../time/duration.js';
import { Instant } from '../../time/instant.js';
import type { CongestionControlName, CongestionController } from './index.js';
import {
  CUBIC_ALPHA,
  CubicController,
  INFINITE_SSTHRESH,
  createCongestionController,
  cubeRoot,
  cubicK,
  cubicWindow,
  halvedSsthresh,
  newRenoFullAckWindow,
  newRenoPartialAck,
  newRenoRecoveryStart,
  slowStart,
} from './index.js';

const MSS = 1000;
const T0 = Instant.fromSecs(1);

function make(name: CongestionControlName, initialWindow?: number): CongestionController {
  return createCongestionController(name, { mss: MSS, now: T0, ...(initialWindow !== undefined ? { initialWindow } : {}) });
}

/**
 * One round trip of a sender that always fills its window: the segments of
 * the flight sent at the start of the round are ACKed one by one, evenly
 * spread over the RTT; the window stays full (each ACK clocks out new data),
 * so bytesInFlight is the whole cwnd. Returns the time at the end of the round.
 */
function roundTrip(cc: CongestionController, start: Instant, rtt: Duration): Instant {
  const segments = Math.max(1, Math.floor(cc.cwnd / MSS));
  for (let i = 1; i <= segments; i++) {
    const at = (start + Math.round((rtt * i) / segments)) as Instant;
    cc.onAck(at, MSS, rtt, cc.cwnd);
  }
  return (start + rtt) as Instant;
}

/** Puts a controller into congestion avoidance at `segments` with a congestion event and recovery. */
function lossAt(cc: CongestionController, segments: number, now: Instant): void {
  let t = now;
  while (cc.cwnd < segments * MSS && cc.inSlowStart) t = roundTrip(cc, t, Duration.fromMillis(10));
  cc.onCongestionEvent(t, cc.cwnd);
  cc.onRecoveryEnd(t);
}

describe.each(['reno', 'cubic'] as const)('%s: common behaviour', (name) => {
  it('starts with 10 segments (RFC 6928) and an infinite ssthresh', () => {
    const cc = make(name);
    expect(cc.name).toBe(name);
    expect(cc.cwnd).toBe(10 * MSS);
    expect(cc.ssthresh).toBe(INFINITE_SSTHRESH);
    expect(cc.inSlowStart).toBe(true);
    expect(make(name, 4).cwnd).toBe(4 * MSS);
  });

  it('doubles cwnd every RTT in slow start', () => {
    const cc = make(name);
    let t = T0;
    const windows: number[] = [];
    for (let r = 0; r < 5; r++) {
      t = roundTrip(cc, t, Duration.fromMillis(50));
      windows.push(cc.cwnd / MSS);
    }
    expect(windows).toEqual([20, 40, 80, 160, 320]);
  });

  it('counts bytes, at most 2 MSS per ACK (RFC 3465 L = 2)', () => {
    const cc = make(name);
    cc.onAck(T0, 5 * MSS, undefined, cc.cwnd); // one stretch ACK for 5 segments
    expect(cc.cwnd).toBe(12 * MSS);
    cc.onAck(T0, 100, undefined, cc.cwnd); // a small ACK grows cwnd by its bytes
    expect(cc.cwnd).toBe(12 * MSS + 100);
  });

  it('does not grow while application-limited (RFC 7661)', () => {
    const cc = make(name);
    for (let i = 0; i < 10; i++) cc.onAck(T0, MSS, undefined, 2 * MSS);
    expect(cc.cwnd).toBe(10 * MSS);
  });

  it('enters recovery once per window and does not grow during it', () => {
    const cc = make(name);
    let t = T0;
    for (let r = 0; r < 4; r++) t = roundTrip(cc, t, Duration.fromMillis(10)); // 160 segments
    cc.onCongestionEvent(t, cc.cwnd);
    expect(cc.inRecovery).toBe(true);
    const { cwnd, ssthresh } = cc;
    cc.onCongestionEvent(t, cc.cwnd); // a second loss in the same window
    cc.onAck(t, MSS, undefined, cc.cwnd);
    expect(cc.cwnd).toBe(cwnd);
    expect(cc.ssthresh).toBe(ssthresh);
    cc.onRecoveryEnd(t);
    expect(cc.inRecovery).toBe(false);
    expect(cc.cwnd).toBe(cc.ssthresh);
    expect(cc.inSlowStart).toBe(false);
  });

  it('collapses to 1 MSS on a retransmission timeout, and holds ssthresh on a repeated one', () => {
    const cc = make(name);
    let t = T0;
    for (let r = 0; r < 3; r++) t = roundTrip(cc, t, Duration.fromMillis(10)); // 80 segments
    cc.onRetransmitTimeout(t, 80 * MSS);
    expect(cc.cwnd).toBe(MSS);
    const ssthresh = cc.ssthresh;
    expect(ssthresh).toBe(name === 'reno' ? 40 * MSS : 56 * MSS);
    expect(cc.inSlowStart).toBe(true);
    cc.onRetransmitTimeout(t, MSS); // the retransmission timed out too: RFC 5681 keeps ssthresh
    expect(cc.ssthresh).toBe(ssthresh);
    expect(cc.cwnd).toBe(MSS);
    // Slow start again from the loss window, up to ssthresh.
    for (let r = 0; r < 6; r++) t = roundTrip(cc, t, Duration.fromMillis(10));
    expect(cc.cwnd).toBeGreaterThanOrEqual(ssthresh);
    expect(cc.inSlowStart).toBe(false);
    // After an ACK, a new timeout computes ssthresh afresh.
    const before = cc.cwnd;
    cc.onRetransmitTimeout(t, 20 * MSS);
    expect(cc.ssthresh).toBe(name === 'reno' ? 10 * MSS : Math.floor(before * 0.7));
  });

  it('restarts after idle with at most the initial window (RFC 5681 4.1)', () => {
    const cc = make(name);
    let t = T0;
    for (let r = 0; r < 3; r++) t = roundTrip(cc, t, Duration.fromMillis(10));
    cc.onIdleRestart(t);
    expect(cc.cwnd).toBe(10 * MSS);
    const small = make(name, 2);
    small.onIdleRestart(t);
    expect(small.cwnd).toBe(2 * MSS);
  });

  it('keeps windows in segments when the MSS changes', () => {
    const cc = make(name);
    cc.setMss(1460);
    expect(cc.mss).toBe(1460);
    expect(cc.cwnd).toBe(14600);
    expect(cc.ssthresh).toBe(INFINITE_SSTHRESH);
    expect(() => cc.setMss(0)).toThrow(RangeError);
  });

  it('ignores ACKs that acknowledge nothing', () => {
    const cc = make(name);
    cc.onAck(T0, 0, undefined, cc.cwnd);
    expect(cc.cwnd).toBe(10 * MSS);
  });
});

describe('reno', () => {
  it('halves on loss: ssthresh = max(FlightSize / 2, 2 MSS) (RFC 5681 eqn 4)', () => {
    const cc = make('reno');
    cc.onCongestionEvent(T0, 64 * MSS);
    expect(cc.ssthresh).toBe(32 * MSS);
    expect(cc.cwnd).toBe(32 * MSS);
    const tiny = make('reno');
    tiny.onCongestionEvent(T0, MSS);
    expect(tiny.ssthresh).toBe(2 * MSS);
  });

  it('adds about one MSS per RTT in congestion avoidance', () => {
    const cc = make('reno');
    lossAt(cc, 80, T0);
    expect(cc.cwnd).toBe(40 * MSS);
    let t = T0;
    for (let r = 1; r <= 30; r++) {
      t = roundTrip(cc, t, Duration.fromMillis(100));
      expect(cc.cwnd).toBe((40 + r) * MSS);
    }
  });

  it('carries slow start ACKs past ssthresh into congestion avoidance', () => {
    const cc = make('reno');
    cc.onCongestionEvent(T0, 30 * MSS); // ssthresh 15 segments
    cc.onRecoveryEnd(T0);
    cc.onRetransmitTimeout(T0, 30 * MSS); // cwnd 1 MSS, ssthresh 15
    let t = T0;
    for (let r = 0; r < 4; r++) t = roundTrip(cc, t, Duration.fromMillis(10)); // 1, 2, 4, 8 -> 16
    expect(cc.cwnd).toBe(15 * MSS);
    t = roundTrip(cc, t, Duration.fromMillis(10));
    expect(cc.cwnd).toBe(16 * MSS);
  });
});

describe('NewReno recovery helpers (RFC 6582)', () => {
  it('inflates by 3 MSS on entry, deflates on partial ACKs, exits without a burst', () => {
    expect(halvedSsthresh(20 * MSS, MSS)).toBe(10 * MSS);
    expect(newRenoRecoveryStart(10 * MSS, MSS)).toBe(13 * MSS);
    // A partial ACK of 4 segments: deflate by 4 MSS, add one back.
    expect(newRenoPartialAck(16 * MSS, 4 * MSS, MSS)).toBe(13 * MSS);
    // Less than one MSS acknowledged: no add-back.
    expect(newRenoPartialAck(16 * MSS, 500, MSS)).toBe(16 * MSS - 500);
    expect(newRenoPartialAck(MSS, 10 * MSS, MSS)).toBe(MSS);
    expect(newRenoFullAckWindow(10 * MSS, 3 * MSS, MSS)).toBe(4 * MSS);
    expect(newRenoFullAckWindow(10 * MSS, 30 * MSS, MSS)).toBe(10 * MSS);
  });
});

describe('cubic', () => {
  it('computes the cube root exactly enough and deterministically', () => {
    expect(cubeRoot(27)).toBe(3);
    expect(cubeRoot(0)).toBe(0);
    expect(cubeRoot(-1)).toBe(0);
    for (const x of [1e-9, 0.001, 0.5, 1, 2, 75, 1234.5, 1e6, 1e12]) {
      expect(Math.abs(cubeRoot(x) - Math.cbrt(x))).toBeLessThanOrEqual(1e-12 * Math.cbrt(x) + 1e-15);
    }
  });

  it('reduces by beta 0.7 on loss and sets K per RFC 9438 eqn 2', () => {
    const cc = new CubicController({ mss: MSS, now: T0 });
    lossAt(cc, 100, T0);
    // Slow start reached 160 segments before the loss (10, 20, 40, 80, 160).
    expect(cc.wMax).toBe(160);
    expect(cc.ssthresh).toBe(112 * MSS);
    expect(cc.cwnd).toBe(112 * MSS);
    expect(cubicK(160, 112)).toBeCloseTo(Math.cbrt(48 / 0.4), 12);
  });

  it('applies fast convergence when a loss comes below the last W_max (RFC 9438 4.7)', () => {
    const cc = new CubicController({ mss: MSS, now: T0 });
    lossAt(cc, 100, T0); // W_max 160, cwnd 112
    cc.onCongestionEvent(T0, cc.cwnd);
    expect(cc.wMax).toBeCloseTo((112 * 1.7) / 2, 9);
    expect(cc.cwnd).toBe(Math.floor(112 * MSS * 0.7));
    const plain = new CubicController({ mss: MSS, now: T0, fastConvergence: false });
    lossAt(plain, 100, T0);
    plain.onCongestionEvent(T0, plain.cwnd);
    expect(plain.wMax).toBe(112);
  });

  it('follows W_cubic(t) over simulated round trips (RFC 9438 4.2)', () => {
    const cc = new CubicController({ mss: MSS, now: T0 });
    lossAt(cc, 100, T0);
    const wMax = cc.wMax; // 160
    const rtt = Duration.fromMillis(100);
    const k = cubicK(wMax, cc.cwnd / MSS);
    let t = Instant.fromSecs(10);
    const epoch = t; // the first ACK of the round starts the epoch ~now
    const trace: string[] = [];
    for (let r = 0; r < 80; r++) {
      t = roundTrip(cc, t, rtt);
      const secs = (t - epoch) / 1e6;
      const cwnd = cc.cwnd / MSS;
      // cwnd chases W(t + RTT) from below, one RTT of growth at a time.
      const lo = cubicWindow(secs - 0.1, k, wMax) - 1;
      const hi = cubicWindow(secs + 0.1, k, wMax) + 1;
      if (cwnd < lo || cwnd > hi) trace.push(`t=${secs.toFixed(1)} cwnd=${cwnd} want ${lo.toFixed(1)}..${hi.toFixed(1)}`);
    }
    expect(trace).toEqual([]);
    // Plateau near W_max at t = K, convex growth afterwards.
    expect(k).toBeGreaterThan(4.9);
    expect(k).toBeLessThan(5);
    expect(cc.cwnd / MSS).toBeGreaterThan(cubicWindow(7.9, k, wMax) - 1);
  });

  it('is Reno-friendly when RTTs are short (RFC 9438 4.3)', () => {
    const cc = new CubicController({ mss: MSS, now: T0 });
    lossAt(cc, 100, T0); // cwnd 112 segments, cwnd_prior 160
    const rtt = Duration.fromMillis(1);
    let t = Instant.fromSecs(10);
    for (let r = 0; r < 20; r++) t = roundTrip(cc, t, rtt);
    // 20 ms is nothing on the cubic curve; W_est grows by alpha_cubic per RTT.
    const west = 112 + 20 * CUBIC_ALPHA; // ~122.6
    expect(cc.cwnd / MSS).toBeGreaterThanOrEqual(Math.floor(west) - 1);
    expect(cc.cwnd / MSS).toBeLessThanOrEqual(Math.ceil(west));
  });

  it('restarts the curve with K = 0 after a timeout (RFC 9438 4.8)', () => {
    const cc = new CubicController({ mss: MSS, now: T0 });
    lossAt(cc, 100, T0);
    cc.onRetransmitTimeout(T0, cc.cwnd); // ssthresh 78.4 segments (112 * 0.7)
    expect(cc.cwnd).toBe(MSS);
    expect(cc.ssthresh).toBe(78_400);
    let t = Instant.fromSecs(10);
    while (cc.inSlowStart) t = roundTrip(cc, t, Duration.fromMillis(100));
    t = roundTrip(cc, t, Duration.fromMillis(100));
    expect(cc.k).toBe(0);
    expect(cc.wMax).toBeCloseTo(78.4, 9);
  });

  it('produces identical windows for identical event sequences', () => {
    const run = (): number[] => {
      const cc = new CubicController({ mss: 1448, now: T0 });
      let t = T0;
      const out: number[] = [];
      for (let r = 0; r < 200; r++) {
        t = roundTrip(cc, t, Duration.fromMicros(23_456));
        if (r % 9 === 8) {
          cc.onCongestionEvent(t, cc.cwnd);
          cc.onRecoveryEnd(t);
        }
        out.push(cc.cwnd);
      }
      return out;
    };
    const a = run();
    expect(run()).toEqual(a);
    expect(a.every((w) => Number.isInteger(w) && w >= 1448)).toBe(true);
  });
});

describe('slowStart (shared by reno and cubic)', () => {
  it('grows by at most 2 MSS, stops at ssthresh, and passes everything on outside slow start', () => {
    expect({ ...slowStart(10 * MSS, INFINITE_SSTHRESH, MSS, 5 * MSS) }).toEqual({ cwnd: 12 * MSS, rest: 0 });
    expect({ ...slowStart(14 * MSS, 15 * MSS, MSS, 3 * MSS) }).toEqual({ cwnd: 15 * MSS, rest: 2 * MSS });
    expect({ ...slowStart(20 * MSS, 15 * MSS, MSS, 3 * MSS) }).toEqual({ cwnd: 20 * MSS, rest: 3 * MSS });
  });

  it('without the RFC 3465 cap (Linux tcp_slow_start) a stretch ACK grows cwnd by all it covers, up to ssthresh', () => {
    expect({ ...slowStart(10 * MSS, INFINITE_SSTHRESH, MSS, 10 * MSS, Infinity) }).toEqual({ cwnd: 20 * MSS, rest: 0 });
    expect({ ...slowStart(10 * MSS, 15 * MSS, MSS, 10 * MSS, Infinity) }).toEqual({ cwnd: 15 * MSS, rest: 5 * MSS });
  });

  it('the controllers take the limit as an option: ten segments ACKed at once make cwnd 20 (Linux), not 12', () => {
    for (const name of ['reno', 'cubic'] as const) {
      const linux = createCongestionController(name, { mss: MSS, now: T0, slowStartLimit: Infinity });
      linux.onAck(T0, 10 * MSS, undefined, 10 * MSS);
      expect(linux.cwnd).toBe(20 * MSS);
      const rfc = createCongestionController(name, { mss: MSS, now: T0 });
      rfc.onAck(T0, 10 * MSS, undefined, 10 * MSS);
      expect(rfc.cwnd).toBe(12 * MSS);
      expect(() => createCongestionController(name, { mss: MSS, now: T0, slowStartLimit: 0 })).toThrow(RangeError);
    }
  });
});
