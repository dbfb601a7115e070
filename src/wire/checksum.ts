/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * A checksum is computed in three steps: add the bytes (and for TCP/UDP the
 * pseudo-header) into an unfolded running sum, fold the carries into 16 bits,
 * and take the one's complement. `internetChecksum` does all three.
 */

/**
 * Adds `data` as big-endian 16-bit words to an unfolded running `sum`. An odd
 * final byte is padded with zero (RFC 1071 4.1); only the last chunk of a
 * multi-chunk sum may have odd length.
 */
export function checksumAdd(sum: number, data: Uint8Array): number {
  const n = data.length;
  let i = 0;
  for (; i + 1 < n; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (i < n) sum += data[i]! << 8;
  return sum;
}

/** Folds the carries of an unfolded sum into 16 bits (end-around carry). */
export function checksumFold(sum: number): number {
  // The sum may exceed 32 bits: fold with arithmetic, not bit operators, first.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** Folds and complements: the value to store in the checksum field. */
export function checksumFinish(sum: number): number {
  return ~checksumFold(sum) & 0xffff;
}

/** The checksum of `data`, starting from an unfolded `initial` sum (e.g. a pseudo-header). */
export function internetChecksum(data: Uint8Array, initial = 0): number {
  return checksumFinish(checksumAdd(initial, data));
}

/** The unfolded sum of the IPv4 pseudo-header for TCP/UDP (RFC 9293 3.1, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/**
 * Incremental update when one 16-bit word of the covered data changes from
 * `oldWord` to `newWord` (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
 */
export function checksumAdjust(checksum: number, oldWord: number, newWord: number): number {
  const sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~checksumFold(sum) & 0xffff;
}

/** Incremental update for a 32-bit field (e.g. an IPv4 address or sequence number). */
export function checksumAdjust32(checksum: number, oldValue: number, newValue: number): number {
  const c = checksumAdjust(checksum, oldValue >>> 16, newValue >>> 16);
  return checksumAdjust(c, oldValue & 0xffff, newValue & 0xffff);
}

/** True when `data` (with its checksum field in place, plus `initial`) sums to all ones. */
export function checksumValid(data: Uint8Array, initial = 0): boolean {
  return checksumFold(checksumAdd(initial, data)) === 0xffff;
}
