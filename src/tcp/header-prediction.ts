/**
 * Header prediction (Van Jacobson's, Linux tcp_rcv_established's fast path):
 * on an ESTABLISHED connection most segments are the next in-order one,
 * carrying the ACK of what we sent and perhaps data, and nothing else. Such
 * a segment passes every step of RFC 9293 3.10.7.4 without taking any of its
 * exits, so it is processed here with only the work that changes the TCB:
 * TS.Recent, the ACK (send queue, RTT, congestion control, RACK/TLP state),
 * the window bookkeeping, the text and the ACK decision. The step-by-step
 * walk (input.ts otherStates) stays the reference: anything this file cannot
 * prove the walk would treat the same way goes there, and the result must be
 * the same TCB either way (header-prediction.test.ts runs both).
 *
 * RFC 9293 3.10.7.4 allows it: the steps are a description of the outcome,
 * not an order of work.
 */
import { TcpFlag, TcpReprScratch, tcpPayloadLength } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { TcpTimestamps } from '../wire/tcp-options.js';
import type { Instant } from '../time/instant.js';
import { seqAdd, seqLe, seqLt, seqSub } from './seq.js';
import { NOT_ARMED } from './tcb.js';
import type { Tcb } from './tcb.js';
import { TcpState } from './state.js';
import { enterRecovery, newAckTs, rackContext, sendWindowOf } from './ack-processing.js';
import { prrOnAck } from './prr.js';
import { receiveInOrder } from './receive-text.js';

/** Test switch: off, every segment takes the step-by-step walk (header-prediction.test.ts compares the two). */
export const headerPrediction = { enabled: true };

/**
 * Processes `seg` on the fast path if it is predicted; false, and nothing
 * changed, when it must take the step-by-step walk.
 */
export function fastPathArrives(t: Tcb, now: Instant, seg: TcpRepr): boolean {
  // Exactly ACK, PSH allowed: no SYN, FIN, RST, URG, ECE, CWR.
  if ((seg.flags & ~TcpFlag.PSH) !== TcpFlag.ACK || t.state !== TcpState.ESTABLISHED || !headerPrediction.enabled) return false;
  // The next in-order segment: acceptable whatever the window (3.10.7.4
  // Table 6 and its zero-window allowance), and nothing to reassemble.
  if (seg.seq !== t.rcvNxt || !t.assembler.isEmpty || t.finRecvSeq !== undefined) return false;
  // Options exactly NOP, NOP, timestamps with timestamps on (Linux compares
  // that aligned word at once), none with them off; and RFC 7323 5.3 PAWS
  // passes outright (an older TSval goes to the walk, which may still take
  // it when TS.Recent has gone stale).
  let ts: TcpTimestamps | undefined;
  if (seg instanceof TcpReprScratch) {
    // Parsed in place: the parser already knows (TcpOptionsScratch.aligned).
    const sc = seg.scratch;
    if (t.tsOk) {
      if (!sc.aligned) return false;
      ts = sc.timestamps;
    } else if (sc.list.length !== 0) return false;
  } else {
    const o = seg.options;
    if (t.tsOk) {
      if (o.length !== 3) return false;
      const x = o[2]!;
      if (o[0]!.kind !== 'nop' || o[1]!.kind !== 'nop' || x.kind !== 'timestamps') return false;
      ts = x;
    } else if (o.length !== 0) return false;
  }
  if (ts !== undefined && seqLt(ts.tsVal, t.tsRecent)) return false;
  // A window update is taken here too, unlike Linux's pred_flags (issue 9:
  // a receiver that keeps its right edge while RCV.NXT creeps on, SWS
  // avoidance, advertises one scaled unit less every 128 one-byte segments,
  // and those took the walk, about 11 times the work, on 0.9% of tcp-rr's
  // segments): the walk reads SND.WND before its window step only for the
  // duplicate-ACK test, which is made below as the walk makes it, and its
  // window step is fastAck's, last in both.
  // SND.UNA =< SEG.ACK =< SND.MAX, and within RFC 5961 5.2's bound below SND.UNA.
  const ack = seg.ack;
  if (seqLt(ack, t.sndUna) || seqLt(t.sndMax, ack) || seqLt(ack, seqAdd(t.sndUna, -Math.max(t.maxSndWnd, 1)))) return false;
  // Nothing of loss recovery in play: no SACK state, not in recovery, no
  // probe out, no go-back-N after an RTO (Linux leaves the fast path for
  // tcp_ack's slow path on SACK blocks and outside the Open CA state).
  const sb = t.sb;
  if (t.inRecovery || t.tlpActive || t.sndNxt !== t.sndMax || sb.rangeCount !== 0 || sb.highRxt !== undefined) return false;
  const len = tcpPayloadLength(seg);
  // A duplicate ACK (RFC 5681 2) counts towards fast retransmit: the walk's.
  // One that changes the window is none (RFC 5681 2 (e)): a window update
  // while data is in flight, as a reader that drains the buffer sends, to
  // which the walk does only fastAck's work (issue 9: 649 of a 64 MiB bulk
  // sender's 2383 ACKs took the walk).
  if (ack === t.sndUna && len === 0 && seqLt(t.sndUna, t.sndMax) && sendWindowOf(t, seg) === t.sndWnd) return false;
  // Text the walk would trim to the buffer, drop (a zero window advertised),
  // or answer with a reset (closed socket). Linux's fast path is off while
  // rcv_wnd is zero (tcp_fast_path_check).
  if (len > 0 && (len > t.rcvSpace() || t.rcvWnd() === 0 || t.userClosed)) return false;

  // Predicted: the walk's work, in its order.
  t.lastReceivedAt = now;
  t.keepaliveProbes = 0;
  // RFC 7323 4.3, as the walk (Linux tcp_replace_ts_recent).
  if (ts !== undefined && seqLe(seg.seq, t.lastAckSent)) {
    t.tsRecent = ts.tsVal;
    t.tsRecentAt = now;
  }
  fastAck(t, now, seg, ts);
  if (len > 0) receiveInOrder(t, now, seg, 0, len);
  return true;
}

