import { describe, expect, it } from 'vitest';
import { seqAdd, seqEq, seqGe, seqGt, seqInWindow, seqLe, seqLt, seqMax, seqMin, seqSub } from './seq.js';
import { SeededRng } from '../random/rng.js';

const TWO_32 = 0x1_0000_0000;
const HALF = 0x8000_0000;

// An independent model in BigInt: "a < b" means b is reached from a by going
// forward between 1 and 2^31 - 1 steps; at exactly 2^31 the smaller unsigned
// value is the lesser (the documented tie-break).
const M = 1n << 32n;
function modelLt(a: number, b: number): boolean {
  const fwd = (((BigInt(b) - BigInt(a)) % M) + M) % M;
  if (fwd === 0n) return false;
  if (fwd < 1n << 31n) return true;
  if (fwd > 1n << 31n) return false;
  return a < b;
}
function modelInWindow(x: number, start: number, len: number): boolean {
  const off = (((BigInt(x) - BigInt(start)) % M) + M) % M;
  return off < BigInt(len);
}

const EDGES = [0, 1, 2, 0x7fff_fffe, 0x7fff_ffff, HALF, HALF + 1, HALF + 2, TWO_32 - 2, TWO_32 - 1, 12345, 0xdead_beef];

function samplePairs(): Array<[number, number]> {
  const rRng = new SeededRng(0x5eed);
  const r = (): number => rRng.nextU32();
  const pairs: Array<[number, number]> = [];
  for (const a of EDGES) for (const b of EDGES) pairs.push([a, b]);
  for (let i = 0; i < 5000; i++) pairs.push([r(), r()]);
  // Pairs near each other and near the half-window, where bugs live.
  for (let i = 0; i < 2000; i++) {
    const a = r();
    const jitter = (r() % 9) - 4;
    pairs.push([a, (a + jitter) >>> 0], [a, (a + HALF + jitter) >>> 0]);
  }
  return pairs;
}

describe('seqAdd', () => {
  it('adds modulo 2^32', () => {
    expect(seqAdd(1, 2)).toBe(3);
    expect(seqAdd(TWO_32 - 1, 1)).toBe(0);
    expect(seqAdd(TWO_32 - 1, 2)).toBe(1);
    expect(seqAdd(0xffff_fff0, 0x20)).toBe(0x10);
    expect(seqAdd(HALF, HALF)).toBe(0);
    expect(seqAdd(5, TWO_32)).toBe(5);
  });

  it('subtracts with a negative n, wrapping below zero', () => {
    expect(seqAdd(0, -1)).toBe(TWO_32 - 1);
    expect(seqAdd(3, -5)).toBe(TWO_32 - 2);
    expect(seqAdd(10, -10)).toBe(0);
  });

  it('always returns a uint32', () => {
    const rRng = new SeededRng(1);
    const r = (): number => rRng.nextU32();
    for (let i = 0; i < 1000; i++) {
      const v = seqAdd(r(), r() - HALF);
      expect(Number.isInteger(v) && v >= 0 && v < TWO_32).toBe(true);
    }
  });

  it('normalises non-canonical inputs (-1 is 0xffffffff)', () => {
    expect(seqAdd(-1, 1)).toBe(0);
    expect(seqAdd(TWO_32 + 7, 0)).toBe(7);
  });
});

describe('seqSub', () => {
  it('gives the signed distance across the wrap', () => {
    expect(seqSub(5, 3)).toBe(2);
    expect(seqSub(3, 5)).toBe(-2);
    expect(seqSub(0, TWO_32 - 1)).toBe(1);
    expect(seqSub(TWO_32 - 1, 0)).toBe(-1);
    expect(seqSub(0x10, 0xffff_fff0)).toBe(0x20);
    expect(seqSub(0x7fff_ffff, 0)).toBe(0x7fff_ffff);
    expect(seqSub(HALF + 1, 0)).toBe(-0x7fff_ffff);
  });

  it('is -2^31 at the half-window whichever way round', () => {
    expect(seqSub(HALF, 0)).toBe(-HALF);
    expect(seqSub(0, HALF)).toBe(-HALF);
  });

  it('inverts seqAdd for every pair', () => {
    for (const [a, b] of samplePairs()) {
      const d = seqSub(a, b);
      expect(d).toBeGreaterThanOrEqual(-HALF);
      expect(d).toBeLessThan(HALF);
      expect(seqAdd(b, d)).toBe(a);
    }
  });
});

