import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import { connectedPair, drain } from './harness.fixtures.js';
import type { SentSegment } from './harness.fixtures.js';
import type { TcpConfig } from './config.js';

/** Two hosts 10 ms apart (SRTT 20 ms once the handshake is timed). */
function connected(config: Partial<TcpConfig> = {}) {
  return connectedPair({ seed: 7, client: { noDelay: true, timestamps: false, ...config }, server: { timestamps: false, ...config }, settle: Duration.fromMillis(100) });
}

function dataFrom(addr: number) {
  return (x: SentSegment) => x.from === addr && x.seg.payload.length > 0;
}

describe('RFC 8985 7: tail loss probe', () => {
  it('7.3: a lost tail is probed (the last segment again) at 2*SRTT + 2 ms after the last ACK, long before the RTO', () => {
    const { net, a, c, s } = connected();
    expect(c.info.srtt).toBe(Duration.fromMillis(20));
    const mss = c.info.mss;
    let n = 0;
    // Drop the last two data segments of the flight of four, once.
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 0 && (++n === 3 || n === 4);
    const start = net.log.length;
    const t0 = net.now;
    c.send(new Uint8Array(4 * mss));
    const got: number[] = [];
    net.run(Duration.fromSecs(2), () => drain(s, got) >= 0 && got.length === 4 * mss);
    expect(got.length).toBe(4 * mss);
    const segs = net.log.slice(start).filter(dataFrom(a.addr));
    const probe = segs[4]!;
    // The probe resends the last segment (no new data is left)...
    expect(probe.seg.seq).toBe(segs[3]!.seg.seq);
    expect(probe.seg.payload.length).toBe(mss);
    // ...one PTO (two segments in flight: 2*SRTT + 2 ms) after the ACKs of the first two (at t0 + 20 ms).
    expect(Instant.toMillis(probe.at) - Instant.toMillis(t0)).toBe(20 + 2 * 20 + 2);
  });

  it('7.2: a PTO capped at the RTO instant replaces the RTO: the probe goes, the RTO restarts', () => {
    const { net, a, c, s } = connected();
    const mss = c.info.mss;
    let n = 0;
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 0 && ++n === 4;
    const start = net.log.length;
    const t0 = net.now;
    c.send(new Uint8Array(4 * mss));
    const got: number[] = [];
    net.run(Duration.fromSecs(1), () => drain(s, got) >= 0 && got.length === 4 * mss);
    const segs = net.log.slice(start).filter(dataFrom(a.addr));
    expect(segs.length).toBe(5);
    // The last ACK (t0 + 20 ms) leaves one segment in flight: PTO = min(2*SRTT + 200 ms, RTO = 20 + 200 ms).
    expect(Instant.toMillis(segs[4]!.at) - Instant.toMillis(t0)).toBe(20 + 220);
    expect(c.timeouts).toBe(0);
  });

  it('7.3: with unsent data and room in the peer window, the probe sends new data', () => {
    const { net, a, c } = connected({ initialWindowSegments: 2 });
    const mss = c.info.mss;
    // Everything is lost: only the probe and the RTO remain.
    net.dropIf = (_seg, from) => from === a.addr;
    const start = net.log.length;
    const t0 = net.now;
    c.send(new Uint8Array(4 * mss));
    net.run(Duration.fromMillis(100));
    const segs = net.log.slice(start).filter(dataFrom(a.addr));
    // Two segments (cwnd), then one probe of NEW data although cwnd is full.
    expect(segs.map((x) => x.seg.seq - segs[0]!.seg.seq)).toEqual([0, mss, 2 * mss]);
    expect(Instant.toMillis(segs[2]!.at) - Instant.toMillis(t0)).toBe(2 * 20 + 2);
  });

  it('7.2: one segment in flight: PTO adds the worst-case delayed ACK time, but never exceeds the RTO', () => {
    const { net, a, c } = connected();
    net.dropIf = (_seg, from) => from === a.addr;
    const start = net.log.length;
    const t0 = net.now;
    c.send(new Uint8Array(100));
    net.run(Duration.fromMillis(600));
    const segs = net.log.slice(start).filter(dataFrom(a.addr));
    // PTO = min(2*20 + 200, RTO = 20 + max(4*RTTVAR, 200)) = 220 ms; then the RTO restarts from the probe.
    expect(segs.map((x) => Instant.toMillis(x.at) - Instant.toMillis(t0))).toEqual([0, 220, 440]);
    expect(c.timeouts).toBe(1);
  });

  it('7.1: no probes without SACK', () => {
    const { net, a, c } = connected({ sack: false });
    net.dropIf = (_seg, from) => from === a.addr;
    const start = net.log.length;
    const t0 = net.now;
    c.send(new Uint8Array(4 * c.info.mss));
    net.run(Duration.fromMillis(150));
    const segs = net.log.slice(start).filter(dataFrom(a.addr));
    // The four first transmissions, and nothing later (an empty log would pass the check below vacuously).
    expect(segs).toHaveLength(4);
    expect(segs.every((x) => x.at === t0)).toBe(true);
  });

  it('7.4: a probe that repaired a loss (no D-SACK) reduces cwnd once', () => {
    const { net, a, c, s } = connected({ congestionControl: 'reno' });
    const mss = c.info.mss;
    const before = c.info.cwnd;
    let n = 0;
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 0 && ++n === 4;
    c.send(new Uint8Array(4 * mss));
    const got: number[] = [];
    net.run(Duration.fromSecs(1), () => drain(s, got) >= 0 && got.length === 4 * mss && c.info.sndUna === c.info.sndNxt);
    // Reno halves: ssthresh = max(FlightSize / 2, 2 MSS) with one segment in flight.
    expect(c.info.cwnd).toBeLessThan(before);
    expect(c.info.ssthresh).toBe(2 * mss);
    expect(c.timeouts).toBe(0);
  });
});
