import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { Instant } from '../time/instant.js';
import { ipv4 } from '../wire/address.js';
import { IsnGenerator, isnClock } from './isn.js';
import { seqLt, seqSub } from './seq.js';

const A = ipv4('10.0.0.1');
const B = ipv4('10.0.0.2');

describe('IsnGenerator (RFC 6528)', () => {
  it('M ticks every 4 microseconds and wraps at 2^32', () => {
    expect(isnClock(Instant.fromMicros(0))).toBe(0);
    expect(isnClock(Instant.fromMicros(3))).toBe(0);
    expect(isnClock(Instant.fromMicros(4))).toBe(1);
    expect(isnClock(Instant.fromSecs(1))).toBe(250_000);
    expect(isnClock(Instant.fromMicros(4 * 2 ** 32 + 8))).toBe(2);
  });

  it('grows with time for one 4-tuple, at 250000 per second', () => {
    const gen = new IsnGenerator(new SeededRng(7));
    let prev = gen.isn(Instant.fromMicros(0), A, 40000, B, 80);
    for (let ms = 1; ms <= 2000; ms += 37) {
      const now = Instant.fromMillis(ms);
      const isn = gen.isn(now, A, 40000, B, 80);
      expect(seqLt(prev, isn)).toBe(true);
      prev = isn;
    }
    const t0 = gen.isn(Instant.fromSecs(10), A, 40000, B, 80);
    const t1 = gen.isn(Instant.fromSecs(11), A, 40000, B, 80);
    expect(seqSub(t1, t0)).toBe(250_000);
  });

  it('gives different tuples unrelated ISNs', () => {
    const gen = new IsnGenerator(new SeededRng(7));
    const now = Instant.fromSecs(5);
    const seen = new Set<number>();
    for (let port = 40000; port < 40100; port++) seen.add(gen.isn(now, A, port, B, 80));
    seen.add(gen.isn(now, B, 40000, A, 80));
    seen.add(gen.isn(now, A, 40000, B, 443));
    expect(seen.size).toBe(102);
    // Consecutive ports must not give consecutive ISNs (the point of F).
    const d = seqSub(gen.isn(now, A, 40001, B, 80), gen.isn(now, A, 40000, B, 80));
    expect(Math.abs(d)).toBeGreaterThan(1000);
  });

  it('is reproducible from the seed and differs between seeds', () => {
    const now = Instant.fromSecs(1);
    const a = new IsnGenerator(new SeededRng(1)).isn(now, A, 1234, B, 80);
    const b = new IsnGenerator(new SeededRng(1)).isn(now, A, 1234, B, 80);
    const c = new IsnGenerator(new SeededRng(2)).isn(now, A, 1234, B, 80);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(Number.isInteger(a) && a >= 0 && a < 2 ** 32).toBe(true);
  });

  it('draws its key from the rng exactly once', () => {
    let calls = 0;
    const gen = new IsnGenerator({ nextU32: () => (calls++, 0x12345678) });
    gen.isn(Instant.ZERO, A, 1, B, 2);
    gen.isn(Instant.ZERO, A, 3, B, 4);
    expect(calls).toBe(4);
  });

  it('keys the timestamp offset on the address pair only (Linux secure_tcp_ts_off)', () => {
    const gen = new IsnGenerator(new SeededRng(5));
    const off = gen.tsOffset(A, B);
    expect(gen.tsOffset(A, B)).toBe(off);
    expect(gen.tsOffset(B, A)).not.toBe(off);
    expect(gen.tsOffset(A, (B + 1) >>> 0)).not.toBe(off);
    expect(new IsnGenerator(new SeededRng(6)).tsOffset(A, B)).not.toBe(off);
    // Independent of the ISN function on the same key.
    expect(off).not.toBe(gen.offset(A, 0, B, 0));
    expect(Number.isInteger(off) && off >= 0 && off < 2 ** 32).toBe(true);
  });

  it('answers a repeated address pair from its one-entry cache with the value it computes afresh', () => {
    const pairs: [number, number][] = [
      [A, B],
      [A, B],
      [B, A],
      [A, B],
      [A, (B + 1) >>> 0],
      [A, (B + 1) >>> 0],
      [0, 0],
      [A, B],
    ];
    const cached = new IsnGenerator(new SeededRng(7));
    const got = pairs.map(([l, r]) => cached.tsOffset(l, r));
    // A fresh generator per call never has the pair cached.
    const fresh = pairs.map(([l, r]) => new IsnGenerator(new SeededRng(7)).tsOffset(l, r));
    expect(got).toEqual(fresh);
    expect(new Set(got).size).toBe(4);
  });
});
