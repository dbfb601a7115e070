import { afterEach, describe, expect, it, vi } from 'vitest';
import { Duration } from '../time/duration.js';
import { TcpFlag, TcpReprScratch, emitTcp, parseTcpInto, tcpBufferLen } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { TcpOption } from '../wire/tcp-options.js';
import type { TcpConfig } from './config.js';
import { tcpConfig } from './config.js';
import { TcpConnection } from './connection.js';
import { Net, drain, prng } from './harness.fixtures.js';
import type { Faults } from './harness.fixtures.js';
import { headerPrediction } from './header-prediction.js';
import { segmentArrives } from './input.js';
import { RackState } from './rack.js';
import { seqAdd } from './seq.js';
import { TcpState } from './state.js';
import { Tcb } from './tcb.js';
import { TcpCounter } from './tcp-counters.js';
import { connected, pair } from './socket-pair.fixtures.js';

afterEach(() => {
  headerPrediction.enabled = true;
  vi.restoreAllMocks();
});

/** TcpConnection's constructor is private: the tests wrap a Tcb they keep, to compare its whole state. */
const wrap = (t: Tcb): TcpConnection => new (TcpConnection as unknown as new (t: Tcb) => TcpConnection)(t);

/** Getters that hand out shared scratch, or are not state. */
const SKIP = new Set(['segmentOut', 'store', 'config', 'opts', 'onEvent']);

/**
 * The whole observable state of an object graph: own fields, and the getters
 * of class instances (private fields show through them), recursively.
 */
function snapshot(v: unknown, seen = new Set<unknown>()): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? '<fn>' : v;
  if (seen.has(v)) return '<seen>';
  seen.add(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as Uint8Array);
  if (Array.isArray(v)) return v.map((x) => snapshot(x, seen));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!SKIP.has(k)) out[k] = snapshot(x, seen);
  for (let p = Object.getPrototypeOf(v) as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (d.get === undefined || SKIP.has(k) || k in out) continue;
      out[k] = snapshot(d.get.call(v), seen);
    }
  }
  return out;
}

/** The Tcb's state, RACK's log entries included (they sit behind an index). */
function tcbState(t: Tcb): unknown {
  const rack = t.sb.rack;
  const entries = [];
  if (rack !== undefined) for (let i = 0; i < rack.size; i++) entries.push(rack.entry(i));
  return { tcb: snapshot(t), rack: entries };
}

interface World {
  readonly net: Net;
  readonly t: Tcb;
  readonly c: TcpConnection;
  readonly server: () => TcpConnection | undefined;
  readonly got: { client: number[]; server: number[] };
}

/** A client whose Tcb the test holds, and a server from the harness's listener. */
function world(seed: number, config: Partial<TcpConfig>, faults: Faults): World {
  const net = new Net(seed);
  net.faults = faults;
  const a = net.host('10.0.0.1', config);
  const b = net.host('10.0.0.2', config);
  const l = b.listen(80);
  const t = new Tcb(net.now, a.config, { addr: a.addr, port: 40000 }, { addr: b.addr, port: 80 }, 0x12345678);
  t.state = TcpState.SYN_SENT;
  t.synDue = true;
  const c = wrap(t);
  a.conns.set('40000:80', c);
  let s: TcpConnection | undefined;
  return { net, t, c, server: () => (s ??= l.accept()), got: { client: [], server: [] } };
}

/** `n` bytes of a pattern that depends on `n`: what step and richStep send. */
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);

/** One step of random user calls, then some virtual time; the same `r` draws give the same calls. */
function step(w: World, r: () => number): void {
  const s = w.server();
  const x = r();
  if (x < 0.3) w.c.send(bytes(1 + Math.floor(r() * 40)));
  else if (x < 0.4) w.c.send(bytes(Math.floor(r() * 6000)));
  if (s !== undefined) {
    const y = r();
    if (y < 0.3) s.send(bytes(1 + Math.floor(r() * 40)));
    else if (y < 0.4) s.send(bytes(Math.floor(r() * 9000)));
    if (r() < 0.6) drain(s, w.got.server);
  }
  if (r() < 0.6) drain(w.c, w.got.client);
  w.net.run(Duration.fromMicros(Math.floor(r() * 30_000)));
}

