import { describe, expect, it } from 'vitest';
import { Counters } from './counters.js';

describe('Counters', () => {
  it('counts by name and lists sorted snapshots', () => {
    const c = new Counters();
    c.increment('b');
    c.increment('a', 5);
    c.increment('b');
    expect(c.get('a')).toBe(5);
    expect(c.get('b')).toBe(2);
    expect(c.get('missing')).toBe(0);
    expect(Object.keys(c.snapshot())).toEqual(['a', 'b']);
    expect(c.snapshot()).toEqual({ a: 5, b: 2 });
  });

  it('lists a counter incremented by 0, as before cells existed', () => {
    const c = new Counters();
    c.increment('zero', 0);
    expect(c.snapshot()).toEqual({ zero: 0 });
  });

  it('a cell adds to the same counter as increment, and alone lists nothing', () => {
    const c = new Counters();
    const cell = c.cell('hot');
    expect(c.snapshot()).toEqual({});
    expect(c.cell('hot')).toBe(cell);
    cell.n++;
    cell.n += 3;
    c.increment('hot');
    expect(c.get('hot')).toBe(5);
    expect(c.snapshot()).toEqual({ hot: 5 });
  });

  it('reset zeroes and hides every counter; cells stay connected', () => {
    const c = new Counters();
    const cell = c.cell('hot');
    cell.n += 2;
    c.increment('cold');
    c.reset();
    expect(c.snapshot()).toEqual({});
    expect(c.get('hot')).toBe(0);
    cell.n++;
    expect(c.snapshot()).toEqual({ hot: 1 });
    c.increment('cold', 0);
    expect(c.snapshot()).toEqual({ cold: 0, hot: 1 });
  });
});
