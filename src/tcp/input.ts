/**
 * SEGMENT ARRIVES (RFC 9293 3.10.7) for one connection: SYN-SENT (3.10.7.3)
 * and every synchronized state (3.10.7.4), with RFC 5961 hardening, RFC 7323
 * timestamps/PAWS and window scaling, RFC 2018 SACK information, and the
 * ACK-driven half of loss recovery (RFC 5681, RFC 6582, RFC 3042).
 *
 * Nothing here emits: it updates the TCB and sets flags (ackNow, rstDue,
 * retransmitDue) that output.ts turns into segments.
 */
import { TcpFlag } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import { summarizeTcpOptions, summarizeTcpOptionsInto, TcpOptionsSummaryScratch } from '../wire/tcp-options.js';
import type { TcpOptionsSummary } from '../wire/tcp-options.js';
import { Duration, durationMul } from '../time/duration.js';
import { instantAdd, instantDiff } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { seqAdd, seqGe, seqGt, seqInWindow, seqLe, seqLt, seqMax, seqSub } from './seq.js';
import { DEFAULT_SEND_MSS, NOT_ARMED } from './tcb.js';
import type { Tcb } from './tcb.js';
import { TcpState, acceptsText } from './state.js';
import { armLossProbe, lossProbeAck } from './tlp.js';
import { roundUpToJiffies } from './jiffies.js';
import { prrOnAck, prrStart } from './prr.js';
import type { RackContext } from './rack.js';

/** RFC 7323 5.5: a tsRecent older than 24 days is no longer trusted for PAWS. */
const PAWS_IDLE = Duration.fromSecs(24 * 24 * 3600);

/** Linux tcp_fin_timeout: how long an orphaned connection may sit in FIN-WAIT-2. */
const FIN_WAIT_2_TIMEOUT = Duration.fromSecs(60);

export function segmentArrives(t: Tcb, now: Instant, seg: TcpRepr): void {
  t.lastNow = now;
  // Whatever this segment lets us send is a new burst for PSH placement
  // (output.ts): Linux pushes per tcp_write_xmit / tcp_xmit_retransmit_queue
  // call, i.e. per ACK, even when several ACKs arrive in the same instant.
  t.burstAt = NOT_ARMED;
  switch (t.state) {
    case TcpState.CLOSED:
    case TcpState.LISTEN:
      // CLOSED and LISTEN are the stack's and the listener's business (3.10.7.1, 3.10.7.2).
      return;
    case TcpState.SYN_SENT:
      synSent(t, now, seg);
      return;
    default:
      otherStates(t, now, seg);
  }
}

function has(seg: TcpRepr, flag: number): boolean {
  return (seg.flags & flag) !== 0;
}

/** RFC 9293 3.10.7.1 shape: a RST answering an unacceptable segment. */
function queueReset(t: Tcb, seg: TcpRepr): void {
  if (has(seg, TcpFlag.RST)) return;
  t.rstDue = has(seg, TcpFlag.ACK)
    ? { srcPort: t.local.port, dstPort: t.remote.port, seq: seg.ack, ack: 0, flags: TcpFlag.RST, window: 0, urgentPointer: 0, options: [] }
    : {
        srcPort: t.local.port,
        dstPort: t.remote.port,
        seq: 0,
        ack: seqAdd(seg.seq, segLen(seg)),
        flags: TcpFlag.RST | TcpFlag.ACK,
        window: 0,
        urgentPointer: 0,
        options: [],
      };
}

/** SEG.LEN: payload plus one for SYN and one for FIN (RFC 9293 3.4). */
export function segLen(seg: TcpRepr): number {
  return seg.payload.length + (has(seg, TcpFlag.SYN) ? 1 : 0) + (has(seg, TcpFlag.FIN) ? 1 : 0);
}

/**
 * Applies the peer's SYN options. MUST-14/15: MSS defaults to 536 when absent.
 * RFC 7323 1.3, 2.2: window scaling and timestamps are on only if both SYNs
 * carry them; RFC 2018 2: SACK likewise.
 */
