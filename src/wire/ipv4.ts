/**
 * The IPv4 header (RFC 791 3.1).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |   DSCP    |ECN|          Total Length         |
 *   |         Identification        |Flags|      Fragment Offset    |
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   |                       Source Address                          |
 *   |                    Destination Address                        |
 *   |                    Options                    |    Padding    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The type-of-service byte is split as RFC 2474 (DSCP) and RFC 3168 (ECN)
 * redefined it.
 */
import { ok, fail } from './result.js';
import type { ParseResult, WireError } from './result.js';
import type { Ipv4Address } from './address.js';
import { readIpv4, writeIpv4 } from './address.js';
import { readU16, writeU16 } from './bytes.js';
import { checksumAddRange, checksumFinish, checksumRangeValid, internetChecksum } from './checksum.js';

/** IANA "Assigned Internet Protocol Numbers" the stack knows by name. */
export const IpProtocol = {
  Icmp: 1,
  Igmp: 2,
  Tcp: 6,
  Udp: 17,
} as const;
export type IpProtocol = (typeof IpProtocol)[keyof typeof IpProtocol];

/** A header without options. */
export const IPV4_HEADER_LEN = 20;
/** IHL is 4 bits of 32-bit words: 15 * 4. */
export const IPV4_MAX_HEADER_LEN = 60;
export const IPV4_MAX_OPTIONS_LEN = IPV4_MAX_HEADER_LEN - IPV4_HEADER_LEN;
/** The total length field is 16 bits. */
export const IPV4_MAX_PACKET_LEN = 65535;
/** RFC 1122 3.2.1.7: a sensible default for the time to live (Linux uses 64 too). */
export const IPV4_DEFAULT_TTL = 64;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;
/** The largest byte offset a 13-bit field of 8-byte units can hold. */
const MAX_FRAGMENT_OFFSET = OFFSET_MASK * 8;

/** Everything in the header; what `emitIpv4Header` needs. */
export interface Ipv4Header {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  /** An IpProtocol value, or any other 8-bit protocol number. */
  readonly protocol: number;
  readonly ttl: number;
  /** Differentiated Services code point, 6 bits (RFC 2474). */
  readonly dscp: number;
  /** Explicit Congestion Notification, 2 bits (RFC 3168). */
  readonly ecn: number;
  readonly identification: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** In bytes (the wire field counts 8-byte units), so always a multiple of 8. */
  readonly fragmentOffset: number;
  /** Raw option bytes including their padding, preserved as received; empty when none. */
  readonly options: Uint8Array;
}

export interface Ipv4Repr extends Ipv4Header {
  /** The bytes the total length covers after the header; link padding excluded. A view on parse. */
  readonly payload: Uint8Array;
}

export interface Ipv4ParseOptions {
  /**
   * Default true. Pass false when the link already guarantees integrity
   * (loopback, a NIC that verified it): Linux skips it the same way.
   */
  readonly verifyChecksum?: boolean;
}

export interface Ipv4EmitOptions {
  /** Default true. False leaves the checksum field zero, for a link that fills it in (offload). */
  readonly computeChecksum?: boolean;
}

export function parseIpv4(bytes: Uint8Array, opts?: Ipv4ParseOptions): ParseResult<Ipv4Repr> {
  const err = checkIpv4(bytes, 0, opts?.verifyChecksum ?? true);
  if (err !== undefined) return fail(err);
  const headerLen = (bytes[0]! & 0x0f) * 4;
  const flags = readU16(bytes, 6);
  // The reserved flag bit 0x8000 (RFC 3514's "evil bit") is ignored, as Linux
  // does, and not kept: emit writes it as zero, as RFC 791 requires.
  const tos = bytes[1]!;
  return ok({
    src: readIpv4(bytes, 12),
    dst: readIpv4(bytes, 16),
    protocol: bytes[9]!,
    ttl: bytes[8]!,
    dscp: tos >>> 2,
    ecn: tos & 3,
    identification: readU16(bytes, 4),
    dontFragment: (flags & FLAG_DF) !== 0,
    moreFragments: (flags & FLAG_MF) !== 0,
    fragmentOffset: (flags & OFFSET_MASK) * 8,
    options: bytes.subarray(IPV4_HEADER_LEN, headerLen),
    payload: bytes.subarray(headerLen, readU16(bytes, 2)),
  });
}

