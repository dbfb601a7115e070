/**
 * Randomness for the stack: initial sequence numbers, ephemeral ports,
 * simulated loss. Everything random is drawn from an injected `Rng`, never
 * from Math.random, so a simulation seeded with the same number replays the
 * same run byte for byte; production uses `cryptoRng()`.
 */

export interface Rng {
  /** A uniformly distributed integer in [0, 2^32). */
  nextU32(): number;
  /** A uniformly distributed float in [0, 1). */
  nextFloat(): number;
  /** A uniformly distributed integer in [0, n); `n` a whole number in [1, 2^32]. */
  nextInt(n: number): number;
}

const TWO_32 = 4_294_967_296;

/** splitmix32 step: a strong 32-bit mixer, used to expand seeds into state. */
function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** Golden-ratio increment of splitmix32: consecutive outputs stay uncorrelated. */
const GAMMA = 0x9e3779b9;

/** FNV-1a over the UTF-16 code units of a label, then mixed: labels become 32-bit keys. */
function hashLabel(label: string | number): number {
  if (typeof label === 'number') {
    if (!Number.isFinite(label)) throw new RangeError(`SeededRng.fork: label is not finite: ${label}`);
    // Numbers and strings must not collide ("1" vs 1), so numbers start from a different basis.
    const lo = label >>> 0;
    const hi = Math.floor(label / TWO_32) >>> 0;
    return mix32(mix32(lo ^ 0x5bd1e995) ^ hi);
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h ^ label.length);
}

/**
 * Expands key material (any number of 32-bit words) into four state words by
 * running splitmix32 over each word in turn; never all zero, which is the
 * one state xoshiro cannot leave.
 */
function expand(words: readonly number[]): [number, number, number, number] {
  let acc = 0x6a09e667;
  for (const w of words) acc = mix32((acc + GAMMA) ^ w);
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    acc = (acc + GAMMA) >>> 0;
    out[i] = mix32(acc);
  }
  if ((out[0] | out[1] | out[2] | out[3]) === 0) out[0] = 1;
  return out;
}

/**
 * xoshiro128** (Blackman and Vigna): small, fast, 2^128-1 period, good
 * statistical quality for simulation. Not cryptographic: never use it where
 * an attacker must not predict values (use `cryptoRng()` there).
 */
export class SeededRng implements Rng {
  /**
   * The words the state was derived from. fork() derives children from this
   * fixed key, not from the moving state, so forking a stream for a new host
   * neither consumes values from the parent nor depends on how many values
   * the parent (or other forks) have already drawn.
   */
  #key: readonly number[];
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** `seed`: any finite number (fractions are truncated); different seeds, different streams. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`SeededRng: seed is not a finite number: ${seed}`);
    const t = Math.trunc(seed);
    const neg = t < 0 ? 1 : 0;
    const a = Math.abs(t);
    this.#key = [a >>> 0, Math.floor(a / TWO_32) >>> 0, neg];
    [this.#s0, this.#s1, this.#s2, this.#s3] = expand(this.#key);
  }

  /** Builds a generator straight from key words (used by fork). */
  static #fromKey(key: readonly number[]): SeededRng {
    const rng = new SeededRng(0);
    rng.#rekey(key);
    return rng;
  }

  #rekey(key: readonly number[]): void {
    this.#key = key;
    [this.#s0, this.#s1, this.#s2, this.#s3] = expand(key);
  }

  /**
   * An independent generator for `label`, derived deterministically from
   * this generator's seed (not its current position): `rng.fork('host-a')`
   * always yields the same stream for the same seed, whatever else was
   * forked or drawn before. Forks of forks nest (`fork('a').fork(1)`).
   * The same label twice gives the same stream: use distinct labels.
   */
  fork(label: string | number): SeededRng {
    const key = this.#key;
    // Tag with a word that seeds themselves never produce in that position,
    // so fork keys and seed keys cannot coincide.
    return SeededRng.#fromKey([...key, 0xf0f0_0001, hashLabel(label)]);
  }

  nextU32(): number {
    const s0 = this.#s0;
    const s1 = this.#s1;
    const s2 = this.#s2;
    const s3 = this.#s3;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.#s1 = s1 ^ n2;
    this.#s0 = s0 ^ n3;
    this.#s2 = n2 ^ t;
    this.#s3 = (n3 << 11) | (n3 >>> 21);
    return result;
  }

  nextFloat(): number {
    return this.nextU32() / TWO_32;
  }

  nextInt(n: number): number {
    return boundedInt(this, n);
  }
}

