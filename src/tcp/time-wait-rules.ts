/**
 * What a segment does in TIME-WAIT, as Linux decides it
 * (net/ipv4/tcp_minisocks.c tcp_timewait_state_process, substate
 * TCP_TIME_WAIT, with tcp_input.c tcp_paws_reject and tcp_oow_rate_limited,
 * default sysctls: tcp_rfc1337=0, tcp_invalid_ratelimit=500 ms). One
 * decision for both forms a connection in TIME-WAIT takes: the compact
 * record (time-wait.ts) and a full TCB still held by its socket (input.ts).
 *
 * Not RFC 9293 3.10.7.4 literally: Linux checks no window and no SEG.ACK
 * here, sends no RFC 5961 challenge ACK, answers everything else with a
 * rate-limited ACK, and lets a RST at RCV.NXT end TIME-WAIT.
 *
 * A leaf (seq, time, wire only) so that input.ts and time-wait.ts can both
 * import it.
 */
import { Duration } from '../time/duration.js';
import { Instant, instantDiff } from '../time/instant.js';
import { TcpFlag, tcpPayloadLength } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import { summarizeTcpOptionsInto, TcpOptionsSummaryScratch } from '../wire/tcp-options-summary.js';
import { seqGt, seqLt } from './seq.js';

/** What TIME-WAIT keeps to decide (TimeWaitEntry and Tcb both have these). */
export interface TimeWaitRuleFields {
  rcvNxt: number;
  tsOk: boolean;
  tsRecent: number;
  tsRecentAt: Instant;
  /** Linux tw_last_oow_ack_time: when the last out-of-window ACK went, NEVER_ACKED before the first. */
  lastOowAckAt: Instant;
}

/** lastOowAckAt before any out-of-window ACK (Linux: 0). */
export const NEVER_ACKED = Instant.ZERO;

/** Bits of a TIME-WAIT decision; 0: nothing at all. */
export const TimeWaitAct = {
  /** Restart the 2 MSL timer (inet_twsk_reschedule). */
  Restart: 1,
  /** Send an ACK: SND.NXT, RCV.NXT, the window, timestamps (TCP_TW_ACK). */
  Ack: 2,
  /** End TIME-WAIT at once, nothing sent (TIME-WAIT assassination, tcp_rfc1337=0). */
  Close: 4,
  /** A SYN that may open a new incarnation: the listener's (TCP_TW_SYN). */
  NewSyn: 8,
  /** The ACK was due but rate-limited (LINUX_MIB_TCPACKSKIPPEDTIMEWAIT). */
  AckSkipped: 16,
  /** PAWS rejected the segment (LINUX_MIB_PAWSESTABREJECTED). */
  PawsRejected: 32,
} as const;

/** TCP_PAWS_24DAYS: a TS.Recent this old no longer rejects anything. */
const PAWS_WRAP = Duration.fromSecs(24 * 24 * 3600);
/** TCP_PAWS_MSL: a RST is not PAWS-rejected once TS.Recent is this old. */
const PAWS_MSL = Duration.fromSecs(60);
/** tcp_invalid_ratelimit's default. */
const OOW_RATELIMIT = Duration.fromMillis(500);

const RX_OPTIONS = new TcpOptionsSummaryScratch();

/** The segment's TSval when the connection uses timestamps (Linux reads them only when tw_ts_recent_stamp is set). */
function tsValOf(s: TimeWaitRuleFields, seg: TcpRepr): number | undefined {
  if (!s.tsOk || seg.options.length === 0) return undefined;
  return summarizeTcpOptionsInto(seg.options, RX_OPTIONS).timestamps?.tsVal;
}

/** tcp_paws_reject: TSval older than a TS.Recent that is nonzero and under 24 days old; a RST passes once TS.Recent is 60 s old. */
function pawsReject(s: TimeWaitRuleFields, now: Instant, tsVal: number, rst: boolean): boolean {
  if (!seqLt(tsVal, s.tsRecent)) return false;
  const age = instantDiff(now, s.tsRecentAt);
  if (age >= PAWS_WRAP || s.tsRecent === 0) return false;
  return !(rst && age >= PAWS_MSL);
}

/** The TCP_TW_SYN test: a bare SYN, not PAWS-rejected, beyond RCV.NXT or with a TSval newer than TS.Recent. */
function newSyn(s: TimeWaitRuleFields, seg: TcpRepr, tsVal: number | undefined, rejected: boolean): boolean {
  if ((seg.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) !== TcpFlag.SYN || rejected) return false;
  return seqGt(seg.seq, s.rcvNxt) || (tsVal !== undefined && seqGt(tsVal, s.tsRecent));
}

/**
 * RFC 1122 4.2.2.13 / RFC 6191 as Linux applies them (TCP_TW_SYN): may
 * this SYN open a new incarnation of the 4-tuple? Changes nothing.
 */
export function timeWaitAcceptsSyn(s: TimeWaitRuleFields, now: Instant, seg: TcpRepr): boolean {
  if ((seg.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) !== TcpFlag.SYN) return false;
  const tsVal = tsValOf(s, seg);
  return newSyn(s, seg, tsVal, tsVal !== undefined && pawsReject(s, now, tsVal, false));
}

/**
 * One segment in TIME-WAIT (checksum verified): TimeWaitAct bits. Updates
 * TS.Recent and the rate limiter's clock in `s`; the caller acts on the
 * bits (restart the timer, send the ACK, free the entry, count).
 */
export function timeWaitDecide(s: TimeWaitRuleFields, now: Instant, seg: TcpRepr): number {
  const flags = seg.flags;
  const rst = (flags & TcpFlag.RST) !== 0;
  const syn = (flags & TcpFlag.SYN) !== 0;
  const hasText = tcpPayloadLength(seg) > 0;
  const occupies = hasText || syn || (flags & TcpFlag.FIN) !== 0;
  const tsVal = tsValOf(s, seg);
  const rejected = tsVal !== undefined && pawsReject(s, now, tsVal, rst);
  // "In window segment, it may be only reset or bare ack": exactly RCV.NXT.
  if (!rejected && seg.seq === s.rcvNxt && (!occupies || rst)) {
    if (rst) return TimeWaitAct.Close;
    if (tsVal !== undefined) {
      s.tsRecent = tsVal;
      s.tsRecentAt = now;
    }
    return TimeWaitAct.Restart;
  }
  if (newSyn(s, seg, tsVal, rejected)) return TimeWaitAct.NewSyn;
  const paws = rejected ? TimeWaitAct.PawsRejected : 0;
  // Any other RST is dropped: no challenge ACK in TIME-WAIT.
  if (rst) return paws;
  // An ACK-less SYN may be a new connection's with a random ISN below RCV.NXT: it does not restart 2 MSL.
  const restart = rejected || (flags & TcpFlag.ACK) !== 0 ? TimeWaitAct.Restart : 0;
  // tcp_oow_rate_limited: data or FIN without SYN (SEG.SEQ != end_seq) cannot be part of an ACK loop and is always answered.
  if ((hasText || (flags & TcpFlag.FIN) !== 0) && !syn) return paws | restart | TimeWaitAct.Ack;
  if (s.lastOowAckAt !== NEVER_ACKED) {
    const elapsed = instantDiff(now, s.lastOowAckAt);
    if (elapsed >= 0 && elapsed < OOW_RATELIMIT) return paws | restart | TimeWaitAct.AckSkipped;
  }
  s.lastOowAckAt = now;
  return paws | restart | TimeWaitAct.Ack;
}
