/**
 * Link and network addresses as plain numbers: an IPv4 address is an unsigned
 * 32-bit integer (host value of the big-endian field), a MAC address a 48-bit
 * integer (exact in a double). Numbers compare with ===, hash well in Maps
 * and cost no allocation per packet.
 */
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';

export type Ipv4Address = number;
export type MacAddress = number;

export const IPV4_ANY: Ipv4Address = 0;
export const IPV4_BROADCAST: Ipv4Address = 0xffffffff;
export const IPV4_LOOPBACK: Ipv4Address = 0x7f000001;
export const MAC_BROADCAST: MacAddress = 0xffffffffffff;
export const MAC_ZERO: MacAddress = 0;

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses dotted-quad notation; undefined when `s` is not one. */
export function parseIpv4Address(s: string): Ipv4Address | undefined {
  const m = IPV4_RE.exec(s);
  if (m === null) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part[0] === '0') return undefined; // no octal ambiguity
    const n = Number(part);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

/** Like parseIpv4Address but throws a TypeError: for addresses written by programmers, not read off the wire. */
export function ipv4(s: string): Ipv4Address {
  const v = parseIpv4Address(s);
  if (v === undefined) throw new TypeError(`not an IPv4 address: ${JSON.stringify(s)}`);
  return v;
}

export function formatIpv4(a: Ipv4Address): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function readIpv4(b: Uint8Array, at: number): Ipv4Address {
  return readU32(b, at);
}

export function writeIpv4(b: Uint8Array, at: number, a: Ipv4Address): void {
  writeU32(b, at, a);
}

export function isIpv4Multicast(a: Ipv4Address): boolean {
  return a >>> 28 === 0xe;
}

export function isIpv4Broadcast(a: Ipv4Address): boolean {
  return a === IPV4_BROADCAST;
}

export function isIpv4Loopback(a: Ipv4Address): boolean {
  return a >>> 24 === 127;
}

/** The netmask of a prefix length 0..32. */
export function ipv4Netmask(prefixLength: number): Ipv4Address {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

const MAC_RE = /^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2}){5}$/;

export function parseMacAddress(s: string): MacAddress | undefined {
  if (!MAC_RE.test(s)) return undefined;
  return parseInt(s.replace(/[:-]/g, ''), 16);
}

export function mac(s: string): MacAddress {
  const v = parseMacAddress(s);
  if (v === undefined) throw new TypeError(`not a MAC address: ${JSON.stringify(s)}`);
  return v;
}

export function formatMac(m: MacAddress): string {
  const hi = Math.floor(m / 0x100000000);
  const lo = m >>> 0;
  const bytes = [(hi >>> 8) & 255, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255];
  return bytes.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function readMac(b: Uint8Array, at: number): MacAddress {
  return readU16(b, at) * 0x100000000 + readU32(b, at + 2);
}

export function writeMac(b: Uint8Array, at: number, m: MacAddress): void {
  writeU16(b, at, Math.floor(m / 0x100000000));
  writeU32(b, at + 2, m >>> 0);
}

/*
 * A MAC address as two 24-bit halves: small integers, where a 48-bit
 * MacAddress is a heap-allocated double. The per-frame paths (the memory
 * switch's learning and lookup, an interface's destination filter, a cached
 * route's Ethernet header) compare and write these (issue 9).
 */

/** The 24-bit half of a MAC address stored at b[at..at+3). */
export function readMacHalf(b: Uint8Array, at: number): number {
  return (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
}

/** Stores a 24-bit half of a MAC address at b[at..at+3). */
export function writeMacHalf(b: Uint8Array, at: number, half: number): void {
  b[at] = half >>> 16;
  b[at + 1] = (half >>> 8) & 0xff;
  b[at + 2] = half & 0xff;
}

/** The first three bytes of `m`, as readMacHalf reads them. */
export function macHighHalf(m: MacAddress): number {
  return Math.floor(m / 0x1000000);
}

/** The last three bytes of `m`, as readMacHalf reads them. */
export function macLowHalf(m: MacAddress): number {
  return m % 0x1000000;
}

export function isMacMulticast(m: MacAddress): boolean {
  return (Math.floor(m / 0x10000000000) & 1) === 1;
}
