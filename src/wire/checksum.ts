/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * A checksum is computed in three steps: add the bytes (and for TCP/UDP the
 * pseudo-header) into an unfolded running sum, fold the carries into 16 bits,
 * and take the one's complement. `internetChecksum` does all three.
 *
 * An "unfolded sum" is any non-negative number congruent, modulo 0xffff, to
 * the one's-complement sum of the words it covers, and zero only when they are
 * all zero. Two sums of the same bytes need not be equal before folding (the
 * fast path below folds part of its work early); after `checksumFold` they are.
 */

import { wasmWordSum } from './checksum-wasm.js';

/**
 * Below this length the byte loop wins: the word loop must first fetch
 * `data.buffer` and make a Uint32Array view, about 40 ns together on V8
 * (Node 20), which is what the byte loop needs for ~100 bytes.
 */
const WORD_PATH_MIN = 128;

/**
 * Words summed before folding. Each of the two float64 accumulators adds at
 * most half of them, every word < 2^32, so an accumulator stays below
 * 2^19 * 2^32 = 2^51 < 2^53 and the sum stays exact.
 */
const BLOCK_WORDS = 1 << 20;

/** Whether a Uint32Array reads memory little-endian (true everywhere Node runs today, but not promised). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Adds `data` as big-endian 16-bit words to an unfolded running `sum`. An odd
 * final byte is padded with zero (RFC 1071 4.1); only the last chunk of a
 * multi-chunk sum may have odd length.
 */
export function checksumAdd(sum: number, data: Uint8Array): number {
  const n = data.length;
  if (n < WORD_PATH_MIN) return sum + addBytes(data, 0, n);
  return sum + addWords(data, 0, n);
}

/**
 * checksumAdd(sum, data.subarray(from, to)) without making the view: for
 * headers summed per packet, and a segment's payload summed in its frame
 * (issue 9: a subarray costs about as much as summing 20 bytes). `from`
 * must be even (the words of the range are then the words of `data`);
 * other ranges take the subarray path.
 */
export function checksumAddRange(sum: number, data: Uint8Array, from: number, to: number): number {
  if ((from & 1) === 0 && from >= 0 && to <= data.length && from <= to) {
    return sum + (to - from < WORD_PATH_MIN ? addBytes(data, from, to) : addWords(data, from, to));
  }
  return checksumAdd(sum, data.subarray(from, to));
}

/**
 * Buffers whose word view is kept for the next sum (below): a stack's
 * frames are cut from a few 64 KiB slabs, so consecutive sums mostly read
 * the same buffers, and a Uint32Array per sum was a large share of a bulk
 * transfer's garbage (issue 9). Small buffers only, so a cache entry never
 * keeps much memory alive.
 */
const WORD_CACHE_MAX_BYTES = 1 << 20;
let cachedBuffer0: ArrayBufferLike | undefined;
let cachedWords0: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
let cachedBuffer1: ArrayBufferLike | undefined;
let cachedWords1: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

const wordViews = new WeakMap<ArrayBufferLike, Uint32Array<ArrayBufferLike>>();

/** A Uint32Array over all whole words of `buffer`, from the caches when it can be. */
function wordsOf(buffer: ArrayBufferLike): Uint32Array {
  if (buffer === cachedBuffer0) return cachedWords0;
  if (buffer === cachedBuffer1) {
    // Most recent first.
    const w = cachedWords1;
    cachedBuffer1 = cachedBuffer0;
    cachedWords1 = cachedWords0;
    cachedBuffer0 = buffer;
    cachedWords0 = w;
    return w;
  }
  if (buffer.byteLength > WORD_CACHE_MAX_BYTES) return new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  // Behind the two entries, a weak map: a stack cycles its frames through a
  // few dozen slabs. It keeps nothing alive (an entry lives as long as its buffer).
  let w = wordViews.get(buffer);
  if (w === undefined) {
    w = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    wordViews.set(buffer, w);
  }
  cachedBuffer1 = cachedBuffer0;
  cachedWords1 = cachedWords0;
  cachedBuffer0 = buffer;
  cachedWords0 = w;
  return w;
}

/**
 * From this length on, the WebAssembly SIMD sum (checksum-wasm.ts) wins: its
 * copy into the module's memory and the call cost about what the loop below
 * needs for ~200 bytes.
 */
const WASM_PATH_MIN = 512;
let wasmPath = true;

/**
 * For tests and benchmarks: whether long sums may take the WebAssembly path
 * (where the host has it). Returns the previous setting.
 */
export function useWasmChecksum(on: boolean): boolean {
  const was = wasmPath;
  wasmPath = on;
  return was;
}

