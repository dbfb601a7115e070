/**
 * SEGMENT ARRIVES (RFC 9293 3.10.7) for one connection: SYN-SENT (3.10.7.3)
 * and every synchronized state (3.10.7.4), with RFC 5961 hardening, RFC 7323
 * timestamps/PAWS and window scaling, and the URG, text and FIN steps. What
 * an acceptable ACK does (SND.UNA, RTT, congestion control, the ACK-driven
 * half of loss recovery) is ack-processing.ts.
 *
 * Nothing here emits: it updates the TCB and sets flags (ackNow, rstDue,
 * retransmitDue) that output.ts turns into segments.
 */
import { TcpFlag, hasFlag, tcpPayloadLength } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import { summarizeTcpOptions, summarizeTcpOptionsInto, TcpOptionsSummaryScratch } from '../wire/tcp-options-summary.js';
import type { TcpOptionsSummary } from '../wire/tcp-options-summary.js';
import { Duration, durationMul } from '../time/duration.js';
import { instantAdd, instantDiff } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { seqAdd, seqGe, seqGt, seqInWindow, seqLe, seqLt } from './seq.js';
import { DEFAULT_SEND_MSS, NOT_ARMED } from './tcb.js';
import type { Tcb } from './tcb.js';
import { TcpState, acceptsText } from './state.js';
import { queueAck, receiveText } from './receive-text.js';
import { fastPathArrives } from './header-prediction.js';
import { newAck, processAck, sendWindowOf } from './ack-processing.js';
import { checkUrgentPointer } from './urgent.js';
import { TimeWaitAct, timeWaitDecide } from './time-wait-rules.js';

/** RFC 7323 5.5: a tsRecent older than 24 days is no longer trusted for PAWS. */
const PAWS_IDLE = Duration.fromSecs(24 * 24 * 3600);

/** Linux tcp_fin_timeout: how long an orphaned connection may sit in FIN-WAIT-2. */
const FIN_WAIT_2_TIMEOUT = Duration.fromSecs(60);

/** Returns true when the segment took the header-prediction fast path (header-prediction.ts; counted as tcp.fast-path). */
export function segmentArrives(t: Tcb, now: Instant, seg: TcpRepr): boolean {
  t.lastNow = now;
  // Whatever this segment lets us send is a new burst for PSH placement
  // (output.ts): Linux pushes per tcp_write_xmit / tcp_xmit_retransmit_queue
  // call, i.e. per ACK, even when several ACKs arrive in the same instant.
  t.burstAt = NOT_ARMED;
  if (fastPathArrives(t, now, seg)) {
    if (t.notifyDue) t.notify();
    return true;
  }
  switch (t.state) {
    case TcpState.CLOSED:
    case TcpState.LISTEN:
      // CLOSED and LISTEN are the stack's and the listener's business (3.10.7.1, 3.10.7.2).
      return false;
    case TcpState.SYN_SENT:
      synSent(t, now, seg);
      break;
    case TcpState.TIME_WAIT:
      timeWait(t, now, seg);
      break;
    default:
      otherStates(t, now, seg);
  }
  // Send space freed by this segment's ACK (newAck), if no other notify()
  // of the segment said so: Linux tcp_check_space after tcp_ack (issue 9).
  if (t.notifyDue) t.notify();
  return false;
}