describe('comparisons', () => {
  it('order across the wrap at 2^32', () => {
    expect(seqLt(TWO_32 - 1, 0)).toBe(true);
    expect(seqLt(0, TWO_32 - 1)).toBe(false);
    expect(seqGt(0, TWO_32 - 1)).toBe(true);
    expect(seqLt(0xffff_fff0, 0x10)).toBe(true);
    expect(seqLe(0xffff_fff0, 0x10)).toBe(true);
    expect(seqGe(0x10, 0xffff_fff0)).toBe(true);
    expect(seqGt(0xffff_fff0, 0x10)).toBe(false);
  });

  it('order plainly without a wrap', () => {
    expect(seqLt(1, 2)).toBe(true);
    expect(seqLt(2, 1)).toBe(false);
    expect(seqLt(7, 7)).toBe(false);
    expect(seqLe(7, 7)).toBe(true);
    expect(seqGe(7, 7)).toBe(true);
    expect(seqGt(7, 7)).toBe(false);
    expect(seqEq(7, 7)).toBe(true);
    expect(seqEq(-1, TWO_32 - 1)).toBe(true);
    expect(seqEq(0, 1)).toBe(false);
  });

  it('turn over just past half the space', () => {
    // 2^31 - 1 ahead is still "after"; 2^31 + 1 ahead is "before".
    expect(seqLt(0, 0x7fff_ffff)).toBe(true);
    expect(seqGt(0x7fff_ffff, 0)).toBe(true);
    expect(seqLt(0, HALF + 1)).toBe(false);
    expect(seqGt(0, HALF + 1)).toBe(true);
    expect(seqLt(1000, 1000 + 0x7fff_ffff)).toBe(true);
    expect(seqLt(1000, 1000 + HALF + 1)).toBe(false);
  });

  it('break the half-window tie by unsigned value, keeping antisymmetry', () => {
    for (const a of [0, 1, 0x1234_5678, 0x7fff_ffff]) {
      const b = a + HALF; // exactly 2^31 ahead, and numerically larger
      expect(seqLt(a, b)).toBe(true);
      expect(seqLt(b, a)).toBe(false);
      expect(seqGt(b, a)).toBe(true);
      expect(seqGt(a, b)).toBe(false);
      expect(seqLe(a, b)).toBe(true);
      expect(seqLe(b, a)).toBe(false);
      expect(seqGe(b, a)).toBe(true);
      expect(seqGe(a, b)).toBe(false);
      expect(seqMax(a, b)).toBe(b);
      expect(seqMax(b, a)).toBe(b);
      expect(seqMin(a, b)).toBe(a);
      expect(seqMin(b, a)).toBe(a);
    }
  });

  it('agree with an independent BigInt model on edge and random pairs', () => {
    for (const [a, b] of samplePairs()) {
      const lt = modelLt(a, b);
      const gt = modelLt(b, a);
      expect(seqLt(a, b), `seqLt(${a}, ${b})`).toBe(lt);
      expect(seqGt(a, b), `seqGt(${a}, ${b})`).toBe(gt);
      expect(seqLe(a, b), `seqLe(${a}, ${b})`).toBe(!gt);
      expect(seqGe(a, b), `seqGe(${a}, ${b})`).toBe(!lt);
      expect(seqEq(a, b)).toBe(a === b);
      // Strict trichotomy, the property the tie-break exists for.
      expect(Number(lt) + Number(gt) + Number(a === b)).toBe(1);
    }
  });

  it('treat non-canonical inputs as their uint32 value', () => {
    for (const [a, b] of samplePairs().slice(0, 500)) {
      expect(seqLt(a - TWO_32, b)).toBe(seqLt(a, b));
      expect(seqLt(a, b | 0)).toBe(seqLt(a, b));
      expect(seqMax(a | 0, b | 0)).toBe(seqMax(a, b));
    }
  });
});