/** The unfolded sum of data[from..to), `from` even, at least WORD_PATH_MIN bytes. */
function addWords(data: Uint8Array, from: number, to: number): number {
  if (wasmPath && to - from >= WASM_PATH_MIN) {
    const s = wasmWordSum(data, from, to);
    if (s >= 0) return s;
  }
  // Split the bytes into a head (up to 3 bytes, until the address is 4-byte
  // aligned, which a Uint32Array requires), a middle of whole 32-bit words,
  // and a tail (up to 3 bytes).
  const start = data.byteOffset + from;
  const head = (4 - (start & 3)) & 3;
  const words = (to - from - head) >>> 2;
  const middleEnd = from + head + words * 4;

  // The one justified exception to "never lay a Uint32Array over packet
  // bytes": the one's-complement sum does not depend on byte order
  // (RFC 1071 2(B)), and 32-bit words can be summed and folded down to 16 bits
  // afterwards (RFC 1071 2(C), since 2^16 = 1 mod 0xffff). So we add
  // host-order 32-bit words, the fastest read JavaScript offers (about 5x the
  // byte loop), and fix the byte order of the folded 16-bit result once.
  // No field is ever read this way.
  let u = wordsOf(data.buffer);
  let first = (start + head) >>> 2;
  if (first + words > u.length) {
    // The cached view no longer covers it (a buffer resized or detached since).
    u = new Uint32Array(data.buffer, start + head, words);
    first = 0;
  }
  const last = first + words;
  let middle = 0;
  for (let base = first; base < last; base += BLOCK_WORDS) {
    const end = base + BLOCK_WORDS < last ? base + BLOCK_WORDS : last;
    // Two float64 accumulators fed by balanced trees of 8 loads each: measured
    // fastest on V8 (Node 20, x86-64) among 1/2/4/8 accumulators, 4/8/16-word
    // unrolling, DataView.getUint32 and int32 halves (`w & 0xffff`, `w >>> 16`).
    // Float64, because a uint32 word does not fit an int32 and a float add is
    // exact below 2^53.
    let a = 0;
    let b = 0;
    let i = base;
    for (; i + 15 < end; i += 16) {
      a += u[i]! + u[i + 1]! + (u[i + 2]! + u[i + 3]!) + (u[i + 4]! + u[i + 5]! + (u[i + 6]! + u[i + 7]!));
      b += u[i + 8]! + u[i + 9]! + (u[i + 10]! + u[i + 11]!) + (u[i + 12]! + u[i + 13]! + (u[i + 14]! + u[i + 15]!));
    }
    for (; i < end; i++) a += u[i]!;
    middle += checksumFold(a + b);
  }
  middle = checksumFold(middle);

  // A host-order word starting at an even offset of `data` holds its bytes
  // swapped relative to the big-endian 16-bit words on a little-endian host;
  // one starting at an odd offset is already in the right order there.
  // Swapping the folded sum swaps every word in it (RFC 1071 2(B)). (`from`
  // is even, so offsets from it and from `data` agree in parity.)
  if (((head & 1) === 0) === HOST_LITTLE_ENDIAN) middle = ((middle & 0xff) << 8) | (middle >>> 8);

  return middle + addBytes(data, from, from + head) + addBytes(data, middleEnd, to);
}

/**
 * The big-endian word sum of data[from..to): a byte at an even offset of
 * `data` is a high byte, at an odd offset a low byte. Unrolled with two
 * accumulators; no folding, so keep `to - from` below ~2^37.
 */
function addBytes(data: Uint8Array, from: number, to: number): number {
  let a = 0;
  let b = 0;
  let i = from;
  if ((i & 1) === 1 && i < to) a += data[i++]!;
  for (; i + 7 < to; i += 8) {
    a += ((data[i]! << 8) | data[i + 1]!) + ((data[i + 2]! << 8) | data[i + 3]!);
    b += ((data[i + 4]! << 8) | data[i + 5]!) + ((data[i + 6]! << 8) | data[i + 7]!);
  }
  for (; i + 1 < to; i += 2) a += (data[i]! << 8) | data[i + 1]!;
  if (i < to) a += data[i]! << 8;
  return a + b;
}

/** Folds the carries of an unfolded sum into 16 bits (end-around carry). */
export function checksumFold(sum: number): number {
  // The sum may exceed 32 bits: fold with arithmetic, not bit operators. The
  // division by 2^16 is exact and, unlike `%`, needs no call into fmod.
  while (sum > 0xffff) {
    const high = Math.floor(sum / 0x10000);
    sum = sum - high * 0x10000 + high;
  }
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
 * `oldWord` to `newWord` (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')). Unlike
 * RFC 1141's eqn. 1 it never turns a correct 0x0000 into 0xffff (RFC 1624 3).
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

/** checksumValid of data[from..to) without making the view (see checksumAddRange): a received header or segment checked in its frame. */
export function checksumRangeValid(data: Uint8Array, from: number, to: number, initial = 0): boolean {
  return checksumFold(checksumAddRange(initial, data, from, to)) === 0xffff;
}

/**
 * Adds chunks to a running sum as if they were one contiguous buffer (a
 * segment whose payload is two views of a ring buffer). A chunk that starts at
 * an odd offset has its bytes in swapped word halves; the one's complement sum
 * commutes with byte swapping (RFC 1071 2(B)), so its folded sum is swapped
 * back. Chunks may have any length.
 */
export function checksumAddChunks(initial: number, payload: Uint8Array | readonly Uint8Array[]): number {
  if (payload instanceof Uint8Array) return checksumAdd(initial, payload);
  let sum = initial;
  let odd = false;
  // An index loop: for-of allocated an iterator per segment (issue 9).
  for (let i = 0; i < payload.length; i++) {
    const chunk = payload[i]!;
    let s = checksumFold(checksumAdd(0, chunk));
    if (odd) s = ((s & 0xff) << 8) | (s >>> 8);
    sum += s;
    if ((chunk.length & 1) === 1) odd = !odd;
  }
  return sum;
}