/**
 * step's calls and the rarer ones around them: urgent data (MSG_OOB) both
 * ways, SO_OOBINLINE, reading the urgent byte, TCP_NODELAY and MSG_MORE
 * toggles, a half-close either way, and now and then an idle of seconds
 * (keepalive probes, persist and RTO backoff). Review of issue 9's header
 * prediction: the states these leave (urgent pending, a FIN sent, data
 * held back) meet the fast path's predicted segments too.
 */
function richStep(w: World, r: () => number): void {
  const s = w.server();
  const x = r();
  if (x < 0.25) w.c.send(bytes(1 + Math.floor(r() * 40)));
  else if (x < 0.33) w.c.send(bytes(Math.floor(r() * 6000)));
  else if (x < 0.36) w.c.send(bytes(1 + Math.floor(r() * 30)), { urgent: true });
  else if (x < 0.38) w.c.setNoDelay(r() < 0.5);
  else if (x < 0.4) w.c.setMsgMore(r() < 0.5);
  else if (x < 0.405) w.c.shutdownWrite();
  else if (x < 0.41) w.c.setOobInline(r() < 0.5);
  if (s !== undefined) {
    const y = r();
    if (y < 0.25) s.send(bytes(1 + Math.floor(r() * 40)));
    else if (y < 0.33) s.send(bytes(Math.floor(r() * 9000)));
    else if (y < 0.37) s.send(bytes(1 + Math.floor(r() * 30)), { urgent: true });
    else if (y < 0.38) s.shutdownWrite();
    else if (y < 0.39) s.setOobInline(r() < 0.5);
    if (r() < 0.6) drain(s, w.got.server);
    if (r() < 0.1) s.recvUrgent();
  }
  if (r() < 0.6) drain(w.c, w.got.client);
  if (r() < 0.1) w.c.recvUrgent();
  w.net.run(Duration.fromMicros(Math.floor(r() * (r() < 0.05 ? 3_000_000 : 30_000))));
}

/**
 * Two identical worlds in lock step, one with header prediction and one
 * without: after every step the client's whole TCB, the wire and what both
 * ends read must be the same. Returns how many segments took the fast path.
 */
function lockStep(seed: number, config: Partial<TcpConfig>, faults: Faults, steps: number, stepFn: (w: World, r: () => number) => void = step): number {
  const spy = vi.spyOn(TcpConnection.prototype, 'input');
  const fast = world(seed, config, faults);
  const slow = world(seed, config, faults);
  const rf = prng(seed * 31 + 7);
  const rs = prng(seed * 31 + 7);
  let hits = 0;
  for (let i = 0; i < steps; i++) {
    headerPrediction.enabled = true;
    stepFn(fast, rf);
    const before = spy.mock.results.length;
    headerPrediction.enabled = false;
    stepFn(slow, rs);
    for (const res of spy.mock.results.slice(before)) expect(res.value).toBe(false);
    expect(tcbState(fast.t), `step ${i}`).toEqual(tcbState(slow.t));
    expect(fast.net.log.length, `step ${i}`).toBe(slow.net.log.length);
    expect([fast.got.client.length, fast.got.server.length], `step ${i}`).toEqual([slow.got.client.length, slow.got.server.length]);
  }
  expect(fast.net.dump()).toBe(slow.net.dump());
  expect(Buffer.from(fast.got.client).equals(Buffer.from(slow.got.client))).toBe(true);
  expect(Buffer.from(fast.got.server).equals(Buffer.from(slow.got.server))).toBe(true);
  headerPrediction.enabled = true;
  for (const res of spy.mock.results) if (res.value === true) hits++;
  spy.mockRestore();
  return hits;
}

