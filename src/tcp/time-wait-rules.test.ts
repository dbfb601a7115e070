/**
 * The TIME-WAIT record's segment handling (time-wait.ts over
 * time-wait-rules.ts) against a small model written apart from it, straight
 * from Linux tcp_timewait_state_process (substate TCP_TIME_WAIT),
 * tcp_paws_reject and tcp_oow_rate_limited with default sysctls: seeded
 * random segments, the same reply, end, new-SYN verdict, TS.Recent and
 * 2 MSL deadline after each one. Plus one targeted test per rule, each of
 * which fails when its rule is broken.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import { TcpFlag } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { TcpOption } from '../wire/tcp-options.js';
import { TimeWaitEntry } from './tcp-entry.js';
import type { TcpBinding } from './tcp-entry.js';
import { TimeWaitAct, timeWaitAcceptsSyn, timeWaitInput, timeWaitRestart } from './time-wait.js';

const US_PER_SEC = 1_000_000;
const MSL2_US = 60 * US_PER_SEC;

/** The model's state: plain numbers, microseconds. */
interface Model {
  rcvNxt: number;
  tsOk: boolean;
  tsRecent: number;
  tsRecentAtUs: number;
  /** undefined: no out-of-window ACK yet. */
  lastOowUs: number | undefined;
  deadlineUs: number;
}

interface Outcome {
  ack: boolean;
  close: boolean;
  newSyn: boolean;
}

/** (s32)(a - b) < 0, Linux before(). */
const before = (a: number, b: number): boolean => ((a - b) | 0) < 0;

function model(m: Model, nowUs: number, seg: TcpRepr): Outcome {
  const has = (f: number): boolean => (seg.flags & f) !== 0;
  const ts = m.tsOk ? seg.options.find((o) => o.kind === 'timestamps') : undefined;
  const tsVal = ts?.kind === 'timestamps' ? ts.tsVal : undefined;
  const endSeq = (seg.seq + seg.payload.length + (has(TcpFlag.SYN) ? 1 : 0) + (has(TcpFlag.FIN) ? 1 : 0)) >>> 0;
  // tcp_paws_reject.
  let paws = false;
  if (tsVal !== undefined) {
    const ageSecs = (nowUs - m.tsRecentAtUs) / US_PER_SEC;
    const checkPasses = !before(tsVal, m.tsRecent) || ageSecs >= 24 * 24 * 3600 || m.tsRecent === 0;
    paws = !checkPasses && !(has(TcpFlag.RST) && ageSecs >= 60);
  }
  const none = { ack: false, close: false, newSyn: false };
  if (!paws && seg.seq === m.rcvNxt && (seg.seq === endSeq || has(TcpFlag.RST))) {
    if (has(TcpFlag.RST)) return { ...none, close: true };
    m.deadlineUs = nowUs + MSL2_US;
    if (tsVal !== undefined) {
      m.tsRecent = tsVal;
      m.tsRecentAtUs = nowUs;
    }
    return none;
  }
  if (has(TcpFlag.SYN) && !has(TcpFlag.RST) && !has(TcpFlag.ACK) && !paws) {
    if (before(m.rcvNxt, seg.seq) || (tsVal !== undefined && before(m.tsRecent, tsVal))) return { ...none, newSyn: true };
  }
  if (has(TcpFlag.RST)) return none;
  if (paws || has(TcpFlag.ACK)) m.deadlineUs = nowUs + MSL2_US;
  if (seg.seq !== endSeq && !has(TcpFlag.SYN)) return { ...none, ack: true };
  if (m.lastOowUs !== undefined && nowUs - m.lastOowUs >= 0 && nowUs - m.lastOowUs < 500_000) return none;
  m.lastOowUs = nowUs;
  return { ...none, ack: true };
}

const BINDING: TcpBinding = { address: 0x0a000002, port: 40000, reuseAddr: false, reusePort: false, listener: undefined, entry: undefined };

function record(nowUs: number, tsOk: boolean, rcvNxt: number, tsRecent: number): TimeWaitEntry {
  const tw = new TimeWaitEntry(BINDING, 64, 0, 1500, 5000);
  tw.local = { addr: 0x0a000002, port: 40000 };
  tw.remote = { addr: 0x0a000001, port: 80 };
  tw.sndNxt = 5000;
  tw.rcvNxt = rcvNxt;
  tw.tsOk = tsOk;
  tw.tsRecent = tsRecent;
  tw.tsRecentAt = Instant.fromMicros(nowUs);
  tw.timeWaitLen = Duration.fromSecs(60);
  tw.deadline = nowUs + MSL2_US;
  return tw;
}

