/**
 * PSH placement and the write-boundary flags (MSG_MORE, MSG_EOR, TCP_NODELAY
 * push) as Linux does them: the packetdrill scripts under gtests/tcp pin the
 * same behaviour end to end.
 */
import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../wire/tcp.js';
import { Duration } from '../time/duration.js';
import { connectedPair } from './harness.fixtures.js';
import type { SentSegment } from './harness.fixtures.js';
import type { TcpConfig } from './config.js';

function connected(config: Partial<TcpConfig> = {}) {
  return connectedPair({ seed: 3, client: { timestamps: false, ...config }, server: { timestamps: false }, settle: Duration.fromMillis(100) });
}

const psh = (x: SentSegment): boolean => (x.seg.flags & TcpFlag.PSH) !== 0;

describe('PSH placement (RFC 9293 3.9.1 SEND "PUSH"; Linux tcp_push / TSO bursts)', () => {
  it('a cwnd-limited burst goes in TSO packets of tcp_tso_autosize segments, each ending with PSH even mid-write', () => {
    const { net, a, c } = connected({ initialWindowSegments: 4 });
    const mss = c.info.mss;
    const start = net.log.length;
    c.send(new Uint8Array(10 * mss));
    net.run(Duration.fromMillis(5));
    const burst = net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0);
    // SRTT 20 ms, cwnd 4: 200% of 4 * 1460 B / 20 ms is 584 kB/s, ~570 B a
    // millisecond, under one MSS: tcp_min_tso_segs (2) per packet.
    expect(burst.map(psh)).toEqual([false, true, false, true]);
  });

  it('a burst that ends on a single-segment packet mid-write ends without PSH (Linux 2+2+2+1)', () => {
    const { net, a, c } = connected({ initialWindowSegments: 7 });
    const mss = c.info.mss;
    const start = net.log.length;
    c.send(new Uint8Array(10 * mss));
    net.run(Duration.fromMillis(5));
    const burst = net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0);
    expect(burst.map(psh)).toEqual([false, true, false, true, false, true, false]);
  });

  it('on a short path the TSO packet is large: the whole burst is one packet, PSH on its last segment only', () => {
    // min_RTT 2 ms: tcp_tso_autosize adds gso_max_size >> (2000 >> 9) = 8 KiB.
    const { net, a, c } = connectedPair({
      seed: 3,
      latency: Duration.fromMillis(1),
      client: { timestamps: false, initialWindowSegments: 5 },
      server: { timestamps: false },
      settle: Duration.fromMillis(10),
    });
    const mss = c.info.mss;
    const start = net.log.length;
    c.send(new Uint8Array(10 * mss));
    net.run(Duration.fromMillis(1));
    const burst = net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0);
    expect(burst.map(psh)).toEqual([false, false, false, false, true]);
  });

  it('MSG_MORE: the tail waits for more and carries no PSH; the next ACK sends it', () => {
    const { net, a, c } = connected({ noDelay: true });
    const mss = c.info.mss;
    const start = net.log.length;
    c.send(new Uint8Array(2 * mss + 100));
    c.setMsgMore(true);
    net.run(Duration.fromMillis(5));
    let data = net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0);
    // Two full segments at once, without PSH (the write is not finished); the 100 bytes wait.
    expect(data.map((x) => [x.seg.payload.length, psh(x)])).toEqual([
      [mss, false],
      [mss, false],
    ]);
    net.run(Duration.fromMillis(50));
    data = net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0);
    expect(data.map((x) => [x.seg.payload.length, psh(x)])).toEqual([
      [mss, false],
      [mss, false],
      [100, false],
    ]);
  });

  it('MSG_MORE with nothing in flight: the persist timer flushes the tail, with PSH (Linux tcp_write_wakeup)', () => {
    const { net, a, c } = connected({ noDelay: true });
    const start = net.log.length;
    const t0 = net.now;
    c.send(new Uint8Array(40));
    c.setMsgMore(true);
    net.run(Duration.fromMillis(400));
    const data = net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0);
    expect(data).toHaveLength(1);
    expect(psh(data[0]!)).toBe(true);
    // One RTO after the write: SRTT 20 ms + max(4*RTTVAR, 200 ms).
    expect(data[0]!.at - t0).toBe(Duration.fromMillis(220));
  });

  it('TCP_NODELAY switched on pushes what TCP_CORK holds (Linux TCP_NAGLE_PUSH)', () => {
    const { net, a, c } = connected({ cork: true });
    const start = net.log.length;
    c.send(new Uint8Array(80));
    net.run(Duration.fromMillis(50));
    expect(net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0)).toHaveLength(0);
    c.setNoDelay(true);
    net.run(Duration.fromMillis(1));
    const data = net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0);
    expect(data.map((x) => [x.seg.payload.length, psh(x)])).toEqual([[80, true]]);
  });

  it('MSG_EOR: no segment crosses a record end, and the segment ending a record carries PSH', () => {
    const { net, a, c } = connected({ noDelay: true });
    const mss = c.info.mss;
    const start = net.log.length;
    c.send(new Uint8Array(mss + 400));
    c.markEor();
    c.send(new Uint8Array(mss));
    net.run(Duration.fromMillis(5));
    const data = net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0);
    expect(data.map((x) => [x.seg.payload.length, psh(x)])).toEqual([
      [mss, false],
      [400, true],
      [mss, true],
    ]);
  });
});
