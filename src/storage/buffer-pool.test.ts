import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';
import { RingBuffer } from './ring-buffer.js';

describe('BufferPool', () => {
  it('hands back the array it was given, last in first out, by exact size', () => {
    const pool = new BufferPool();
    const a = pool.take(1024);
    const b = pool.take(1024);
    expect(a).not.toBe(b);
    expect(a.length).toBe(1024);
    pool.give(a);
    pool.give(b);
    expect(pool.retainedBytes).toBe(2048);
    expect(pool.take(2048)).not.toBe(a); // another size: a new array
    expect(pool.take(1024)).toBe(b);
    expect(pool.take(1024)).toBe(a);
    expect(pool.retainedBytes).toBe(0);
    expect(pool.take(1024)).not.toBe(a);
  });

  it('keeps at most maxPerSize arrays of a size and maxBytes in all', () => {
    const pool = new BufferPool({ maxBytes: 10_000, maxPerSize: 2 });
    for (let i = 0; i < 3; i++) pool.give(new Uint8Array(1000));
    expect(pool.retainedBytes).toBe(2000);
    pool.give(new Uint8Array(8000));
    expect(pool.retainedBytes).toBe(10_000);
    pool.give(new Uint8Array(1)); // over maxBytes
    expect(pool.retainedBytes).toBe(10_000);
    pool.clear();
    expect(pool.retainedBytes).toBe(0);
  });

  it('never keeps a view into a larger buffer (it would pin the whole buffer)', () => {
    const pool = new BufferPool();
    const big = new Uint8Array(4096);
    pool.give(big.subarray(0, 1024));
    pool.give(big.subarray(1024, 2048));
    pool.give(new Uint8Array(0));
    expect(pool.retainedBytes).toBe(0);
  });

  it('giveTaken keeps what take() handed out, within the same bounds as give', () => {
    const pool = new BufferPool({ maxBytes: 3000, maxPerSize: 2 });
    const a = pool.take(1000);
    const b = pool.take(1000);
    const c = pool.take(1000);
    pool.giveTaken(a);
    pool.giveTaken(b);
    pool.giveTaken(c); // a third of one size: over maxPerSize
    expect(pool.retainedBytes).toBe(2000);
    pool.giveTaken(pool.take(2000)); // over maxBytes
    expect(pool.retainedBytes).toBe(2000);
    pool.giveTaken(pool.take(0));
    expect(pool.retainedBytes).toBe(2000);
    expect(pool.take(1000)).toBe(b);
    expect(pool.take(1000)).toBe(a);
    expect(pool.retainedBytes).toBe(0);
  });

  it('rejects nonsense bounds', () => {
    expect(() => new BufferPool({ maxBytes: -1 })).toThrow(RangeError);
    expect(() => new BufferPool({ maxPerSize: 1.5 })).toThrow(RangeError);
  });

  it('lets rings pass one store between them without exposing old bytes', () => {
    const pool = new BufferPool();
    const a = new RingBuffer(64, { pool });
    a.write(Uint8Array.from([1, 2, 3, 4]));
    a.consume(4);
    expect(a.release()).toBe(true);
    expect(pool.retainedBytes).toBe(64);
    const b = new RingBuffer(64, { pool });
    b.write(Uint8Array.from([9]));
    expect(pool.retainedBytes).toBe(0);
    const out = new Uint8Array(8);
    expect(b.read(out)).toBe(1);
    expect(out[0]).toBe(9);
    expect(b.slices(0, 64)).toHaveLength(0);
  });
});