/** parseIpv4's checks of the packet at bytes[at..]: why it is malformed, or undefined. */
function checkIpv4(bytes: Uint8Array, at: number, verifyChecksum: boolean): WireError | undefined {
  const len = bytes.length - at;
  if (len < IPV4_HEADER_LEN) return 'truncated';
  const b0 = bytes[at]!;
  if (b0 >>> 4 !== 4) return 'bad-version';
  const headerLen = (b0 & 0x0f) * 4;
  // RFC 1122 3.2.1.1: a datagram whose header is malformed must be dropped.
  if (headerLen < IPV4_HEADER_LEN || headerLen > len) return 'bad-header-length';
  const totalLen = readU16(bytes, at + 2);
  // Bytes past the total length are link-layer padding (a 60-byte Ethernet
  // minimum frame); a total length past the buffer means the packet was cut.
  if (totalLen < headerLen || totalLen > len) return 'bad-length';
  if (verifyChecksum && !checksumRangeValid(bytes, at, at + headerLen)) return 'bad-checksum';
  // RFC 791 3.2: a reassembled datagram is at most 65535 bytes, so a fragment
  // reaching past that cannot be part of a real datagram (the ping-of-death
  // shape, CVE-1999-0128); reassembly buffers must never be asked to grow so far.
  if ((readU16(bytes, at + 6) & OFFSET_MASK) * 8 + totalLen - headerLen > IPV4_MAX_PACKET_LEN) return 'bad-fragment';
  return undefined;
}

/** Test mode: reused IPv4 receive records are overwritten with junk once their user is done (see Ipv4ReprScratch.release). */
let poisonReused = false;

/**
 * For tests only: makes every Ipv4ReprScratch hold junk between packets, so
 * that code which kept one (or its payload view) past the call it was given
 * in reads nonsense instead of the next packet's fields.
 */
export function poisonReusedIpv4Records(on: boolean): void {
  poisonReused = on;
}

const NO_BYTES = new Uint8Array(0);
const POISON_BYTES = new Uint8Array(7).fill(0xa5);

/**
 * The record parseIpv4Into fills: one per receive path, reused for every
 * packet (issue 9: a result, a repr and two views per received packet).
 * The contract, as for TcpReprScratch: whoever is handed it reads it during
 * the call and keeps no reference to it or to its options and payload
 * views (which view the frame, itself reused); it copies what it keeps.
 */
export class Ipv4ReprScratch implements Ipv4Repr {
  src = 0;
  dst = 0;
  protocol = 0;
  ttl = 0;
  dscp = 0;
  ecn = 0;
  identification = 0;
  dontFragment = false;
  moreFragments = false;
  fragmentOffset = 0;
  options: Uint8Array = NO_BYTES;
  /** The buffer parsed, where the packet starts in it, and its total length (the datagram without link padding). */
  bytes: Uint8Array = NO_BYTES;
  at = 0;
  totalLength = 0;
  /** Where the payload starts in `bytes` (it ends at at + totalLength). */
  payloadStart = 0;
  #payload: Uint8Array | undefined;