export function negotiate(t: Tcb, opts: TcpOptionsSummary, now: Instant): void {
  const peerMss = opts.mss ?? DEFAULT_SEND_MSS;
  // MUST-16: effective send MSS = min(peer's MSS, what our MTU carries); the
  // options we put in each data segment are accounted for at send time.
  t.mss = Math.max(64, Math.min(peerMss, t.ourMss));
  if (t.config.windowScaling && opts.windowScale !== undefined) {
    t.wsAgreed = true;
    t.sndWscale = opts.windowScale;
    t.rcvWscale = t.ourWscale;
  }
  if (t.config.timestamps && opts.timestamps !== undefined) {
    t.tsOk = true;
    t.tsRecent = opts.timestamps.tsVal;
    t.tsRecentAt = now;
  }
  t.sackOk = t.config.sack && opts.sackPermitted;
  // RFC 6928: the initial window is 10 segments of the negotiated MSS.
  t.cc.setMss(t.mss);
  t.sb.setMss(t.mss);
}

/** RFC 9293 3.10.7.3: SYN-SENT. */
function synSent(t: Tcb, now: Instant, seg: TcpRepr): void {
  let ackAcceptable = false;
  if (has(seg, TcpFlag.ACK)) {
    // "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set)".
    if (seqLe(seg.ack, t.iss) || seqGt(seg.ack, t.sndMax)) {
      queueReset(t, seg);
      return;
    }
    ackAcceptable = seqLe(t.sndUna, seg.ack) && seqLe(seg.ack, t.sndMax);
  }
  if (has(seg, TcpFlag.RST)) {
    // RFC 5961 3.2 / RFC 9293: a RST in SYN-SENT counts only if it ACKs our SYN.
    if (ackAcceptable) {
      t.rstDue = undefined;
      t.enterClosed('ECONNREFUSED');
    }
    return;
  }
  if (!has(seg, TcpFlag.SYN)) return;
  t.irs = seg.seq;
  t.rcvNxt = seqAdd(seg.seq, 1);
  const opts = summarizeTcpOptions(seg.options);
  negotiate(t, opts, now);
  t.lastReceivedAt = now;
  if (ackAcceptable) {
    newAck(t, now, seg, opts);
    // RFC 7323 2.2: windows in SYNs are never scaled.
    t.sndWnd = seg.window;
    t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
    t.sndWl1 = seg.seq;
    t.sndWl2 = seg.ack;
    t.rcvAdv = t.rcvNxt;
    t.setState(TcpState.ESTABLISHED);
    afterEstablished(t);
    // "form an ACK segment ... and send it"; then continue at the sixth step
    // (URG) with any data or FIN the SYN-ACK carried.
    t.ackNow = true;
    if (seg.payload.length > 0 || has(seg, TcpFlag.FIN)) {
      textAndFin(t, now, { ...seg, seq: seqAdd(seg.seq, 1), flags: seg.flags & ~TcpFlag.SYN });
    }
    return;
  }
  // MUST-10: simultaneous open. SYN-RECEIVED, SYN-ACK with our original ISS.
  t.sndWnd = seg.window;
  t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
  t.sndWl1 = seg.seq;
  t.sndWl2 = seg.ack;
  t.setState(TcpState.SYN_RECEIVED);
  t.synDue = true;
}

/** Called on entering ESTABLISHED from either handshake state: applies a close() made earlier. */
function afterEstablished(t: Tcb): void {
  // RFC 6298 5.7: after a SYN timed out without a sample, data starts at 3 s.
  if (t.synRetransmitted) t.rtt.synTimedOut();
  t.retries = 0;
  if (t.finQueued) t.setState(TcpState.FIN_WAIT_1);
}

/** Rate-limited challenge ACK (RFC 5961 3.2, 4.2, 5.2; section 7 for the limit). */
function challengeAck(t: Tcb, now: Instant): void {
  const limit = t.config.challengeAckLimit;
  if (limit > 0) {
    if (instantDiff(now, t.challengeWindowStart) >= Duration.fromSecs(1)) {
      t.challengeWindowStart = now;
      t.challengeCount = 0;
    }
    if (t.challengeCount >= limit) return;
    t.challengeCount++;
  }
  queueAck(t);
}

/** One more immediate ACK, counted so that a burst handed over before the next poll gets one each. */
function queueAck(t: Tcb): void {
  if (t.ackNow && t.extraAcks < 8) t.extraAcks++;
  t.ackNow = true;
}

