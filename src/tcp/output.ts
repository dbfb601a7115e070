/**
 * The send side: choosing the next segment to send (SYN, data,
 * retransmission, FIN, pure ACK, probes, RST), one per call, and when to call
 * again (nextDeadline). The timers themselves (RFC 6298 retransmission,
 * persist, delayed ACK, keepalive, TIME-WAIT) are tcp-timers.ts.
 *
 * Data segments name a range of the send RingBuffer's store, never a copy:
 * the stack copies it once into the packet.
 */
import { copyFromStore } from '../storage/ring-buffer.js';
import { TcpFlag, tcpHeaderLen } from '../wire/tcp.js';
import type { TcpHeaderRepr } from '../wire/tcp.js';
import { maxSackBlocks } from '../wire/tcp-options.js';
import { instantAdd } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { seqAdd, seqGe, seqGt, seqLe, seqLt, seqMax, seqSub } from './seq.js';
import { NOT_ARMED } from './tcb.js';
import type { Tcb } from './tcb.js';
import { TcpState } from './state.js';
import { prrOnSend } from './prr.js';
import { RackState } from './rack.js';
import { tcpTsoSegs } from './tso.js';
import { armLossProbe, lossProbeRange, lossProbeSent, sendsData } from './tlp.js';
import { keepaliveDeadline, persistInterval, runTimers, timerDue } from './tcp-timers.js';

// The timers moved to tcp-timers.ts; their entry points stay part of this module's API.
export { keepaliveDeadline, runTimers } from './tcp-timers.js';

/**
 * A segment to send. The record, its header and the header's options are
 * reused for the next segment of any connection (issue 9; tcb.ts OUT_HEADER).
 * The payload is a range of the send buffer's store, `payloadLength` bytes
 * from `payloadStart`, wrapping at the store's end (copySegmentPayload): no
 * view per segment (issue 9). Both are valid until the next call on the
 * connection: the owner emits the segment at once and keeps nothing.
 */
export interface TcpSegmentOut {
  readonly header: TcpHeaderRepr;
  /** tcpHeaderLen(header), options included. */
  readonly headerLength: number;
  readonly payloadStore: Uint8Array;
  readonly payloadStart: number;
  readonly payloadLength: number;
}

/** The empty store of a segment record that carries no payload (and of one whose drain ended: TcpConnection.drainDone). */
export const NO_STORE = new Uint8Array(0);

/** Copies the segment's payload to dst[at..]: the sender's one copy of the bytes. */
export function copySegmentPayload(seg: TcpSegmentOut, dst: Uint8Array, at: number): void {
  if (seg.payloadLength > 0) copyFromStore(seg.payloadStore, seg.payloadStart, seg.payloadLength, dst, at);
}

/** A segment without data; `headerLength` for a header outHeader() made: t.outHeaderLength. */
function bare(t: Tcb, header: TcpHeaderRepr, headerLength = tcpHeaderLen(header)): TcpSegmentOut {
  return segmentOut(t, header, headerLength, NO_STORE, 0, 0);
}

function segmentOut(t: Tcb, header: TcpHeaderRepr, headerLength: number, store: Uint8Array, start: number, payloadLength: number): TcpSegmentOut {
  const out = t.segmentOut;
  out.header = header;
  out.headerLength = headerLength;
  out.payloadStore = store;
  out.payloadStart = start;
  out.payloadLength = payloadLength;
  return out;
}

// ---------------------------------------------------------------- output

