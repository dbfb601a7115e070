/**
 * The send side's timers (RFC 6298 retransmission, RFC 8985 reorder, persist,
 * delayed ACK, keepalive, TIME-WAIT, FIN-WAIT-2): firing the ones due, and
 * whether any is (timerDue). Choosing the segment to send is output.ts.
 */
import { TcpFlag } from '../wire/tcp.js';
import { durationMin, durationMul } from '../time/duration.js';
import type { Duration } from '../time/duration.js';
import { instantAdd, instantDiff } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { seqAdd, seqLt, seqSub } from './seq.js';
import { NOT_ARMED } from './tcb.js';
import type { Tcb } from './tcb.js';
import { TcpState } from './state.js';
import { prrOnAck } from './prr.js';
import type { RackState } from './rack.js';
import { enterRecovery, rackContext } from './ack-processing.js';
import { lossProbeReset, lossProbeTimeout, sendsData } from './tlp.js';

/** Re-reads the state after a call that may have closed the connection (defeats TS narrowing). */
function closed(t: Tcb): boolean {
  return t.state === TcpState.CLOSED;
}

/** Fires every timer whose instant has come. */
export function runTimers(t: Tcb, now: Instant): void {
  t.lastNow = now;
  if (t.state === TcpState.CLOSED) return;
  if (t.timeWaitAt <= now) {
    // MUST-13: 2 MSL have passed.
    t.enterClosed();
    return;
  }
  if (t.finWait2At <= now) {
    t.enterClosed();
    return;
  }
  const rack = t.sb.rack;
  if (rack !== undefined && rack.timerAt >= 0 && rack.timerAt <= now) reorderTimeout(t, now, rack);
  if (t.tlpAt <= now) lossProbeTimeout(t, now);
  if (t.rtoAt <= now) {
    retransmitTimeout(t, now);
    if (closed(t)) return;
  }
  if (t.persistAt <= now) persistTimeout(t, now);
  if (t.delackAt <= now) {
    t.delackAt = NOT_ARMED;
    t.ackNow = true;
    // Linux tcp_delack_timer_handler: no reply came to carry the ACK, so the
    // connection is not interactive after all: leave pingpong mode.
    t.pingpong = 0;
    // No reply came: the connection is quiet, its empty stores go back (Linux
    // tcp_delack_timer_handler's sk_mem_reclaim_partial; see reclaimStores).
    t.reclaimStores();
  }
  const ka = keepaliveDeadline(t);
  if (ka <= now) keepaliveTimeout(t, now);
}

/**
 * RFC 8985 6.3 RACK_detect_loss_and_arm_timer, from the reorder timer: mark
 * what is now overdue; if that is news, enter recovery (Linux
 * tcp_rack_reo_timeout, which also lets PRR send one segment).
 */
function reorderTimeout(t: Tcb, now: Instant, rack: RackState): void {
  rack.timerAt = -1;
  if (!t.sackOk || !t.config.rack || !sendsData(t.state) || !seqLt(t.sndUna, t.sndMax)) return;
  const marked = rack.detectLoss(rackContext(t, now));
  if (marked === 0) return;
  if (!t.inRecovery) {
    enterRecovery(t, now);
    if (t.inRecovery) prrOnAck(t, t.mss, rack.pipe(t.sb, t.sndUna), false, marked);
  }
  // The PTO is replaced by what recovery sends; the RTO stays armed.
  t.tlpAt = NOT_ARMED;
}