  /**
   * bytes[payloadStart..at + totalLength), made on first use: a transport
   * that parses in place (TCP) never needs the view (issue 9).
   */
  get payload(): Uint8Array {
    return (this.#payload ??= this.bytes.subarray(this.payloadStart, this.at + this.totalLength));
  }

  /** Forgets the payload view made for the last packet (parseIpv4Into). */
  dropPayloadView(): void {
    this.#payload = undefined;
  }

  /** The user is done with the record; in test mode (poisonReusedIpv4Records) it now holds junk. */
  release(): void {
    this.options = NO_BYTES;
    this.bytes = NO_BYTES;
    this.#payload = undefined;
    this.at = this.totalLength = this.payloadStart = 0;
    if (!poisonReused) return;
    this.src = this.dst = this.protocol = this.ttl = this.identification = this.fragmentOffset = Number.NaN;
    this.options = POISON_BYTES;
    this.bytes = POISON_BYTES;
    this.totalLength = POISON_BYTES.length;
  }
}

/**
 * parseIpv4 of the packet at bytes[at..] into a reused record (see
 * Ipv4ReprScratch for what the caller may keep), without a view of the
 * packet itself (an Ethernet frame's payload) nor one for absent options.
 * Returns why the packet is malformed, or undefined when `into` holds it.
 */
export function parseIpv4Into(bytes: Uint8Array, at: number, verifyChecksum: boolean, into: Ipv4ReprScratch): WireError | undefined {
  const err = checkIpv4(bytes, at, verifyChecksum);
  if (err !== undefined) return err;
  const headerLen = (bytes[at]! & 0x0f) * 4;
  const totalLen = readU16(bytes, at + 2);
  const flags = readU16(bytes, at + 6);
  const tos = bytes[at + 1]!;
  into.src = readIpv4(bytes, at + 12);
  into.dst = readIpv4(bytes, at + 16);
  into.protocol = bytes[at + 9]!;
  into.ttl = bytes[at + 8]!;
  into.dscp = tos >>> 2;
  into.ecn = tos & 3;
  into.identification = readU16(bytes, at + 4);
  into.dontFragment = (flags & FLAG_DF) !== 0;
  into.moreFragments = (flags & FLAG_MF) !== 0;
  into.fragmentOffset = (flags & OFFSET_MASK) * 8;
  into.options = headerLen === IPV4_HEADER_LEN ? NO_BYTES : bytes.subarray(at + IPV4_HEADER_LEN, at + headerLen);
  into.bytes = bytes;
  into.at = at;
  into.totalLength = totalLen;
  into.payloadStart = at + headerLen;
  into.dropPayloadView();
  return undefined;
}

export function ipv4HeaderLen(header: Ipv4Header): number {
  return IPV4_HEADER_LEN + header.options.length;
}

export function ipv4BufferLen(repr: Ipv4Repr): number {
  return ipv4HeaderLen(repr) + repr.payload.length;
}

/**
 * Writes only the header at buf[0..], with a total length covering
 * `payloadLength` more bytes, for senders that build the payload in place
 * after it. Returns the header length.
 *
 * Throws RangeError for a header the wire format cannot express: options
 * not a multiple of 4 bytes or over 40, a fragment offset not a multiple of 8
 * or over 65528, a total length over 65535, or a buffer too small.
 */
export function emitIpv4Header(
  header: Ipv4Header,
  buf: Uint8Array,
  payloadLength: number,
  opts?: Ipv4EmitOptions,
): number {
  return emitIpv4HeaderAt(header, buf, 0, payloadLength, opts?.computeChecksum ?? true);
}

/**
 * emitIpv4Header at buf[at..], without making a view of `buf` (issue 9: the
 * stack's send path writes the header after the link header's headroom in
 * every frame). Throws RangeError as emitIpv4Header does.
 */
export function emitIpv4HeaderAt(header: Ipv4Header, buf: Uint8Array, at: number, payloadLength: number, computeChecksum = true): number {
  const optLen = header.options.length;
  if (optLen % 4 !== 0 || optLen > IPV4_MAX_OPTIONS_LEN) {
    throw new RangeError(`emitIpv4: options of ${optLen} bytes; need a multiple of 4, at most ${IPV4_MAX_OPTIONS_LEN}`);
  }
  const off = header.fragmentOffset;
  if (!Number.isInteger(off) || off < 0 || off % 8 !== 0 || off > MAX_FRAGMENT_OFFSET) {
    throw new RangeError(`emitIpv4: fragment offset ${off} is not a multiple of 8 in 0..${MAX_FRAGMENT_OFFSET}`);
  }
  const headerLen = IPV4_HEADER_LEN + optLen;
  const totalLen = headerLen + payloadLength;
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || totalLen > IPV4_MAX_PACKET_LEN) {
    throw new RangeError(`emitIpv4: total length ${totalLen} exceeds ${IPV4_MAX_PACKET_LEN}`);
  }
  if (!(at >= 0) || buf.length - at < headerLen) throw new RangeError(`emitIpv4: buffer of ${buf.length - at} bytes, need ${headerLen}`);
  buf[at] = 0x40 | (headerLen >>> 2);
  buf[at + 1] = ((header.dscp & 0x3f) << 2) | (header.ecn & 3);
  writeU16(buf, at + 2, totalLen);
  writeU16(buf, at + 4, header.identification);
  writeU16(buf, at + 6, (header.dontFragment ? FLAG_DF : 0) | (header.moreFragments ? FLAG_MF : 0) | (off / 8));
  buf[at + 8] = header.ttl & 0xff;
  buf[at + 9] = header.protocol & 0xff;
  writeU16(buf, at + 10, 0);
  writeIpv4(buf, at + 12, header.src);
  writeIpv4(buf, at + 16, header.dst);
  if (optLen !== 0) buf.set(header.options, at + IPV4_HEADER_LEN);
  if (computeChecksum) {
    // checksumAddRange sums in place only from an even offset (else it makes the view itself).
    writeU16(buf, at + 10, checksumFinish(checksumAddRange(0, buf, at, at + headerLen)));
  }
  return headerLen;
}