/** The next segment due now, or undefined when there is nothing to send. */
export function nextSegment(t: Tcb, now: Instant): TcpSegmentOut | undefined {
  // The reused record lets go of the last segment's store: a drain ends with
  // a call that returns nothing, and no idle connection's released send
  // store may stay alive through it.
  t.segmentOut.payloadStore = NO_STORE;
  t.sentAll = false;
  // A timer pass only when a deadline has come (issue 9: the pass re-tested
  // every timer on every call, data segments included).
  if (timerDue(t, now)) runTimers(t, now);
  else {
    t.lastNow = now;
    if (quiet(t)) return undefined;
  }
  if (t.rstDue !== undefined) {
    const h = t.rstDue;
    t.rstDue = undefined;
    t.notify();
    return bare(t, h);
  }
  switch (t.state) {
    case TcpState.CLOSED:
    case TcpState.LISTEN:
      return undefined;
    case TcpState.SYN_SENT:
    case TcpState.SYN_RECEIVED:
      if (t.synDue) return synSegment(t, now);
      if (t.state === TcpState.SYN_RECEIVED && t.ackNow) return bare(t, t.outHeader(now, t.sndNxt, TcpFlag.ACK), t.outHeaderLength);
      return undefined;
    default:
      break;
  }
  if (sendsData(t.state)) {
    const seg = dataSegment(t, now);
    if (seg !== undefined) return seg;
  }
  // rcvWnd() first: it is one subtraction, windowIncrease() the full window computation, and both are pure.
  if (!t.ackNow && t.state !== TcpState.TIME_WAIT && t.rcvWnd() === 0 && t.windowIncrease() >= windowUpdateThreshold(t)) {
    t.ackNow = true;
  }
  // SEG.SEQ of a pure ACK is the highest sequence sent, not a rewound SND.NXT: an
  // older one would be unacceptable to the peer, which then ignores the ACK
  // field (two rewound senders would ACK each other forever; Linux does the same).
  if (t.ackNow) return bare(t, t.outHeader(now, t.sndMax, TcpFlag.ACK), t.outHeaderLength);
  if (t.extraAcks > 0) {
    // TIME-WAIT answers each retransmitted FIN with one ACK (ackNow above) and
    // no burst extras: drop them here, or nextDeadline would keep reporting
    // them as due and the owner would poll this instant forever.
    if (t.state === TcpState.TIME_WAIT) t.extraAcks = 0;
    else {
      t.extraAcks--;
      return bare(t, t.outHeader(now, t.sndMax, TcpFlag.ACK), t.outHeaderLength);
    }
  }
  // After any owed ACK: a probe's old sequence number makes the peer ignore
  // its ACK field, so it must not stand in for a real ACK.
  if (t.probeDue) {
    t.probeDue = false;
    // Linux's probe (tcp_xmit_probe_skb): an old sequence number makes the
    // peer answer with an ACK carrying its current window.
    return bare(t, t.outHeader(now, seqAdd(t.sndUna, -1), TcpFlag.ACK), t.outHeaderLength);
  }
  return undefined;
}

/**
 * With no timer due: nothing to do on an ESTABLISHED connection, no flag
 * raised, everything queued already sent, the window open. Then
 * nextSegment answers undefined and changes nothing but lastNow, and says
 * so without the planning pass (issue 9: the poll after a segment that
 * brought data to answer later, one per request/response segment; an empty
 * poll should cost next to nothing, like Linux's tcp_data_snd_check and
 * tcp_ack_snd_check finding nothing to do). Every condition is what the
 * full path would act on (output.test.ts tests each, and each timer of
 * timerDue; recovery and the TIME-WAIT and FIN-WAIT-2 timers, which
 * ESTABLISHED does not arm, are kept as defence).
 */
function quiet(t: Tcb): boolean {
  if (
    t.state !== TcpState.ESTABLISHED ||
    t.ackNow ||
    t.extraAcks !== 0 ||
    t.probeDue ||
    t.retransmitDue ||
    t.tlpDue ||
    t.forceSend ||
    t.timerFlush ||
    t.inRecovery ||
    t.finQueued ||
    t.rstDue !== undefined ||
    t.eorSeqs !== undefined
  ) {
    return false;
  }
  // Unsent data may be due (planData decides): only a fully sent queue is quiet.
  if (seqSub(t.sndNxt, t.sndBufSeq) < t.sndBuf.length) return false;
  // A closed window may owe an update (nextSegment's window-update rule).
  return t.rcvWnd() !== 0;
}

/** RFC 9293 3.8.6.2.2: a window update is worth sending once the window opens by min(2 MSS... buffer / 2). */
export function windowUpdateThreshold(t: Tcb): number {
  return Math.min(2 * t.ourMss, Math.floor(t.rcvBuf.capacity / 2));
}

function synSegment(t: Tcb, now: Instant): TcpSegmentOut {
  t.synDue = false;
  const flags = t.state === TcpState.SYN_SENT ? TcpFlag.SYN : TcpFlag.SYN | TcpFlag.ACK;
  const h = t.synHeader(now, flags);
  t.sndNxt = seqAdd(t.iss, 1);
  t.sndMax = seqMax(t.sndMax, t.sndNxt);
  if (t.retries === 0 && !t.tsOk) {
    t.rttSeq = t.iss;
    t.rttSentAt = now;
  }
  if (t.rtoAt === NOT_ARMED) t.armRto(now);
  t.ackNow = false;
  return bare(t, h);
}

