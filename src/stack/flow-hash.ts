/**
 * Helpers shared by the TCP and UDP demultiplexers: the SO_REUSEPORT flow
 * hash and the wildcard-aware address overlap test used for bind conflicts.
 */

import type { Ipv4Address } from '../wire/address.js';

/** A small deterministic hash (FNV-1a over 16-bit halves) of a 4-tuple, to spread flows over a SO_REUSEPORT group. */
export function flowHash(src: number, sport: number, dst: number, dport: number): number {
  let h = 0x811c9dc5;
  for (const v of [src, sport, dst, dport]) {
    h = Math.imul(h ^ (v >>> 16), 0x01000193);
    h = Math.imul(h ^ (v & 0xffff), 0x01000193);
  }
  return h >>> 0;
}

/** Whether two local bind addresses can collide: either is the wildcard, or they are equal. */
export function addressesOverlap(a: Ipv4Address, b: Ipv4Address): boolean {
  return a === 0 || b === 0 || a === b;
}