/**
 * processAck (ack-processing.ts) for a predicted segment: no SACK blocks,
 * an empty scoreboard, not in recovery, no loss probe out and no duplicate
 * ACK, so only what those leave of it runs.
 */
function fastAck(t: Tcb, now: Instant, seg: TcpRepr, ts: TcpTimestamps | undefined): void {
  const ack = seg.ack;
  const prevUna = t.sndUna;
  const rack = t.sackOk && t.config.rack ? t.sb.rack : undefined;
  // RFC 8985 6.2 steps 1-3; nothing newly SACKed.
  if (rack !== undefined) rack.onAck(t.sb, ack, now, t.rtt.minRtt, ts === undefined || ts.tsEcr === 0 ? -1 : ts.tsEcr, t, false);
  if (seqLt(prevUna, ack)) newAckTs(t, now, ack, ts);
  let newlyLost = 0;
  if (rack !== undefined) {
    // RFC 8985 6.2 steps 4-5: no D-SACK, no recovery that ended.
    rack.updateReoWnd(t.sndUna, t.sndMax, false, false);
    if (rack.advanced) {
      newlyLost = rack.detectLoss(rackContext(t, now));
      if (rack.timerAt >= 0) t.tlpAt = NOT_ARMED;
    }
    if (rack.lostUnsent > 0 && seqLt(t.sndUna, t.sndMax)) enterRecovery(t, now);
  } else if (t.sackOk && seqLt(t.sndUna, t.sndMax) && t.sb.isLost(t.sndUna)) enterRecovery(t, now);
  if (t.inRecovery) {
    // Only this ACK can have started it (it needs SACK): PRR's first ACK,
    // DeliveredData being SND.UNA's advance (RFC 6937).
    const delivered = seqSub(t.sndUna, prevUna);
    if (rack !== undefined) prrOnAck(t, delivered, rack.pipe(t.sb, t.sndUna), seqLt(prevUna, t.sndUna), newlyLost);
    else prrOnAck(t, delivered, t.sb.pipe(t.sndUna, t.sndMax));
  }
  // 3.10.7.4's window update: SND.WND, WL1, WL2 and the persist timer.
  if (seqLt(t.sndWl1, seg.seq) || (t.sndWl1 === seg.seq && seqLe(t.sndWl2, ack))) {
    const wnd = sendWindowOf(t, seg);
    t.sndWnd = wnd;
    if (t.maxSndWnd < wnd) t.maxSndWnd = wnd;
    t.sndWl1 = seg.seq;
    t.sndWl2 = ack;
    if (wnd > 0) {
      t.persistAt = NOT_ARMED;
      t.persistBackoff = 0;
    }
  }
}
