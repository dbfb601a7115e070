/**
 * ARP for IPv4 over Ethernet (RFC 826). Other hardware or protocol types
 * (ARCnet, IPv6-less oddities, RARP) are reported as 'bad-type': the stack
 * only resolves IPv4 addresses to 48-bit MACs.
 */
import { ok, fail } from './result.js';
import type { ParseResult } from './result.js';
import type { Ipv4Address, MacAddress } from './address.js';
import { readIpv4, readMac, writeIpv4, writeMac } from './address.js';
import { readU16, writeU16 } from './bytes.js';

/** ar$op values (RFC 826; 3/4 are RARP, RFC 903, and are not handled). */
export const ArpOperation = {
  Request: 1,
  Reply: 2,
} as const;
export type ArpOperation = (typeof ArpOperation)[keyof typeof ArpOperation];

/** ar$hrd for Ethernet (RFC 826 calls it "Ethernet (10Mb)"). */
export const ARP_HARDWARE_ETHERNET = 1;
/** ar$pro: the protocol type uses the EtherType space (IPv4). */
export const ARP_PROTOCOL_IPV4 = 0x0800;
/** The fixed length of an Ethernet/IPv4 ARP packet. */
export const ARP_PACKET_LEN = 28;

/** The part that identifies the packet format: hrd, pro, hln, pln. */
const FIXED_PREFIX_LEN = 6;

export interface ArpRepr {
  readonly operation: ArpOperation;
  readonly senderMac: MacAddress;
  readonly senderIp: Ipv4Address;
  /** Ignored in requests (usually zero; RFC 5227 probes also leave it zero). */
  readonly targetMac: MacAddress;
  readonly targetIp: Ipv4Address;
}

/**
 * Bytes past the 28 of the packet are Ethernet padding (an ARP packet is
 * always shorter than the 46-byte minimum payload) and are ignored.
 */
export function parseArp(bytes: Uint8Array): ParseResult<ArpRepr> {
  // Look at the format fields first, so a packet of some other hardware type
  // is reported as what it is rather than as a short Ethernet/IPv4 one.
  if (bytes.length < FIXED_PREFIX_LEN) return fail('truncated');
  if (
    readU16(bytes, 0) !== ARP_HARDWARE_ETHERNET ||
    readU16(bytes, 2) !== ARP_PROTOCOL_IPV4 ||
    bytes[4] !== 6 ||
    bytes[5] !== 4
  ) {
    return fail('bad-type');
  }
  if (bytes.length < 8) return fail('truncated');
  const op = readU16(bytes, 6);
  if (op !== ArpOperation.Request && op !== ArpOperation.Reply) return fail('bad-type');
  if (bytes.length < ARP_PACKET_LEN) return fail('truncated');
  return ok({
    operation: op,
    senderMac: readMac(bytes, 8),
    senderIp: readIpv4(bytes, 14),
    targetMac: readMac(bytes, 18),
    targetIp: readIpv4(bytes, 24),
  });
}

export function arpHeaderLen(_repr?: ArpRepr): number {
  return ARP_PACKET_LEN;
}

/** ARP has no payload: the buffer length is the packet length, 28. */
export function arpBufferLen(_repr?: ArpRepr): number {
  return ARP_PACKET_LEN;
}

/** Writes the 28-byte packet at buf[0..]; returns 28. */
export function emitArp(repr: ArpRepr, buf: Uint8Array): number {
  if (buf.length < ARP_PACKET_LEN) {
    throw new RangeError(`emitArp: buffer of ${buf.length} bytes, need ${ARP_PACKET_LEN}`);
  }
  writeU16(buf, 0, ARP_HARDWARE_ETHERNET);
  writeU16(buf, 2, ARP_PROTOCOL_IPV4);
  buf[4] = 6;
  buf[5] = 4;
  writeU16(buf, 6, repr.operation);
  writeMac(buf, 8, repr.senderMac);
  writeIpv4(buf, 14, repr.senderIp);
  writeMac(buf, 18, repr.targetMac);
  writeIpv4(buf, 24, repr.targetIp);
  return ARP_PACKET_LEN;
}