/** RFC 6298 5.4-5.6, MUST-19/20/22: back off, go back to SND.UNA, give up after R2. */
function retransmitTimeout(t: Tcb, now: Instant): void {
  const limit =
    t.state === TcpState.SYN_SENT
      ? t.config.synRetries
      : t.state === TcpState.SYN_RECEIVED
        ? t.config.synAckRetries
        : t.config.retries2;
  const userTimedOut =
    t.opts.userTimeout > 0 && t.unackedSince !== NOT_ARMED && instantDiff(now, t.unackedSince) >= t.opts.userTimeout;
  if (t.retries >= limit || userTimedOut) {
    // A passive open that never completed is dropped silently (its user never saw it).
    t.enterClosed(t.state === TcpState.SYN_RECEIVED && t.passive ? undefined : 'ETIMEDOUT');
    return;
  }
  // MUST-34/37: a peer that shrank its window to zero under data in flight
  // is alive if it answered since the last timeout: probe it instead of
  // counting towards R2, so a zero window may last indefinitely.
  const zeroWindow = t.sndWnd === 0 && sendsData(t.state);
  if (!(zeroWindow && t.lastReceivedAt > t.lastTimeoutAt)) t.retries++;
  t.lastTimeoutAt = now;
  if (zeroWindow) t.probeDue = true;
  // RFC 6298 5.5: double the RTO, up to the maximum.
  t.rtt.backoff();
  // MUST-18 Karn: nothing sent before this point may be timed.
  t.rttSeq = undefined;
  if (t.state === TcpState.SYN_SENT || t.state === TcpState.SYN_RECEIVED) {
    t.synDue = true;
    t.synRetransmitted = true;
  } else {
    // RFC 5681 3.1 (4): ssthresh = max(FlightSize / 2, 2 SMSS); loss window 1 SMSS.
    t.cc.onRetransmitTimeout(now, t.flightSize());
    t.inRecovery = false;
    t.recoveryInflation = 0;
    t.dupAcks = 0;
    // RFC 6582 4: no fast retransmit for duplicates of what was sent before the timeout.
    t.recover = t.sndMax;
    // RFC 2018 8: after a timeout the SACK information is not trusted.
    t.sb.endRecovery();
    t.sb.clear();
    // RFC 8985 6 leaves the RTO to RFC 6298: everything outstanding is lost (Linux tcp_enter_loss).
    t.sb.rack?.onRetransmitTimeout();
    t.sndNxt = t.sndUna;
    t.retransmitDue = false;
    lossProbeReset(t);
  }
  t.armRto(now);
}

/** RFC 9293 3.8.6.1 (MUST-35/36/37): probe a zero window, backing off like the RTO, forever. */
function persistTimeout(t: Tcb, now: Instant): void {
  t.persistAt = NOT_ARMED;
  if (!sendsData(t.state)) return;
  if (t.sndWnd === 0 || seqSub(seqAdd(t.sndUna, t.sndWnd), t.sndNxt) <= 0) t.probeDue = true;
  else {
    t.forceSend = true; // RFC 9293 3.8.6.2.1: the SWS override timeout.
    t.timerFlush = true;
  }
  t.persistBackoff++;
  t.persistAt = instantAdd(now, persistInterval(t));
}

export function persistInterval(t: Tcb): Duration {
  return durationMin(durationMul(t.rto, 2 ** Math.min(t.persistBackoff, 16)), t.config.rtoMax);
}

/** When the next keepalive action is due, or NOT_ARMED (MUST-24..29). */
export function keepaliveDeadline(t: Tcb): Instant {
  if (!t.opts.keepAlive) return NOT_ARMED;
  if (t.state !== TcpState.ESTABLISHED && t.state !== TcpState.CLOSE_WAIT && t.state !== TcpState.FIN_WAIT_2) {
    return NOT_ARMED;
  }
  // MUST-26: only when the connection is idle: nothing outstanding, nothing queued.
  if (t.sndUna !== t.sndMax || !t.sndBuf.isEmpty) return NOT_ARMED;
  if (t.keepaliveProbes === 0) return instantAdd(t.lastReceivedAt, t.opts.keepIdle);
  return instantAdd(t.keepaliveAt, t.opts.keepInterval);
}

function keepaliveTimeout(t: Tcb, now: Instant): void {
  if (t.keepaliveProbes >= t.opts.keepCount) {
    // Linux sends a reset when it gives up on a dead peer.
    t.rstDue = t.header(now, t.sndMax, TcpFlag.RST | TcpFlag.ACK);
    t.enterClosed('ETIMEDOUT');
    return;
  }
  // MUST-29: probes repeat, so one lost ACK does not kill the connection.
  t.keepaliveProbes++;
  t.keepaliveAt = now;
  t.probeDue = true;
}

/** Has any timer's instant come (what runTimers would act on)? */
export function timerDue(t: Tcb, now: Instant): boolean {
  if (t.rtoAt <= now || t.tlpAt <= now || t.delackAt <= now || t.persistAt <= now || t.timeWaitAt <= now || t.finWait2At <= now) {
    return true;
  }
  const rack = t.sb.rack;
  if (rack !== undefined && rack.timerAt >= 0 && rack.timerAt <= now) return true;
  return t.opts.keepAlive && keepaliveDeadline(t) <= now;
}