/** RFC 9293 3.10.7.4: every state from SYN-RECEIVED on. */
function otherStates(t: Tcb, now: Instant, seg: TcpRepr): void {
  // Reused per segment (issue 9): nothing below keeps `opts`, only values from it.
  const opts = summarizeTcpOptionsInto(seg.options, RX_OPTIONS);
  const rst = has(seg, TcpFlag.RST);

  // RFC 7323 5.3 PAWS, before the acceptability test: a segment whose TSval
  // is older than TS.Recent is a duplicate from an earlier incarnation.
  if (t.tsOk && opts.timestamps !== undefined && !rst) {
    const stale = instantDiff(now, t.tsRecentAt) > PAWS_IDLE;
    if (!stale && seqLt(opts.timestamps.tsVal, t.tsRecent)) {
      t.ackNow = true;
      return;
    }
  }

  // First: sequence number check (acceptability test, Table 6).
  const len = segLen(seg);
  const wnd = Math.max(t.rcvWnd(), t.state === TcpState.SYN_RECEIVED ? t.rcvSpace() : 0);
  let acceptable: boolean;
  if (len === 0) acceptable = wnd === 0 ? seg.seq === t.rcvNxt : seqInWindow(seg.seq, t.rcvNxt, wnd);
  else acceptable = wnd > 0 && (seqInWindow(seg.seq, t.rcvNxt, wnd) || seqInWindow(seqAdd(seg.seq, len - 1), t.rcvNxt, wnd));
  // A zero-window receiver must still process ACK, URG and RST of segments
  // at RCV.NXT (3.10.7.4 "special allowance"): treat them as acceptable, the
  // text is trimmed away below.
  if (!acceptable && wnd === 0 && seg.seq === t.rcvNxt) acceptable = true;
  if (!acceptable) {
    // "If an incoming segment is not acceptable, an acknowledgment should be sent in reply (unless the RST bit is set)".
    if (!rst) queueAck(t);
    if (t.state === TcpState.TIME_WAIT && has(seg, TcpFlag.FIN)) restartTimeWait(t, now);
    return;
  }
  t.lastReceivedAt = now;
  t.keepaliveProbes = 0;

  // Second: RST (RFC 5961 3.2: only an exact RCV.NXT match resets; other in-window RSTs get a challenge ACK).
  if (rst) {
    if (seg.seq !== t.rcvNxt) {
      challengeAck(t, now);
      return;
    }
    switch (t.state) {
      case TcpState.SYN_RECEIVED:
        // A passive open goes back to LISTEN (the listener forgets us); an
        // active one (simultaneous open) is refused.
        t.enterClosed(t.passive ? undefined : 'ECONNREFUSED');
        return;
      case TcpState.ESTABLISHED:
      case TcpState.FIN_WAIT_1:
      case TcpState.FIN_WAIT_2:
      case TcpState.CLOSE_WAIT:
        // MUST-12: the user learns of the abort.
        t.enterClosed('ECONNRESET');
        return;
      default:
        // CLOSING, LAST-ACK, TIME-WAIT: just close.
        t.enterClosed();
        return;
    }
  }

  // Fourth: SYN in a synchronized state, any sequence number (RFC 5961 4.2,
  // RFC 9293 3.10.7.4): challenge ACK, drop. In SYN-RECEIVED of a passive
  // open the RFC returns to LISTEN; we treat it the same way as a RST.
  if (has(seg, TcpFlag.SYN)) {
    if (t.state === TcpState.SYN_RECEIVED && t.passive) {
      t.enterClosed();
      return;
    }
    challengeAck(t, now);
    return;
  }

  // An ACK for data we never sent. RFC 9293 3.10.7.4 says ACK and drop, and
  // RFC 5961 5.2 sends a challenge ACK; Linux (tcp_ack, "ack after snd_nxt")
  // drops the segment silently in ESTABLISHED (it is noise: an ACK would
  // only start an ACK war with a confused peer) and sends a rate-limited
  // challenge ACK in the other synchronized states (tcp_rcv_state_process).
  // Either way the segment's text, FIN and TSval are ignored.
  if (has(seg, TcpFlag.ACK) && t.state !== TcpState.SYN_RECEIVED && seqGt(seg.ack, t.sndMax)) {
    if (t.state !== TcpState.ESTABLISHED) challengeAck(t, now);
    return;
  }

  // RFC 7323 4.3: remember TSval from a segment covering the ACK we sent last
  // (after the ACK checks, as Linux's tcp_replace_ts_recent in tcp_ack).
  if (t.tsOk && opts.timestamps !== undefined && seqLe(seg.seq, t.lastAckSent)) {
    t.tsRecent = opts.timestamps.tsVal;
    t.tsRecentAt = now;
  }

  // Fifth: ACK.
  if (!has(seg, TcpFlag.ACK)) return;
  if (t.state === TcpState.SYN_RECEIVED) {
    if (seqLt(t.sndUna, seg.ack) && seqLe(seg.ack, t.sndMax)) {
      // RFC 7323 2.2: the first non-SYN window is scaled.
      t.sndWnd = sendWindowOf(t, seg);
      t.maxSndWnd = Math.max(t.maxSndWnd, t.sndWnd);
      t.sndWl1 = seg.seq;
      t.sndWl2 = seg.ack;
      newAck(t, now, seg, opts);
      t.setState(TcpState.ESTABLISHED);
      afterEstablished(t);
    } else {
      queueReset(t, seg);
      return;
    }
  } else {
    // RFC 5961 5.2: (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT, else ACK
    // and drop (SEG.ACK > SND.NXT was handled above, the Linux way).
    if (seqLt(seg.ack, seqAdd(t.sndUna, -Math.max(t.maxSndWnd, 1)))) {
      challengeAck(t, now);
      return;
    }
    processAck(t, now, seg, opts);
    if (t.state === TcpState.CLOSED) return;
  }

  const finAcked = t.finQueued && seqGt(t.sndUna, t.finSeq);
  switch (t.state) {
    case TcpState.FIN_WAIT_1:
      if (finAcked) {
        t.setState(TcpState.FIN_WAIT_2);
        if (t.userClosed) t.finWait2At = instantAdd(now, FIN_WAIT_2_TIMEOUT);
      }
      break;
    case TcpState.CLOSING:
      if (finAcked) t.enterTimeWait(now);
      break;
    case TcpState.LAST_ACK:
      if (finAcked) {
        t.enterClosed();
        return;
      }
      break;
    case TcpState.TIME_WAIT:
      // The only thing that can arrive is a retransmitted FIN: ACK it, restart 2 MSL.
      if (has(seg, TcpFlag.FIN)) {
        t.ackNow = true;
        restartTimeWait(t, now);
      }
      return;
    default:
      break;
  }

  textAndFin(t, now, seg);
}

