/**
 * ICMP for IPv4 (RFC 792), with the Next-Hop MTU of RFC 1191.
 *
 * Every message starts with type, code, checksum and four type-specific
 * bytes; the checksum covers the whole message (there is no pseudo-header).
 * ICMP has no length field: the message is the whole IPv4 payload.
 */
import { ok, fail } from './result.js';
import type { ParseResult } from './result.js';
import type { Ipv4Address } from './address.js';
import { readIpv4 } from './address.js';
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { checksumValid, internetChecksum } from './checksum.js';
import { IPV4_HEADER_LEN } from './ipv4.js';

export const Icmpv4Type = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  SourceQuench: 4,
  Redirect: 5,
  EchoRequest: 8,
  RouterAdvertisement: 9,
  RouterSolicitation: 10,
  TimeExceeded: 11,
  ParameterProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
} as const;
export type Icmpv4Type = (typeof Icmpv4Type)[keyof typeof Icmpv4Type];

/** Destination Unreachable codes: 0-5 RFC 792, 6-12 RFC 1122 3.2.2.1, 13-15 RFC 1812 5.2.7.1. */
export const Icmpv4UnreachableCode = {
  NetUnreachable: 0,
  HostUnreachable: 1,
  ProtocolUnreachable: 2,
  PortUnreachable: 3,
  /** "Fragmentation needed and DF set": carries the next-hop MTU (RFC 1191). */
  FragmentationNeeded: 4,
  SourceRouteFailed: 5,
  NetUnknown: 6,
  HostUnknown: 7,
  SourceHostIsolated: 8,
  NetProhibited: 9,
  HostProhibited: 10,
  NetUnreachableForTos: 11,
  HostUnreachableForTos: 12,
  CommunicationProhibited: 13,
  HostPrecedenceViolation: 14,
  PrecedenceCutoff: 15,
} as const;
export type Icmpv4UnreachableCode = (typeof Icmpv4UnreachableCode)[keyof typeof Icmpv4UnreachableCode];

export const Icmpv4TimeExceededCode = {
  TtlExceeded: 0,
  FragmentReassemblyTimeExceeded: 1,
} as const;
export type Icmpv4TimeExceededCode = (typeof Icmpv4TimeExceededCode)[keyof typeof Icmpv4TimeExceededCode];

/** Type, code, checksum and the four type-specific bytes. */
export const ICMPV4_HEADER_LEN = 8;

/**
 * RFC 1812 4.3.2.3: an ICMP error datagram (IP header included) should not
 * exceed 576 bytes, so it reaches any host.
 */
export const ICMPV4_ERROR_MAX_DATAGRAM_LEN = 576;

export interface Icmpv4EchoRepr {
  readonly type: typeof Icmpv4Type.EchoRequest | typeof Icmpv4Type.EchoReply;
  readonly identifier: number;
  readonly sequence: number;
  readonly data: Uint8Array;
}

export interface Icmpv4DestinationUnreachableRepr {
  readonly type: typeof Icmpv4Type.DestinationUnreachable;
  readonly code: number;
  /**
   * RFC 1191 4: the MTU of the next hop, meaningful for code 4
   * (FragmentationNeeded) only; zero from routers that predate RFC 1191.
   * Written as zero for other codes unless given.
   */
  readonly nextHopMtu: number;
  /** The original datagram: its IP header and at least 8 bytes of its payload (RFC 792). */
  readonly quoted: Uint8Array;
}

export interface Icmpv4TimeExceededRepr {
  readonly type: typeof Icmpv4Type.TimeExceeded;
  readonly code: number;
  readonly quoted: Uint8Array;
}

/**
 * Any other message, kept raw so it can be re-emitted byte for byte.
 * Tell it from the known variants with `isIcmpv4Other` (or `'rest' in r`).
 */
export interface Icmpv4OtherRepr {
  readonly type: number;
  readonly code: number;
  /** Header bytes 4..7 as a big-endian uint32 (e.g. the pointer of Parameter Problem). */
  readonly rest: number;
  readonly data: Uint8Array;
}

/**
 * A message, discriminated on `type`. Because `Icmpv4OtherRepr.type` is any
 * number, TypeScript narrows on `type` only once the `other` variant is
 * excluded: `if (isIcmpv4Other(r)) ...; else switch (r.type) { ... }`.
 * The parser produces `other` only for types it has no variant for.
 */
export type Icmpv4Repr =
  | Icmpv4EchoRepr
  | Icmpv4DestinationUnreachableRepr
  | Icmpv4TimeExceededRepr
  | Icmpv4OtherRepr;

export function isIcmpv4Other(repr: Icmpv4Repr): repr is Icmpv4OtherRepr {
  return 'rest' in repr;
}

export interface Icmpv4ParseOptions {
  /** Default true; false when the link guarantees integrity. */
  readonly verifyChecksum?: boolean;
}

/**
 * Parses a whole ICMP message (the IPv4 payload). Bytes 4..7 that RFC 792
 * calls "unused" for the error messages are ignored on parse and written as
 * zero on emit (RFC 4884 extensions are not interpreted).
 */
export function parseIcmpv4(bytes: Uint8Array, opts?: Icmpv4ParseOptions): ParseResult<Icmpv4Repr> {
  if (bytes.length < ICMPV4_HEADER_LEN) return fail('truncated');
  if ((opts?.verifyChecksum ?? true) && !checksumValid(bytes)) return fail('bad-checksum');
  const type = bytes[0]!;
  const code = bytes[1]!;
  const body = bytes.subarray(ICMPV4_HEADER_LEN);
  switch (type) {
    case Icmpv4Type.EchoRequest:
    case Icmpv4Type.EchoReply:
      // RFC 792 gives echo only code 0; like Linux, other codes are not rejected.
      return ok({ type, identifier: readU16(bytes, 4), sequence: readU16(bytes, 6), data: body });
    case Icmpv4Type.DestinationUnreachable:
      return ok({ type, code, nextHopMtu: readU16(bytes, 6), quoted: body });
    case Icmpv4Type.TimeExceeded:
      return ok({ type, code, quoted: body });
    default:
      return ok({ type, code, rest: readU32(bytes, 4), data: body });
  }
}