/** The payload room in one segment after our per-segment options (MUST-16). */
function effectiveMss(t: Tcb): number {
  let opt = t.tsOk ? 12 : 0;
  if (t.sackOk && !t.assembler.isEmpty) opt += 4 + 8 * Math.min(t.assembler.rangeCount, maxSackBlocks(t.tsOk));
  return Math.max(1, t.mss - opt);
}

interface Plan {
  readonly seq: number;
  readonly offset: number;
  readonly len: number;
  readonly fin: boolean;
  readonly retransmit: boolean;
  /** Chosen by RFC 6675 NextSeg: report it to the scoreboard once sent. */
  readonly sackRule?: 1 | 3 | 4 | undefined;
  /** The RFC 8985 tail loss probe. */
  readonly probe?: boolean;
}

type MutablePlan = { -readonly [K in keyof Plan]-?: Plan[K] };

/**
 * The one Plan record planData answers in, reused (issue 9: a record per
 * call, and planData runs two or three times per data segment). Valid until
 * the next planData call: copy the fields you still need before calling it
 * again.
 */
const PLAN: MutablePlan = { seq: 0, offset: 0, len: 0, fin: false, retransmit: false, sackRule: undefined, probe: false };

function plan(seq: number, offset: number, len: number, fin: boolean, retransmit: boolean, sackRule: 1 | 3 | 4 | undefined, probe: boolean): Plan {
  const p = PLAN;
  p.seq = seq;
  p.offset = offset;
  p.len = len;
  p.fin = fin;
  p.retransmit = retransmit;
  p.sackRule = sackRule;
  p.probe = probe;
  return p;
}

/** A retransmission of [seq, seq + len) clamped to what is buffered, with the FIN if it was sent after it. */
function retransmission(t: Tcb, seq: number, len: number, mss: number, sackRule?: 1 | 3 | 4): Plan | undefined {
  const offset = seqSub(seq, t.sndBufSeq);
  if (offset < 0) return undefined;
  const dataLen = Math.max(0, Math.min(len, mss, t.sndBuf.length - offset));
  const fin = t.finQueued && seqAdd(seq, dataLen) === t.finSeq && seqLt(t.finSeq, t.sndMax);
  if (dataLen === 0 && !fin) return undefined;
  return plan(seq, offset, dataLen, fin, true, sackRule, false);
}

/**
 * What data segment would go out now, without changing anything. Also used
 * by pollAt to know whether output is due immediately.
 */