/** RFC 9293 3.10.7.1 shape: a RST answering an unacceptable segment. */
function queueReset(t: Tcb, seg: TcpRepr): void {
  if (hasFlag(seg, TcpFlag.RST)) return;
  t.rstDue = hasFlag(seg, TcpFlag.ACK)
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
  return tcpPayloadLength(seg) + (hasFlag(seg, TcpFlag.SYN) ? 1 : 0) + (hasFlag(seg, TcpFlag.FIN) ? 1 : 0);
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
  if (hasFlag(seg, TcpFlag.ACK)) {
    // "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set)".
    if (seqLe(seg.ack, t.iss) || seqGt(seg.ack, t.sndMax)) {
      queueReset(t, seg);
      return;
    }
    ackAcceptable = seqLe(t.sndUna, seg.ack) && seqLe(seg.ack, t.sndMax);
  }
  if (hasFlag(seg, TcpFlag.RST)) {
    // RFC 5961 3.2 / RFC 9293: a RST in SYN-SENT counts only if it ACKs our SYN.
    if (ackAcceptable) {
      t.rstDue = undefined;
      t.enterClosed('ECONNREFUSED');
    }
    return;
  }
  if (!hasFlag(seg, TcpFlag.SYN)) return;
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
    if (tcpPayloadLength(seg) > 0 || hasFlag(seg, TcpFlag.FIN)) {
      // Field by field, not a spread: a record parsed in place (TcpReprScratch)
      // has payload and options as accessors, which a spread leaves out.
      textAndFin(t, now, {
        srcPort: seg.srcPort,
        dstPort: seg.dstPort,
        seq: seqAdd(seg.seq, 1),
        ack: seg.ack,
        flags: seg.flags & ~TcpFlag.SYN,
        window: seg.window,
        urgentPointer: seg.urgentPointer,
        options: seg.options,
        payload: seg.payload,
      });
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

/** RFC 9293 3.10.7.4: every state from SYN-RECEIVED on. */
function otherStates(t: Tcb, now: Instant, seg: TcpRepr): void {
  // Reused per segment (issue 9): nothing below keeps `opts`, only values from it.
  const opts = summarizeTcpOptionsInto(seg.options, RX_OPTIONS);
  const rst = hasFlag(seg, TcpFlag.RST);

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
  // "If the RCV.WND is zero, no segments will be acceptable": of one at
  // RCV.NXT with text, only ACK and URG are processed, the text (and a FIN
  // riding on it) is dropped and an ACK goes back (Linux tcp_data_queue:
  // tcp_receive_window() == 0, LINUX_MIB_TCPZEROWINDOWDROP). A FIN alone is
  // still taken, as Linux does.
  const zeroWindowText = wnd === 0 && tcpPayloadLength(seg) > 0;
  if (!acceptable) {
    // "If an incoming segment is not acceptable, an acknowledgment should be sent in reply (unless the RST bit is set)".
    if (!rst) queueAck(t);
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
  if (hasFlag(seg, TcpFlag.SYN)) {
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
  if (hasFlag(seg, TcpFlag.ACK) && t.state !== TcpState.SYN_RECEIVED && seqGt(seg.ack, t.sndMax)) {
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
  if (!hasFlag(seg, TcpFlag.ACK)) return;
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
    default:
      break;
  }

  if (zeroWindowText) {
    urgent(t, seg);
    t.ackNow = true;
    return;
  }
  textAndFin(t, now, seg);
}

/**
 * TIME-WAIT of a TCB the stack has not yet handed to a compact record
 * (time-wait-state.ts fillTimeWait: something besides 2 MSL still pending):
 * the same decision as the record's (time-wait-rules.ts, Linux tcp_timewait_state_process).
 * A new incarnation's SYN is the stack's when a listener takes it
 * (TcpConnection.acceptsNewSyn).
 */
function timeWait(t: Tcb, now: Instant, seg: TcpRepr): void {
  const v = timeWaitDecide(t, now, seg);
  if ((v & TimeWaitAct.Close) !== 0) {
    t.enterClosed();
    return;
  }
  if ((v & TimeWaitAct.Restart) !== 0) t.timeWaitAt = instantAdd(now, durationMul(t.config.msl, 2));
  // NewSyn here: no listener took it, and Linux tcp_v4_rcv then sends TIME-WAIT's ACK.
  if ((v & (TimeWaitAct.Ack | TimeWaitAct.NewSyn)) !== 0) t.ackNow = true;
}

/**
 * The per-segment scratch record of input processing, one for every
 * connection in the process rather than one each (an idle connection holds
 * none: issue 9's memory target). Safe because a segment is processed to the
 * end before the next one starts, and nothing keeps it.
 */
const RX_OPTIONS = new TcpOptionsSummaryScratch();

/** Sixth (URG), seventh (text) and eighth (FIN) steps. */
function textAndFin(t: Tcb, now: Instant, seg: TcpRepr): void {
  urgent(t, seg);
  textAndFinAfterUrgent(t, now, seg);
}

/** Sixth step: URG (MUST-30, MUST-31). */
function urgent(t: Tcb, seg: TcpRepr): void {
  // RFC 9293 3.8.5: the pointer points at the last urgent octet + 1 (as
  // implemented by everyone; RFC 6093).
  if (hasFlag(seg, TcpFlag.URG) && acceptsText(t.state)) {
    const up = seqAdd(seg.seq, seg.urgentPointer);
    if (!t.rcvUrgent || seqGt(up, t.rcvUp)) {
      t.rcvUp = up;
      t.rcvUrgent = true;
      // MUST-32: tell the application asynchronously.
      t.notify();
    }
    // Before the text is queued: Linux judges the pointer against RCV.NXT as it was.
    checkUrgentPointer(t, seg);
  }
}

/** Seventh (text) and eighth (FIN) steps. */
function textAndFinAfterUrgent(t: Tcb, now: Instant, seg: TcpRepr): void {
  const fin = hasFlag(seg, TcpFlag.FIN);
  const textLen = tcpPayloadLength(seg);
  if (textLen > 0) {
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
    const finSeq = seqAdd(seg.seq, textLen);
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
