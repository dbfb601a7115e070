import { describe, expect, it } from 'vitest';
import { SeededRng, cryptoRng, fillRandom } from './rng.js';
import type { Rng } from './rng.js';

function take(rng: Rng, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rng.nextU32());
  return out;
}

describe('SeededRng', () => {
  it('is deterministic: the same seed gives the same stream', () => {
    expect(take(new SeededRng(42), 100)).toEqual(take(new SeededRng(42), 100));
  });

  it('keeps its stream stable across releases (golden values)', () => {
    // A change here silently changes every recorded simulation: bump deliberately.
    const first = take(new SeededRng(1), 4);
    expect(first).toEqual(GOLDEN_SEED_1);
  });

  it('gives different streams for different seeds, including nearby and negative ones', () => {
    const seeds = [0, 1, 2, -1, -2, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 0.5];
    const heads = new Set(seeds.map((s) => take(new SeededRng(s), 2).join(',')));
    // 0.5 truncates to 0, so exactly one collision is expected.
    expect(heads.size).toBe(seeds.length - 1);
  });

  it('rejects non-finite seeds', () => {
    expect(() => new SeededRng(Number.NaN)).toThrow(RangeError);
    expect(() => new SeededRng(Infinity)).toThrow(RangeError);
  });

  it('produces words in [0, 2^32) and floats in [0, 1)', () => {
    const rng = new SeededRng(7);
    for (let i = 0; i < 10_000; i++) {
      const u = rng.nextU32();
      expect(Number.isInteger(u) && u >= 0 && u < 2 ** 32).toBe(true);
      const f = rng.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });

  it('has a sane distribution: bit balance and bucket counts (chi-squared)', () => {
    const rng = new SeededRng(12345);
    const n = 100_000;
    const bits = new Array<number>(32).fill(0);
    for (let i = 0; i < n; i++) {
      const u = rng.nextU32();
      for (let b = 0; b < 32; b++) if ((u >>> b) & 1) bits[b]!++;
    }
    // Each bit set with p = 1/2: sd = sqrt(n)/2 ~ 158; allow 5 sd.
    for (const c of bits) expect(Math.abs(c - n / 2)).toBeLessThan(5 * 158);

    const k = 16;
    const buckets = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) buckets[rng.nextInt(k)]!++;
    const expected = n / k;
    const chi2 = buckets.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
    // 15 degrees of freedom: p = 0.001 critical value is 37.7.
    expect(chi2).toBeLessThan(37.7);

    let sum = 0;
    for (let i = 0; i < n; i++) sum += rng.nextFloat();
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
  });

  it('nextInt covers the whole range and only it', () => {
    const rng = new SeededRng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = rng.nextInt(7);
      expect(v >= 0 && v < 7 && Number.isInteger(v)).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(7);
    expect(rng.nextInt(1)).toBe(0);
    const big = rng.nextInt(2 ** 32);
    expect(big >= 0 && big < 2 ** 32).toBe(true);
    expect(() => rng.nextInt(0)).toThrow(RangeError);
    expect(() => rng.nextInt(1.5)).toThrow(RangeError);
    expect(() => rng.nextInt(2 ** 32 + 1)).toThrow(RangeError);
  });

  describe('fork', () => {
    it('is deterministic per label', () => {
      expect(take(new SeededRng(9).fork('host-a'), 20)).toEqual(take(new SeededRng(9).fork('host-a'), 20));
      expect(take(new SeededRng(9).fork(3), 20)).toEqual(take(new SeededRng(9).fork(3), 20));
    });

    it('does not depend on what the parent drew or on other forks (adding a host perturbs nobody)', () => {
      const a = new SeededRng(9);
      const expected = take(a.fork('host-b'), 20);

      const b = new SeededRng(9);
      take(b, 1000);
      b.fork('host-a');
      b.fork('host-c');
      expect(take(b.fork('host-b'), 20)).toEqual(expected);
    });

    it('does not consume from the parent', () => {
      const a = new SeededRng(5);
      const b = new SeededRng(5);
      a.fork('x');
      a.fork('y');
      expect(take(a, 10)).toEqual(take(b, 10));
    });

    it('gives independent streams for different labels, seeds and nesting', () => {
      const root = new SeededRng(11);
      const streams = [
        root,
        root.fork('a'),
        root.fork('b'),
        root.fork(1),
        root.fork('1'),
        root.fork('a').fork('a'),
        root.fork('a').fork('b'),
        new SeededRng(12).fork('a'),
      ].map((r) => take(r, 8).join(','));
      expect(new Set(streams).size).toBe(streams.length);
    });

    it('fork streams are uncorrelated with each other', () => {
      const root = new SeededRng(77);
      const x = root.fork('x');
      const y = root.fork('y');
      const n = 20_000;
      let same = 0;
      for (let i = 0; i < n; i++) if ((x.nextU32() & 1) === (y.nextU32() & 1)) same++;
      // Bits agree with p = 1/2 if independent: sd ~ 71; allow 5 sd.
      expect(Math.abs(same - n / 2)).toBeLessThan(5 * 71);
    });
  });
});

describe('fillRandom', () => {
  it('fills every length deterministically, big-endian words', () => {
    for (const len of [0, 1, 3, 4, 5, 8, 33]) {
      const a = new Uint8Array(len);
      const b = new Uint8Array(len);
      fillRandom(new SeededRng(4), a);
      fillRandom(new SeededRng(4), b);
      expect(a).toEqual(b);
    }
    const bytes = new Uint8Array(6);
    fillRandom(new SeededRng(4), bytes);
    const [w0, w1] = take(new SeededRng(4), 2) as [number, number];
    expect([...bytes]).toEqual([w0 >>> 24, (w0 >>> 16) & 0xff, (w0 >>> 8) & 0xff, w0 & 0xff, w1 >>> 24, (w1 >>> 16) & 0xff]);
  });

  it('fills a subarray view without touching bytes around it', () => {
    const backing = new Uint8Array(16);
    fillRandom(new SeededRng(1), backing.subarray(4, 9));
    expect([...backing.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...backing.subarray(9)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('cryptoRng', () => {
  it('produces values in range and is not constant', () => {
    const rng = cryptoRng();
    const values = new Set<number>();
    // More than one batch, so the refill path runs.
    for (let i = 0; i < 600; i++) {
      const u = rng.nextU32();
      expect(u >= 0 && u < 2 ** 32 && Number.isInteger(u)).toBe(true);
      values.add(u);
    }
    expect(values.size).toBeGreaterThan(590);
    const f = rng.nextFloat();
    expect(f >= 0 && f < 1).toBe(true);
    const v = rng.nextInt(10);
    expect(v >= 0 && v < 10).toBe(true);
  });

  it('fills large buffers (above the 64 KiB getRandomValues quota)', () => {
    const bytes = new Uint8Array(200_000);
    fillRandom(cryptoRng(), bytes);
    let zeros = 0;
    for (const b of bytes) if (b === 0) zeros++;
    // Expected 200000/256 ~ 781 zero bytes; an unfilled tail would give far more.
    expect(zeros).toBeLessThan(1200);
  });
});

// Values of new SeededRng(1), recorded from this implementation.
const GOLDEN_SEED_1: number[] = [3519367505, 2195428410, 931307891, 1390735076];