export function planData(t: Tcb): Plan | undefined {
  // Answers in PLAN (see there): valid until the next call.
  if (!sendsData(t.state)) return undefined;
  // Nothing buffered, no FIN, no repair due: no segment (what the new-data
  // rules below answer too, after all their arithmetic). The side whose
  // peer sends, and every drain's last call, ask this (issue 9: planData
  // runs on every output call). EOR boundaries are dropped as below.
  if (t.sndBuf.length === 0 && !t.finQueued && !t.retransmitDue && !t.tlpDue && !t.inRecovery && seqSub(t.sndNxt, t.sndBufSeq) >= 0) {
    if (t.eorSeqs !== undefined) nextEor(t);
    return undefined;
  }
  const mss = effectiveMss(t);
  if (t.retransmitDue) {
    // RFC 5681 3.2 step 3 / RFC 6582: resend the first unacknowledged segment.
    const p = retransmission(t, t.sndUna, mss, mss);
    if (p !== undefined) return p;
  }
  if (t.tlpDue) {
    // RFC 8985 7.3: one segment, new data if the peer's window allows, else the last one again.
    const r = lossProbeRange(t, mss);
    if (r !== undefined && r.fresh) {
      const avail = t.sndBuf.length - seqSub(r.seq, t.sndBufSeq);
      const fin = t.finQueued && r.len === avail && seqLe(seqAdd(r.seq, r.len), t.finSeq);
      return plan(r.seq, seqSub(r.seq, t.sndBufSeq), r.len, fin, false, undefined, true);
    }
    const p = r === undefined ? undefined : retransmission(t, r.seq, r.len, mss);
    if (p !== undefined) {
      PLAN.probe = true;
      return p;
    }
  }
  let sackRoom = -1;
  if (t.inRecovery && t.sackOk) {
    // RFC 6675 5 (C): send while cwnd - pipe >= 1 SMSS, choosing with NextSeg.
    // RFC 6937: PRR's window (pipe + sndcnt of the last ACK) in place of cwnd.
    const rack = t.config.rack ? t.sb.rack : undefined;
    const pipe = rack !== undefined ? rack.pipe(t.sb, t.sndUna) : t.sb.pipe(t.sndUna, t.sndMax);
    sackRoom = (t.config.prr ? t.prrCwnd : t.cc.cwnd) - pipe;
    if (sackRoom < t.mss) return undefined;
    const canSendNew =
      seqSub(t.sndNxt, t.sndBufSeq) < t.sndBuf.length && seqSub(seqAdd(t.sndUna, t.sndWnd), t.sndNxt) > 0;
    if (rack !== undefined) {
      // RFC 8985 6: what RACK marked lost, lowest first, then new data (Linux
      // tcp_xmit_retransmit_queue; no RFC 6675 rule (3)/(4) retransmissions).
      const lost = rack.nextLost(t.sb, t.sndUna, mss);
      if (lost !== undefined) return retransmission(t, lost.seq, lost.len, mss);
      if (!canSendNew) return undefined;
    } else {
      // HighData is SND.MAX: after an RTO rewound SND.NXT we are not in SACK recovery.
      const next = t.sb.nextSeg(t.sndUna, t.sndMax, canSendNew);
      if (next === undefined) return undefined;
      if (next.kind === 'retransmit') return retransmission(t, next.seq, next.len, mss, next.rule);
    }
  }
  const offset = seqSub(t.sndNxt, t.sndBufSeq);
  if (offset > t.sndBuf.length) return undefined; // FIN already sent
  let avail = t.sndBuf.length - offset;
  // MSG_EOR: a segment ends at the next record boundary, which counts as
  // the end of the data for Nagle and SWS (Linux sends such an skb whole).
  const eor = nextEor(t);
  const eorLimited = eor !== undefined && seqSub(eor, t.sndNxt) < avail;
  if (eorLimited) avail = seqSub(eor, t.sndNxt);
  const wndRoom = seqSub(seqAdd(t.sndUna, t.sndWnd), t.sndNxt);
  // RFC 3042 limited transmit: one new segment on each of the first two duplicate ACKs.
  const limited = !t.inRecovery && t.dupAcks > 0 && t.dupAcks < 3 ? t.dupAcks * t.mss : 0;
  const cwndRoom = sackRoom >= 0 ? sackRoom : t.cwnd() + limited - seqSub(t.sndNxt, t.sndUna);
  const len = Math.max(0, Math.min(avail, mss, wndRoom, cwndRoom));
  const fin = !eorLimited && t.finQueued && len === avail && seqLe(seqAdd(t.sndNxt, len), t.finSeq);
  if (len === 0 && !fin) return undefined;
  if (len < mss && !t.forceSend && !fin && !(eorLimited && len === avail)) {
    if (len < avail) {
      // MUST-38 sender SWS avoidance (3.8.6.2.1): a window-limited partial
      // segment waits until it is at least half the largest window seen.
      if (len < Math.floor(t.maxSndWnd / 2)) return undefined;
    } else {
      // TCP_CORK and MSG_MORE hold partial segments; Nagle (MUST-17: optional) holds them while data is unacknowledged.
      if (t.cork || t.moreHold) return undefined;
      if (!t.noDelay && seqLt(t.sndUna, t.sndNxt)) return undefined;
    }
  }
  return plan(t.sndNxt, offset, len, fin, seqLt(t.sndNxt, t.sndMax), undefined, false);
}

