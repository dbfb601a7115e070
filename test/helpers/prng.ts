/**
 * A small, fast, seeded PRNG for tests: xorshift128 (Marsaglia 2003) seeded
 * through the murmur3 finalizer, so nearby seeds give unrelated streams.
 * Same seed, same sequence, on every JS runtime (32-bit integer ops only).
 * Not for anything that needs unpredictability.
 */

/** murmur3's 32-bit finalizer: a bijective mix, used to spread seeds. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const s = seed >>> 0;
    this.a = mix32(s + 0x9e3779b9);
    this.b = mix32(s + 0x3c6ef372);
    this.c = mix32(s + 0xdaa66d2b);
    this.d = mix32(s + 0x78dde6e4);
    // xorshift never leaves the all-zero state.
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** A uniformly distributed uint32. */
  u32(): number {
    let t = this.d;
    const s = this.a;
    this.d = this.c;
    this.c = this.b;
    this.b = s;
    t ^= t << 11;
    t ^= t >>> 8;
    this.a = (t ^ s ^ (s >>> 19)) >>> 0;
    return this.a;
  }

  /** An integer in [0, n) for 1 <= n <= 2^32. */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** An integer in [lo, hi], both inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * 0x100000000;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Fills `buf` with random bytes and returns it. */
  fill(buf: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= buf.length; i += 4) {
      const v = this.u32();
      buf[i] = v & 0xff;
      buf[i + 1] = (v >>> 8) & 0xff;
      buf[i + 2] = (v >>> 16) & 0xff;
      buf[i + 3] = v >>> 24;
    }
    if (i < buf.length) {
      const v = this.u32();
      for (let k = 0; i < buf.length; i++, k += 8) buf[i] = (v >>> k) & 0xff;
    }
    return buf;
  }

  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }
}