describe('header prediction leaves the TCB as the step-by-step walk does', () => {
  const cases: [string, Partial<TcpConfig>, Faults][] = [
    ['defaults, clean path', {}, {}],
    ['defaults, loss, reordering and duplicates', {}, { loss: 0.05, reorder: 0.05, duplicate: 0.05 }],
    ['no timestamps', { timestamps: false }, { loss: 0.03, reorder: 0.05 }],
    ['no SACK', { sack: false }, { loss: 0.03, reorder: 0.05 }],
    ['SACK without RACK', { rack: false }, { loss: 0.03, reorder: 0.05 }],
    ['no delayed ACK, no window scaling', { delayedAck: false, windowScaling: false }, { loss: 0.02, duplicate: 0.05 }],
    ['small receive buffer (zero windows)', { recvBufferSize: 4096, recvBufferMax: 4096 }, { loss: 0.02 }],
  ];
  for (const [name, config, faults] of cases) {
    it(name, () => {
      let hits = 0;
      for (const seed of [1, 2, 3]) hits += lockStep(seed, config, faults, 150);
      // Both paths were exercised: the comparison means something.
      expect(hits).toBeGreaterThan(20);
    });
  }
});

describe('header prediction leaves the TCB as the walk does, with urgent data, half-closes, MSG_MORE and idles', () => {
  const cases: [string, Partial<TcpConfig>, Faults][] = [
    ['defaults, loss, reordering and duplicates', {}, { loss: 0.05, reorder: 0.05, duplicate: 0.05 }],
    ['no SACK, no timestamps', { sack: false, timestamps: false }, { loss: 0.03, reorder: 0.05, duplicate: 0.03 }],
    ['small receive buffer, keepalive after 200 ms idle', { recvBufferSize: 4096, recvBufferMax: 4096, keepAlive: true, keepIdle: Duration.fromMillis(200) }, { loss: 0.02, reorder: 0.03 }],
  ];
  for (const [name, config, faults] of cases) {
    it(name, () => {
      let hits = 0;
      for (const seed of [1, 2, 3]) hits += lockStep(seed, config, faults, 200, richStep);
      expect(hits).toBeGreaterThan(20);
    });
  }
});

// ----------------------------------------------------------------- each exit to the walk

const NOP: TcpOption = { kind: 'nop' };

/** An ESTABLISHED Tcb with timestamps, 1000 bytes in flight, and the next in-order segment that predicts. */
function established(config: Partial<TcpConfig> = {}): { t: Tcb; seg: { -readonly [K in keyof TcpRepr]: TcpRepr[K] } } {
  const t = new Tcb(0 as never, tcpConfig(config), { addr: 1, port: 1000 }, { addr: 2, port: 80 }, 1000);
  t.state = TcpState.ESTABLISHED;
  t.tsOk = config.timestamps ?? true;
  t.sackOk = config.sack ?? true;
  t.tsRecent = 500;
  t.irs = 5000;
  t.rcvNxt = 5001;
  t.rcvAdv = seqAdd(t.rcvNxt, 65535);
  t.lastAckSent = t.rcvNxt;
  t.sndWnd = t.maxSndWnd = 65535;
  t.sndWl1 = 5001;
  t.sndWl2 = 1001;
  t.sndUna = 1001;
  t.sndNxt = t.sndMax = 2001;
  const seg = {
    srcPort: 80,
    dstPort: 1000,
    seq: 5001,
    ack: 2001,
    flags: TcpFlag.ACK | TcpFlag.PSH,
    window: 65535,
    urgentPointer: 0,
    options: t.tsOk ? [NOP, NOP, { kind: 'timestamps', tsVal: 600, tsEcr: 0 } as TcpOption] : [],
    payload: new Uint8Array(10),
  };
  return { t, seg };
}