describe('seqMax / seqMin', () => {
  it('pick across the wrap', () => {
    expect(seqMax(TWO_32 - 1, 1)).toBe(1);
    expect(seqMin(TWO_32 - 1, 1)).toBe(TWO_32 - 1);
    expect(seqMax(3, 3)).toBe(3);
    expect(seqMin(-1, 0)).toBe(TWO_32 - 1);
  });

  it('are commutative and return one of their arguments', () => {
    for (const [a, b] of samplePairs()) {
      const max = seqMax(a, b);
      const min = seqMin(a, b);
      expect(seqMax(b, a)).toBe(max);
      expect(seqMin(b, a)).toBe(min);
      expect(max === a || max === b).toBe(true);
      expect(min === a || min === b).toBe(true);
      expect(seqLe(min, max)).toBe(true);
      if (a !== b) expect(min).not.toBe(max);
    }
  });
});

describe('seqInWindow', () => {
  it('is start =< x < start+len', () => {
    expect(seqInWindow(100, 100, 10)).toBe(true);
    expect(seqInWindow(109, 100, 10)).toBe(true);
    expect(seqInWindow(110, 100, 10)).toBe(false);
    expect(seqInWindow(99, 100, 10)).toBe(false);
  });

  it('spans the wrap at 2^32', () => {
    const start = TWO_32 - 5;
    expect(seqInWindow(TWO_32 - 5, start, 10)).toBe(true);
    expect(seqInWindow(TWO_32 - 1, start, 10)).toBe(true);
    expect(seqInWindow(0, start, 10)).toBe(true);
    expect(seqInWindow(4, start, 10)).toBe(true);
    expect(seqInWindow(5, start, 10)).toBe(false);
    expect(seqInWindow(TWO_32 - 6, start, 10)).toBe(false);
  });

  it('is empty for len 0 and everything for len 2^32', () => {
    expect(seqInWindow(100, 100, 0)).toBe(false);
    expect(seqInWindow(0, 0, 0)).toBe(false);
    expect(seqInWindow(100, 100, TWO_32)).toBe(true);
    expect(seqInWindow(99, 100, TWO_32)).toBe(true);
    expect(seqInWindow(99, 100, TWO_32 - 1)).toBe(false);
  });

  it('handles windows of half the space and more without the tie', () => {
    expect(seqInWindow(HALF - 1, 0, HALF)).toBe(true);
    expect(seqInWindow(HALF, 0, HALF)).toBe(false);
    expect(seqInWindow(HALF, 0, HALF + 1)).toBe(true);
    expect(seqInWindow(TWO_32 - 1, 0, 0xc000_0000)).toBe(false);
    expect(seqInWindow(0xbfff_ffff, 0, 0xc000_0000)).toBe(true);
  });

  it('agrees with the BigInt model, and with seqLe/seqLt for windows under 2^31', () => {
    const rRng = new SeededRng(0xacce55);
    const r = (): number => rRng.nextU32();
    for (let i = 0; i < 5000; i++) {
      const start = r();
      const len = i % 3 === 0 ? r() % 70000 : r() >>> (r() % 32);
      const x = i % 2 === 0 ? r() : seqAdd(start, (r() % 140000) - 70000 + (i % 4 === 1 ? len : 0));
      const inside = seqInWindow(x, start, len);
      expect(inside, `seqInWindow(${x}, ${start}, ${len})`).toBe(modelInWindow(x, start, len));
      if (len < HALF) expect(inside).toBe(seqLe(start, x) && seqLt(x, seqAdd(start, len)));
    }
  });
});
