/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed 64-bit hash, the F of RFC 6528 initial sequence numbers.
 *
 * API:
 *   const key = sipHashKey(bytes16)            // or sipHashKeyFromWords(w0..w3)
 *   const { hi, lo } = sipHash24(key, data)    // 64-bit result as two uint32
 *
 * The 64-bit lanes are held as pairs of uint32 halves in a small scratch
 * array, so no BigInt and no allocation on the hashing path (the result
 * object aside). Byte order follows the paper: the key and message words are
 * read little-endian, and the result `hi * 2^32 + lo` is the uint64 the
 * reference code returns (its bytes, little-endian, are the paper's
 * "output" column).
 */

/** A 128-bit key as four uint32: k0 = k0Hi:k0Lo, k1 = k1Hi:k1Lo (the paper's k0, k1). */
export interface SipHashKey {
  readonly k0Lo: number;
  readonly k0Hi: number;
  readonly k1Lo: number;
  readonly k1Hi: number;
}

/** A 64-bit SipHash result: `hi * 2^32 + lo`, both uint32. */
export interface SipHash64 {
  readonly hi: number;
  readonly lo: number;
}

function le32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** A key from 16 bytes (k0 = bytes 0..7 little-endian, k1 = bytes 8..15). */
export function sipHashKey(bytes: Uint8Array): SipHashKey {
  if (bytes.length !== 16) throw new RangeError(`SipHash key must be 16 bytes, got ${bytes.length}`);
  return { k0Lo: le32(bytes, 0), k0Hi: le32(bytes, 4), k1Lo: le32(bytes, 8), k1Hi: le32(bytes, 12) };
}

/** A key from four uint32 words, as drawn from an Rng: same as the bytes of w0..w3 little-endian. */
export function sipHashKeyFromWords(w0: number, w1: number, w2: number, w3: number): SipHashKey {
  return { k0Lo: w0 >>> 0, k0Hi: w1 >>> 0, k1Lo: w2 >>> 0, k1Hi: w3 >>> 0 };
}

// Lanes: v0 = s[1]:s[0], v1 = s[3]:s[2], v2 = s[5]:s[4], v3 = s[7]:s[6] (hi:lo).
// A Uint32Array wraps every store to 32 bits, which is exactly the modular
// arithmetic of each half. This array never holds packet bytes.
const s = new Uint32Array(8);

/** v[a] += v[b] (mod 2^64). */
function add(a: number, b: number): void {
  const lo = s[a]! + s[b]!;
  s[a + 1] = s[a + 1]! + s[b + 1]! + (lo > 0xffffffff ? 1 : 0);
  s[a] = lo;
}

/** v[a] = rotl(v[a], n) for 0 < n < 32. */
function rotl(a: number, n: number): void {
  const lo = s[a]!;
  const hi = s[a + 1]!;
  s[a + 1] = (hi << n) | (lo >>> (32 - n));
  s[a] = (lo << n) | (hi >>> (32 - n));
}

/** v[a] = rotl(v[a], 32): swap the halves. */
function swap(a: number): void {
  const lo = s[a]!;
  s[a] = s[a + 1]!;
  s[a + 1] = lo;
}

/** v[a] ^= v[b]. */
function xor(a: number, b: number): void {
  s[a] = s[a]! ^ s[b]!;
  s[a + 1] = s[a + 1]! ^ s[b + 1]!;
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function sipRound(): void {
  add(V0, V1);
  rotl(V1, 13);
  xor(V1, V0);
  swap(V0);
  add(V2, V3);
  rotl(V3, 16);
  xor(V3, V2);
  add(V0, V3);
  rotl(V3, 21);
  xor(V3, V0);
  add(V2, V1);
  rotl(V1, 17);
  xor(V1, V2);
  swap(V2);
}

/** Absorbs one message word m = hi:lo (2 compression rounds). */
function compress(lo: number, hi: number): void {
  s[V3] = s[V3]! ^ lo;
  s[V3 + 1] = s[V3 + 1]! ^ hi;
  sipRound();
  sipRound();
  s[V0] = s[V0]! ^ lo;
  s[V0 + 1] = s[V0 + 1]! ^ hi;
}

/** SipHash-2-4 of `data` under `key`. */
export function sipHash24(key: SipHashKey, data: Uint8Array): SipHash64 {
  // The initialisation constants are "somepseudorandomlygeneratedbytes" in ASCII.
  s[0] = key.k0Lo ^ 0x70736575;
  s[1] = key.k0Hi ^ 0x736f6d65;
  s[2] = key.k1Lo ^ 0x6e646f6d;
  s[3] = key.k1Hi ^ 0x646f7261;
  s[4] = key.k0Lo ^ 0x6e657261;
  s[5] = key.k0Hi ^ 0x6c796765;
  s[6] = key.k1Lo ^ 0x79746573;
  s[7] = key.k1Hi ^ 0x74656462;

  const len = data.length;
  const full = len - (len % 8);
  for (let i = 0; i < full; i += 8) compress(le32(data, i), le32(data, i + 4));

  // The last word: the remaining 0..7 bytes, little-endian, with the length
  // mod 256 in the top byte.
  let lo = 0;
  let hi = (len & 0xff) << 24;
  for (let i = full; i < len; i++) {
    const shift = (i - full) * 8;
    if (shift < 32) lo |= data[i]! << shift;
    else hi |= data[i]! << (shift - 32);
  }
  compress(lo >>> 0, hi >>> 0);

  s[V2] = s[V2] ^ 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  return {
    lo: (s[0] ^ s[2] ^ s[4] ^ s[6]) >>> 0,
    hi: (s[1] ^ s[3] ^ s[5] ^ s[7]) >>> 0,
  };
}