/** `seg` on the wire and parsed in place again, as TcpProtocol hands it over (options checked by the parser's flag). */
function inPlace(seg: TcpRepr): TcpReprScratch {
  const bytes = new Uint8Array(tcpBufferLen(seg));
  emitTcp(seg, bytes, { src: 2, dst: 1 });
  const rec = new TcpReprScratch();
  expect(parseTcpInto(bytes, true, 2, 1, rec)).toBeUndefined();
  return rec;
}

/**
 * The segment goes to the walk, and a predicted twin of it does not (so the
 * test can fail); both as a plain record and parsed in place.
 */
function exits(change: (t: Tcb, seg: { -readonly [K in keyof TcpRepr]: TcpRepr[K] }) => void, config: Partial<TcpConfig> = {}): void {
  for (const parsed of [false, true]) {
    headerPrediction.enabled = true;
    const base = established(config);
    expect(segmentArrives(base.t, 1000 as never, parsed ? inPlace(base.seg) : base.seg)).toBe(true);
    const { t, seg } = established(config);
    change(t, seg);
    expect(segmentArrives(t, 1000 as never, parsed ? inPlace(seg) : seg), parsed ? 'parsed in place' : 'plain record').toBe(false);
  }
}

describe('header prediction: what goes to the step-by-step walk', () => {
  it('takes the predicted segment, and counts it only there', () => {
    const { t, seg } = established();
    expect(segmentArrives(t, 1000 as never, seg)).toBe(true);
    expect(t.rcvNxt).toBe(5011);
    // The text is taken: the window we advertised is open (the zero-window cases below are its twins).
    expect(t.rcvBuf.length).toBe(10);
    expect(t.sndUna).toBe(2001);
  });
  it('is off when switched off', () => exits(() => (headerPrediction.enabled = false)));
  it('another state than ESTABLISHED', () => exits((t) => (t.state = TcpState.CLOSE_WAIT)));
  for (const [name, flag] of [
    ['SYN', TcpFlag.SYN],
    ['FIN', TcpFlag.FIN],
    ['RST', TcpFlag.RST],
    ['URG', TcpFlag.URG],
    ['ECE', 0x40],
    ['CWR', 0x80],
  ] as const) {
    it(`a ${name} flag`, () => exits((_t, seg) => (seg.flags |= flag)));
  }
  it('no ACK flag', () => exits((_t, seg) => (seg.flags = TcpFlag.PSH)));
  it('SEG.SEQ other than RCV.NXT', () => exits((_t, seg) => (seg.seq = seqAdd(seg.seq, 1))));
  it('data parked out of order', () => exits((t) => t.assembler.add(100, 10)));
  it('a FIN seen beyond RCV.NXT', () => exits((t) => (t.finRecvSeq = seqAdd(t.rcvNxt, 100))));
  it('timestamps on, none in the segment', () => exits((_t, seg) => (seg.options = [])));
  it('timestamps on, not the aligned NOP NOP TS layout', () =>
    exits((_t, seg) => (seg.options = [{ kind: 'timestamps', tsVal: 600, tsEcr: 0 }, NOP, NOP])));
  it('timestamps on, another option as well', () =>
    exits((_t, seg) => (seg.options = [NOP, NOP, { kind: 'timestamps', tsVal: 600, tsEcr: 0 }, { kind: 'sack', blocks: [{ left: 1, right: 2 }] }])));
  it('timestamps off, options in the segment', () => exits((_t, seg) => (seg.options = [NOP, NOP]), { timestamps: false }));
  it('a TSval older than TS.Recent (PAWS)', () => exits((_t, seg) => (seg.options = [NOP, NOP, { kind: 'timestamps', tsVal: 499, tsEcr: 0 }])));
  it('SEG.ACK below SND.UNA', () => exits((_t, seg) => (seg.ack = 1000)));
  it('SEG.ACK above SND.MAX', () => exits((_t, seg) => (seg.ack = 2002)));
  it('SEG.ACK below RFC 5961 5.2 bound', () =>
    exits((t, seg) => {
      // In (SND.UNA, SND.MAX] yet more than 2^31 - MAX.SND.WND above SND.UNA - MAX.SND.WND.
      t.maxSndWnd = 0x7fffff00;
      t.sndMax = t.sndNxt = seqAdd(t.sndUna, 0x200);
      seg.ack = t.sndMax;
    }));
  it('in recovery', () => exits((t) => (t.inRecovery = true)));
  it('a loss probe out', () => exits((t) => (t.tlpActive = true)));
  it('SND.NXT rewound by an RTO', () => exits((t) => (t.sndNxt = t.sndUna)));
  it('SACKed ranges on the scoreboard', () => exits((t) => t.sb.update(t.sndUna, t.sndMax, [{ left: 1501, right: 1601 }])));
  it('HighRxt set (recovery bookkeeping)', () => exits((t) => t.sb.startRecovery(t.sndUna, t.sndMax)));
  it('a duplicate ACK', () =>
    exits((_t, seg) => {
      seg.ack = 1001;
      seg.payload = new Uint8Array(0);
    }));
  it('text beyond the receive buffer', () => exits((t, seg) => (seg.payload = new Uint8Array(t.rcvSpace() + 1))));
  it('text for a socket the user closed', () => exits((t) => (t.userClosed = true)));
  it('text while the window we advertised is zero', () => exits((t) => (t.rcvAdv = t.rcvNxt)));
});

