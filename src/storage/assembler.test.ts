import { describe, expect, it } from 'vitest';
import { ASSEMBLER_DEFAULT_MAX_RANGES, Assembler } from './assembler.js';
import type { AssemblerRange } from './assembler.js';

/** mulberry32: small, seedable, good enough to drive randomized tests. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ranges as [start, end) pairs in offset order, for compact assertions. */
function spans(a: Assembler): [number, number][] {
  return a.rangesByOffset().map((r) => [r.offset, r.offset + r.length]);
}

function recent(a: Assembler, limit?: number): [number, number][] {
  return a.ranges(limit).map((r) => [r.offset, r.offset + r.length]);
}

describe('Assembler merging', () => {
  it('keeps disjoint ranges sorted', () => {
    const a = new Assembler();
    expect(a.add(20, 5)).toBe(true);
    expect(a.add(5, 5)).toBe(true);
    expect(a.add(40, 1)).toBe(true);
    expect(spans(a)).toEqual([
      [5, 10],
      [20, 25],
      [40, 41],
    ]);
    expect(a.rangeCount).toBe(3);
  });

  it('merges overlap on either side', () => {
    const a = new Assembler();
    a.add(10, 10);
    a.add(5, 7); // overlaps the left edge
    expect(spans(a)).toEqual([[5, 20]]);
    a.add(18, 10); // overlaps the right edge
    expect(spans(a)).toEqual([[5, 28]]);
  });

  it('merges adjacent ranges on either side', () => {
    const a = new Assembler();
    a.add(10, 10);
    a.add(20, 5);
    a.add(5, 5);
    expect(spans(a)).toEqual([[5, 25]]);
  });

  it('absorbs duplicates and contained ranges', () => {
    const a = new Assembler();
    a.add(10, 10);
    expect(a.add(10, 10)).toBe(true);
    expect(a.add(12, 3)).toBe(true);
    expect(a.add(10, 1)).toBe(true);
    expect(a.add(19, 1)).toBe(true);
    expect(spans(a)).toEqual([[10, 20]]);
  });

  it('a containing range swallows several ranges and bridges holes', () => {
    const a = new Assembler();
    a.add(10, 2);
    a.add(15, 2);
    a.add(20, 2);
    a.add(30, 2);
    expect(a.add(9, 14)).toBe(true); // [9, 23) covers three, misses [30, 32)
    expect(spans(a)).toEqual([
      [9, 23],
      [30, 32],
    ]);
    expect(a.add(23, 7)).toBe(true); // exactly fills the last hole
    expect(spans(a)).toEqual([[9, 32]]);
  });

  it('accepts zero-length adds without recording anything', () => {
    const a = new Assembler();
    expect(a.add(5, 0)).toBe(true);
    expect(a.isEmpty).toBe(true);
    expect(a.allocatedBytes).toBe(0);
  });

  it('rejects bad arguments with RangeError', () => {
    const a = new Assembler();
    expect(() => a.add(-1, 2)).toThrow(RangeError);
    expect(() => a.add(0, -2)).toThrow(RangeError);
    expect(() => a.add(0.5, 2)).toThrow(RangeError);
    expect(() => a.add(Number.MAX_SAFE_INTEGER, 2)).toThrow(RangeError);
    expect(() => new Assembler(0)).toThrow(RangeError);
  });
});

describe('Assembler front removal', () => {
  it('returns 0 while the front is a hole', () => {
    const a = new Assembler();
    a.add(1, 10);
    expect(a.frontLength).toBe(0);
    expect(a.removeFront()).toBe(0);
    expect(spans(a)).toEqual([[1, 11]]);
  });

  it('removes the front run and shifts the rest down', () => {
    const a = new Assembler();
    a.add(10, 5);
    a.add(30, 5);
    a.add(0, 10); // joins [10,15)
    expect(a.frontLength).toBe(15);
    expect(a.removeFront()).toBe(15);
    expect(spans(a)).toEqual([[15, 20]]);
    expect(a.removeFront()).toBe(0);
    a.add(0, 15);
    expect(a.removeFront()).toBe(20);
    expect(a.isEmpty).toBe(true);
  });
});

describe('Assembler bound', () => {
  it('rejects a new island when full but still merges', () => {
    const a = new Assembler(3);
    expect(a.add(10, 1)).toBe(true);
    expect(a.add(20, 1)).toBe(true);
    expect(a.add(30, 1)).toBe(true);
    expect(a.add(40, 1)).toBe(false);
    expect(a.add(0, 1)).toBe(false);
    expect(a.add(25, 1)).toBe(false);
    expect(spans(a)).toEqual([
      [10, 11],
      [20, 21],
      [30, 31],
    ]);
    expect(a.add(31, 5)).toBe(true); // adjacent
    expect(a.add(15, 2)).toBe(false);
    expect(a.add(11, 9)).toBe(true); // bridges two ranges: frees a slot
    expect(spans(a)).toEqual([
      [10, 21],
      [30, 36],
    ]);
    expect(a.add(50, 1)).toBe(true);
  });

  it('holds a fixed, lazily allocated table of 24 bytes per range', () => {
    const a = new Assembler();
    expect(a.maxRanges).toBe(ASSEMBLER_DEFAULT_MAX_RANGES);
    expect(a.allocatedBytes).toBe(0);
    a.add(1, 1);
    expect(a.allocatedBytes).toBe(24 * ASSEMBLER_DEFAULT_MAX_RANGES);
    for (let i = 0; i < 1000; i++) a.add(3 + 2 * i, 1);
    expect(a.rangeCount).toBe(ASSEMBLER_DEFAULT_MAX_RANGES);
    expect(a.allocatedBytes).toBe(24 * ASSEMBLER_DEFAULT_MAX_RANGES);
    a.release();
    expect(a.allocatedBytes).toBe(0);
    expect(a.isEmpty).toBe(true);
  });
});

