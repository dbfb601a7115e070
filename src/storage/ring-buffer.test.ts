import { describe, expect, it } from 'vitest';
import { RingBuffer, copyFromStore } from './ring-buffer.js';
import { BufferPool } from './buffer-pool.js';
import { SeededRng } from '../random/rng.js';

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function seq(start: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (start + i) & 0xff;
  return out;
}

function contents(ring: RingBuffer): number[] {
  const out = new Uint8Array(ring.length);
  expect(ring.peek(out)).toBe(ring.length);
  return [...out];
}

function concat(views: readonly Uint8Array[]): number[] {
  return views.flatMap((v) => [...v]);
}

describe('RingBuffer basics', () => {
  it('writes, peeks and reads in FIFO order', () => {
    const ring = new RingBuffer(8);
    expect(ring.write(bytes(1, 2, 3))).toBe(3);
    expect(ring.length).toBe(3);
    expect(ring.free).toBe(5);
    expect(contents(ring)).toEqual([1, 2, 3]);
    const dst = new Uint8Array(2);
    expect(ring.read(dst)).toBe(2);
    expect([...dst]).toEqual([1, 2]);
    expect(contents(ring)).toEqual([3]);
  });

  it('copies only what fits and reports it', () => {
    const ring = new RingBuffer(4);
    expect(ring.write(seq(0, 10))).toBe(4);
    expect(ring.isFull).toBe(true);
    expect(ring.write(bytes(9))).toBe(0);
    expect(contents(ring)).toEqual([0, 1, 2, 3]);
  });

  it('peeks from an offset without consuming', () => {
    const ring = new RingBuffer(8);
    ring.write(seq(10, 6));
    const dst = new Uint8Array(10);
    expect(ring.peek(dst, 4)).toBe(2);
    expect([...dst.subarray(0, 2)]).toEqual([14, 15]);
    expect(ring.peek(dst, 6)).toBe(0);
    expect(ring.length).toBe(6);
    expect(() => ring.peek(dst, 7)).toThrow(RangeError);
  });

  it('wraps around the end of the store', () => {
    const ring = new RingBuffer(8);
    ring.write(seq(0, 6));
    ring.consume(4);
    expect(ring.write(seq(6, 6))).toBe(6); // occupies indices 6,7,0..3
    expect(contents(ring)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    const dst = new Uint8Array(8);
    expect(ring.read(dst)).toBe(8);
    expect([...dst]).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(ring.isEmpty).toBe(true);
  });

  it('copies short and long runs alike at every head position, across the wrap point', () => {
    // Short copies (up to 32 bytes) go byte by byte, longer ones through set():
    // both ways, in and out, whole or split at the end of the store.
    for (const n of [1, 2, 31, 32, 33, 40]) {
      for (let head = 0; head < 48; head += 5) {
        const ring = new RingBuffer(48);
        ring.write(new Uint8Array(head));
        ring.consume(head);
        expect(ring.write(seq(head + 1, n))).toBe(n);
        const dst = new Uint8Array(n + 3).fill(0xee);
        expect(ring.peek(dst, 0)).toBe(n);
        expect([...dst]).toEqual([...seq(head + 1, n), 0xee, 0xee, 0xee]);
        if (n > 1) {
          const part = new Uint8Array(n - 1);
          expect(ring.peek(part, 1)).toBe(n - 1);
          expect([...part]).toEqual([...seq(head + 2, n - 1)]);
        }
        const out = new Uint8Array(n);
        expect(ring.read(out)).toBe(n);
        expect([...out]).toEqual([...seq(head + 1, n)]);
        expect(ring.isEmpty).toBe(true);
      }
    }
  });

  it('rejects programmer errors with RangeError', () => {
    const ring = new RingBuffer(4);
    ring.write(bytes(1, 2));
    expect(() => new RingBuffer(-1)).toThrow(RangeError);
    expect(() => new RingBuffer(1.5)).toThrow(RangeError);
    expect(() => ring.consume(3)).toThrow(RangeError);
    expect(() => ring.consume(-1)).toThrow(RangeError);
    expect(() => ring.commit(3)).toThrow(RangeError);
    expect(() => ring.writeAt(-1, bytes(1))).toThrow(RangeError);
    expect(() => ring.slices(3, 1)).toThrow(RangeError);
    expect(() => ring.resize(1)).toThrow(RangeError);
    expect(() => ring.resize(Number.NaN)).toThrow(RangeError);
    expect(contents(ring)).toEqual([1, 2]);
  });

  it('a zero-capacity ring stores nothing and allocates nothing', () => {
    const ring = new RingBuffer(0);
    expect(ring.write(bytes(1))).toBe(0);
    expect(ring.writeAt(0, bytes(1))).toBe(0);
    ring.commit(0);
    expect(ring.slices(0, 10)).toHaveLength(0);
    expect(ring.allocatedBytes).toBe(0);
  });
});

describe('RingBuffer lazy allocation', () => {
  it('holds no backing store until a byte is stored', () => {
    const ring = new RingBuffer(4096);
    expect(ring.allocatedBytes).toBe(0);
    expect(ring.write(new Uint8Array(0))).toBe(0);
    expect(ring.read(new Uint8Array(10))).toBe(0);
    expect(ring.peek(new Uint8Array(10))).toBe(0);
    expect(ring.slices(0, 100)).toHaveLength(0);
    ring.commit(0);
    ring.resize(8192);
    ring.clear();
    expect(ring.allocatedBytes).toBe(0);
    expect(ring.write(bytes(7))).toBe(1);
    expect(ring.allocatedBytes).toBe(8192);
  });

  it('writeAt and commit allocate too', () => {
    const a = new RingBuffer(16);
    expect(a.writeAt(3, bytes(1))).toBe(1);
    expect(a.allocatedBytes).toBe(16);
    const b = new RingBuffer(16);
    b.commit(2);
    expect(b.allocatedBytes).toBe(16);
    expect(b.length).toBe(2);
  });

  it('release() drops the store only when nothing is stored', () => {
    const ring = new RingBuffer(64);
    ring.write(seq(0, 10));
    expect(ring.release()).toBe(false);
    expect(ring.allocatedBytes).toBe(64);
    ring.consume(10);
    ring.writeAt(5, bytes(1)); // parked out-of-order bytes keep it alive
    expect(ring.release()).toBe(false);
    ring.dropUncommitted();
    expect(ring.release()).toBe(true);
    expect(ring.allocatedBytes).toBe(0);
    expect(ring.write(bytes(1, 2))).toBe(2);
    expect(contents(ring)).toEqual([1, 2]);
  });

  it('resizing an empty allocated ring returns it to the lazy state', () => {
    const ring = new RingBuffer(64);
    ring.write(bytes(1));
    ring.consume(1);
    ring.resize(128);
    expect(ring.allocatedBytes).toBe(0);
    expect(ring.capacity).toBe(128);
  });
});

describe('RingBuffer store ranges (storeIndex, copyFromStore)', () => {
  /** The contents [offset, offset + n) copied out through the store, at dst[at..]. */
  function viaStore(ring: RingBuffer, offset: number, n: number, at = 3): number[] {
    const dst = new Uint8Array(at + n + 2).fill(0xee);
    copyFromStore(ring.store, ring.storeIndex(offset), n, dst, at);
    // Nothing outside dst[at, at + n) is touched.
    expect([...dst.subarray(0, at), ...dst.subarray(at + n)].every((b) => b === 0xee)).toBe(true);
    return [...dst.subarray(at, at + n)];
  }

  it('copies short and long ranges, contiguous and wrapped, like peek', () => {
    const ring = new RingBuffer(100);
    ring.write(seq(0, 90));
    ring.consume(70); // head at 70: contents 70..89
    ring.write(seq(90, 60)); // indices 90..99 then 0..49: wraps
    expect(ring.length).toBe(80);
    for (const [offset, n] of [
      [0, 1], // short, contiguous
      [0, 20], // short, to the last index before the end
      [5, 20], // short, wrapped
      [0, 30], // 30 <= SMALL_COPY, wrapped
      [0, 80], // long, wrapped
      [30, 50], // long, wholly past the wrap
      [2, 40], // long, wrapped, odd start
    ] as const) {
      const want = new Uint8Array(n);
      expect(ring.peek(want, offset)).toBe(n);
      expect(viaStore(ring, offset, n), `offset ${offset} n ${n}`).toEqual([...want]);
    }
  });

  it('storeIndex is where the byte lies, 0 for an empty store, and throws past the contents', () => {
    const ring = new RingBuffer(8);
    expect(ring.store).toHaveLength(0);
    expect(ring.storeIndex(0)).toBe(0);
    ring.write(seq(0, 7));
    ring.consume(6); // head at 6
    ring.write(seq(20, 3)); // indices 7, 0, 1
    expect(ring.store).toHaveLength(8);
    expect(ring.storeIndex(0)).toBe(6);
    expect(ring.storeIndex(2)).toBe(0);
    expect(ring.storeIndex(4)).toBe(2); // offset === length: the empty range at the end
    expect(ring.store[ring.storeIndex(3)]).toBe(22);
    expect(() => ring.storeIndex(5)).toThrow(RangeError);
    expect(() => ring.storeIndex(-1)).toThrow(RangeError);
  });

  it('agrees with peek over seeded random writes, consumes and resizes', () => {
    const rng = new SeededRng(99);
    const ring = new RingBuffer(300, { minStore: 16 });
    let next = 0;
    for (let step = 0; step < 2000; step++) {
      const op = rng.nextInt(10);
      if (op < 4) ring.write(seq(next, rng.nextInt(120)));
      else if (op < 7) ring.consume(rng.nextInt(ring.length + 1));
      else if (op === 7 && rng.nextInt(4) === 0) ring.resize(Math.max(ring.extent, 100 + rng.nextInt(400)));
      else if (ring.length > 0) {
        const offset = rng.nextInt(ring.length);
        const n = 1 + rng.nextInt(ring.length - offset);
        const want = new Uint8Array(n);
        ring.peek(want, offset);
        expect(viaStore(ring, offset, n, rng.nextInt(4))).toEqual([...want]);
      }
      next = (next + 7) & 0xff;
    }
  });
});

describe('RingBuffer slices (zero copy)', () => {
  it('returns one view when contiguous and two when wrapped', () => {
    const ring = new RingBuffer(8);
    ring.write(seq(0, 5));
    const one = ring.slices(1, 3);
    expect(one).toHaveLength(1);
    expect(concat(one)).toEqual([1, 2, 3]);

    ring.consume(5); // emptied: the head rewinds to 0
    ring.write(seq(0, 7));
    ring.consume(6); // head at index 6, one byte stored
    ring.write(seq(20, 4)); // indices 7,0,1,2
    const two = ring.slices(0, 5);
    expect(two).toHaveLength(2);
    expect(two[0]!.length).toBe(2);
    expect(concat(two)).toEqual([6, 20, 21, 22, 23]);
    expect(ring.slices(2, 100)).toHaveLength(1); // clamped, wholly past the wrap
    expect(concat(ring.slices(2, 100))).toEqual([21, 22, 23]);
    expect(ring.slices(1, 1)).toHaveLength(1);
    expect(ring.slices(5, 3)).toHaveLength(0);
  });

  it('views alias the ring memory rather than copying it', () => {
    const ring = new RingBuffer(8);
    ring.write(bytes(1, 2, 3));
    const [view] = ring.slices(0, 3);
    view![1] = 42;
    expect(contents(ring)).toEqual([1, 42, 3]);
  });

  it('reuses its result array between calls', () => {
    const ring = new RingBuffer(8);
    ring.write(seq(0, 8));
    const a = ring.slices(0, 4);
    const b = ring.slices(4, 4);
    expect(b).toBe(a);
    expect(concat(b)).toEqual([4, 5, 6, 7]);
  });

  it('rewinds to index 0 when emptied so later data is contiguous', () => {
    const ring = new RingBuffer(8);
    ring.write(seq(0, 7));
    ring.consume(7);
    ring.write(seq(0, 8));
    expect(ring.slices(0, 8)).toHaveLength(1);
  });
});

describe('RingBuffer writeAt / commit', () => {
  it('parks bytes past the end and commits them in order', () => {
    const ring = new RingBuffer(10);
    ring.write(bytes(1, 2));
    expect(ring.writeAt(2, bytes(5, 6))).toBe(2); // lands at contents offsets 4,5
    expect(ring.length).toBe(2);
    expect(ring.extent).toBe(6);
    expect(ring.write(bytes(3, 4))).toBe(2); // fills the hole
    ring.commit(2);
    expect(contents(ring)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('truncates at the capacity', () => {
    const ring = new RingBuffer(6);
    ring.write(bytes(1, 2));
    expect(ring.writeAt(2, bytes(7, 8, 9))).toBe(2);
    expect(ring.writeAt(4, bytes(7))).toBe(0);
    expect(ring.writeAt(100, bytes(7))).toBe(0);
    expect(ring.extent).toBe(6);
  });

  it('lands correctly across the wrap point', () => {
    const ring = new RingBuffer(8);
    ring.write(seq(0, 6));
    ring.consume(5); // head 5, one byte stored
    expect(ring.writeAt(1, seq(100, 5))).toBe(5); // contents offsets 2..6 = indices 7,0,1,2,3
    ring.write(bytes(50));
    ring.commit(5);
    expect(contents(ring)).toEqual([5, 50, 100, 101, 102, 103, 104]);
  });
});

describe('RingBuffer writeAt of a range of src', () => {
  it('stores src[from .. from + count) as writeAt of that subarray would, short and long, wrapping or not (seeded)', () => {
    const rng = new SeededRng(9);
    for (let k = 0; k < 400; k++) {
      const cap = 8 + (rng.nextU32() % 120);
      const a = new RingBuffer(cap);
      const b = new RingBuffer(cap);
      // The same head and contents in both, so that some writes wrap.
      const pre = rng.nextU32() % cap;
      a.write(seq(0, pre));
      b.write(seq(0, pre));
      const drop = rng.nextU32() % (pre + 1);
      a.consume(drop);
      b.consume(drop);
      const src = seq(rng.nextU32() & 0xff, 1 + (rng.nextU32() % 100));
      const from = rng.nextU32() % src.length;
      const count = rng.nextU32() % (src.length - from + 1);
      const offset = rng.nextU32() % (cap + 2);
      expect(a.writeAt(offset, src, from, count), `case ${k}`).toBe(b.writeAt(offset, src.subarray(from, from + count)));
      expect(a.extent).toBe(b.extent);
      const n = a.extent - a.length;
      a.commit(n);
      b.commit(n);
      expect(contents(a), `case ${k}`).toEqual(contents(b));
    }
  });
});

describe('RingBuffer resize', () => {
  it('grows preserving wrapped contents and parked bytes', () => {
    const ring = new RingBuffer(8);
    ring.write(seq(0, 7));
    ring.consume(5);
    ring.write(seq(7, 4)); // wraps: contents 5..10
    ring.writeAt(1, bytes(200)); // parked at offset 7
    ring.resize(32);
    expect(ring.capacity).toBe(32);
    expect(ring.allocatedBytes).toBe(32);
    expect(contents(ring)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(ring.extent).toBe(8);
    ring.write(bytes(99));
    ring.commit(1);
    expect(contents(ring)).toEqual([5, 6, 7, 8, 9, 10, 99, 200]);
    expect(ring.slices(0, 8)).toHaveLength(1); // linearised
  });

  it('shrinks down to exactly the extent, not below', () => {
    const ring = new RingBuffer(16);
    ring.write(seq(0, 4));
    ring.writeAt(2, bytes(9)); // extent 7
    expect(() => ring.resize(6)).toThrow(RangeError);
    ring.resize(7);
    expect(ring.free).toBe(3);
    expect(ring.writeAt(3, bytes(1))).toBe(0);
    ring.dropUncommitted();
    ring.resize(4);
    expect(ring.isFull).toBe(true);
    expect(contents(ring)).toEqual([0, 1, 2, 3]);
  });
});

/**
 * The reference model: `committed` is the readable contents, `parked` the
 * bytes past the end written with writeAt (index = offset from the end).
 * `undefined` marks a byte whose value is unspecified (committed without
 * ever being written).
 */
interface Model {
  capacity: number;
  committed: (number | undefined)[];
  parked: (number | undefined)[];
  allocated: boolean;
}

function checkAgainst(ring: RingBuffer, m: Model, growable = false): void {
  expect(ring.capacity).toBe(m.capacity);
  expect(ring.length).toBe(m.committed.length);
  expect(ring.free).toBe(m.capacity - m.committed.length);
  expect(ring.extent).toBe(m.committed.length + m.parked.length);
  if (growable && m.allocated) {
    // Growing on demand: the store holds what is stored and never exceeds the capacity.
    expect(ring.allocatedBytes).toBeGreaterThanOrEqual(Math.max(1, m.committed.length + m.parked.length));
    expect(ring.allocatedBytes).toBeLessThanOrEqual(m.capacity);
  } else {
    expect(ring.allocatedBytes).toBe(m.allocated ? m.capacity : 0);
  }
  const got = contents(ring);
  for (let i = 0; i < got.length; i++) {
    const want = m.committed[i];
    if (want !== undefined && got[i] !== want) {
      throw new Error(`byte ${i}: got ${got[i]}, want ${want}`);
    }
  }
  const viewed = ring.slices(0, ring.length);
  expect(viewed.length).toBeLessThanOrEqual(2);
  expect(concat(viewed)).toEqual(got);
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}

function trimParked(p: (number | undefined)[]): void {
  while (p.length > 0 && p[p.length - 1] === undefined) p.pop();
}

describe('RingBuffer randomized against a model', () => {
  const runs: [number, boolean][] = [];
  for (const seed of [1, 2, 3, 0xdecaf, 0xbadc0de, 77, 4242, 31337]) runs.push([seed, false]);
  // Growing stores from a shared pool: the pool hands back arrays with an
  // earlier ring's bytes in them, which must never show through.
  const pool = new BufferPool({ maxBytes: 4096, maxPerSize: 2 });
  for (const seed of [5, 6, 0xfeed, 999]) runs.push([seed, true]);
  for (const [seed, growable] of runs) {
    it(`seed ${seed}${growable ? ' (growing store, pooled)' : ''}`, () => {
      const nextRng = new SeededRng(seed);
      const next = (): number => nextRng.nextFloat();
      const int = (n: number): number => Math.floor(next() * n);
      const initial = 1 + int(24);
      const ring = growable ? new RingBuffer(initial, { pool, minStore: 2 }) : new RingBuffer(initial);
      const m: Model = { capacity: initial, committed: [], parked: [], allocated: false };
      let wraps = 0;

      for (let step = 0; step < 4000; step++) {
        const free = m.capacity - m.committed.length;
        const op = int(100);
        if (op < 22) {
          const src = randomBytes(next, int(m.capacity + 4));
          const n = Math.min(src.length, free);
          expect(ring.write(src)).toBe(n);
          m.committed.push(...src.subarray(0, n));
          m.parked.splice(0, n);
          if (n > 0) m.allocated = true;
        } else if (op < 36) {
          const dst = new Uint8Array(int(m.committed.length + 3));
          const n = Math.min(dst.length, m.committed.length);
          expect(ring.read(dst)).toBe(n);
          const want = m.committed.splice(0, n);
          want.forEach((b, i) => {
            if (b !== undefined) expect(dst[i]).toBe(b);
          });
        } else if (op < 44) {
          const offset = int(m.committed.length + 1);
          const dst = new Uint8Array(int(m.capacity + 2));
          const n = Math.min(dst.length, m.committed.length - offset);
          expect(ring.peek(dst, offset)).toBe(n);
          for (let i = 0; i < n; i++) {
            const b = m.committed[offset + i];
            if (b !== undefined) expect(dst[i]).toBe(b);
          }
        } else if (op < 54) {
          const n = int(m.committed.length + 1);
          ring.consume(n);
          m.committed.splice(0, n);
        } else if (op < 62) {
          const offset = int(m.committed.length + 1);
          const len = int(m.capacity + 2);
          const views = ring.slices(offset, len);
          const n = Math.min(len, m.committed.length - offset);
          expect(views.reduce((s, v) => s + v.length, 0)).toBe(n);
          if (views.length === 2) wraps++;
          const flat = concat(views);
          for (let i = 0; i < n; i++) {
            const b = m.committed[offset + i];
            if (b !== undefined) expect(flat[i]).toBe(b);
          }
        } else if (op < 76) {
          const offset = int(free + 3);
          const src = randomBytes(next, int(8));
          const n = Math.max(0, Math.min(src.length, free - offset));
          expect(ring.writeAt(offset, src)).toBe(n);
          for (let i = 0; i < n; i++) m.parked[offset + i] = src[i];
          if (n > 0) m.allocated = true;
        } else if (op < 86) {
          // Mostly commit what was parked (the assembler's use), sometimes past it.
          const n = next() < 0.8 ? int(m.parked.length + 1) : int(free + 1);
          ring.commit(n);
          for (let i = 0; i < n; i++) m.committed.push(m.parked[i]);
          m.parked.splice(0, n);
          trimParked(m.parked);
          if (n > 0) m.allocated = true;
        } else if (op < 93) {
          const extent = m.committed.length + m.parked.length;
          const target = next() < 0.2 && extent > 0 ? int(extent) : extent + int(24);
          if (target < extent) {
            expect(() => ring.resize(target)).toThrow(RangeError);
          } else {
            ring.resize(target);
            if (target !== m.capacity && extent === 0) m.allocated = false;
            m.capacity = target;
          }
        } else if (op < 96) {
          const extent = m.committed.length + m.parked.length;
          expect(ring.release()).toBe(extent === 0);
          if (extent === 0) m.allocated = false;
        } else if (op < 98) {
          ring.dropUncommitted();
          m.parked = [];
        } else {
          ring.clear();
          m.committed = [];
          m.parked = [];
        }
        checkAgainst(ring, m, growable);
      }
      // The run must have exercised the interesting case.
      expect(wraps).toBeGreaterThan(0);
    });
  }
});

describe('RingBuffer growing store', () => {
  it('starts at minStore, doubles with the contents up to the capacity, and keeps the bytes', () => {
    const ring = new RingBuffer(100, { minStore: 8 });
    ring.write(seq(0, 3));
    expect(ring.allocatedBytes).toBe(8);
    ring.consume(2); // head moves, so the next growth must linearise a wrapped ring
    ring.write(seq(3, 6)); // 7 bytes, wrapping in the 8-byte store
    expect(ring.slices(0, 7)).toHaveLength(2);
    ring.write(seq(9, 2)); // 9 bytes: 16
    expect(ring.allocatedBytes).toBe(16);
    expect(contents(ring)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ring.slices(0, 9)).toHaveLength(1);
    ring.writeAt(40, bytes(77)); // parked far out: 9 + 40 + 1 = 50 bytes -> 64
    expect(ring.allocatedBytes).toBe(64);
    ring.write(seq(11, 200)); // up to the capacity, not beyond
    expect(ring.allocatedBytes).toBe(100);
    expect(ring.length).toBe(100);
  });

  it('after a release starts again at the size it had grown to', () => {
    const pool = new BufferPool();
    const ring = new RingBuffer(1 << 16, { pool, minStore: 1024 });
    ring.write(new Uint8Array(5000));
    expect(ring.allocatedBytes).toBe(8192);
    ring.consume(5000);
    expect(ring.release()).toBe(true);
    expect(pool.retainedBytes).toBe(8192);
    ring.write(bytes(1));
    expect(ring.allocatedBytes).toBe(8192); // the pooled array, not a 1 KiB one grown again
    expect(pool.retainedBytes).toBe(0);
  });

  it('resize: growing the capacity keeps the store, shrinking below it moves the contents', () => {
    const ring = new RingBuffer(64, { minStore: 16 });
    ring.write(seq(0, 10));
    ring.resize(1024);
    expect(ring.allocatedBytes).toBe(16);
    ring.resize(12);
    expect(ring.allocatedBytes).toBe(12);
    expect(contents(ring)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
