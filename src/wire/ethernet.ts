/**
 * Ethernet II frames (IEEE 802.3 with an EtherType, RFC 894 for IPv4).
 *
 * The frame check sequence is not part of the bytes here: NICs, TAP devices
 * and pcap captures all strip it, and our memory links never add one.
 */
import { ok, fail } from './result.js';
import type { ParseResult } from './result.js';
import type { MacAddress } from './address.js';
import { readMac, writeMac } from './address.js';
import { readU16, writeU16 } from './bytes.js';

/** EtherType values (IEEE registry) the stack cares about. */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  /** An IEEE 802.1Q tag follows; this parser reports it and does not look inside. */
  Vlan: 0x8100,
  Ipv6: 0x86dd,
} as const;
export type EtherType = (typeof EtherType)[keyof typeof EtherType];

/** Destination MAC, source MAC, EtherType. */
export const ETHERNET_HEADER_LEN = 14;

/**
 * The smallest frame on the wire without its 4-byte FCS (64 - 4). Shorter
 * frames are padded by the sender, so received payloads may carry trailing
 * zeros that the upper layer removes using its own length field.
 */
export const ETHERNET_MIN_FRAME_LEN = 60;

export interface EthernetHeader {
  readonly dst: MacAddress;
  readonly src: MacAddress;
  /** Any 16-bit value; values below 0x0600 are 802.3 lengths, which the stack drops as unknown. */
  readonly ethertype: number;
}

export interface EthernetRepr extends EthernetHeader {
  /** Everything after the header, link padding included. A view on parse. */
  readonly payload: Uint8Array;
}

export interface EthernetEmitOptions {
  /**
   * Pad the frame with zeros up to this length (use ETHERNET_MIN_FRAME_LEN
   * for a real wire). Virtual links need no padding, so the default is none.
   */
  readonly minFrameLen?: number;
}

export function parseEthernet(bytes: Uint8Array): ParseResult<EthernetRepr> {
  if (bytes.length < ETHERNET_HEADER_LEN) return fail('truncated');
  return ok({
    dst: readMac(bytes, 0),
    src: readMac(bytes, 6),
    ethertype: readU16(bytes, 12),
    payload: bytes.subarray(ETHERNET_HEADER_LEN),
  });
}

export function ethernetHeaderLen(_repr?: EthernetHeader): number {
  return ETHERNET_HEADER_LEN;
}

/** Header + payload, raised to `opts.minFrameLen` when given. */
export function ethernetBufferLen(repr: EthernetRepr, opts?: EthernetEmitOptions): number {
  return Math.max(ETHERNET_HEADER_LEN + repr.payload.length, opts?.minFrameLen ?? 0);
}

/** Writes only the 14-byte header, for senders that place the payload themselves. Returns 14. */
export function emitEthernetHeader(header: EthernetHeader, buf: Uint8Array): number {
  if (buf.length < ETHERNET_HEADER_LEN) {
    throw new RangeError(`emitEthernetHeader: buffer of ${buf.length} bytes, need ${ETHERNET_HEADER_LEN}`);
  }
  writeMac(buf, 0, header.dst);
  writeMac(buf, 6, header.src);
  writeU16(buf, 12, header.ethertype);
  return ETHERNET_HEADER_LEN;
}

/** Writes the whole frame (and zero padding up to `opts.minFrameLen`) at buf[0..]; returns its length. */
export function emitEthernet(repr: EthernetRepr, buf: Uint8Array, opts?: EthernetEmitOptions): number {
  const len = ethernetBufferLen(repr, opts);
  if (buf.length < len) throw new RangeError(`emitEthernet: buffer of ${buf.length} bytes, need ${len}`);
  emitEthernetHeader(repr, buf);
  const end = ETHERNET_HEADER_LEN + repr.payload.length;
  buf.set(repr.payload, ETHERNET_HEADER_LEN);
  // The buffer may be reused; padding must not leak earlier contents onto the wire.
  buf.fill(0, end, len);
  return len;
}

/**
 * A zero-copy view of a frame, for code that only peeks at a field or two
 * (a demultiplexer, a sniffer). Construct it only over at least 14 bytes,
 * e.g. after `parseEthernet` succeeded or via `EthernetFrame.of`.
 */
export class EthernetFrame {
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The view, or undefined when `bytes` cannot hold a header. */
  static of(bytes: Uint8Array): EthernetFrame | undefined {
    return bytes.length < ETHERNET_HEADER_LEN ? undefined : new EthernetFrame(bytes);
  }

  get dst(): MacAddress {
    return readMac(this.bytes, 0);
  }

  set dst(m: MacAddress) {
    writeMac(this.bytes, 0, m);
  }

  get src(): MacAddress {
    return readMac(this.bytes, 6);
  }

  set src(m: MacAddress) {
    writeMac(this.bytes, 6, m);
  }

  get ethertype(): number {
    return readU16(this.bytes, 12);
  }

  set ethertype(v: number) {
    writeU16(this.bytes, 12, v);
  }

  get payload(): Uint8Array {
    return this.bytes.subarray(ETHERNET_HEADER_LEN);
  }
}