function dataSegment(t: Tcb, now: Instant): TcpSegmentOut | undefined {
  const planned = planData(t);
  const forced = t.timerFlush;
  t.forceSend = false;
  t.timerFlush = false;
  if (planned === undefined) {
    t.retransmitDue = false;
    t.tlpDue = false;
    maybeArmPersist(t, now);
    return undefined;
  }
  // Copied out: the burst check below plans again, into the same record (PLAN).
  const { seq, offset, len, fin, retransmit, sackRule } = planned;
  const probe = planned.probe === true;
  const end = seqAdd(seq, len + (fin ? 1 : 0));
  if (t.inRecovery && t.sackOk) prrOnSend(t, len + (fin ? 1 : 0));
  if (retransmit && seq === t.sndUna && t.retransmitDue) {
    t.retransmitDue = false;
    if (t.sackOk && t.inRecovery) t.sb.onFastRetransmit(seq, len);
  } else if (sackRule !== undefined) {
    t.sb.onRetransmit({ kind: 'retransmit', seq, len, rule: sackRule });
  }
  let flags = TcpFlag.ACK;
  if (fin) flags |= TcpFlag.FIN;
  let burstPush = false;
  // Linux marks PSH on the tail of each write without MSG_MORE (tcp_push),
  // and on whatever its persist/probe timer flushes (tcp_write_wakeup).
  if (len > 0 && (offset + len === t.sndBuf.length || endsRecord(t, seqAdd(seq, len)))) {
    if (!t.msgMore || forced) flags |= TcpFlag.PSH;
    // The skb ends here: a packet sent after it at this instant starts afresh.
    t.burstSegs = 0;
  } else if (len > 0 && !t.msgMore) {
    // Linux sends in TSO packets (tcp_write_xmit for new data,
    // tcp_xmit_retransmit_queue for retransmissions) and forces PSH on each
    // packet of two or more segments (__tcp_transmit_skb), which after GSO
    // is its last segment: a lone segment cut from a larger write (limited
    // transmit, a probe, one retransmission) gets none.
    if (t.burstAt !== now || t.burstRetransmit !== retransmit) {
      t.burstAt = now;
      t.burstSegs = 0;
      t.burstRetransmit = retransmit;
    }
    t.burstSegs++;
    if (!retransmit && t.burstSegs >= tcpTsoSegs(t)) {
      // A full TSO packet (tcp_tso_autosize, at least 2 segments): it ends here.
      flags |= TcpFlag.PSH;
      t.burstSegs = 0;
    } else burstPush = t.burstSegs >= 2;
  }
  let up = 0;
  if (t.sndUrgent && seqLt(seq, t.sndUp)) {
    // MUST-30/31: the pointer may point far ahead; it saturates at the field size.
    flags |= TcpFlag.URG;
    up = Math.min(0xffff, seqSub(t.sndUp, seq));
  }
  if (!retransmit && t.rttSeq === undefined && !t.tsOk && len > 0) {
    t.rttSeq = seq;
    t.rttSentAt = now;
  }
  if (t.sackOk && t.config.rack && seqLt(seq, end)) {
    // RFC 8985 6.1: remember when each segment was (re)sent.
    (t.sb.rack ??= new RackState()).onSend(seq, end, now);
  }
  if (seqLt(t.sndNxt, end)) t.sndNxt = end;
  t.sndMax = seqMax(t.sndMax, t.sndNxt);
  if (!retransmit) t.lastSegSeq = seq;
  if (probe) lossProbeSent(t, now, retransmit);
  if (burstPush) {
    // The burst ends here unless more new data can go at once.
    const next = planData(t);
    if (!retransmit) {
      if (next === undefined || next.retransmit) {
        flags |= TcpFlag.PSH;
        t.burstSegs = 0;
      }
    } else if (!retransmitsLeft(t) && (next === undefined || !next.retransmit)) {
      // A retransmission burst pushes only when it repaired everything it
      // could (Linux leaves PSH off a burst that cwnd cut short).
      flags |= TcpFlag.PSH;
    }
  }
  if (len > 0) t.noteDataSent(now);
  const header = t.outHeader(now, seq, flags, up);
  if (t.rtoAt === NOT_ARMED) t.armRto(now);
  // RFC 8985 7.2: (re)start the PTO after sending new data.
  if (!retransmit && !probe) armLossProbe(t, now);
  if (t.unackedSince === NOT_ARMED) t.unackedSince = now;
  if (t.sndUrgent && seqGe(t.sndUna, t.sndUp)) t.sndUrgent = false;
  if (len === 0) return segmentOut(t, header, t.outHeaderLength, NO_STORE, 0, 0);
  if (offset + len === t.sndBuf.length && !retransmit && !probe) t.sentAll = sentAll(t, now);
  return segmentOut(t, header, t.outHeaderLength, t.sndBuf.store, t.sndBuf.storeIndex(offset), len);
}

