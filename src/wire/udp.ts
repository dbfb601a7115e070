/**
 * UDP datagrams (RFC 768) over IPv4.
 *
 * Zero-copy sending: `emitUdpHeader` writes only the 8 header bytes, for a
 * sender whose payload lives elsewhere (a socket buffer, several chunks).
 * With a pseudo-header it stores a *partial* checksum; the sender completes
 * it with `finishUdpChecksum(header, payloadChunks)` once it knows where the
 * payload bytes are. See emitUdpHeader for the exact contract.
 */
import { IpProtocol } from './ipv4.js';
import type { Ipv4Address } from './address.js';
import { readU16, writeU16 } from './bytes.js';
import { checksumAdd, checksumAddChunks, checksumFinish, checksumFold, checksumValid, pseudoHeaderSum } from './checksum.js';
import { fail, ok } from './result.js';
import type { ParseResult } from './result.js';


export const UDP_HEADER_LEN = 8;

/** The largest payload one UDP length field can describe. */
export const UDP_MAX_PAYLOAD_LEN = 0xffff - UDP_HEADER_LEN;

export interface UdpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  /** On parse: a view of the datagram's data, up to the UDP length field. */
  readonly payload: Uint8Array;
}

/** The IPv4 addresses that the UDP checksum covers (RFC 768 pseudo-header). */
export interface UdpPseudoHeader {
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
}

/**
 * Parses a UDP datagram. `bytes` is the IP payload; bytes past the UDP length
 * field (link padding) are not part of the payload. With `pseudo` the
 * checksum is verified, except when it is 0: RFC 768 lets an IPv4 sender
 * leave it out ("all zero transmitted checksum value means that the
 * transmitter generated no checksum").
 */
export function parseUdp(bytes: Uint8Array, pseudo?: UdpPseudoHeader): ParseResult<UdpRepr> {
  if (bytes.length < UDP_HEADER_LEN) return fail('truncated');
  const length = readU16(bytes, 4);
  if (length < UDP_HEADER_LEN || length > bytes.length) return fail('bad-length');
  const datagram = bytes.subarray(0, length);
  if (pseudo !== undefined && readU16(bytes, 6) !== 0) {
    const initial = pseudoHeaderSum(pseudo.src, pseudo.dst, IpProtocol.Udp, length);
    if (!checksumValid(datagram, initial)) return fail('bad-checksum');
  }
  return ok({
    srcPort: readU16(bytes, 0),
    dstPort: readU16(bytes, 2),
    payload: datagram.subarray(UDP_HEADER_LEN),
  });
}

/** Always 8; takes the repr for the uniform packet-format API. */
export function udpHeaderLen(_repr?: UdpRepr): number {
  return UDP_HEADER_LEN;
}

export function udpBufferLen(repr: UdpRepr): number {
  return UDP_HEADER_LEN + repr.payload.length;
}

function checkHeader(ports: Pick<UdpRepr, 'srcPort' | 'dstPort'>, buf: Uint8Array, payloadLength: number): void {
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || payloadLength > UDP_MAX_PAYLOAD_LEN) {
    throw new RangeError(`UDP payload length out of range: ${payloadLength}`);
  }
  checkPort(ports.srcPort);
  checkPort(ports.dstPort);
  if (buf.length < UDP_HEADER_LEN) throw new RangeError(`UDP header needs 8 bytes, buffer has ${buf.length}`);
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`UDP port out of range: ${port}`);
}

/**
 * RFC 768: "If the computed checksum is zero, it is transmitted as all ones",
 * because zero on the wire means "no checksum".
 */
function udpChecksumField(sum: number): number {
  const c = checksumFinish(sum);
  return c === 0 ? 0xffff : c;
}

/**
 * Writes the whole datagram at buf[0..] and returns its length. With `pseudo`
 * the checksum is computed; without it the field is 0 (no checksum, which
 * RFC 768 allows over IPv4). Throws RangeError if `buf` is too small or a
 * field does not fit.
 */
export function emitUdp(repr: UdpRepr, buf: Uint8Array, pseudo?: UdpPseudoHeader): number {
  const len = udpBufferLen(repr);
  checkHeader(repr, buf, repr.payload.length);
  if (buf.length < len) throw new RangeError(`UDP datagram needs ${len} bytes, buffer has ${buf.length}`);
  writeHeader(repr, buf, len);
  buf.set(repr.payload, UDP_HEADER_LEN);
  if (pseudo !== undefined) {
    const sum = checksumAdd(pseudoHeaderSum(pseudo.src, pseudo.dst, IpProtocol.Udp, len), buf.subarray(0, len));
    writeU16(buf, 6, udpChecksumField(sum));
  }
  return len;
}

function writeHeader(ports: Pick<UdpRepr, 'srcPort' | 'dstPort'>, buf: Uint8Array, length: number): void {
  writeU16(buf, 0, ports.srcPort);
  writeU16(buf, 2, ports.dstPort);
  writeU16(buf, 4, length);
  writeU16(buf, 6, 0);
}

/**
 * Writes the 8-byte header for a payload of `payloadLength` bytes that the
 * caller sends from elsewhere; returns 8.
 *
 * Without `pseudo` the checksum field is 0 (no checksum) and the header is
 * complete. With `pseudo` the checksum field holds a PARTIAL sum: the folded,
 * not complemented, one's complement sum of the pseudo-header and the
 * header. Before sending, the caller must call
 * `finishUdpChecksum(header, payloadChunks)`, which adds the payload and
 * stores the final checksum. (A link that offloads checksums can instead be
 * told to sum the payload and add it to this field.)
 */
export function emitUdpHeader(
  repr: Pick<UdpRepr, 'srcPort' | 'dstPort'>,
  buf: Uint8Array,
  payloadLength: number,
  pseudo?: UdpPseudoHeader,
): number {
  checkHeader(repr, buf, payloadLength);
  const length = UDP_HEADER_LEN + payloadLength;
  writeHeader(repr, buf, length);
  if (pseudo !== undefined) {
    const sum = checksumAdd(
      pseudoHeaderSum(pseudo.src, pseudo.dst, IpProtocol.Udp, length),
      buf.subarray(0, UDP_HEADER_LEN),
    );
    writeU16(buf, 6, checksumFold(sum));
  }
  return UDP_HEADER_LEN;
}

/**
 * Completes the partial checksum that `emitUdpHeader(..., pseudo)` left in
 * `header` (its first 8 bytes), given the payload as one view or as chunks in
 * order. Chunks may have any length, odd ones included. The chunks' total
 * length must be the payloadLength given to emitUdpHeader.
 */
export function finishUdpChecksum(header: Uint8Array, payload: Uint8Array | readonly Uint8Array[]): void {
  const sum = checksumAddChunks(readU16(header, 6), payload);
  writeU16(header, 6, udpChecksumField(sum));
}

