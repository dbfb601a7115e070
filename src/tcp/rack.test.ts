import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import type { Instant as InstantT } from '../time/instant.js';
import { connectedPair, drain } from './harness.fixtures.js';
import type { SentSegment } from './harness.fixtures.js';
import type { TcpConfig } from './config.js';
import { RACK_EVER_RXT, RACK_LOST, RACK_RXT, RACK_SACKED, RackState, rackReoTimeout, sentAfter } from './rack.js';
import type { RackContext } from './rack.js';
import { SackScoreboard } from './sack-scoreboard.js';

const MSS = 1000;
const ms = (n: number): InstantT => Instant.fromMillis(n);

function ctx(now: InstantT, over: Partial<RackContext> = {}): RackContext {
  return { now, inRecovery: false, srtt: Duration.fromMillis(100), minRtt: Duration.fromMillis(100), dupThresh: 3, hz: 1000, ...over };
}

/** n segments of MSS from seq 1000, all sent at `at`. */
function flight(n: number, at: InstantT): { rack: RackState; sb: SackScoreboard } {
  const rack = new RackState();
  const sb = new SackScoreboard({ mss: MSS });
  for (let i = 0; i < n; i++) rack.onSend(1000 + i * MSS, 1000 + (i + 1) * MSS, at);
  return { rack, sb };
}

function sack(rack: RackState, sb: SackScoreboard, una: number, nxt: number, now: InstantT, blocks: [number, number][]): void {
  sb.update(una, nxt, blocks.map(([left, right]) => ({ left, right })));
  rack.onAck(sb, una, now, Duration.fromMillis(100));
}