// ----------------------------------------------------------------- a zero window advertised

/** established(), with the window we last advertised closed (RCV.NXT + RCV.WND at RCV.NXT) though the buffer has room. */
function zeroWindowAdvertised(): ReturnType<typeof established> {
  const w = established();
  w.t.rcvAdv = w.t.rcvNxt;
  return w;
}

describe('RFC 9293 3.10.7.4: with RCV.WND zero, text at RCV.NXT is dropped, its ACK and URG processed', () => {
  // The buffer has room (the reader drained it) but the window update has
  // not gone out yet: the peer was told zero, so the text is not taken
  // (Linux tcp_data_queue, TCPZeroWindowDrop), and an ACK says where we are.
  it('drops the text and a FIN riding on it, takes the ACK, owes an ACK', () => {
    const { t, seg } = zeroWindowAdvertised();
    seg.flags |= TcpFlag.FIN;
    expect(t.rcvSpace()).toBeGreaterThan(seg.payload.length);
    expect(segmentArrives(t, 1000 as never, seg)).toBe(false);
    expect(t.rcvNxt).toBe(5001);
    expect(t.rcvBuf.length).toBe(0);
    expect(t.finRecvSeq).toBeUndefined();
    expect(t.state).toBe(TcpState.ESTABLISHED);
    expect(t.sndUna).toBe(2001);
    expect(t.ackNow).toBe(true);
  });
  it('MUST-66: processes the urgent pointer of such a segment (the special allowance for URG)', () => {
    const { t, seg } = zeroWindowAdvertised();
    seg.flags |= TcpFlag.URG;
    seg.urgentPointer = 5;
    expect(segmentArrives(t, 1000 as never, seg)).toBe(false);
    expect(t.rcvUrgent).toBe(true);
    expect(t.rcvUp).toBe(5006);
    expect(t.rcvBuf.length).toBe(0);
  });
  it('still takes a FIN alone at RCV.NXT', () => {
    const { t, seg } = zeroWindowAdvertised();
    seg.flags |= TcpFlag.FIN;
    seg.payload = new Uint8Array(0);
    segmentArrives(t, 1000 as never, seg);
    expect(t.state).toBe(TcpState.CLOSE_WAIT);
    expect(t.rcvNxt).toBe(5002);
  });
});

// ----------------------------------------------------------------- rarer states, both paths

/**
 * The predicted segment on two Tcbs set up alike, one through the fast path
 * and one through the walk: the same state after. For what the random runs
 * above seldom reach on the fast path.
 */