function bodyOf(repr: Icmpv4Repr): Uint8Array {
  if (isIcmpv4Other(repr)) return repr.data;
  switch (repr.type) {
    case Icmpv4Type.EchoRequest:
    case Icmpv4Type.EchoReply:
      return repr.data;
    case Icmpv4Type.DestinationUnreachable:
    case Icmpv4Type.TimeExceeded:
      return repr.quoted;
  }
}

export function icmpv4HeaderLen(_repr?: Icmpv4Repr): number {
  return ICMPV4_HEADER_LEN;
}

export function icmpv4BufferLen(repr: Icmpv4Repr): number {
  return ICMPV4_HEADER_LEN + bodyOf(repr).length;
}

/** Writes the whole message with its checksum at buf[0..]; returns its length. */
export function emitIcmpv4(repr: Icmpv4Repr, buf: Uint8Array): number {
  const body = bodyOf(repr);
  const len = ICMPV4_HEADER_LEN + body.length;
  if (buf.length < len) throw new RangeError(`emitIcmpv4: buffer of ${buf.length} bytes, need ${len}`);
  buf[0] = repr.type & 0xff;
  writeU16(buf, 2, 0);
  if (isIcmpv4Other(repr)) {
    buf[1] = repr.code & 0xff;
    writeU32(buf, 4, repr.rest);
  } else {
    switch (repr.type) {
      case Icmpv4Type.EchoRequest:
      case Icmpv4Type.EchoReply:
        buf[1] = 0;
        writeU16(buf, 4, repr.identifier);
        writeU16(buf, 6, repr.sequence);
        break;
      case Icmpv4Type.DestinationUnreachable:
        buf[1] = repr.code & 0xff;
        writeU16(buf, 4, 0);
        writeU16(buf, 6, repr.nextHopMtu);
        break;
      case Icmpv4Type.TimeExceeded:
        buf[1] = repr.code & 0xff;
        writeU32(buf, 4, 0);
        break;
    }
  }
  buf.set(body, ICMPV4_HEADER_LEN);
  writeU16(buf, 2, internetChecksum(buf.subarray(0, len)));
  return len;
}

/**
 * The part of a received datagram to quote in an ICMP error about it: as
 * much as fits in a 576-byte error datagram (RFC 1812 4.3.2.3; RFC 792 asks
 * for at least the header and 8 bytes). A view, not a copy.
 */
export function icmpv4ErrorQuote(
  datagram: Uint8Array,
  maxDatagramLen: number = ICMPV4_ERROR_MAX_DATAGRAM_LEN,
): Uint8Array {
  const room = Math.max(0, maxDatagramLen - IPV4_HEADER_LEN - ICMPV4_HEADER_LEN);
  return datagram.subarray(0, Math.min(datagram.length, room));
}

/** What an ICMP error says about the datagram it quotes. */
export interface IcmpQuote {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly protocol: number;
  readonly identification: number;
  readonly ttl: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** In bytes. Non-zero means the quote starts mid-datagram: no transport header, no ports. */
  readonly fragmentOffset: number;
  readonly headerLen: number;
  /** The total length the quoted header claims (usually more than was quoted). */
  readonly totalLength: number;
  /** The quoted bytes after the IP header, up to the claimed total length. A view. */
  readonly transport: Uint8Array;
  /**
   * The first two 16-bit words of the transport header (TCP, UDP, SCTP and
   * DCCP all start with the ports), or undefined when fewer than 4 bytes are
   * quoted or the datagram was a non-first fragment.
   */
  readonly srcPort: number | undefined;
  readonly dstPort: number | undefined;
}

/**
 * Parses the IPv4 header quoted in an ICMP error, for finding the socket the
 * error belongs to. Unlike parseIpv4 it does not verify the header checksum
 * (the ICMP checksum already covers the quote, and middleboxes are known to
 * quote headers they have rewritten without fixing it) and it accepts a total
 * length beyond the quote, since quotes are cut short.
 */
export function parseIcmpQuote(quoted: Uint8Array): ParseResult<IcmpQuote> {
  if (quoted.length < IPV4_HEADER_LEN) return fail('truncated');
  const b0 = quoted[0]!;
  if (b0 >>> 4 !== 4) return fail('bad-version');
  const headerLen = (b0 & 0x0f) * 4;
  if (headerLen < IPV4_HEADER_LEN || headerLen > quoted.length) return fail('bad-header-length');
  const totalLength = readU16(quoted, 2);
  if (totalLength < headerLen) return fail('bad-length');
  const flags = readU16(quoted, 6);
  const fragmentOffset = (flags & 0x1fff) * 8;
  const transport = quoted.subarray(headerLen, Math.min(totalLength, quoted.length));
  const hasPorts = fragmentOffset === 0 && transport.length >= 4;
  return ok({
    src: readIpv4(quoted, 12),
    dst: readIpv4(quoted, 16),
    protocol: quoted[9]!,
    identification: readU16(quoted, 4),
    ttl: quoted[8]!,
    dontFragment: (flags & 0x4000) !== 0,
    moreFragments: (flags & 0x2000) !== 0,
    fragmentOffset,
    headerLen,
    totalLength,
    transport,
    srcPort: hasPorts ? readU16(transport, 0) : undefined,
    dstPort: hasPorts ? readU16(transport, 2) : undefined,
  });
}