describe('RFC 8985 6: RACK loss detection', () => {
  it('6.1: one entry per segment sent, in sequence order, with its transmit time', () => {
    const { rack } = flight(3, ms(5));
    expect(rack.size).toBe(3);
    expect(rack.entry(1)).toEqual({ start: 2000, end: 3000, xmitTs: ms(5), flags: 0 });
  });

  it('6.2: a segment sent before a delivered one is lost once RACK.rtt + reo_wnd (min_RTT/4) has passed; the reorder timer covers the wait', () => {
    const { rack, sb } = flight(4, ms(0));
    // The last segment is SACKed 100 ms later: RACK.rtt = 100 ms, reo_wnd = 25 ms.
    sack(rack, sb, 1000, 5000, ms(100), [[4000, 5000]]);
    expect(rack.rtt).toBe(Duration.fromMillis(100));
    expect(rack.advanced).toBe(true);
    expect(rack.detectLoss(ctx(ms(100)))).toBe(0);
    // RFC 8985 6.3: the timer at the earliest expiry (plus Linux's TCP_TIMEOUT_MIN, 2 ms at HZ=1000).
    expect(rack.timerAt).toBe(ms(127));
    expect(rack.detectLoss(ctx(ms(125)))).toBe(3);
    expect(rack.lostUnsent).toBe(3);
    expect(rack.timerAt).toBe(-1);
    expect(rack.nextLost(sb, 1000, MSS)).toEqual({ seq: 1000, len: MSS });
  });

  it('6.3: the reorder timeout rounds up to jiffies plus TCP_TIMEOUT_MIN at HZ=250 (tcp_rack_mark_lost)', () => {
    const { rack, sb } = flight(4, ms(0));
    sack(rack, sb, 1000, 5000, ms(100), [[4000, 5000]]);
    expect(rack.detectLoss(ctx(ms(100), { hz: 250 }))).toBe(0);
    // 25 ms left = 6.25 ticks of 4 ms: 7 ticks, + 2 = 9 ticks = 36 ms.
    expect(rack.timerAt).toBe(ms(136));
    // Fired at that instant, the wait is over: all three are lost.
    expect(rack.detectLoss(ctx(ms(136), { hz: 250 }))).toBe(3);
  });

  it('6.3: rackReoTimeout is usecs_to_jiffies (rounding up) + 2 jiffies', () => {
    expect(rackReoTimeout(1, 1000)).toBe(Duration.fromMillis(3));
    expect(rackReoTimeout(1000, 1000)).toBe(Duration.fromMillis(3));
    expect(rackReoTimeout(1001, 1000)).toBe(Duration.fromMillis(4));
    expect(rackReoTimeout(4000, 250)).toBe(Duration.fromMillis(12));
    expect(rackReoTimeout(4001, 250)).toBe(Duration.fromMillis(16));
    expect(rackReoTimeout(25_000, 250)).toBe(Duration.fromMillis(36));
    expect(rackReoTimeout(25_000, 100)).toBe(Duration.fromMillis(50));
  });

  it('6.2 step 4: without reordering, reo_wnd is 0 once DupThresh segments are SACKed, or in recovery', () => {
    const { rack, sb } = flight(6, ms(0));
    sack(rack, sb, 1000, 7000, ms(100), [[4000, 7000]]);
    expect(rack.sackedSegs).toBe(3);
    expect(rack.reoWnd(ctx(ms(100)))).toBe(0);
    expect(rack.detectLoss(ctx(ms(100)))).toBe(3);
    const one = flight(4, ms(0));
    sack(one.rack, one.sb, 1000, 5000, ms(100), [[4000, 5000]]);
    expect(one.rack.reoWnd(ctx(ms(100)))).toBe(Duration.fromMillis(25));
    expect(one.rack.reoWnd(ctx(ms(100), { inRecovery: true }))).toBe(0);
    // Never more than SRTT.
    expect(one.rack.reoWnd(ctx(ms(100), { srtt: Duration.fromMillis(10) }))).toBe(Duration.fromMillis(10));
  });

  it('6.2 step 3: a never-retransmitted segment delivered below RACK.fack means reordering; reo_wnd then stays min_RTT/4', () => {
    const { rack, sb } = flight(6, ms(0));
    sack(rack, sb, 1000, 7000, ms(100), [[6000, 7000]]);
    expect(rack.reorderingSeen).toBe(false);
    sack(rack, sb, 1000, 7000, ms(101), [[3000, 4000], [6000, 7000]]);
    expect(rack.reorderingSeen).toBe(true);
    sack(rack, sb, 1000, 7000, ms(102), [[3000, 5000], [6000, 7000]]);
    expect(rack.sackedSegs).toBe(3);
    expect(rack.reoWnd(ctx(ms(102)))).toBe(Duration.fromMillis(25));
  });

  it('a lost retransmission is detected by time and marked for retransmission again', () => {
    const { rack, sb } = flight(4, ms(0));
    sack(rack, sb, 1000, 5000, ms(100), [[2000, 5000]]);
    expect(rack.detectLoss(ctx(ms(100)))).toBe(1);
    // Retransmit 1000:2000 at 100 ms: pipe counts it once more.
    rack.onSend(1000, 2000, ms(100));
    expect(rack.entry(0)!.flags).toBe(RACK_LOST | RACK_RXT | RACK_EVER_RXT);
    expect(rack.lostUnsent).toBe(0);
    expect(rack.nextLost(sb, 1000, MSS)).toBeUndefined();
    expect(rack.pipe(sb, 1000)).toBe(MSS);
    // New data sent after the retransmission is SACKed 100 ms later, the retransmission is not.
    rack.onSend(5000, 6000, ms(110));
    sack(rack, sb, 1000, 6000, ms(210), [[2000, 6000]]);
    expect(rack.detectLoss(ctx(ms(210), { inRecovery: true }))).toBe(1);
    expect(rack.entry(0)!.flags).toBe(RACK_LOST | RACK_EVER_RXT);
    expect(rack.nextLost(sb, 1000, MSS)).toEqual({ seq: 1000, len: MSS });
    expect(rack.pipe(sb, 1000)).toBe(0);
  });

  it('6.2 step 2: an ACK of a retransmitted segment faster than min_RTT is ambiguous and not used', () => {
    const { rack, sb } = flight(2, ms(0));
    rack.onSend(1000, 2000, ms(90));
    sack(rack, sb, 1000, 3000, ms(100), [[1000, 2000]]);
    expect(rack.advanced).toBe(false);
    expect(rack.xmitTs).toBe(-1);
    sack(rack, sb, 1000, 3000, ms(100), [[1000, 3000]]);
    expect(rack.xmitTs).toBe(ms(0));
    expect(rack.endSeq).toBe(3000);
  });

  it('6.2 step 4: a D-SACK raises the reo_wnd multiplier once per round trip; it persists 16 recoveries', () => {
    const rack = new RackState();
    rack.updateReoWnd(1000, 5000, true, false);
    expect(rack.reoWndMult).toBe(2);
    // Same round (SND.UNA below the round's end): no second step.
    rack.updateReoWnd(2000, 6000, true, false);
    expect(rack.reoWndMult).toBe(2);
    rack.updateReoWnd(5000, 9000, true, false);
    expect(rack.reoWndMult).toBe(3);
    for (let i = 0; i < 15; i++) rack.updateReoWnd(9000, 9000, false, true);
    expect(rack.reoWndMult).toBe(3);
    rack.updateReoWnd(9000, 9000, false, true);
    expect(rack.reoWndMult).toBe(1);
  });

  it('a partial retransmission splits the entry; cumulative ACKs trim and drop entries', () => {
    const { rack, sb } = flight(2, ms(0));
    rack.onSend(1500, 2000, ms(50));
    expect(rack.size).toBe(3);
    expect(rack.entry(0)).toMatchObject({ start: 1000, end: 1500, xmitTs: ms(0) });
    expect(rack.entry(1)).toMatchObject({ start: 1500, end: 2000, xmitTs: ms(50), flags: RACK_RXT | RACK_EVER_RXT });
    rack.onAck(sb, 1700, ms(120), Duration.fromMillis(10));
    expect(rack.size).toBe(2);
    expect(rack.entry(0)).toMatchObject({ start: 1700, end: 2000 });
    rack.onAck(sb, 3000, ms(130), Duration.fromMillis(10));
    expect(rack.size).toBe(0);
    // The emptied log went back to the pool; the next flight takes one again.
    rack.onSend(3000, 4000, ms(140));
    expect(rack.entry(0)).toEqual({ start: 3000, end: 4000, xmitTs: ms(140), flags: 0 });
  });

  it('a partly SACKed lost entry is retransmitted from its first unSACKed byte, up to the next SACKed range', () => {
    const { rack, sb } = flight(3, ms(0));
    // Blocks off segment edges: 1000:1300 and 1700:2000 of the first entry, and all of the third.
    sack(rack, sb, 1000, 4000, ms(100), [[3000, 4000], [1000, 1300], [1700, 2000]]);
    expect(rack.detectLoss(ctx(ms(100), { inRecovery: true }))).toBe(2);
    expect(rack.nextLost(sb, 1000, MSS)).toEqual({ seq: 1300, len: 400 });
    // Pipe: the lost entries count nothing, their SACKed parts neither.
    expect(rack.pipe(sb, 1000)).toBe(0);
    rack.onSend(1300, 1700, ms(101));
    expect(rack.pipe(sb, 1000)).toBe(400);
    expect(rack.nextLost(sb, 1000, MSS)).toEqual({ seq: 2000, len: MSS });
  });

  it('SACKed entries are flagged and leave pipe; the log grows past its first capacity', () => {
    const { rack, sb } = flight(40, ms(0));
    sack(rack, sb, 1000, 41000, ms(10), [[30000, 41000]]);
    expect(rack.entry(29)!.flags).toBe(RACK_SACKED);
    expect(rack.pipe(sb, 1000)).toBe(29 * MSS);
  });

  it('RACK_sent_after breaks transmit-time ties by end sequence', () => {
    expect(sentAfter(5, 100, 4, 200)).toBe(true);
    expect(sentAfter(5, 200, 5, 100)).toBe(true);
    expect(sentAfter(5, 100, 5, 100)).toBe(false);
  });
});