/**
 * After a new-data segment that took the last byte queued: would the next
 * nextSegment call at the same instant, with nothing done in between,
 * answer undefined? Linux's tcp_write_xmit likewise stops at the end of the
 * queue rather than asking once more (issue 9: the drain's last call was a
 * third of the connection's polls on a request/response exchange, each a
 * timer pass and a planning pass). What could still be due after such a
 * segment is what nextSegment tries after data: an extra ACK of an
 * out-of-order burst, a probe (both tested in output.test.ts); the rest is
 * defence against a due flag or timer (runTimers ran at `now` in this call,
 * so only the RTO and PTO this segment armed could be due: they are not
 * unless a zero timeout). The FIN rides on the segment that takes the last
 * byte, and outHeader has just advertised the window (no update owed).
 * Every harness run (harness.fixtures.ts flush) checks each answer against
 * a real call.
 */
function sentAll(t: Tcb, now: Instant): boolean {
  return (
    t.extraAcks === 0 &&
    !t.probeDue &&
    !t.ackNow &&
    !t.retransmitDue &&
    !t.tlpDue &&
    !t.inRecovery &&
    t.rtoAt > now &&
    t.tlpAt > now
  );
}

/** The first MSG_EOR boundary beyond SND.NXT, dropping the ones already passed. */
function nextEor(t: Tcb): number | undefined {
  const q = t.eorSeqs;
  if (q === undefined) return undefined;
  while (q.length > 0 && seqLe(q[0]!, t.sndUna)) q.shift();
  for (const b of q) if (seqGt(b, t.sndNxt)) return b;
  return undefined;
}

/** Does a segment ending at `end` end a MSG_EOR record? */
function endsRecord(t: Tcb, end: number): boolean {
  return t.eorSeqs !== undefined && t.eorSeqs.includes(end);
}

/** Is there more to retransmit: lost holes (RFC 6675 NextSeg) or, after an RTO, data below SND.MAX? */
function retransmitsLeft(t: Tcb): boolean {
  if (t.inRecovery && t.sackOk) {
    const rack = t.config.rack ? t.sb.rack : undefined;
    if (rack !== undefined) return rack.nextLost(t.sb, t.sndUna, t.mss) !== undefined;
    return t.sb.nextSeg(t.sndUna, t.sndMax, false)?.kind === 'retransmit';
  }
  return seqLt(t.sndNxt, t.sndMax);
}

/** RFC 9293 3.8.6.1: data waits, nothing is in flight to bring an ACK: start the persist timer. */
function maybeArmPersist(t: Tcb, now: Instant): void {
  if (t.persistAt !== NOT_ARMED) return;
  if (t.sndUna !== t.sndMax) return;
  const offset = seqSub(t.sndNxt, t.sndBufSeq);
  if (offset >= t.sndBuf.length) return;
  t.persistAt = instantAdd(now, persistInterval(t));
}

/**
 * The instant the owner must call output next, or undefined when nothing is
 * pending. `drained`: nextSegment has just answered undefined, with nothing
 * done to the connection since; then no data segment is due either (its
 * planData answered undefined, and all it changed since only holds more
 * back), so planData is not asked again (issue 9: once per drain).
 */
export function nextDeadline(t: Tcb, drained = false): Instant | undefined {
  if (t.rstDue !== undefined) return t.lastNow;
  if (t.state === TcpState.CLOSED) return undefined;
  if (t.synDue || t.ackNow || t.probeDue || t.retransmitDue || t.tlpDue || t.extraAcks > 0) return t.lastNow;
  if (!drained && planData(t) !== undefined) return t.lastNow;
  // Called after every drain: compare in place rather than through an array.
  // keepaliveDeadline only with SO_KEEPALIVE on (issue 9: asked after every drain).
  let at = Math.min(t.rtoAt, t.tlpAt, t.delackAt, t.persistAt, t.timeWaitAt, t.finWait2At, t.opts.keepAlive ? keepaliveDeadline(t) : NOT_ARMED) as Instant;
  const rackAt = t.sb.rack?.timerAt ?? -1;
  if (rackAt >= 0 && rackAt < at) at = rackAt as Instant;
  return at >= NOT_ARMED ? undefined : at;
}