describe('Assembler recency (RFC 2018 SACK block order)', () => {
  it('reports the most recently touched range first', () => {
    const a = new Assembler();
    a.add(10, 2);
    a.add(20, 2);
    a.add(30, 2);
    expect(recent(a)).toEqual([
      [30, 32],
      [20, 22],
      [10, 12],
    ]);
    a.add(12, 2); // extends [10,12): now the newest
    expect(recent(a)).toEqual([
      [10, 14],
      [30, 32],
      [20, 22],
    ]);
    a.add(21, 1); // a duplicate inside [20,22) triggers the ACK too
    expect(recent(a, 2)).toEqual([
      [20, 22],
      [10, 14],
    ]);
  });

  it('a merge of several ranges takes the newest stamp', () => {
    const a = new Assembler();
    a.add(10, 2);
    a.add(20, 2);
    a.add(30, 2);
    a.add(40, 2);
    a.add(12, 8); // joins [10,12) and [20,22)
    expect(recent(a)).toEqual([
      [10, 22],
      [40, 42],
      [30, 32],
    ]);
  });

  it('limits the number of blocks reported', () => {
    const a = new Assembler();
    for (let i = 0; i < 10; i++) a.add(10 * i + 1, 1);
    expect(a.ranges(4)).toHaveLength(4);
    expect(a.ranges(0)).toHaveLength(0);
    expect(a.ranges()).toHaveLength(10);
  });
});

/**
 * Reference model: one boolean per byte offset, plus the recency stamp of
 * each maximal run. Runs not touched by an add keep their stamp; the run that
 * contains the added bytes gets a fresh one.
 */
function runs(bits: boolean[]): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  while (i < bits.length) {
    if (!bits[i]) {
      i++;
      continue;
    }
    const start = i;
    while (i < bits.length && bits[i]) i++;
    out.push([start, i]);
  }
  return out;
}

describe('Assembler randomized against a bitset', () => {
  const cases: [seed: number, maxRanges: number][] = [
    [1, 32],
    [2, 32],
    [3, 4],
    [4, 4],
    [5, 1],
    [6, 8],
    [0xc0ffee, 16],
    [0x5eed, 2],
  ];
  for (const [seed, maxRanges] of cases) {
    it(`seed ${seed}, maxRanges ${maxRanges}`, () => {
      const next = rng(seed);
      const int = (n: number): number => Math.floor(next() * n);
      const window = 200;
      const size = window + 100;
      const a = new Assembler(maxRanges);
      let bits: boolean[] = new Array<boolean>(size).fill(false);
      let stamps = new Map<string, number>();
      let clock = 0;
      let rejected = 0;
      let merged = 0;
      let delivered = 0;

      for (let step = 0; step < 3000; step++) {
        const op = int(100);
        if (op < 82) {
          const offset = int(window);
          const length = next() < 0.1 ? int(60) : int(10);
          const before = runs(bits);
          const candidate = bits.slice();
          for (let i = offset; i < offset + length; i++) candidate[i] = true;
          const after = runs(candidate);
          const accepted = length === 0 || after.length <= maxRanges;
          expect(a.add(offset, length)).toBe(accepted);
          if (!accepted) rejected++;
          if (accepted && length > 0) {
            if (after.length <= before.length) merged++;
            bits = candidate;
            const nextStamps = new Map<string, number>();
            for (const [s, e] of after) {
              const key = `${s},${e}`;
              if (s <= offset && offset + length <= e) nextStamps.set(key, ++clock);
              else {
                const old = stamps.get(key);
                expect(old).toBeDefined(); // an untouched run must be unchanged
                nextStamps.set(key, old!);
              }
            }
            stamps = nextStamps;
          }
        } else if (op < 98) {
          let k = 0;
          while (k < size && bits[k]) k++;
          expect(a.frontLength).toBe(k);
          expect(a.removeFront()).toBe(k);
          delivered += k;
          bits = bits.slice(k).concat(new Array<boolean>(k).fill(false));
          const shifted = new Map<string, number>();
          for (const [key, stamp] of stamps) {
            const [s, e] = key.split(',').map(Number) as [number, number];
            if (s !== 0) shifted.set(`${s - k},${e - k}`, stamp);
          }
          stamps = shifted;
        } else {
          a.clear();
          bits.fill(false);
          stamps.clear();
        }

        const want = runs(bits);
        expect(spans(a)).toEqual(want);
        expect(a.rangeCount).toBe(want.length);
        expect(a.isEmpty).toBe(want.length === 0);
        expect(a.rangeCount).toBeLessThanOrEqual(maxRanges);
        const byRecency = [...want].sort((x, y) => stamps.get(`${y[0]},${y[1]}`)! - stamps.get(`${x[0]},${x[1]}`)!);
        expect(recent(a)).toEqual(byRecency);
        expect(recent(a, 3)).toEqual(byRecency.slice(0, 3));
        const qo = int(window);
        const ql = int(12);
        let all = true;
        for (let i = qo; i < qo + ql; i++) all &&= bits[i] === true;
        expect(a.contains(qo, ql)).toBe(all);
      }
      // Make sure the run visited the cases that matter.
      expect(merged).toBeGreaterThan(0);
      expect(delivered).toBeGreaterThan(0);
      if (maxRanges <= 4) expect(rejected).toBeGreaterThan(0);
    });
  }
});

describe('Assembler ranges() result type', () => {
  it('yields plain records', () => {
    const a = new Assembler();
    a.add(3, 4);
    const r: AssemblerRange[] = a.ranges();
    expect(r).toEqual([{ offset: 3, length: 4 }]);
  });
});
