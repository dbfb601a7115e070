import { describe, expect, it } from 'vitest';
import { GSO_MAX_SIZE, MIN_TSO_SEGS, pacingRate, tcpTsoSegs, tsoSegs } from './tso.js';
import type { TsoState } from './tso.js';
import type { Duration } from '../time/duration.js';
import { SeededRng } from '../random/rng.js';

describe('Linux TSO packet sizing (tcp_update_pacing_rate, tcp_tso_autosize)', () => {
  it('pacing rate: mss * cwnd / SRTT at 200% in slow start (cwnd < ssthresh/2), else 120%', () => {
    // 1000 B * 10 / 100 ms = 100 kB/s; 200% in slow start.
    expect(pacingRate(1000, 10, 0x7fffffff, 10, 100_000)).toBe(200_000);
    // After recovery (cwnd = ssthresh = 7) at SRTT 10 ms: 120% of 700 kB/s.
    expect(pacingRate(1000, 7, 7, 0, 10_000)).toBe(840_000);
    // packets_out above cwnd counts instead.
    expect(pacingRate(1000, 2, 2, 5, 10_000)).toBe(600_000);
    expect(pacingRate(1000, 10, 20, 0, undefined)).toBe(Number.POSITIVE_INFINITY);
  });

  it('about 1 ms of data per packet, at least tcp_min_tso_segs', () => {
    // 840 kB/s >> 10 = 820 B: under one MSS, so 2 segments.
    expect(tsoSegs(1000, 840_000, 10_000)).toBe(MIN_TSO_SEGS);
    // 10 MB/s >> 10 = 9765 B: 9 segments of 1000.
    expect(tsoSegs(1000, 10_000_000, 100_000)).toBe(9);
  });

  it('short paths add gso_max_size >> (min_rtt >> tcp_tso_rtt_log); never past gso_max_size', () => {
    // min_RTT 1 ms: r = 1, + 32 KiB.
    expect(tsoSegs(1000, 840_000, 1000)).toBe(Math.floor((820 + GSO_MAX_SIZE / 2) / 1000));
    // min_RTT 16.4 ms: r = 32, nothing added.
    expect(tsoSegs(1000, 840_000, 16_400)).toBe(MIN_TSO_SEGS);
    expect(tsoSegs(1000, Number.POSITIVE_INFINITY, undefined)).toBe(Math.floor(GSO_MAX_SIZE / 1000));
    expect(tsoSegs(1460, 1e12, 0)).toBe(Math.floor(GSO_MAX_SIZE / 1460));
  });
});

describe('tcpTsoSegs (Linux tcp_tso_segs of a connection)', () => {
  /** The definition, without tcpTsoSegs's memo. */
  function direct(s: TsoState): number {
    const rate = pacingRate(s.mss, Math.floor(s.cc.cwnd / s.mss), Math.floor(s.cc.ssthresh / s.mss), Math.ceil(s.flightSize() / s.mss), s.rtt.srtt);
    return tsoSegs(s.mss, rate, s.rtt.minRtt, s.config.minTsoSegs);
  }

  function state(mss: number, cwnd: number, ssthresh: number, flight: number, srtt: number | undefined, minRtt: number | undefined, minTsoSegs = MIN_TSO_SEGS): TsoState {
    return {
      mss,
      cc: { cwnd, ssthresh },
      rtt: { srtt: srtt as Duration | undefined, minRtt: minRtt as Duration | undefined },
      config: { minTsoSegs },
      flightSize: () => flight,
    };
  }

  it('a flight beyond cwnd raises the rate, and the answer follows it segment by segment', () => {
    // 1000 B, cwnd 2 segments, SRTT and min RTT 20 ms (nothing added for the short path).
    const at = (flight: number) => tcpTsoSegs(state(1000, 2000, 1000, flight, 20_000, 20_000, 1));
    // 120% of 2 * 1000 B / 20 ms = 120 kB/s; >> 10 = 117 B: the minimum, 1 segment.
    expect(at(0)).toBe(1);
    expect(at(2000)).toBe(1);
    // 30 segments out: 120% of 30 * 1000 / 20 ms = 1.8 MB/s >> 10 = 1757 B: 1 segment; 40 out: 2343 B: 2.
    expect(at(30_000)).toBe(1);
    expect(at(39_001)).toBe(2);
    expect(at(40_000)).toBe(2);
    expect(at(2000)).toBe(1);
  });

  it('answers as the definition over seeded random connection states, repeats and near repeats included', () => {
    const rng = new SeededRng(7);
    let s = state(1448, 14480, 1 << 30, 0, 100, 80);
    for (let i = 0; i < 20_000; i++) {
      // Mostly small steps from the last state (a burst), sometimes a new one.
      const k = rng.nextInt(10);
      const flight = k < 5 ? Math.max(0, s.flightSize() + rng.nextInt(3000) - 1000) : rng.nextInt(200_000);
      const mss = k === 9 ? 500 + rng.nextInt(9000) : s.mss;
      const cwnd = k === 8 ? mss * (1 + rng.nextInt(100)) + rng.nextInt(mss) : s.cc.cwnd;
      const ssthresh = k === 7 ? rng.nextInt(1_000_000) : s.cc.ssthresh;
      const srtt = k === 6 ? (rng.nextInt(3) === 0 ? undefined : rng.nextInt(50_000)) : s.rtt.srtt;
      const minRtt = k === 6 ? (rng.nextInt(3) === 0 ? undefined : rng.nextInt(50_000)) : s.rtt.minRtt;
      s = state(mss, cwnd, ssthresh, flight, srtt, minRtt, k === 5 ? 1 + rng.nextInt(4) : s.config.minTsoSegs);
      expect(tcpTsoSegs(s), `step ${i}`).toBe(direct(s));
    }
  });
});
