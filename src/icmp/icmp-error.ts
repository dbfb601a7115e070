/**
 * What an ICMP error means to a transport protocol: the errno a socket
 * reports and whether it is "hard" (RFC 1122 4.2.3.9: a TCP connection is
 * aborted only for hard errors; soft ones are remembered and reported if the
 * connection later times out). The mapping follows Linux (icmp_err_convert),
 * so programs see the errors they would see on Linux.
 */
import type { CanonicalErrnoName } from '../errno/errno.js';
import type { Ipv4Address } from '../wire/address.js';
import type { IcmpQuote } from '../wire/icmpv4.js';
import { Icmpv4Type } from '../wire/icmpv4.js';

export interface IcmpErrorMeaning {
  readonly errno: CanonicalErrnoName;
  /** True for hard errors (RFC 1122 4.2.3.9): abort the connection, fail the pending call. */
  readonly hard: boolean;
}

/** An ICMP error (received, or generated locally e.g. when ARP fails) delivered to a transport. */
export interface IcmpErrorReport {
  readonly type: number;
  readonly code: number;
  /** Who sent the ICMP message: a router, the destination, or one of our own addresses for local errors. */
  readonly from: Ipv4Address;
  /** True when the stack generated it itself (ARP failure, no route at a later hop of our own). */
  readonly local: boolean;
  /** The datagram it is about (one we sent): addresses, protocol and ports. */
  readonly quote: IcmpQuote;
  readonly errno: CanonicalErrnoName;
  readonly hard: boolean;
  /** For fragmentation needed: the path MTU now in effect for quote.dst (RFC 1191). */
  readonly pathMtu?: number;
}

const UNREACHABLE: readonly IcmpErrorMeaning[] = [
  { errno: 'ENETUNREACH', hard: false }, // net unreachable
  { errno: 'EHOSTUNREACH', hard: false }, // host unreachable
  { errno: 'ENOPROTOOPT', hard: true }, // protocol unreachable
  { errno: 'ECONNREFUSED', hard: true }, // port unreachable
  { errno: 'EMSGSIZE', hard: false }, // fragmentation needed
  { errno: 'EOPNOTSUPP', hard: false }, // source route failed
  { errno: 'ENETUNREACH', hard: true }, // net unknown
  { errno: 'EHOSTDOWN', hard: true }, // host unknown
  { errno: 'EHOSTUNREACH', hard: true }, // source host isolated (Linux: ENONET)
  { errno: 'ENETUNREACH', hard: true }, // net administratively prohibited
  { errno: 'EHOSTUNREACH', hard: true }, // host administratively prohibited
  { errno: 'ENETUNREACH', hard: false }, // net unreachable for TOS
  { errno: 'EHOSTUNREACH', hard: false }, // host unreachable for TOS
  { errno: 'EHOSTUNREACH', hard: true }, // communication administratively prohibited
  { errno: 'EHOSTUNREACH', hard: true }, // host precedence violation
  { errno: 'EHOSTUNREACH', hard: true }, // precedence cutoff
];

/**
 * The meaning of an ICMP error type/code, or undefined for messages that are
 * not errors a socket reports (echo, redirects, and source quench, which RFC
 * 6633 deprecates and says to ignore).
 */
export function icmpErrorMeaning(type: number, code: number): IcmpErrorMeaning | undefined {
  switch (type) {
    case Icmpv4Type.DestinationUnreachable:
      return UNREACHABLE[code] ?? { errno: 'EHOSTUNREACH', hard: false };
    case Icmpv4Type.TimeExceeded:
      return { errno: 'EHOSTUNREACH', hard: false };
    case Icmpv4Type.ParameterProblem:
      return { errno: 'EPROTO', hard: true };
    default:
      return undefined;
  }
}

/** True for the ICMP types that are errors (RFC 1122 3.2.2: never answered with another ICMP error). */
export function isIcmpErrorType(type: number): boolean {
  return (
    type === Icmpv4Type.DestinationUnreachable ||
    type === Icmpv4Type.SourceQuench ||
    type === Icmpv4Type.Redirect ||
    type === Icmpv4Type.TimeExceeded ||
    type === Icmpv4Type.ParameterProblem
  );
}