/**
 * emitIpv4HeaderAt of a 20-byte header (no options) of an unfragmented
 * datagram (offset 0, MF clear), the one every datagram a host sends whole
 * has: the checksum is summed from the field values (RFC 1071 2: the sum of
 * the header's 16-bit words) rather than read back from the bytes written,
 * and nothing is checked: the caller guarantees a whole `payloadLength`
 * with total length at most 65535 and 20 bytes of room at buf[at..]
 * (issue 9: the stack's send path for a connection's segments).
 */
export function emitIpv4PlainHeaderAt(
  buf: Uint8Array,
  at: number,
  src: Ipv4Address,
  dst: Ipv4Address,
  protocol: number,
  ttl: number,
  tos: number,
  identification: number,
  dontFragment: boolean,
  payloadLength: number,
): void {
  const w0 = 0x4500 | (tos & 0xff);
  const total = IPV4_HEADER_LEN + payloadLength;
  const flags = dontFragment ? FLAG_DF : 0;
  const w4 = ((ttl & 0xff) << 8) | (protocol & 0xff);
  const srcHi = src >>> 16;
  const srcLo = src & 0xffff;
  const dstHi = dst >>> 16;
  const dstLo = dst & 0xffff;
  let sum = w0 + total + identification + flags + w4 + srcHi + srcLo + dstHi + dstLo;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  const checksum = ~sum & 0xffff;
  buf[at] = 0x45;
  buf[at + 1] = tos & 0xff;
  buf[at + 2] = total >>> 8;
  buf[at + 3] = total & 0xff;
  buf[at + 4] = identification >>> 8;
  buf[at + 5] = identification & 0xff;
  buf[at + 6] = flags >>> 8;
  buf[at + 7] = 0;
  buf[at + 8] = ttl & 0xff;
  buf[at + 9] = protocol & 0xff;
  buf[at + 10] = checksum >>> 8;
  buf[at + 11] = checksum & 0xff;
  buf[at + 12] = srcHi >>> 8;
  buf[at + 13] = srcHi & 0xff;
  buf[at + 14] = srcLo >>> 8;
  buf[at + 15] = srcLo & 0xff;
  buf[at + 16] = dstHi >>> 8;
  buf[at + 17] = dstHi & 0xff;
  buf[at + 18] = dstLo >>> 8;
  buf[at + 19] = dstLo & 0xff;
}

/** Writes header and payload at buf[0..]; returns the total length. Throws RangeError as emitIpv4Header does. */
export function emitIpv4(repr: Ipv4Repr, buf: Uint8Array, opts?: Ipv4EmitOptions): number {
  const len = ipv4BufferLen(repr);
  if (buf.length < len) throw new RangeError(`emitIpv4: buffer of ${buf.length} bytes, need ${len}`);
  const headerLen = emitIpv4Header(repr, buf, repr.payload.length, opts);
  buf.set(repr.payload, headerLen);
  return len;
}

/** Option type octets (IANA "IP Option Numbers"), including the copied and class bits. */
export const Ipv4OptionType = {
  EndOfList: 0,
  Nop: 1,
  RecordRoute: 7,
  Timestamp: 68,
  Security: 130,
  LooseSourceRoute: 131,
  StreamId: 136,
  StrictSourceRoute: 137,
  RouterAlert: 148,
} as const;
export type Ipv4OptionType = (typeof Ipv4OptionType)[keyof typeof Ipv4OptionType];

export interface Ipv4Option {
  /** Offset of the option's type octet within the options bytes. */
  readonly offset: number;
  readonly type: number;
  /** The option's whole length: 1 for End of List and No-Operation, else its length octet. */
  readonly length: number;
  /** The bytes after the type and length octets (a view); empty for End of List and No-Operation. */
  readonly data: Uint8Array;
}

