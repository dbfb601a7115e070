/**
 * Proportional Rate Reduction (RFC 6937) for SACK-based loss recovery, as
 * Linux does it (tcp_init_cwnd_reduction / tcp_cwnd_reduction).
 *
 * RFC 6675 alone sends whenever pipe < cwnd: on entering recovery cwnd drops
 * to ssthresh at once, so the sender falls silent for half a round trip and
 * then bursts. PRR spreads the reduction over the recovery round trip: for
 * every byte the receiver reports delivered, it sends ssthresh/RecoverFS
 * bytes while pipe is above ssthresh (the proportional part, 3.1), and once
 * pipe falls below ssthresh grows back towards it no faster than slow start
 * (PRR-SSRB, the "slow start reduction bound").
 *
 * The result is a window, `t.prrCwnd` = pipe + sndcnt, that output.ts uses
 * instead of the controller's cwnd while in SACK recovery.
 */
import type { Tcb } from './tcb.js';

/** RFC 6937 3: at the start of recovery (after the controller set ssthresh). */
export function prrStart(t: Tcb, flightSize: number): void {
  t.prrDelivered = 0;
  t.prrOut = 0;
  // RecoverFS: the FlightSize at the start of recovery.
  t.prrRecoverFs = Math.max(1, flightSize);
  t.prrCwnd = t.cc.cwnd;
}

/**
 * RFC 6937 3, "On every ACK during recovery": `delivered` is DeliveredData,
 * the change in SND.UNA plus the change in SACKed bytes; `pipe` the estimate
 * after this ACK (and after its loss marking). Linux (tcp_cwnd_reduction)
 * adds PRR-SSRB's extra segment only when the ACK advanced SND.UNA and
 * marked nothing newly lost: `unaAdvanced` / `newlyLost` say so (the
 * defaults give RFC 6937's unconditional MSS).
 */
export function prrOnAck(t: Tcb, delivered: number, pipe: number, unaAdvanced = true, newlyLost = 0): void {
  if (delivered <= 0) return; // Linux: nothing newly delivered, nothing to clock out
  t.prrDelivered += delivered;
  const ssthresh = t.cc.ssthresh;
  let sndcnt: number;
  if (pipe > ssthresh) {
    // Proportional rate reduction.
    sndcnt = Math.ceil((t.prrDelivered * ssthresh) / t.prrRecoverFs) - t.prrOut;
  } else {
    // PRR-SSRB: at most one MSS more than was delivered, up to ssthresh.
    let limit = Math.max(t.prrDelivered - t.prrOut, delivered);
    if (unaAdvanced && newlyLost === 0) limit += t.mss;
    sndcnt = Math.min(ssthresh - pipe, limit);
  }
  // Linux: the fast retransmit itself always goes (sndcnt >= 1 segment until something was sent).
  sndcnt = Math.max(sndcnt, t.prrOut === 0 ? t.mss : 0);
  t.prrCwnd = pipe + sndcnt;
}

/** Every byte sent or resent during recovery (RFC 6937 3, "On any data transmission"). */
export function prrOnSend(t: Tcb, bytes: number): void {
  t.prrOut += bytes;
}