/** Two hosts 10 ms apart (SRTT 20 ms once the handshake is timed). */
function connected(config: Partial<TcpConfig> = {}) {
  return connectedPair({ seed: 7, client: { noDelay: true, timestamps: false, ...config }, server: { timestamps: false, ...config }, settle: Duration.fromMillis(100) });
}

const dataFrom = (addr: number) => (x: SentSegment) => x.from === addr && x.seg.payload.length > 0;

describe('RACK in a connection', () => {
  it('one lost segment with a single SACK above it is repaired by the reorder timer, not the RTO', () => {
    const { net, a, c, s } = connected();
    const mss = c.info.mss;
    let n = 0;
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 0 && ++n === 1;
    const start = net.log.length;
    const t0 = net.now;
    c.send(new Uint8Array(2 * mss));
    const got: number[] = [];
    net.run(Duration.fromSecs(2), () => drain(s, got) >= 0 && got.length === 2 * mss);
    expect(got.length).toBe(2 * mss);
    const segs = net.log.slice(start).filter(dataFrom(a.addr));
    expect(segs.length).toBe(3);
    // The SACK of the second segment arrives at t0 + 20 ms; RACK waits
    // min_RTT/4 = 5 ms (+2 ms) more, far below the 200 ms RTO floor.
    const rtx = segs[2]!;
    expect(rtx.seg.seq).toBe(segs[0]!.seg.seq);
    expect(Instant.toMillis(rtx.at) - Instant.toMillis(t0)).toBe(20 + 5 + 2);
  });

  it('with rack off (net.ipv4.tcp_recovery=0) the same loss waits for the tail loss probe instead', () => {
    const { net, a, c, s } = connected({ rack: false });
    const mss = c.info.mss;
    let n = 0;
    net.dropIf = (seg, from) => from === a.addr && seg.payload.length > 0 && ++n === 1;
    const start = net.log.length;
    const t0 = net.now;
    c.send(new Uint8Array(2 * mss));
    const got: number[] = [];
    net.run(Duration.fromSecs(2), () => drain(s, got) >= 0 && got.length === 2 * mss);
    expect(got.length).toBe(2 * mss);
    const segs = net.log.slice(start).filter(dataFrom(a.addr));
    expect(Instant.toMillis(segs[2]!.at) - Instant.toMillis(t0)).toBeGreaterThan(20 + 5 + 2);
  });

  it('a lost retransmission is repaired by RACK in the same recovery, without an RTO', () => {
    const { net, a, c, s } = connected();
    const mss = c.info.mss;
    const first = c.info.sndNxt;
    let drops = 0;
    // Lose the first segment twice: the original and its first retransmission.
    net.dropIf = (seg, from) => from === a.addr && seg.seq === first && seg.payload.length > 0 && ++drops <= 2;
    c.send(new Uint8Array(20 * mss));
    const got: number[] = [];
    net.run(Duration.fromSecs(3), () => drain(s, got) >= 0 && got.length === 20 * mss);
    expect(got.length).toBe(20 * mss);
    expect(drops).toBe(3);
    expect(c.timeouts).toBe(0);
  });
});

