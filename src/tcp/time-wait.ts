/**
 * SEGMENT ARRIVES for a TimeWaitEntry (tcp-entry.ts): RFC 9293 3.10.7.4 in
 * TIME-WAIT, with the RFC 5961 challenge ACKs and RFC 7323 PAWS, for a
 * connection whose socket is gone and whose TCB was replaced by the compact
 * record (Linux tcp_timewait_state_process). Each step does what input.ts
 * does to a full TCB in TIME-WAIT, which the tests in time-wait.test.ts pin:
 * the stack's behaviour does not depend on which form the connection has.
 *
 * Like input.ts it emits nothing: it returns what the protocol is to do.
 */
import { Duration } from '../time/duration.js';
import { Instant, instantAdd, instantDiff } from '../time/instant.js';
import { TcpFlag, hasFlag } from '../wire/tcp.js';
import type { TcpHeaderRepr, TcpRepr } from '../wire/tcp.js';
import { TcpOptionsScratch, TcpOptionsSummaryScratch, buildDataOptionsInto, summarizeTcpOptions, summarizeTcpOptionsInto } from '../wire/tcp-options.js';
import type { SackBlock, TcpOption } from '../wire/tcp-options.js';
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import type { Counters } from '../stats/counters.js';
import { readU32 } from '../wire/bytes.js';
import { Icmpv4Type, Icmpv4UnreachableCode } from '../wire/icmpv4.js';
import { segLen } from './input.js';
import { TcpCounter } from './tcp-counters.js';
import { seqAdd, seqGt, seqInWindow, seqLe, seqLt } from './seq.js';
import type { TimeWaitEntry } from './tcp-entry.js';

/** What a segment does to a TIME-WAIT entry: nothing, an ACK, an ACK and 2 MSL afresh, or the end of TIME-WAIT. */
export const TimeWaitVerdict = { Drop: 0, Ack: 1, AckRestart: 2, Close: 3 } as const;
export type TimeWaitVerdict = (typeof TimeWaitVerdict)[keyof typeof TimeWaitVerdict];

/** RFC 7323 5.5: a TS.Recent older than 24 days is no longer trusted (input.ts PAWS_IDLE). */
const PAWS_IDLE = Duration.fromSecs(24 * 24 * 3600);

const RX_OPTIONS = new TcpOptionsSummaryScratch();

/**
 * RFC 1122 4.2.2.13 / RFC 6191 (Linux TCP_TW_SYN): may this SYN open a new
 * incarnation of the 4-tuple? As TcpConnection.acceptsNewSyn.
 */
export function timeWaitAcceptsSyn(tw: TimeWaitEntry, seg: TcpRepr): boolean {
  if ((seg.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) !== TcpFlag.SYN) return false;
  if (tw.tsOk) {
    const ts = summarizeTcpOptions(seg.options).timestamps;
    if (ts !== undefined) return seqGt(ts.tsVal, tw.tsRecent);
  }
  return seqGt(seg.seq, tw.rcvNxt);
}

/** 2 MSL from now: TIME-WAIT's deadline after a retransmitted FIN (RFC 9293 3.10.7.4). */
export function timeWaitRestart(tw: TimeWaitEntry, now: Instant): Instant {
  return instantAdd(now, tw.timeWaitLen);
}

/** RFC 5961 7: challenge ACKs, at most challengeAckLimit a second (input.ts challengeAck). */
function challenge(tw: TimeWaitEntry, now: Instant): TimeWaitVerdict {
  const limit = tw.challengeAckLimit;
  if (limit > 0) {
    if (instantDiff(now, tw.challengeWindowStart) >= Duration.fromSecs(1)) {
      tw.challengeWindowStart = now;
      tw.challengeCount = 0;
    }
    if (tw.challengeCount >= limit) return TimeWaitVerdict.Drop;
    tw.challengeCount++;
  }
  return TimeWaitVerdict.Ack;
}

/**
 * One segment for `tw` (checksum verified; not a new SYN, see
 * timeWaitAcceptsSyn). AckRestart: the caller files timeWaitRestart's deadline.
 */
