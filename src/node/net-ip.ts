/**
 * isIP, isIPv4 and isIPv6 of the `net` module adapter, answering as Node's
 * net.isIP does (a dotted quad or an RFC 4291 2.2 text form, with an
 * optional zone); sockets here are IPv4, so only isIPv4 addresses connect.
 */
import { parseIpv4Address } from '../wire/address.js';

export function isIPv4(input: string): boolean {
  return typeof input === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(input) && parseIpv4Address(input) !== undefined;
}

export function isIPv6(input: string): boolean {
  if (typeof input !== 'string' || !input.includes(':')) return false;
  const [addr = '', zone] = input.split('%');
  if (zone !== undefined && zone.length === 0) return false;
  let head = addr;
  let groupsAllowed = 8;
  // A trailing dotted quad counts as two groups (::ffff:1.2.3.4).
  const lastColon = addr.lastIndexOf(':');
  if (addr.slice(lastColon + 1).includes('.')) {
    if (!isIPv4(addr.slice(lastColon + 1))) return false;
    head = addr.slice(0, lastColon + 1) + '0';
    groupsAllowed = 7;
  }
  const hex = /^[0-9a-fA-F]{1,4}$/;
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const parts = halves.map((h) => (h === '' ? [] : h.split(':')));
  if (!parts.every((p) => p.every((g) => hex.test(g)))) return false;
  const n = parts.reduce((a, p) => a + p.length, 0);
  return halves.length === 2 ? n < groupsAllowed : n === groupsAllowed;
}

/** 4, 6 or 0, as Node's net.isIP. */
export function isIP(input: string): 0 | 4 | 6 {
  if (isIPv4(input)) return 4;
  if (isIPv6(input)) return 6;
  return 0;
}