function restartTimeWait(t: Tcb, now: Instant): void {
  t.ackNow = true;
  t.timeWaitAt = instantAdd(now, durationMul(t.config.msl, 2));
}

/**
 * SEG.WND scaled by the peer's shift (RFC 7323 2.3). A shift: not `2 **`,
 * which V8 runs as a float pow call on every ACK (issue 9 profile); exact,
 * since negotiate caps the shift at 14 (RFC 7323 2.3) and 0xffff << 14 < 2^31.
 */
function sendWindowOf(t: Tcb, seg: TcpRepr): number {
  return seg.window << t.sndWscale;
}

/**
 * Fifth step for states past SYN-RECEIVED: SND.UNA, the send window, RTT,
 * congestion control and duplicate-ACK counting.
 */
function processAck(t: Tcb, now: Instant, seg: TcpRepr, opts: TcpOptionsSummary): void {
  const ack = seg.ack;
  const oldWnd = t.sndWnd;
  const prevUna = t.sndUna;
  let newlySacked = 0;
  let alreadySacked = 0;
  let delivered = 0;
  let dsack = false;
  // RFC 8985 6: RACK replaces the DupThresh rules when on (rack.ts).
  const rack = t.sackOk && t.config.rack ? t.sb.rack : undefined;
  const wasInRecovery = t.inRecovery;
  if (t.sackOk) {
    const sackedBefore = t.sb.sackedBytes;
    // RFC 6675 Update(): every ACK, with SND.UNA as it will be after this one.
    const upd = t.sb.update(seqMax(t.sndUna, ack), t.sndMax, opts.sackBlocks);
    newlySacked = upd.newlySacked;
    dsack = upd.dsack !== undefined;
    // SACKed bytes the cumulative ACK now covers: they were delivered before.
    alreadySacked = Math.max(0, sackedBefore + newlySacked - t.sb.sackedBytes);
    // RFC 6937 DeliveredData: the change in SND.UNA plus the change in SACKed bytes.
    delivered = Math.max(0, seqSub(seqMax(t.sndUna, ack), t.sndUna) + t.sb.sackedBytes - sackedBefore);
  }
  // RFC 8985 6.2 steps 1-3: what this ACK delivered, by transmit time.
  if (rack !== undefined) rack.onAck(t.sb, seqMax(t.sndUna, ack), now, t.rtt.minRtt, rackTsEcr(t, opts), t, newlySacked > 0);
  if (seqLt(t.sndUna, ack)) {
    newAck(t, now, seg, opts, alreadySacked);
  } else if (ack === t.sndUna) {
    // RFC 5681 2: a duplicate ACK carries no data, no SYN/FIN, does not move
    // the window, and arrives while data is outstanding.
    const dup =
      seg.payload.length === 0 &&
      !has(seg, TcpFlag.FIN) &&
      sendWindowOf(t, seg) === oldWnd &&
      seqLt(t.sndUna, t.sndMax);
    if (dup) duplicateAck(t, now);
    // RFC 6675 5: an ACK with new SACK information also counts, and IsLost(SND.UNA) starts recovery early.
    else if (newlySacked > 0 && seqLt(t.sndUna, t.sndMax)) duplicateAck(t, now);
  }
  // RFC 8985 7.4: the ACK of a loss probe.
  if (t.tlpActive) lossProbeAck(t, now, ack, opts.sackBlocks);
  // RFC 6675 5: IsLost(SND.UNA) starts recovery early, also on an ACK that
  // moved SND.UNA but left SACKed data above a hole (Linux tcp_fastretrans_alert
  // runs on every ACK carrying SACK blocks).
  let newlyLost = 0;
  if (rack !== undefined) {
    // RFC 8985 6.2 steps 4-5: the reordering window, then loss marking by
    // time; recovery starts once something is marked lost (Linux
    // tcp_time_to_recover: lost_out, no DupThresh rule with RACK).
    rack.updateReoWnd(t.sndUna, t.sndMax, dsack, wasInRecovery && !t.inRecovery);
    if (rack.advanced) {
      newlyLost = rack.detectLoss(rackContext(t, now));
      // The reorder timer takes the place of the PTO (Linux keeps one timer for both).
      if (rack.timerAt >= 0) t.tlpAt = NOT_ARMED;
    }
    if (!t.inRecovery && rack.lostUnsent > 0 && seqLt(t.sndUna, t.sndMax)) enterRecovery(t, now);
  } else if (t.sackOk && !t.inRecovery && seqLt(t.sndUna, t.sndMax) && t.sb.isLost(t.sndUna)) enterRecovery(t, now);
  if (t.sackOk && t.inRecovery) {
    const pipe = rack !== undefined ? rack.pipe(t.sb, t.sndUna) : t.sb.pipe(t.sndUna, t.sndMax);
    if (rack !== undefined) prrOnAck(t, delivered, pipe, seqGt(t.sndUna, prevUna), newlyLost);
    else prrOnAck(t, delivered, pipe);
  }
  // Window update (3.10.7.4): SND.WL1 < SEG.SEQ, or equal and SND.WL2 =< SEG.ACK.
  if (seqLt(t.sndWl1, seg.seq) || (t.sndWl1 === seg.seq && seqLe(t.sndWl2, ack))) {
    const wnd = sendWindowOf(t, seg);
    t.sndWnd = wnd;
    t.maxSndWnd = Math.max(t.maxSndWnd, wnd);
    t.sndWl1 = seg.seq;
    t.sndWl2 = ack;
    if (wnd > 0) {
      t.persistAt = NOT_ARMED;
      t.persistBackoff = 0;
    }
  }
}

