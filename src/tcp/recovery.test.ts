import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import { connectedPair, drain } from './harness.fixtures.js';
import type { Net, SentSegment } from './harness.fixtures.js';
import type { TcpConfig } from './config.js';
import { TcpState } from './state.js';

function connected(config: Partial<TcpConfig> = {}, configB: Partial<TcpConfig> = config) {
  return connectedPair({ seed: 3, client: config, server: configB, settle: Duration.fromSecs(1) });
}

const dataFrom = (net: Net, from: number) => (x: SentSegment) => x.from === from && x.seg.payload.length > 0;
const ms = (t: Instant) => Instant.toMillis(t);

describe('retransmission', () => {
  it('MUST-18/19/20: RTO doubles on each retransmission and the connection times out after R2', () => {
    // RTOs only: a tail loss probe (RFC 8985) would add one send before the first.
    const { net, a, c } = connected({ retries2: 4, lossProbe: false });
    const start = net.log.length;
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 0;
    c.send(new Uint8Array(100));
    net.run(Duration.fromSecs(120), () => c.isClosed);
    const sends = net.log.slice(start).filter(dataFrom(net, a.addr)).map((x) => ms(x.at));
    const gaps = sends.slice(1).map((t, i) => t - sends[i]!);
    expect(sends).toHaveLength(5);
    // Doubling from the measured RTO: Linux's SRTT + max(4*RTTVAR, 200 ms) on a 20 ms RTT.
    expect(gaps).toEqual([220, 440, 880, 1760]);
    expect(c.error).toBe('ETIMEDOUT');
  });

  it('MUST-21: TCP_USER_TIMEOUT ends a stalled connection', () => {
    const { net, a, c } = connected({ userTimeout: Duration.fromSecs(1) });
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 0;
    const t0 = net.now;
    c.send(new Uint8Array(100));
    net.run(Duration.fromSecs(120), () => c.isClosed);
    expect(c.error).toBe('ETIMEDOUT');
    expect(ms(net.now) - ms(t0)).toBeLessThan(4000);
  });

  it('RFC 5681 3.2: fast retransmit on the third duplicate ACK, long before the RTO', () => {
    const { net, a, c, s } = connected({ noDelay: true });
    let n = 0;
    let lostSeq = -1;
    net.dropIf = (seg, from) => {
      if (from === a.addr && seg.payload.length > 0 && ++n === 3) {
        lostSeq = seg.seq;
        return true;
      }
      return false;
    };
    const start = net.log.length;
    c.send(new Uint8Array(10 * 1400));
    net.run(Duration.fromSecs(2));
    const segs = net.log.slice(start);
    const first = segs.find((x) => x.from === a.addr && x.seg.seq === lostSeq)!;
    const resend = segs.find((x) => x !== first && x.from === a.addr && x.seg.seq === lostSeq && x.seg.payload.length > 0)!;
    expect(resend).toBeDefined();
    // One round trip (20 ms) later, not 200 ms.
    expect(ms(resend.at) - ms(first.at)).toBeLessThan(60);
    const dups = segs.filter((x) => x.from !== a.addr && x.seg.ack === lostSeq && x.at <= resend.at);
    expect(dups.length).toBeGreaterThanOrEqual(3);
    expect(drain(s, [])).toBe(14000);
  });

  it('RFC 6675: with SACK, several holes in one window are all repaired within about one round trip', () => {
    const { net, a, c, s } = connected({ noDelay: true });
    let n = 0;
    const lost: number[] = [];
    net.dropIf = (seg, from) => {
      if (from === a.addr && seg.payload.length > 0 && [2, 4, 6].includes(++n)) {
        lost.push(seg.seq);
        return true;
      }
      return false;
    };
    const start = net.log.length;
    c.send(new Uint8Array(10 * 1448));
    net.run(Duration.fromSecs(2));
    const segs = net.log.slice(start).filter((x) => x.from === a.addr && x.seg.payload.length > 0);
    const firstSent = ms(segs[0]!.at);
    const resends = lost.map((seq) => segs.filter((x) => x.seg.seq === seq)[1]);
    for (const r of resends) {
      expect(r).toBeDefined();
      // One RTT (20 ms) to learn of the losses; all three go out then, no RTO (>= 200 ms).
      expect(ms(r!.at) - firstSent).toBeLessThanOrEqual(25);
    }
    // Nothing that arrived was sent twice.
    expect(segs.length).toBe(10 + 3);
    expect(drain(s, [])).toBe(10 * 1448);
  });

  it('RFC 2018: the receiver reports out-of-order data in SACK blocks, most recent first', () => {
    const { net, a, c } = connected({ noDelay: true });
    let n = 0;
    let lost: TcpRepr | undefined;
    net.dropIf = (seg, from) => {
      if (from === a.addr && seg.payload.length > 0 && ++n === 2) {
        lost = seg;
        return true;
      }
      return false;
    };
    const start = net.log.length;
    c.send(new Uint8Array(5 * 1000));
    net.run(Duration.fromMillis(15));
    const acks = net.log.slice(start).filter((x) => x.from !== a.addr);
    const withSack = acks.map((x) => x.seg.options.find((o) => o.kind === 'sack')).filter((o) => o !== undefined);
    expect(withSack.length).toBeGreaterThan(0);
    const last = withSack[withSack.length - 1]!;
    if (last.kind !== 'sack') throw new Error('unreachable');
    const lostEnd = (lost!.seq + lost!.payload.length) >>> 0;
    expect(last.blocks[0]!.left).toBe(lostEnd);
    // 5000 bytes in 1448-byte segments (1460 less 12 of timestamps): everything after the lost second one.
    expect(last.blocks[0]!.right).toBe((lostEnd + 5000 - 2 * 1448) >>> 0);
  });
});