function segment(seq: number, flags: number, tsVal?: number, payload = 0): TcpRepr {
  const options: TcpOption[] = tsVal === undefined ? [] : [{ kind: 'timestamps', tsVal, tsEcr: 0 }];
  return { srcPort: 80, dstPort: 40000, seq: seq >>> 0, ack: 5000, flags, window: 1000, urgentPointer: 0, options, payload: new Uint8Array(payload) };
}

/** Feeds `seg` to the record as tcp-protocol.ts does, and returns what came of it. */
function feed(tw: TimeWaitEntry, nowUs: number, seg: TcpRepr): Outcome {
  const now = Instant.fromMicros(nowUs);
  const acceptsSyn = timeWaitAcceptsSyn(tw, now, seg);
  const v = timeWaitInput(tw, now, seg);
  expect((v & TimeWaitAct.NewSyn) !== 0).toBe(acceptsSyn);
  if ((v & TimeWaitAct.Restart) !== 0) tw.deadline = timeWaitRestart(tw, now);
  return { ack: (v & TimeWaitAct.Ack) !== 0, close: (v & TimeWaitAct.Close) !== 0, newSyn: (v & TimeWaitAct.NewSyn) !== 0 };
}

describe('TIME-WAIT record against a model of Linux tcp_timewait_state_process', () => {
  for (const tsOk of [false, true]) {
    it(`seeded random segments (timestamps ${tsOk ? 'on' : 'off'}): same ACKs, ends, new SYNs, TS.Recent and 2 MSL deadline`, () => {
      const rng = new SeededRng(tsOk ? 21 : 22);
      const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)]!;
      const counts = { ack: 0, close: 0, newSyn: 0, quiet: 0 };
      for (let round = 0; round < 60; round++) {
        let nowUs = 1_000_000 + rng.nextInt(1_000_000);
        const rcvNxt = rng.nextInt(2 ** 32);
        const tsRecent = rng.nextInt(8) === 0 ? 0 : rng.nextInt(2 ** 32);
        const tw = record(nowUs, tsOk, rcvNxt, tsRecent);
        const m: Model = { rcvNxt, tsOk, tsRecent, tsRecentAtUs: nowUs, lastOowUs: undefined, deadlineUs: nowUs + MSL2_US };
        for (let i = 0; i < 80; i++) {
          const step = pick([0, 1, 100, 300, 499, 500, 501, 2_000, 30_000, 59_999, 60_000, 61_000]) * 1000;
          // Now and then a long quiet spell: TS.Recent older than 60 s or 24 days (the entry is kept for the test).
          nowUs += rng.nextInt(30) === 0 ? pick([61, 24 * 24 * 3600, 25 * 24 * 3600]) * US_PER_SEC : step;
          const flags = pick([
            TcpFlag.ACK,
            TcpFlag.ACK | TcpFlag.FIN,
            TcpFlag.ACK | TcpFlag.PSH,
            TcpFlag.RST,
            TcpFlag.RST | TcpFlag.ACK,
            TcpFlag.SYN,
            TcpFlag.SYN | TcpFlag.ACK,
            TcpFlag.SYN | TcpFlag.RST,
            TcpFlag.FIN,
            0,
          ]);
          // Never exactly 2^31 apart, where seq.ts breaks the tie by unsigned order and Linux's before() holds both ways.
          const far = [2 ** 31 - 1, 2 ** 31 + 1];
          const seq = (m.rcvNxt + pick([0, 0, 0, -1, 1, 2, 100, -100, 70_000, ...far])) >>> 0;
          const tsVal = tsOk && rng.nextInt(4) !== 0 ? (m.tsRecent + pick([0, -1, 1, 1000, -1000, ...far])) >>> 0 : undefined;
          const seg = segment(seq, flags, tsVal, rng.nextInt(3) === 0 ? 10 : 0);
          const want = model(m, nowUs, seg);
          const got = feed(tw, nowUs, seg);
          expect(got).toEqual(want);
          if (want.close || want.newSyn) {
            counts[want.close ? 'close' : 'newSyn']++;
            break;
          }
          counts[want.ack ? 'ack' : 'quiet']++;
          expect(tw.deadline).toBe(m.deadlineUs);
          expect(tw.tsRecent).toBe(m.tsRecent);
          expect(Instant.toMicros(tw.tsRecentAt)).toBe(m.tsRecentAtUs);
        }
      }
      // Every outcome is reached often enough for the comparison to mean something.
      expect(counts.ack).toBeGreaterThan(100);
      expect(counts.quiet).toBeGreaterThan(100);
      expect(counts.close).toBeGreaterThan(5);
      expect(counts.newSyn).toBeGreaterThan(5);
    });
  }
});