/** An ACK that moves SND.UNA forward. */
function newAck(t: Tcb, now: Instant, seg: TcpRepr, opts: TcpOptionsSummary, alreadySacked = 0): void {
  const ack = seg.ack;
  const acked = seqSub(ack, t.sndUna);
  const flightBefore = t.flightSize();
  // SYN first, then buffered data, then FIN.
  const dataStart = seqMax(t.sndUna, t.sndBufSeq);
  const dataAcked = Math.max(0, Math.min(seqSub(ack, dataStart), t.sndBuf.length - seqSub(dataStart, t.sndBufSeq)));
  if (dataAcked > 0) {
    t.sndBuf.consume(seqSub(seqAdd(dataStart, dataAcked), t.sndBufSeq));
    t.sndBufSeq = seqAdd(dataStart, dataAcked);
    t.notify();
  }
  t.sndUna = ack;
  if (seqLt(t.sndNxt, ack)) t.sndNxt = ack;
  // MSG_MORE held its tail back for this write only: output driven by an ACK may send it (Linux tcp_data_snd_check).
  t.moreHold = false;

  // RTT (RFC 6298 3 / RFC 7323 4.1): timestamps give a sample per ACK; else
  // the one timed segment, and never from a retransmission (Karn, MUST-18).
  if (t.tsOk && opts.timestamps !== undefined && opts.timestamps.tsEcr !== 0) {
    const ms = seqSub(t.tsNow(now), opts.timestamps.tsEcr);
    if (ms >= 0) t.rtt.sample(Duration.fromMillis(ms));
    else t.rtt.resetBackoff();
  } else if (t.rttSeq !== undefined && seqGt(ack, t.rttSeq)) {
    t.rtt.sample(instantDiff(now, t.rttSentAt));
    t.rttSeq = undefined;
  } else {
    t.rtt.resetBackoff();
  }
  // A new ACK ends the backoff (RFC 6298 5.7 lets the RTO stay backed off until a new sample; Linux resets).
  t.retries = 0;

  congestionOnAck(t, now, acked, ack, flightBefore, alreadySacked);

  // RFC 6298 5.2 / 5.3: stop the timer when all is acked, else restart it.
  if (t.sndUna === t.sndMax) {
    t.rtoAt = NOT_ARMED;
    t.unackedSince = NOT_ARMED;
    t.tlpAt = NOT_ARMED;
  } else {
    t.armRto(now);
    t.unackedSince = now;
    // RFC 8985 7.2: restart the PTO on an ACK of new data.
    armLossProbe(t, now);
  }
}

