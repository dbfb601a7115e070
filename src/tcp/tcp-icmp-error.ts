/**
 * What an ICMP error about a segment we sent does to a TCP connection (Linux
 * tcp_v4_err), and the IP_MTU_DISCOVER mode that decides whether the
 * connection learns path MTUs. Separate from tcp-protocol.ts: rare-path
 * logic on one connection, which the protocol only looks up and drains.
 */
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import type { Counters } from '../stats/counters.js';
import { IP_PMTUDISC_WANT, pmtuDiscLearns } from '../syscall/sockopt.js';
import { readU32 } from '../wire/bytes.js';
import { Icmpv4Type, Icmpv4UnreachableCode } from '../wire/icmpv4.js';
import { seqGt, seqLt } from './seq.js';
import { TcpState } from './state.js';
import { TcpCounter } from './tcp-counters.js';
import type { ConnEntry } from './tcp-entry.js';

/**
 * An ICMP error about a segment we sent (RFC 1122 4.2.3.9, RFC 5927).
 * Linux tcp_v4_err: the quoted sequence number must be in flight, else the
 * message is ignored; fragmentation needed lowers the path MTU (RFC 1191);
 * during the handshake any error aborts the attempt with its errno (Linux
 * reports a failed ARP as EHOSTUNREACH at once); on an established
 * connection every error is soft: remembered, and reported only if the
 * connection then times out.
 *
 * Returns true when the connection changed and its output is to be drained.
 */
export function applyIcmpError(entry: ConnEntry, report: IcmpErrorReport, stats: Counters): boolean {
  const q = report.quote;
  const conn = entry.conn;
  if (q.transport.length >= 8) {
    // RFC 5927 4.1 / Linux: only an error quoting a sequence number in flight is believed.
    const seq = readU32(q.transport, 4);
    if (seqLt(seq, conn.info.sndUna) || seqGt(seq, entry.highestSent)) {
      stats.increment(TcpCounter.OutOfWindowIcmps);
      return false;
    }
  }
  if (report.type === Icmpv4Type.DestinationUnreachable && report.code === Icmpv4UnreachableCode.FragmentationNeeded) {
    // RFC 1191 / MUST-16: lower the connection's MSS to the new path MTU and resend
    // what was dropped for being too big at once (Linux tcp_v4_mtu_reduced).
    // Linux tcp_v4_mtu_reduced: a socket with IP_PMTUDISC_DONT (or PROBE,
    // INTERFACE, OMIT) keeps its MSS; its segments go without DF anyway.
    if (report.pathMtu !== undefined && report.pathMtu < entry.pathMtu && pmtuDiscLearns(pmtuMode(entry))) {
      entry.pathMtu = report.pathMtu;
      conn.setPathMtu(report.pathMtu);
      entry.stateBefore = conn.state;
      return true;
    }
    return false;
  }
  if (conn.state === TcpState.SYN_SENT || (conn.state === TcpState.SYN_RECEIVED && entry.parent === undefined)) {
    entry.stateBefore = conn.state;
    entry.abortError = report.errno;
    conn.abort();
    return true;
  }
  if (conn.state === TcpState.SYN_RECEIVED) {
    // Linux tcp_req_err: a hard error drops the embryonic connection; soft ones are ignored.
    if (report.hard) {
      conn.abort();
      return true;
    }
    return false;
  }
  entry.softError = report.errno;
  return false;
}

/** The IP_MTU_DISCOVER mode of a connection: its socket's, or its listener's before accept() (Linux copies it to the child). */
export function pmtuMode(entry: ConnEntry): number {
  return (entry.socket ?? entry.parent?.socket)?.pmtuDisc ?? IP_PMTUDISC_WANT;
}
