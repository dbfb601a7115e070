/**
 * Tail Loss Probe (RFC 8985 section 7), with Linux's timer arithmetic
 * (tcp_schedule_loss_probe, tcp_send_loss_probe, tcp_process_tlp_ack).
 *
 * A tail loss (the last segments of a flight, or all of them) produces no
 * duplicate ACKs, so without a probe only the RTO (at least 200 ms) repairs
 * it. After sending new data, or on an ACK that advances SND.UNA, the sender
 * arms a probe timeout (PTO) of about two round trips; when it fires it
 * sends one segment (new data if the window allows, else the last segment
 * again) whose ACK either repairs the loss or triggers SACK recovery.
 *
 * Only with SACK (RFC 8985 7.1 relies on it to detect losses from the
 * probe's ACK; Linux likewise requires it), outside recovery and RTO backoff.
 */
import type { SackBlock } from '../wire/tcp-options.js';
import { Duration } from '../time/duration.js';
import { instantAdd, instantDiff } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { seqAdd, seqGe, seqLe, seqLt, seqSub } from './seq.js';
import { jiffiesToUsecs, TCP_TIMEOUT_MIN_JIFFIES, usecsToJiffies } from './jiffies.js';
import { NOT_ARMED } from './tcb.js';
import type { Tcb } from './tcb.js';
import { TcpState } from './state.js';

/** RFC 8985 7.2 WCDelAckT, the worst-case delayed ACK timer (Linux adds TCP_RTO_MIN, 200 ms). */
export const TLP_WORST_CASE_DELACK = Duration.fromMillis(200);

/**
 * States that send data and FIN (RFC 9293 3.10.2, 3.10.4): the ones whose
 * data (or FIN) a probe may repair. Shared with output.ts.
 */
export function sendsData(s: TcpState): boolean {
  return (
    s === TcpState.ESTABLISHED ||
    s === TcpState.CLOSE_WAIT ||
    s === TcpState.FIN_WAIT_1 ||
    s === TcpState.CLOSING ||
    s === TcpState.LAST_ACK
  );
}

/** RFC 8985 7.2: may a probe be scheduled now? */
function canSchedule(t: Tcb): boolean {
  return (
    t.config.lossProbe &&
    t.sackOk &&
    sendsData(t.state) &&
    !t.inRecovery &&
    // After an RTO the connection is in loss recovery (Linux TCP_CA_Loss): no probes.
    t.retries === 0 &&
    // One probe at a time: the episode ends with the ACK of TLP.end_seq.
    !t.tlpActive &&
    seqLt(t.sndUna, t.sndMax)
  );
}

/**
 * RFC 8985 7.2: (re)arms the PTO after new data was sent or SND.UNA
 * advanced. Disarms it when no probe may be scheduled.
 */
export function armLossProbe(t: Tcb, now: Instant): void {
  if (!canSchedule(t)) {
    t.tlpAt = NOT_ARMED;
    return;
  }
  const untilRto = t.rtoAt !== NOT_ARMED ? instantDiff(t.rtoAt, now) : Duration.ZERO;
  const oneSegment = seqSub(t.sndMax, t.sndUna) <= t.mss;
  t.tlpAt = instantAdd(now, lossProbeTimeoutFor(t.rtt.srtt, oneSegment, untilRto, t.config.linuxHz));
}

/**
 * The PTO as Linux computes it (tcp_schedule_loss_probe), in whole ticks at
 * `hz`: usecs_to_jiffies(2*SRTT), plus WCDelAckT (TCP_RTO_MIN) when one
 * segment is in flight (its ACK may be delayed), else TCP_TIMEOUT_MIN
 * (2 jiffies); 1 s (TCP_TIMEOUT_INIT) without an RTT sample; never later
 * than usecs_to_jiffies of the time left until the RTO (`untilRto`, if > 0).
 */
export function lossProbeTimeoutFor(srtt: Duration | undefined, oneSegment: boolean, untilRto: Duration, hz: number): Duration {
  // A pure function of its arguments, asked again with the same ones for
  // every segment of a burst (one instant, one SRTT, one RTO instant): the
  // last answer is kept (issue 9: about 1.5% of a bulk transfer went to this
  // arithmetic; Linux arms the probe once per tcp_write_xmit call).
  const m = PTO_MEMO;
  if (srtt === m.srtt && oneSegment === m.oneSegment && untilRto === m.untilRto && hz === m.hz) return m.pto;
  const pto = computeLossProbeTimeout(srtt, oneSegment, untilRto, hz);
  m.srtt = srtt;
  m.oneSegment = oneSegment;
  m.untilRto = untilRto;
  m.hz = hz;
  m.pto = pto;
  return pto;
}

/** lossProbeTimeoutFor's last arguments and answer, shared by every connection (NaN matches no call). */
const PTO_MEMO: { srtt: Duration | undefined; oneSegment: boolean; untilRto: Duration; hz: number; pto: Duration } = {
  srtt: undefined,
  oneSegment: false,
  untilRto: Duration.ZERO,
  hz: Number.NaN,
  pto: Duration.ZERO,
};