/**
 * Walks raw header options (RFC 791 3.1 "Options") for display: one entry per
 * option, ending after End of List (the rest is padding) or at the first
 * malformed option, which is yielded as a 'bad-option' failure. Never throws.
 * The stack itself does not act on options.
 */
export function* ipv4Options(options: Uint8Array): Generator<ParseResult<Ipv4Option>, void, undefined> {
  let at = 0;
  while (at < options.length) {
    const type = options[at]!;
    if (type === Ipv4OptionType.EndOfList || type === Ipv4OptionType.Nop) {
      yield ok({ offset: at, type, length: 1, data: options.subarray(at + 1, at + 1) });
      if (type === Ipv4OptionType.EndOfList) return;
      at += 1;
      continue;
    }
    // Every other option is type, length (counting both octets), data.
    const length = options[at + 1];
    if (length === undefined || length < 2 || at + length > options.length) {
      yield fail('bad-option');
      return;
    }
    yield ok({ offset: at, type, length, data: options.subarray(at + 2, at + length) });
    at += length;
  }
}

/**
 * A zero-copy view of an IPv4 packet for code that reads or rewrites a few
 * fields in place (forwarding decrements the TTL, a NAT rewrites addresses).
 * `Ipv4Packet.of` checks what the getters rely on (version, IHL and total
 * length against the buffer); it does not verify the checksum.
 */
export class Ipv4Packet {
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The view over exactly `total length` bytes, or undefined when the header is unusable. */
  static of(bytes: Uint8Array): Ipv4Packet | undefined {
    if (bytes.length < IPV4_HEADER_LEN || bytes[0]! >>> 4 !== 4) return undefined;
    const headerLen = (bytes[0]! & 0x0f) * 4;
    const totalLen = readU16(bytes, 2);
    if (headerLen < IPV4_HEADER_LEN || totalLen < headerLen || totalLen > bytes.length) return undefined;
    return new Ipv4Packet(bytes.subarray(0, totalLen));
  }

  get headerLen(): number {
    return (this.bytes[0]! & 0x0f) * 4;
  }

  get dscp(): number {
    return this.bytes[1]! >>> 2;
  }

  get ecn(): number {
    return this.bytes[1]! & 3;
  }

  get totalLength(): number {
    return readU16(this.bytes, 2);
  }

  get identification(): number {
    return readU16(this.bytes, 4);
  }

  get dontFragment(): boolean {
    return (readU16(this.bytes, 6) & FLAG_DF) !== 0;
  }

  get moreFragments(): boolean {
    return (readU16(this.bytes, 6) & FLAG_MF) !== 0;
  }

  /** In bytes. */
  get fragmentOffset(): number {
    return (readU16(this.bytes, 6) & OFFSET_MASK) * 8;
  }

  get ttl(): number {
    return this.bytes[8]!;
  }

  /** Leaves the checksum stale: call fillChecksum() after the last change. */
  set ttl(v: number) {
    this.bytes[8] = v & 0xff;
  }

  get protocol(): number {
    return this.bytes[9]!;
  }

  get checksum(): number {
    return readU16(this.bytes, 10);
  }

  get src(): Ipv4Address {
    return readIpv4(this.bytes, 12);
  }

  /** Leaves the checksum stale: call fillChecksum() after the last change. */
  set src(a: Ipv4Address) {
    writeIpv4(this.bytes, 12, a);
  }

  get dst(): Ipv4Address {
    return readIpv4(this.bytes, 16);
  }

  /** Leaves the checksum stale: call fillChecksum() after the last change. */
  set dst(a: Ipv4Address) {
    writeIpv4(this.bytes, 16, a);
  }

  get options(): Uint8Array {
    return this.bytes.subarray(IPV4_HEADER_LEN, this.headerLen);
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLen);
  }

  checksumValid(): boolean {
    return checksumRangeValid(this.bytes, 0, this.headerLen);
  }

  /** Recomputes the header checksum in place. */
  fillChecksum(): void {
    writeU16(this.bytes, 10, 0);
    writeU16(this.bytes, 10, internetChecksum(this.bytes.subarray(0, this.headerLen)));
  }
}