/** RFC 5681 3.1 slow start / congestion avoidance; RFC 6582 NewReno recovery exit and partial ACKs. */
function congestionOnAck(t: Tcb, now: Instant, acked: number, ack: number, flightBefore: number, alreadySacked: number): void {
  if (t.inRecovery) {
    if (seqGe(ack, t.recover)) {
      // RFC 6582 3.2 step 3, full ACK: deflate to ssthresh.
      t.inRecovery = false;
      t.dupAcks = 0;
      t.recoveryInflation = 0;
      t.sb.endRecovery();
      t.cc.onRecoveryEnd(now);
    } else if (t.sackOk) {
      // RFC 6675 5 (C): a partial ACK needs nothing special; NextSeg picks the holes.
    } else {
      // Partial ACK (RFC 6582 3.2 step 4): retransmit the next hole, deflate
      // by the amount acked, add back one MSS.
      t.retransmitDue = true;
      t.recoveryInflation += (acked >= t.mss ? t.mss : 0) - acked;
    }
    return;
  }
  // The window grows by what this ACK newly delivered (Linux tcp_cong_control
  // counts delivered segments): bytes the peer had already SACKed were
  // delivered earlier, on duplicate ACKs that did not grow it (RFC 5681 3.1
  // counts "previously unacknowledged" bytes; a SACKed byte is acknowledged).
  // Without SACK each duplicate ACK stands for one delivered segment, as
  // Linux's tcp_remove_reno_sacks counts them (at least one segment is new).
  const delivered = t.sackOk ? acked - alreadySacked : Math.max(acked - t.dupAcks * t.mss, Math.min(acked, t.mss));
  t.dupAcks = 0;
  if (delivered > 0) t.cc.onAck(now, delivered, t.rtt.srtt, flightBefore);
}

/** RFC 5681 3.2 fast retransmit on the third duplicate ACK; RFC 3042 limited transmit before it. */
function duplicateAck(t: Tcb, now: Instant): void {
  t.dupAcks++;
  if (t.inRecovery) {
    // RFC 6582 3.2 step 4: inflate by one MSS per further duplicate.
    t.recoveryInflation += t.mss;
    return;
  }
  // With RACK on, DupThresh no longer starts recovery: RACK's marks do (its
  // reordering window drops to 0 once DupThresh segments are SACKed).
  if (t.dupAcks === 3 && !(t.sackOk && t.config.rack)) enterRecovery(t, now);
}