function sameAsWalk(now: number, setup: (t: Tcb, seg: { -readonly [K in keyof TcpRepr]: TcpRepr[K] }) => void): Tcb {
  const a = established();
  const b = established();
  setup(a.t, a.seg);
  setup(b.t, b.seg);
  expect(segmentArrives(a.t, now as never, a.seg)).toBe(true);
  headerPrediction.enabled = false;
  expect(segmentArrives(b.t, now as never, b.seg)).toBe(false);
  headerPrediction.enabled = true;
  expect(tcbState(a.t)).toEqual(tcbState(b.t));
  return a.t;
}

/** RACK log: [1001, 1501) sent at 0 and retransmitted at 50, [1501, 2001) sent at 10 (SACK and RACK on). */
function rackLog(t: Tcb): RackState {
  const rack = new RackState();
  rack.onSend(1001, 1501, 0 as never);
  rack.onSend(1501, 2001, 10 as never);
  rack.onSend(1001, 1501, 50 as never);
  t.sb.rack = rack;
  return rack;
}

describe('header prediction: rarer states leave the TCB as the walk does', () => {
  it('a persist timer with backoff is reset by a nonzero window', () => {
    const t = sameAsWalk(1000, (t) => {
      t.persistAt = 9999 as never;
      t.persistBackoff = 3;
    });
    expect(t.persistBackoff).toBe(0);
  });
  // Issue 9: window updates are predicted (the walk's window step is fastAck's, last in both).
  for (const [name, window, sndWscale] of [
    ['a window one unit smaller (receiver SWS avoidance)', 1022, 7],
    ['a window that reopens past MAX.SND.WND', 1100, 7],
    ['a window that shrinks, unscaled', 30_000, 0],
    ['a zero window', 0, 7],
  ] as const) {
    it(`${name}: SND.WND and MAX.SND.WND as the walk leaves them, on the fast path`, () => {
      const t = sameAsWalk(1000, (t, seg) => {
        t.sndWscale = sndWscale;
        t.sndWnd = t.maxSndWnd = 1023 << sndWscale;
        seg.window = window;
      });
      expect(t.sndWnd).toBe(window << sndWscale);
      expect(t.maxSndWnd).toBe(Math.max(1023 << sndWscale, window << sndWscale));
    });
  }
  it('a window that opens from zero resets the persist timer, on the fast path', () => {
    const t = sameAsWalk(1000, (t, seg) => {
      t.sndWnd = 0;
      t.persistAt = 9999 as never;
      t.persistBackoff = 2;
      seg.window = 100;
    });
    expect(t.sndWnd).toBe(100);
    expect(t.persistBackoff).toBe(0);
  });
  it('a window update that acknowledges nothing new, data in flight (no duplicate ACK: RFC 5681 2 (e)), on the fast path', () => {
    const t = sameAsWalk(1000, (t, seg) => {
      seg.ack = 1001;
      seg.payload = new Uint8Array(0);
      seg.window = 60_000 >> t.sndWscale;
    });
    expect(t.sndWnd).toBe((60_000 >> t.sndWscale) << t.sndWscale);
    expect(t.dupAcks).toBe(0);
    expect(t.sndUna).toBe(1001);
  });
  it('a new window with SND.WL1 past SEG.SEQ is not taken, on the fast path', () => {
    const t = sameAsWalk(1000, (t, seg) => {
      t.sndWl1 = seqAdd(seg.seq, 1);
      seg.window = 100;
    });
    expect(t.sndWnd).toBe(65535);
  });
  it('keepalive probes are forgotten', () => {
    const t = sameAsWalk(1000, (t) => (t.keepaliveProbes = 2));
    expect(t.keepaliveProbes).toBe(0);
  });
  it('TS.Recent is not taken past an ACK we have not sent', () => {
    const t = sameAsWalk(1000, (t) => (t.lastAckSent = seqAdd(t.rcvNxt, -1)));
    expect(t.tsRecent).toBe(500);
  });
  it("RACK's reorder timer takes the place of the loss probe", () => {
    const t = sameAsWalk(20_000, (t, seg) => {
      rackLog(t).reorderingSeen = true;
      t.rtt.sample(Duration.fromMillis(10));
      t.tlpAt = 30_000 as never;
      seg.ack = 1501;
    });
    expect(t.sb.rack?.timerAt).toBeGreaterThan(0);
    expect(t.inRecovery).toBe(false);
  });
  it('RACK marks a segment lost: recovery starts, with PRR, on the fast path too', () => {
    const t = sameAsWalk(20_000, (t, seg) => {
      rackLog(t);
      seg.ack = 1501;
    });
    expect(t.inRecovery).toBe(true);
    expect(t.sb.rack?.lostUnsent).toBe(1);
  });
});

