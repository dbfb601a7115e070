import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { DeadlineHeap } from './deadline-heap.js';
import type { ConnEntry } from './tcp-entry.js';

/** A heap slot holder: what DeadlineHeap reads and writes of an entry. */
function slot(id: number): ConnEntry {
  return { id, heapIndex: -1, deadline: Number.POSITIVE_INFINITY } as unknown as ConnEntry;
}

/** Pops everything: deadlines in order, and each entry out of the heap. */
function drain(h: DeadlineHeap): number[] {
  const out: number[] = [];
  for (let e = h.peek(); e !== undefined; e = h.peek()) {
    out.push(e.deadline);
    h.remove(e);
    expect(e.heapIndex).toBe(-1);
  }
  return out;
}

describe('DeadlineHeap', () => {
  it('replace puts a new entry in the old one\'s place, with its own deadline, in order (seeded random operations)', () => {
    const rng = new SeededRng(5);
    for (let round = 0; round < 50; round++) {
      const h = new DeadlineHeap();
      const live = new Map<ConnEntry, number>();
      let next = 0;
      for (let i = 0; i < 60; i++) {
        const op = rng.nextInt(4);
        const entries = [...live.keys()];
        if (op === 0 || entries.length === 0) {
          const e = slot(next++);
          const at = rng.nextInt(1000);
          h.set(e, at);
          live.set(e, at);
        } else if (op === 1) {
          const old = entries[rng.nextInt(entries.length)]!;
          const e = slot(next++);
          const at = rng.nextInt(1000);
          h.replace(old, e, at);
          expect(old.heapIndex).toBe(-1);
          expect(old.deadline).toBe(Number.POSITIVE_INFINITY);
          live.delete(old);
          live.set(e, at);
        } else if (op === 2) {
          const e = entries[rng.nextInt(entries.length)]!;
          h.remove(e);
          live.delete(e);
        } else {
          const e = entries[rng.nextInt(entries.length)]!;
          const at = rng.nextInt(1000);
          h.set(e, at);
          live.set(e, at);
        }
        expect(h.size).toBe(live.size);
      }
      expect(drain(h)).toEqual([...live.values()].sort((a, b) => a - b));
    }
  });

  it('replace of an entry not in the heap just adds the new one', () => {
    const h = new DeadlineHeap();
    const a = slot(1);
    const b = slot(2);
    h.set(slot(3), 5);
    h.replace(a, b, 1);
    expect(h.peek()).toBe(b);
    expect(drain(h)).toEqual([1, 5]);
  });
});