export function timeWaitInput(tw: TimeWaitEntry, now: Instant, seg: TcpRepr): TimeWaitVerdict {
  const opts = summarizeTcpOptionsInto(seg.options, RX_OPTIONS);
  const rst = hasFlag(seg, TcpFlag.RST);
  const fin = hasFlag(seg, TcpFlag.FIN);
  // RFC 7323 5.3 PAWS: an old TSval is a duplicate: ACK, nothing else.
  if (tw.tsOk && opts.timestamps !== undefined && !rst) {
    const stale = instantDiff(now, tw.tsRecentAt) > PAWS_IDLE;
    if (!stale && seqLt(opts.timestamps.tsVal, tw.tsRecent)) return TimeWaitVerdict.Ack;
  }
  // Sequence number check (RFC 9293 Table 6), with the zero-window allowance for RCV.NXT.
  const len = segLen(seg);
  const wnd = tw.rcvWnd;
  let acceptable: boolean;
  if (len === 0) acceptable = wnd === 0 ? seg.seq === tw.rcvNxt : seqInWindow(seg.seq, tw.rcvNxt, wnd);
  else acceptable = wnd > 0 && (seqInWindow(seg.seq, tw.rcvNxt, wnd) || seqInWindow(seqAdd(seg.seq, len - 1), tw.rcvNxt, wnd));
  if (!acceptable && wnd === 0 && seg.seq === tw.rcvNxt) acceptable = true;
  if (!acceptable) {
    // An ACK unless it is a RST; a (retransmitted) FIN is ACKed and restarts 2 MSL, RST or not.
    if (fin) return TimeWaitVerdict.AckRestart;
    return rst ? TimeWaitVerdict.Drop : TimeWaitVerdict.Ack;
  }
  // RST (RFC 5961 3.2): only an exact RCV.NXT ends TIME-WAIT (no RFC 1337 protection, as Linux's default); others are challenged.
  if (rst) return seg.seq === tw.rcvNxt ? TimeWaitVerdict.Close : challenge(tw, now);
  // SYN in a synchronized state (RFC 5961 4.2): challenge ACK.
  if (hasFlag(seg, TcpFlag.SYN)) return challenge(tw, now);
  const ackFlag = hasFlag(seg, TcpFlag.ACK);
  // An ACK of data never sent: challenge ACK outside ESTABLISHED (input.ts, Linux tcp_rcv_state_process).
  if (ackFlag && seqGt(seg.ack, tw.sndNxt)) return challenge(tw, now);
  // RFC 7323 4.3: TS.Recent from a segment covering our last ACK.
  if (tw.tsOk && opts.timestamps !== undefined && seqLe(seg.seq, tw.lastAckSent)) {
    tw.tsRecent = opts.timestamps.tsVal;
    tw.tsRecentAt = now;
  }
  if (!ackFlag) return TimeWaitVerdict.Drop;
  // RFC 5961 5.2: an ACK too old is challenged.
  if (seqLt(seg.ack, seqAdd(tw.sndNxt, -Math.max(tw.maxSndWnd, 1)))) return challenge(tw, now);
  // The window update of ack-processing.ts processAck (the rest of it has nothing in flight to act on).
  if (seqLt(tw.sndWl1, seg.seq) || (tw.sndWl1 === seg.seq && seqLe(tw.sndWl2, seg.ack))) {
    tw.maxSndWnd = Math.max(tw.maxSndWnd, seg.window << tw.sndWscale);
    tw.sndWl1 = seg.seq;
    tw.sndWl2 = seg.ack;
  }
  // The only thing that can arrive is a retransmitted FIN: ACK it, restart 2 MSL. Text is dropped.
  return fin ? TimeWaitVerdict.AckRestart : TimeWaitVerdict.Drop;
}

/**
 * An ICMP error about a segment of `tw`: what tcp-icmp-error.ts
 * applyIcmpError does to an orphan in TIME-WAIT, whose data is all
 * acknowledged (Linux tcp_v4_err on a timewait socket only checks it).
 */
export function timeWaitIcmpError(tw: TimeWaitEntry, report: IcmpErrorReport, stats: Counters): void {
  const q = report.quote;
  if (q.transport.length >= 8) {
    const seq = readU32(q.transport, 4);
    if (seqLt(seq, tw.sndNxt) || seqGt(seq, tw.highestSent)) {
      stats.increment(TcpCounter.OutOfWindowIcmps);
      return;
    }
  }
  // RFC 1191: the path MTU drops (the orphan's mode is IP_PMTUDISC_WANT, which learns it).
  const fragNeeded = report.type === Icmpv4Type.DestinationUnreachable && report.code === Icmpv4UnreachableCode.FragmentationNeeded;
  if (fragNeeded && report.pathMtu !== undefined && report.pathMtu < tw.pathMtu) tw.pathMtu = report.pathMtu;
  // Anything else is a soft error, and nobody is left to read it.
}

/**
 * Our ACK from TIME-WAIT (Tcb.outHeader's fields): SND.NXT, RCV.NXT, the
 * fixed window, and timestamps when on. The record and its options are
 * shared and valid until the next call: the caller sends it at once.
 */
export function timeWaitAck(tw: TimeWaitEntry, now: Instant): TcpHeaderRepr {
  tw.lastAckSent = tw.rcvNxt;
  const h = ACK_HEADER;
  h.srcPort = tw.local.port;
  h.dstPort = tw.remote.port;
  h.seq = tw.sndNxt;
  h.ack = tw.rcvNxt;
  h.window = tw.windowField;
  h.options = tw.tsOk ? buildDataOptionsInto(ACK_OPTIONS, true, tsNow(tw, now), tw.tsRecent, NO_SACK_BLOCKS) : NO_OPTIONS;
  return h;
}

/** Tcb.tsNow: milliseconds plus the connection's offset. */
function tsNow(tw: TimeWaitEntry, now: Instant): number {
  return (Math.floor(Instant.toMicros(now) / 1000) + tw.tsOffset) >>> 0;
}

const NO_OPTIONS: TcpOption[] = [];
const NO_SACK_BLOCKS: readonly SackBlock[] = [];
const ACK_OPTIONS = new TcpOptionsScratch();
const ACK_HEADER: { -readonly [K in keyof TcpHeaderRepr]: TcpHeaderRepr[K] } & { options: TcpOption[] } = {
  srcPort: 0,
  dstPort: 0,
  seq: 0,
  ack: 0,
  flags: TcpFlag.ACK,
  window: 0,
  urgentPointer: 0,
  options: NO_OPTIONS,
};
