import { describe, expect, it } from 'vitest';
import { GSO_MAX_SIZE, MIN_TSO_SEGS, pacingRate, tsoSegs } from './tso.js';

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
