/**
 * SEGMENT ARRIVES for a TimeWaitEntry (tcp-entry.ts), the compact record a
 * connection leaves in TIME-WAIT (Linux tcp_timewait_sock): the decision is
 * time-wait-rules.ts (Linux tcp_timewait_state_process); here are what the
 * record needs besides: the 2 MSL restart, ICMP errors and our ACK.
 *
 * Like input.ts it emits nothing: it returns what the protocol is to do.
 */
import { Instant, instantAdd } from '../time/instant.js';
import { TcpFlag } from '../wire/tcp.js';
import type { TcpHeaderRepr, TcpRepr } from '../wire/tcp.js';
import { EMPTY_SACK_BLOCKS, TcpOptionsScratch, buildDataOptionsInto } from '../wire/tcp-options.js';
import type { TcpOption } from '../wire/tcp-options.js';
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import type { Counters } from '../stats/counters.js';
import { readU32 } from '../wire/bytes.js';
import { Icmpv4Type, Icmpv4UnreachableCode } from '../wire/icmpv4.js';
import { TcpCounter } from './tcp-counters.js';
import { seqGt, seqLt } from './seq.js';
import type { TimeWaitEntry } from './tcp-entry.js';
import { timeWaitDecide } from './time-wait-rules.js';

export { TimeWaitAct, timeWaitAcceptsSyn } from './time-wait-rules.js';

/** 2 MSL from now: TIME-WAIT's deadline after a restart (Linux inet_twsk_reschedule with TCP_TIMEWAIT_LEN). */
export function timeWaitRestart(tw: TimeWaitEntry, now: Instant): Instant {
  return instantAdd(now, tw.timeWaitLen);
}

/**
 * One segment for `tw` (checksum verified): TimeWaitAct bits
 * (time-wait-rules.ts timeWaitDecide). Restart: the caller files
 * timeWaitRestart's deadline; NewSyn: the caller frees `tw` and hands the
 * SYN to the listener.
 */
export function timeWaitInput(tw: TimeWaitEntry, now: Instant, seg: TcpRepr): number {
  return timeWaitDecide(tw, now, seg);
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
  const h = ACK_HEADER;
  h.srcPort = tw.local.port;
  h.dstPort = tw.remote.port;
  h.seq = tw.sndNxt;
  h.ack = tw.rcvNxt;
  h.window = tw.windowField;
  h.options = tw.tsOk ? buildDataOptionsInto(ACK_OPTIONS, true, tsNow(tw, now), tw.tsRecent, EMPTY_SACK_BLOCKS) : NO_OPTIONS;
  return h;
}

/** Tcb.tsNow: milliseconds plus the connection's offset. */
function tsNow(tw: TimeWaitEntry, now: Instant): number {
  return (Math.floor(Instant.toMicros(now) / 1000) + tw.tsOffset) >>> 0;
}

const NO_OPTIONS: TcpOption[] = [];
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