describe('RACK transmit log memory (issue 9)', () => {
  /** Runs body with Float64Array constructions of a given length counted (made() reads the count). */
  const countingLogs = (body: (made: () => number) => void): void => {
    const F = globalThis.Float64Array;
    let made = 0;
    globalThis.Float64Array = class extends F {
      constructor(...args: unknown[]) {
        super(...(args as [number]));
        if (typeof args[0] === 'number') made++;
      }
    };
    try {
      body(() => made);
    } finally {
      globalThis.Float64Array = F;
    }
  };

  it('an emptied log stays with the connection for its next segment, and goes only when the connection is quiet', () => {
    countingLogs((made) => {
      // Drain the pool of initial-size logs first, so any log taken anew is counted.
      const others = Array.from({ length: 1100 }, () => flight(1, ms(0)).rack);
      const start = made();
      const { rack, sb } = flight(1, ms(0));
      expect(made() - start).toBe(1);
      for (let i = 1; i <= 50; i++) {
        // Request/response: each segment is acknowledged before the next one goes.
        sb.update(1000 + i * MSS, 1000 + i * MSS, []);
        rack.onAck(sb, 1000 + i * MSS, ms(i), Duration.fromMillis(1));
        expect(rack.size).toBe(0);
        // Its log did not go to the pool: another connection's first segment needs a new one.
        const before = made();
        others.push(flight(1, ms(i)).rack);
        expect(made()).toBe(before + 1);
        // And this connection's next segment needs none.
        rack.onSend(1000 + i * MSS, 1000 + (i + 1) * MSS, ms(i));
        expect(made()).toBe(before + 1);
        expect(rack.entry(0)).toEqual({ start: 1000 + i * MSS, end: 1000 + (i + 1) * MSS, xmitTs: ms(i), flags: 0 });
      }
      // Not empty: releaseIdle keeps the log (the entry is still needed).
      rack.releaseIdle();
      expect(rack.size).toBe(1);
      expect(rack.entry(0)).toMatchObject({ start: 1000 + 50 * MSS });
      sb.update(1000 + 51 * MSS, 1000 + 51 * MSS, []);
      rack.onAck(sb, 1000 + 51 * MSS, ms(60), Duration.fromMillis(1));
      rack.releaseIdle();
      // Released to the pool: another connection's first segment takes it without a new array.
      const before = made();
      const next = flight(1, ms(70)).rack;
      expect(made()).toBe(before);
      expect(next.entry(0)).toEqual({ start: 1000, end: 2000, xmitTs: ms(70), flags: 0 });
      expect(others.length).toBe(1150);
    });
  });

  it('a log that grew and emptied serves the next burst whole: no regrowth by doubling from 8 entries', () => {
    const grow = (): number => {
      // Float64Array constructions of a log's size, counted around one burst.
      let count = 0;
      countingLogs((made) => {
        const { rack, sb } = flight(600, ms(0));
        // Everything acknowledged at once: the log empties.
        sb.update(1000 + 600 * MSS, 1000 + 600 * MSS, []);
        rack.onAck(sb, 1000 + 600 * MSS, ms(100), Duration.fromMillis(100));
        expect(rack.size).toBe(0);
        // The connection goes quiet (Tcb.reclaimStores): the empty log goes to the pool.
        rack.releaseIdle();
        count = made();
      });
      return count;
    };
    // The first burst grows its log (8, 16, ... 1024 entries); the second finds it pooled.
    expect(grow()).toBeGreaterThan(0);
    expect(grow()).toBe(0);
  });
});