describe('TIME-WAIT rules, one at a time', () => {
  const T0 = 10 * US_PER_SEC;
  const R = 1_000_000;
  const TS = 777_000;

  it('PAWS: an old TSval is rejected (ACK and 2 MSL afresh), not when TS.Recent is zero or 24 days old', () => {
    let tw = record(T0, true, R, TS);
    const old = segment(R, TcpFlag.ACK, TS - 1);
    expect(feed(tw, T0 + US_PER_SEC, old)).toEqual({ ack: true, close: false, newSyn: false });
    expect(tw.deadline).toBe(T0 + US_PER_SEC + MSL2_US);
    expect(tw.tsRecent).toBe(TS);
    // TS.Recent zero: no PAWS, so the bare ACK at RCV.NXT is taken silently.
    tw = record(T0, true, R, 0);
    expect(feed(tw, T0 + US_PER_SEC, segment(R, TcpFlag.ACK, 2 ** 31 + 5))).toEqual({ ack: false, close: false, newSyn: false });
    tw = record(T0, true, R, TS);
    expect(feed(tw, T0 + 24 * 24 * 3600 * US_PER_SEC, old).ack).toBe(false);
    expect(tw.tsRecent).toBe(TS - 1);
  });

  it('PAWS lets a RST through once TS.Recent is 60 s old (TCP_PAWS_MSL), not before', () => {
    const tw = record(T0, true, R, TS);
    expect(feed(tw, T0 + 59 * US_PER_SEC, segment(R, TcpFlag.RST, TS - 1)).close).toBe(false);
    expect(feed(tw, T0 + 60 * US_PER_SEC, segment(R, TcpFlag.RST, TS - 1)).close).toBe(true);
  });

  it('a RST is dropped silently unless at RCV.NXT, where it ends TIME-WAIT', () => {
    const tw = record(T0, false, R, 0);
    for (const seq of [R + 1, R - 1, R + 100]) expect(feed(tw, T0, segment(seq, TcpFlag.RST | TcpFlag.ACK))).toEqual({ ack: false, close: false, newSyn: false });
    expect(tw.deadline).toBe(T0 + MSL2_US);
    expect(feed(tw, T0, segment(R, TcpFlag.RST))).toEqual({ ack: false, close: true, newSyn: false });
  });

  it('a bare segment at RCV.NXT restarts 2 MSL and takes its TSval, silently; data at RCV.NXT is ACKed instead', () => {
    const tw = record(T0, true, R, TS);
    expect(feed(tw, T0 + 5 * US_PER_SEC, segment(R, 0, TS + 9))).toEqual({ ack: false, close: false, newSyn: false });
    expect(tw.deadline).toBe(T0 + 5 * US_PER_SEC + MSL2_US);
    expect(tw.tsRecent).toBe(TS + 9);
    expect(feed(tw, T0 + 6 * US_PER_SEC, segment(R, TcpFlag.ACK, TS + 10, 10)).ack).toBe(true);
    expect(tw.tsRecent).toBe(TS + 9);
  });

  it('a SYN opens a new incarnation when beyond RCV.NXT or with a newer TSval, not when PAWS rejects it', () => {
    const tw = record(T0, true, R, TS);
    expect(feed(tw, T0, segment(R + 1, TcpFlag.SYN)).newSyn).toBe(true);
    expect(feed(tw, T0, segment(R - 5, TcpFlag.SYN, TS + 1)).newSyn).toBe(true);
    expect(feed(tw, T0, segment(R + 1, TcpFlag.SYN, TS - 1)).newSyn).toBe(false);
    expect(feed(tw, T0, segment(R + 1, TcpFlag.SYN | TcpFlag.ACK)).newSyn).toBe(false);
  });

  it('out-of-window ACKs: at most one per 500 ms, except for data or FIN; only the ACK bit (or PAWS) restarts 2 MSL', () => {
    const tw = record(T0, false, R, 0);
    expect(feed(tw, T0, segment(R - 100, TcpFlag.SYN)).ack).toBe(true);
    expect(tw.deadline).toBe(T0 + MSL2_US);
    expect(feed(tw, T0 + 499_000, segment(R - 100, TcpFlag.ACK)).ack).toBe(false);
    expect(tw.deadline).toBe(T0 + 499_000 + MSL2_US);
    expect(feed(tw, T0 + 499_000, segment(R - 1, TcpFlag.FIN | TcpFlag.ACK)).ack).toBe(true);
    expect(feed(tw, T0 + 499_000, segment(R - 10, 0, undefined, 10)).ack).toBe(true);
    expect(feed(tw, T0 + 500_000, segment(R - 100, TcpFlag.ACK)).ack).toBe(true);
  });
});