describe('flow control', () => {
  it('MUST-35/36/37: zero window, persist probes with backoff, then the transfer resumes', () => {
    const { net, a, b, c, s } = connected({}, { recvBufferSize: 4096, recvBufferMax: 4096, windowScaling: false });
    const data = new Uint8Array(20000).map((_, i) => i & 0xff);
    let sent = c.send(data);
    net.run(Duration.fromSecs(30));
    expect(s.recvAvailable).toBe(4096);
    // Probes: pure ACKs from the sender with an old sequence number, spaced by a growing interval.
    const probes = net.log.filter((x) => x.from === a.addr && x.seg.payload.length === 0 && x.seg.seq === ((c.info.sndUna - 1) >>> 0));
    expect(probes.length).toBeGreaterThanOrEqual(3);
    const gaps = probes.slice(1).map((p, i) => ms(p.at) - ms(probes[i]!.at));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThan(gaps[i - 1]!);
    // Every probe was answered with the (zero) window.
    expect(net.log.filter((x) => x.from === b.addr && x.at > probes[0]!.at && x.seg.window === 0).length).toBeGreaterThanOrEqual(probes.length);
    const got: number[] = [];
    const ok = net.run(Duration.fromSecs(60), () => {
      if (sent < data.length) sent += c.send(data.subarray(sent));
      drain(s, got);
      return got.length === data.length;
    });
    expect(ok).toBe(true);
    expect(Uint8Array.from(got)).toEqual(data);
  });

  it('MUST-17: Nagle holds a second small segment until the first is ACKed; TCP_NODELAY does not', () => {
    for (const noDelay of [false, true]) {
      const { net, a, c } = connected({ noDelay, quickAcks: 0 });
      const start = net.log.length;
      c.send(new Uint8Array(10));
      net.run(Duration.fromMillis(1));
      c.send(new Uint8Array(10));
      net.run(Duration.fromMillis(1));
      const sent = net.log.slice(start).filter(dataFrom(net, a.addr));
      expect(sent.length).toBe(noDelay ? 2 : 1);
    }
  });

  it('MUST-40: a lone segment is ACKed after the delayed-ACK timeout (40 ms), two full segments at once', () => {
    const { net, a, b, c } = connected({ quickAcks: 0 });
    const start = net.log.length;
    c.send(new Uint8Array(100));
    net.run(Duration.fromMillis(200));
    const seg = net.log.slice(start).find(dataFrom(net, a.addr))!;
    const ack = net.log.slice(start).find((x) => x.from === b.addr)!;
    expect(ms(ack.at) - ms(seg.at)).toBe(10 + 40);
    const start2 = net.log.length;
    c.send(new Uint8Array(2 * 1448));
    net.run(Duration.fromMillis(200));
    const segs = net.log.slice(start2).filter(dataFrom(net, a.addr));
    const ack2 = net.log.slice(start2).find((x) => x.from === b.addr)!;
    expect(ms(ack2.at) - ms(segs[1]!.at)).toBe(10);
  });
});