function checkBound(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
    throw new RangeError(`Rng.nextInt: bound must be a whole number in [1, 2^32]: ${n}`);
  }
}

/**
 * Unbiased integer in [0, n) by rejection: values in the final partial copy
 * of [0, n) within [0, 2^32) are redrawn (at most half of draws, typically
 * almost none), so small ranges like ports are exactly uniform.
 */
function boundedInt(rng: Rng, n: number): number {
  checkBound(n);
  if (n === TWO_32) return rng.nextU32();
  const limit = TWO_32 - (TWO_32 % n);
  for (;;) {
    const v = rng.nextU32();
    if (v < limit) return v % n;
  }
}

interface CryptoLike {
  getRandomValues<T extends Uint8Array | Uint32Array>(array: T): T;
}

/** Words fetched per getRandomValues call: the call dominates the cost of a single value. */
const CRYPTO_BATCH = 256;

class CryptoRng implements Rng {
  readonly #crypto: CryptoLike;
  // A Uint32Array is fine here: these are random words, not packet bytes, so host byte order is irrelevant.
  readonly #buf = new Uint32Array(CRYPTO_BATCH);
  #pos = CRYPTO_BATCH;

  constructor(crypto: CryptoLike) {
    this.#crypto = crypto;
  }

  nextU32(): number {
    if (this.#pos >= CRYPTO_BATCH) {
      this.#crypto.getRandomValues(this.#buf);
      this.#pos = 0;
    }
    return this.#buf[this.#pos++]!;
  }

  nextFloat(): number {
    return this.nextU32() / TWO_32;
  }

  nextInt(n: number): number {
    return boundedInt(this, n);
  }

  fill(bytes: Uint8Array): void {
    // getRandomValues accepts at most 65536 bytes per call (Web Crypto quota).
    for (let off = 0; off < bytes.length; off += 65_536) {
      this.#crypto.getRandomValues(bytes.subarray(off, Math.min(bytes.length, off + 65_536)));
    }
  }
}

/**
 * A cryptographically strong Rng over `globalThis.crypto.getRandomValues`
 * (Node 20+, browsers, Deno, Bun): the production default, so initial
 * sequence numbers and ephemeral ports are unpredictable (RFC 6528, RFC 6056).
 * Throws if the runtime has no Web Crypto.
 */
export function cryptoRng(): Rng {
  const c = (globalThis as { crypto?: Partial<CryptoLike> }).crypto;
  if (c === undefined || typeof c.getRandomValues !== 'function') {
    throw new Error('cryptoRng: globalThis.crypto.getRandomValues is not available in this runtime');
  }
  return new CryptoRng(c as CryptoLike);
}

/** Fills `bytes` with random bytes from `rng` (four bytes per word, big-endian, so seeded output is platform-independent). */
export function fillRandom(rng: Rng, bytes: Uint8Array): void {
  if (rng instanceof CryptoRng) {
    rng.fill(bytes);
    return;
  }
  const n = bytes.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = rng.nextU32();
    bytes[i] = w >>> 24;
    bytes[i + 1] = (w >>> 16) & 0xff;
    bytes[i + 2] = (w >>> 8) & 0xff;
    bytes[i + 3] = w & 0xff;
  }
  if (i < n) {
    let w = rng.nextU32();
    for (; i < n; i++) {
      bytes[i] = w >>> 24;
      w = (w << 8) >>> 0;
    }
  }
}
