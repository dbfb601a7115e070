import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { PortAllocator } from './port-allocator.js';

describe('PortAllocator', () => {
  it('allocates ephemeral ports from a seeded random start inside the range', () => {
    const a = new PortAllocator<string>(new SeededRng(1));
    const b = new PortAllocator<string>(new SeededRng(1));
    const p = a.allocate()!;
    expect(p).toBe(b.allocate());
    expect(p).toBeGreaterThanOrEqual(32768);
    expect(p).toBeLessThanOrEqual(60999);
  });

  it('records bindings and skips taken ports until the range is exhausted', () => {
    const a = new PortAllocator<string>(new SeededRng(2), { low: 5000, high: 5002 });
    const got = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const p = a.allocate()!;
      a.bind(p, `s${i}`);
      got.add(p);
    }
    expect([...got].sort()).toEqual([5000, 5001, 5002]);
    expect(a.allocate()).toBeUndefined();
    a.bind(5001, 'reuse');
    expect(a.bindings(5001)).toHaveLength(2);
    expect(a.unbind(5001, 'reuse')).toBe(true);
    expect(a.unbind(5001, 'reuse')).toBe(false);
    expect(a.isInUse(5001)).toBe(true);
    expect(a.allocate((port) => port === 5002)).toBe(5002);
    expect(() => a.setEphemeralRange({ low: 10, high: 5 })).toThrow(RangeError);
    expect(() => a.bind(0, 'x')).toThrow(RangeError);
  });

  it('keeps bind order when a port holds many bindings (array, then Set), through removals', () => {
    const a = new PortAllocator<number>(new SeededRng(3));
    const n = 1000;
    for (let i = 0; i < n; i++) a.bind(80, i);
    expect(a.bindings(80)).toHaveLength(n);
    // Remove every third, oldest first and newest first mixed, then re-add one.
    for (let i = 0; i < n; i += 3) expect(a.unbind(80, i)).toBe(true);
    expect(a.unbind(80, 0)).toBe(false);
    expect(a.unbind(80, n + 5)).toBe(false);
    a.bind(80, 0);
    const expected = [...Array(n).keys()].filter((i) => i % 3 !== 0).concat([0]);
    expect(a.bindings(80)).toEqual(expected);
    for (const i of expected) expect(a.unbind(80, i)).toBe(true);
    expect(a.isInUse(80)).toBe(false);
    expect(a.bindings(80)).toEqual([]);
    expect(a.size).toBe(0);
    // And back to a small array port.
    a.bind(80, 7);
    a.bind(80, 8);
    expect(a.bindings(80)).toEqual([7, 8]);
  });
});