describe('keepalive', () => {
  it('MUST-25: keepalive is off by default: an idle connection sends nothing for days', () => {
    const { net, c } = connected();
    const start = net.log.length;
    net.run(Duration.fromSecs(3 * 86400));
    expect(net.log.length).toBe(start);
    expect(c.state).toBe(TcpState.ESTABLISHED);
    expect(c.pollAt()).toBeUndefined();
  });

  it('MUST-24/26/27/28/29: probes after 2 h idle, every 75 s, RST and ETIMEDOUT after 9 unanswered', () => {
    const { net, a, c } = connected({ keepAlive: true }, {});
    const idleFrom = net.now;
    // The peer answers the first probe, then vanishes.
    const probesSeen: Instant[] = [];
    net.dropIf = (seg, from) => {
      if (from === a.addr) {
        if ((seg.flags & TcpFlag.RST) === 0) probesSeen.push(net.now);
        return probesSeen.length > 1;
      }
      return false;
    };
    net.run(Duration.fromSecs(5 * 3600), () => c.isClosed);
    expect(c.error).toBe('ETIMEDOUT');
    const rel = probesSeen.map((t) => (ms(t) - ms(idleFrom)) / 1000);
    // First probe 2 h after the last segment received (the handshake, just before idleFrom).
    expect(rel[0]).toBeGreaterThan(7198);
    expect(rel[0]).toBeLessThanOrEqual(7200);
    // Answered after one RTT (20 ms), so the next idle period starts at the answer.
    expect(rel[1]).toBeCloseTo(rel[0]! + 0.02 + 7200, 5);
    const later = rel.slice(1);
    expect(later).toHaveLength(9);
    for (let i = 1; i < later.length; i++) expect(later[i]! - later[i - 1]!).toBeCloseTo(75, 5);
    const rst = net.log.filter((x) => x.from === a.addr && (x.seg.flags & TcpFlag.RST) !== 0);
    expect(rst).toHaveLength(1);
    expect((ms(rst[0]!.at) - ms(idleFrom)) / 1000).toBeCloseTo(rel[1]! + 9 * 75, 5);
  });

  it('MUST-24/27: keepalive can be switched on and tuned on a live connection', () => {
    const { net, a, c } = connected();
    c.setOptions({ keepAlive: true, keepIdle: Duration.fromSecs(60) });
    const start = net.log.length;
    net.run(Duration.fromSecs(61));
    const probes = net.log.slice(start).filter((x) => x.from === a.addr);
    expect(probes).toHaveLength(1);
    expect(probes[0]!.seg.seq).toBe((c.info.sndUna - 1) >>> 0);
  });

  it('MUST-34/37: a window shrunk to zero under data in flight is probed, not timed out', () => {
    const { net, a, c, s } = connected({ retries2: 3, noDelay: true });
    let n = 0;
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 0 && ++n === 2;
    // For ten minutes every ACK from the peer says "window 0".
    const until = Instant.toMicros(net.now) + 600_000_000;
    a.filterIn = (seg) => {
      if (Instant.toMicros(net.now) < until) {
        a.filterIn = undefined;
        a.deliver(net.now, s.local.addr, { ...seg, window: 0 });
        a.filterIn = (x) => (Instant.toMicros(net.now) < until ? (a.deliver(net.now, s.local.addr, { ...x, window: 0 }), true) : false);
        return true;
      }
      return false;
    };
    c.send(new Uint8Array(2 * 1448));
    net.run(Duration.fromSecs(600));
    expect(c.state).toBe(TcpState.ESTABLISHED);
    const got: number[] = [];
    net.run(Duration.fromSecs(600), () => drain(s, got) >= 0 && got.length === 2 * 1448);
    expect(got.length).toBe(2 * 1448);
    expect(c.error).toBeUndefined();
  });

  it('MUST-16: setPathMtu lowers the send MSS and resends the oversized data in smaller segments', () => {
    const { net, a, c, s } = connected({ noDelay: true });
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 1000 - 52;
    const t0 = Instant.toMillis(net.now);
    c.send(new Uint8Array(3000));
    net.run(Duration.fromMillis(5));
    expect(c.setPathMtu(1000)).toBe(960);
    net.dropIf = undefined;
    const got: number[] = [];
    net.run(Duration.fromMillis(100), () => drain(s, got) >= 0 && got.length === 3000);
    expect(got.length).toBe(3000);
    // One round trip after the MTU drop, well before the 200 ms RTO.
    expect(Instant.toMillis(net.now) - t0).toBeLessThan(50);
  });
});