/** RFC 5681 3.2 / RFC 6582 3.2 / RFC 6675 5: fast retransmit and enter fast recovery. */
export function enterRecovery(t: Tcb, now: Instant): void {
  // RFC 6582 3.2 step 2: only if this loss is past the previous recovery point.
  if (seqLt(t.sndUna, t.recover)) return;
  // RFC 5681 3.2 step 2/3: the controller sets ssthresh and cwnd; the three
  // duplicates that left the network inflate the window by 3 MSS (NewReno only).
  // RFC 6675 5 (4.1) / RFC 5681 eqn 4: ssthresh from FlightSize (SND.NXT - SND.UNA), not
  // pipe, which the SACKs that triggered recovery have already shrunk.
  t.cc.onCongestionEvent(now, t.flightSize());
  t.recoveryInflation = 3 * t.mss;
  t.recover = t.sndMax;
  t.inRecovery = true;
  // RACK (RFC 8985 6) retransmits what it marked lost, lowest first, which
  // need not be SND.UNA; RFC 5681 3.2 step 2 otherwise.
  t.retransmitDue = !(t.sackOk && t.config.rack && t.sb.rack !== undefined);
  t.rttSeq = undefined;
  if (t.sackOk) {
    t.sb.startRecovery(t.sndUna, t.sndMax);
    prrStart(t, t.flightSize());
  }
}

/**
 * The per-segment scratch records of input processing, one for every
 * connection in the process rather than one each (an idle connection holds
 * none: issue 9's memory target). Safe because a segment is processed to the
 * end before the next one starts, and nothing keeps them.
 */
const RX_OPTIONS = new TcpOptionsSummaryScratch();
const RACK_CONTEXT: { -readonly [K in keyof RackContext]: RackContext[K] } = {
  now: 0 as Instant,
  inRecovery: false,
  srtt: undefined,
  minRtt: undefined,
  dupThresh: 0,
  hz: 1000,
};

/** RFC 8985 6.2 step 5 inputs from the connection. */
export function rackContext(t: Tcb, now: Instant): RackContext {
  // One record for every connection, rewritten per ACK (issue 9): detectLoss keeps none of it.
  const c = RACK_CONTEXT;
  c.now = now;
  c.inRecovery = t.inRecovery;
  c.srtt = t.rtt.srtt;
  c.minRtt = t.rtt.minRtt;
  c.dupThresh = t.sb.dupThresh;
  c.hz = t.config.linuxHz;
  return c;
}

/** The ACK's TSecr when it can tell which copy of a retransmitted segment arrived (RFC 8985 6.2 step 2), else -1. */
function rackTsEcr(t: Tcb, opts: TcpOptionsSummary): number {
  const ts = opts.timestamps;
  return !t.tsOk || ts === undefined || ts.tsEcr === 0 ? -1 : ts.tsEcr;
}

/** Sixth (URG), seventh (text) and eighth (FIN) steps. */
function textAndFin(t: Tcb, now: Instant, seg: TcpRepr): void {
  // Sixth: URG (MUST-30, MUST-31). RFC 9293 3.8.5: the pointer points at the
  // last urgent octet + 1 (as implemented by everyone; RFC 6093).
  if (has(seg, TcpFlag.URG) && acceptsText(t.state)) {
    const up = seqAdd(seg.seq, seg.urgentPointer);
    if (!t.rcvUrgent || seqGt(up, t.rcvUp)) {
      t.rcvUp = up;
      t.rcvUrgent = true;
      // MUST-32: tell the application asynchronously.
      t.notify();
    }
    // Before the text is queued: Linux judges the pointer against RCV.NXT as it was.
    t.checkUrgentPointer(seg);
  }

  const fin = has(seg, TcpFlag.FIN);
  if (seg.payload.length > 0) {
    if (!acceptsText(t.state)) {
      // CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent FIN; ignore text.
    } else if (t.userClosed) {
      // RFC 9293 3.10.4 / Linux: data for a socket the user closed cannot be
      // delivered; reset so the peer knows (RFC 2525 2.17). Linux answers the
      // segment itself (tcp_rcv_state_process returns 1, tcp_v4_send_reset):
      // SEG.SEQ of the reset is the segment's ACK field (RFC 9293 3.10.7.1's
      // rule for resets generated in reply to a segment).
      queueReset(t, seg);
      t.enterClosed();
      return;
    } else {
      receiveText(t, now, seg);
    }
  }
  if (fin) {
    const finSeq = seqAdd(seg.seq, seg.payload.length);
    if (seqGe(finSeq, t.rcvNxt)) t.finRecvSeq = finSeq;
  }
  // Eighth: FIN, once everything before it has arrived.
  if (t.finRecvSeq !== undefined && t.finRecvSeq === t.rcvNxt && !t.finReceived) {
    t.finReceived = true;
    t.rcvNxt = seqAdd(t.rcvNxt, 1);
    t.ackNow = true;
    switch (t.state) {
      case TcpState.SYN_RECEIVED:
      case TcpState.ESTABLISHED:
        t.setState(TcpState.CLOSE_WAIT);
        break;
      case TcpState.FIN_WAIT_1:
        if (t.finQueued && seqGt(t.sndUna, t.finSeq)) t.enterTimeWait(now);
        else t.setState(TcpState.CLOSING);
        break;
      case TcpState.FIN_WAIT_2:
        t.enterTimeWait(now);
        break;
      default:
        break;
    }
    t.notify();
  }
}