function computeLossProbeTimeout(srtt: Duration | undefined, oneSegment: boolean, untilRto: Duration, hz: number): Duration {
  let jiffies: number;
  if (srtt === undefined) jiffies = usecsToJiffies(Duration.fromSecs(1), hz);
  else {
    // SRTT moves with every ACK, so the memo above misses once per segment
    // sent on a request/response exchange (issue 9): 2*SRTT of whole
    // microseconds is whole (no durationMul rounding), WCDelAckT's ticks
    // depend on hz alone.
    jiffies = usecsToJiffies(2 * srtt, hz);
    jiffies += oneSegment ? delackJiffies(hz) : TCP_TIMEOUT_MIN_JIFFIES;
  }
  if (untilRto > 0) jiffies = Math.min(jiffies, usecsToJiffies(untilRto, hz));
  return jiffiesToUsecs(jiffies, hz);
}

/** usecsToJiffies(TLP_WORST_CASE_DELACK, hz), for the last hz asked. */
function delackJiffies(hz: number): number {
  if (hz !== DELACK_MEMO.hz) {
    DELACK_MEMO.hz = hz;
    DELACK_MEMO.jiffies = usecsToJiffies(TLP_WORST_CASE_DELACK, hz);
  }
  return DELACK_MEMO.jiffies;
}
const DELACK_MEMO = { hz: Number.NaN, jiffies: 0 };

/** The PTO fired: a probe is due if one may still be sent (RFC 8985 7.3). */
export function lossProbeTimeout(t: Tcb, now: Instant): void {
  t.tlpAt = NOT_ARMED;
  if (!canSchedule(t)) return;
  t.tlpDue = true;
  // The PTO stands in for the RTO (Linux keeps one timer for both): when it
  // was capped at the RTO instant, the probe goes first and the RTO restarts.
  t.armRto(now);
}

/**
 * What the probe sends (RFC 8985 7.3): a new segment if there is unsent data
 * and the peer's window allows it (cwnd is not consulted), else the last
 * segment sent again. `seq`/`len` of the data; the caller adds the FIN.
 */
export function lossProbeRange(t: Tcb, mss: number): { seq: number; len: number; fresh: boolean } | undefined {
  const offset = seqSub(t.sndNxt, t.sndBufSeq);
  const avail = t.sndBuf.length - offset;
  const wndRoom = seqSub(seqAdd(t.sndUna, t.sndWnd), t.sndNxt);
  if (seqGe(t.sndNxt, t.sndMax) && avail > 0 && wndRoom > 0) {
    return { seq: t.sndNxt, len: Math.min(avail, mss, wndRoom), fresh: true };
  }
  // The last segment sent: from where the highest new segment started, at most one MSS.
  const end = t.finQueued && seqLt(t.finSeq, t.sndMax) ? t.finSeq : t.sndMax;
  let start = seqLe(t.lastSegSeq, end) && seqGe(t.lastSegSeq, t.sndUna) ? t.lastSegSeq : t.sndUna;
  if (seqSub(end, start) > mss) start = seqAdd(end, -mss);
  return { seq: start, len: seqSub(end, start), fresh: false };
}

/** The probe went out: remember TLP.end_seq and whether it was a retransmission (RFC 8985 7.3). */
export function lossProbeSent(t: Tcb, now: Instant, retransmit: boolean): void {
  t.tlpDue = false;
  t.tlpActive = true;
  t.tlpHighSeq = t.sndMax;
  t.tlpRetrans = retransmit;
  // Linux tcp_send_loss_probe: the RTO restarts from the probe.
  t.armRto(now);
}

/** Is the first SACK block a D-SACK (RFC 2883 4: below the cumulative ACK, or inside the second block)? */
function isDsack(ack: number, blocks: readonly SackBlock[]): boolean {
  const first = blocks[0];
  if (first === undefined) return false;
  if (seqLe(first.right, ack)) return true;
  const second = blocks[1];
  return second !== undefined && seqGe(first.left, second.left) && seqLe(first.right, second.right);
}

/**
 * RFC 8985 7.4: the ACK of a probe. If it covers TLP.end_seq, the episode
 * ends; when the probe was a retransmission and no D-SACK says the original
 * arrived too, the probe repaired a real loss and congestion control must
 * respond as for fast recovery (7.4.2 "MUST"): one reduction, no recovery
 * episode (Linux: tcp_init_cwnd_reduction + tcp_end_cwnd_reduction).
 */
export function lossProbeAck(t: Tcb, now: Instant, ack: number, blocks: readonly SackBlock[]): void {
  if (!t.tlpActive) return;
  if (seqLt(ack, t.tlpHighSeq)) return;
  t.tlpActive = false;
  if (!t.tlpRetrans || isDsack(ack, blocks)) return;
  if (seqLt(t.sndUna, t.recover)) return; // already reduced for this window (RFC 6582 3.2 step 2)
  t.cc.onCongestionEvent(now, t.flightSize());
  t.cc.onRecoveryEnd(now);
}

/** An RTO or a recovery episode ends the probe episode (RFC 8985 7.3: the RTO takes over). */
export function lossProbeReset(t: Tcb): void {
  t.tlpAt = NOT_ARMED;
  t.tlpDue = false;
  t.tlpActive = false;
}
