/**
 * The fifth step of SEGMENT ARRIVES (RFC 9293 3.10.7.4) for an acceptable
 * ACK: SND.UNA, the send window, RTT samples, congestion control and the
 * ACK-driven half of loss recovery (RFC 5681, RFC 6582, RFC 3042, RFC 6675
 * SACK recovery, RFC 6937 PRR, RFC 8985 RACK and tail loss probes).
 *
 * Separate from input.ts, which checks a segment's acceptability and walks
 * the other steps: this is the sender's side of what an arriving segment
 * means, and output.ts enters recovery through it too (RACK's timer). Like
 * input.ts it emits nothing, only updates the TCB and sets flags
 * (retransmitDue) that output.ts turns into segments.
 */
import { TcpFlag, hasFlag, tcpPayloadLength } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { TcpOptionsSummary } from '../wire/tcp-options-summary.js';
import type { TcpTimestamps } from '../wire/tcp-options.js';
import { Duration } from '../time/duration.js';
import { instantDiff } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { seqAdd, seqGe, seqGt, seqLe, seqLt, seqMax, seqSub } from './seq.js';
import { NOT_ARMED } from './tcb.js';
import type { Tcb } from './tcb.js';
import { armLossProbe, lossProbeAck } from './tlp.js';
import { prrOnAck, prrStart } from './prr.js';
import type { RackContext } from './rack.js';

/**
 * SEG.WND scaled by the peer's shift (RFC 7323 2.3). A shift: not `2 **`,
 * which V8 runs as a float pow call on every ACK (issue 9 profile); exact,
 * since negotiate caps the shift at 14 (RFC 7323 2.3) and 0xffff << 14 < 2^31.
 */
export function sendWindowOf(t: Tcb, seg: TcpRepr): number {
  return seg.window << t.sndWscale;
}

/**
 * Fifth step for states past SYN-RECEIVED: SND.UNA, the send window, RTT,
 * congestion control and duplicate-ACK counting.
 */
export function processAck(t: Tcb, now: Instant, seg: TcpRepr, opts: TcpOptionsSummary): void {
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
  if (t.sackOk && opts.sackBlocks.length === 0 && t.sb.rangeCount === 0 && t.sb.highRxt === undefined) {
    // RFC 6675 Update() with no SACK block and an empty scoreboard (no
    // range to trim, no HighRxt to move) changes nothing and delivers SND.UNA's
    // advance: no call, no result record per ACK (issue 9; Linux's
    // tcp_sacktag_write_queue runs only when the ACK carries SACK blocks).
    delivered = Math.max(0, seqSub(seqMax(t.sndUna, ack), t.sndUna));
  } else if (t.sackOk) {
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
      tcpPayloadLength(seg) === 0 &&
      !hasFlag(seg, TcpFlag.FIN) &&
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
export function newAck(t: Tcb, now: Instant, seg: TcpRepr, opts: TcpOptionsSummary, alreadySacked = 0): void {
  newAckTs(t, now, seg.ack, opts.timestamps, alreadySacked);
}

/**
 * newAck with SEG.ACK and the segment's timestamps (undefined: none)
 * given directly: header prediction (header-prediction.ts) reads
 * them off the segment without an options summary.
 */
export function newAckTs(t: Tcb, now: Instant, ack: number, ts: TcpTimestamps | undefined, alreadySacked = 0): void {
  const acked = seqSub(ack, t.sndUna);
  const flightBefore = t.flightSize();
  // SYN first, then buffered data, then FIN.
  const dataStart = seqMax(t.sndUna, t.sndBufSeq);
  const dataAcked = Math.max(0, Math.min(seqSub(ack, dataStart), t.sndBuf.length - seqSub(dataStart, t.sndBufSeq)));
  if (dataAcked > 0) {
    t.sndBuf.consume(seqSub(seqAdd(dataStart, dataAcked), t.sndBufSeq));
    t.sndBufSeq = seqAdd(dataStart, dataAcked);
    // Told at the end of the segment (segmentArrives), with its data if any.
    t.notifyDue = true;
  }
  t.sndUna = ack;
  if (seqLt(t.sndNxt, ack)) t.sndNxt = ack;
  // MSG_MORE held its tail back for this write only: output driven by an ACK may send it (Linux tcp_data_snd_check).
  t.moreHold = false;

  // RTT (RFC 6298 3 / RFC 7323 4.1): timestamps give a sample per ACK; else
  // the one timed segment, and never from a retransmission (Karn, MUST-18).
  if (t.tsOk && ts !== undefined && ts.tsEcr !== 0) {
    const ms = seqSub(t.tsNow(now), ts.tsEcr);
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
 * RACK's context record, one for every connection in the process rather than
 * one each (an idle connection holds none: issue 9's memory target). Safe
 * because an ACK is processed to the end before the next one starts, and
 * nothing keeps it.
 */
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