/**
 * Seventh step: copy the in-window part of the text into the receive
 * buffer, in order or parked for the Assembler (RFC 9293 3.10.7.4 "segments
 * with higher beginning sequence numbers may be held").
 */
function receiveText(t: Tcb, now: Instant, seg: TcpRepr): void {
  let data = seg.payload;
  let offset = seqSub(seg.seq, t.rcvNxt);
  if (offset < 0) {
    data = data.subarray(-offset);
    offset = 0;
  }
  const room = t.rcvSpace() - offset;
  if (room <= 0) {
    t.ackNow = true;
    return;
  }
  if (data.length > room) data = data.subarray(0, room);
  if (data.length === 0) {
    t.ackNow = true;
    return;
  }
  const hadHoles = !t.assembler.isEmpty;
  let n: number;
  if (offset === 0 && !hadHoles) {
    // The common case, in order with nothing parked: straight into the
    // buffer. The Assembler would record the range and hand it straight
    // back (and, released on drain, allocate its table again each time).
    t.rcvBuf.writeAt(0, data);
    n = data.length;
  } else {
    if (!t.assembler.add(offset, data.length)) {
      // Too many islands: drop, the peer will retransmit.
      t.ackNow = true;
      return;
    }
    t.rcvBuf.writeAt(offset, data);
    n = t.assembler.removeFront();
  }
  if (n > 0) {
    t.rcvBuf.commit(n);
    t.rcvNxt = seqAdd(t.rcvNxt, n);
    t.notify();
  }
  // Urgent data that has been read past no longer counts.
  if (offset > 0 || hadHoles) {
    // RFC 5681 4.2: out-of-order segments and segments that fill a hole are
    // ACKed at once (the SACK information goes with it), one ACK each, even
    // when the stack hands us a burst before polling: the sender counts
    // these duplicates for fast retransmit (RFC 5681 3.2).
    if (offset > 0) queueAck(t);
    else t.ackNow = true;
    return;
  }
  t.lastDataAt = now;
  scheduleAck(t, now, data.length);
  if (!t.ackNow && has(seg, TcpFlag.PSH)) {
    if (t.pushedWhileDelayed) t.pushedTwice = true;
    t.pushedWhileDelayed = true;
  }
}

/** Delayed ACK (RFC 9293 3.8.6.3, RFC 1122 4.2.3.2, MUST-40) with Linux-style quick ACKs at the start. */
function scheduleAck(t: Tcb, now: Instant, bytes: number): void {
  if (!t.config.delayedAck) {
    t.ackNow = true;
    return;
  }
  // Linux tcp_in_quickack_mode: quick ACKs are suspended while interactive.
  if (t.quickAcksLeft > 0 && !t.inPingpong) {
    t.quickAcksLeft--;
    t.ackNow = true;
    return;
  }
  // "Full-sized" as Linux's rcv_mss: the largest segment seen (options eat into the MSS).
  if (bytes > t.rcvMssEst) t.rcvMssEst = Math.min(bytes, t.ourMss);
  if (bytes >= t.rcvMssEst) t.unackedSegments++;
  else t.unackedSegments += 0.5;
  // SHLD-19: an ACK for at least every second full-sized segment.
  if (t.unackedSegments >= 2) {
    t.ackNow = true;
    return;
  }
  // Linux keeps ato in jiffies (tcp_send_delayed_ack): whole ticks.
  if (t.delackAt === NOT_ARMED) t.delackAt = instantAdd(now, roundUpToJiffies(t.config.delayedAckTimeout, t.config.linuxHz));
}