describe('tcp.fast-path (Linux TCPHPHits)', () => {
  it('counts the request/response segments of an exchange, and nothing on the handshake', async () => {
    const { net, a, b } = pair();
    const { srv, cli } = await connected(a, b);
    const hits = (): number => a.stack.stats.get(TcpCounter.FastPath) + b.stack.stats.get(TcpCounter.FastPath);
    // The handshake's segments are not ESTABLISHED-state ones, but the last ACK on the server is.
    const afterHandshake = hits();
    expect(afterHandshake).toBeLessThanOrEqual(1);
    const buf = new Uint8Array(16);
    for (let i = 0; i < 20; i++) {
      await b.sys.write(cli, Uint8Array.of(i));
      expect(await a.sys.read(srv, buf)).toBe(1);
      await a.sys.write(srv, Uint8Array.of(i));
      expect(await b.sys.read(cli, buf)).toBe(1);
    }
    // Every request and response after the first exchange is predicted.
    expect(hits() - afterHandshake).toBeGreaterThanOrEqual(38);
    headerPrediction.enabled = false;
    const off = hits();
    await b.sys.write(cli, Uint8Array.of(1));
    expect(await a.sys.read(srv, buf)).toBe(1);
    expect(hits()).toBe(off);
    net.close();
  });
});

describe('header prediction on two stacks (records parsed in place, GRO)', () => {
  /** A request/response run then a bulk transfer on a lossy, reordering LAN: every counter but tcp.fast-path, and the bytes. */
  async function run(enabled: boolean): Promise<{ counters: unknown; got: number[]; hits: number }> {
    headerPrediction.enabled = enabled;
    const { net, a, b } = pair({ seed: 7, impairments: { loss: 0.02, reorder: 0.05 } });
    const { srv, cli } = await connected(a, b);
    const got: number[] = [];
    const buf = new Uint8Array(70_000);
    for (let i = 0; i < 30; i++) {
      await b.sys.write(cli, Uint8Array.of(i, i + 1));
      got.push(await a.sys.read(srv, buf));
      await a.sys.write(srv, Uint8Array.of(i));
      got.push(await b.sys.read(cli, buf));
    }
    const total = 400_000;
    const reading = (async () => {
      let n = 0;
      while (n < total) {
        const r = await a.sys.read(srv, buf);
        n += r;
        got.push(buf[r - 1]!);
      }
    })();
    const chunk = Uint8Array.from({ length: 20_000 }, (_, i) => i & 0xff);
    for (let sent = 0; sent < total; ) sent += await b.sys.write(cli, chunk.subarray(0, Math.min(chunk.length, total - sent)));
    await reading;
    const counters: Record<string, number>[] = [];
    let hits = 0;
    for (const h of [a, b]) {
      const s = h.stack.stats.snapshot();
      hits += s[TcpCounter.FastPath] ?? 0;
      delete s[TcpCounter.FastPath];
      counters.push(s);
    }
    net.close();
    return { counters: { counters, now: net.clock.now() }, got, hits };
  }
  it('same counters, same bytes, same virtual time with it off', async () => {
    const on = await run(true);
    const off = await run(false);
    expect(on.hits).toBeGreaterThan(100);
    expect(off.hits).toBe(0);
    expect(on.counters).toEqual(off.counters);
    expect(on.got).toEqual(off.got);
  });
});
