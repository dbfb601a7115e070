import { describe, expect, it } from 'vitest';
import { ConnTable } from './conn-table.js';
import type { TableEntry } from './conn-table.js';

function entry(localPort: number, remotePort: number, remoteAddr = 0x0a000002): TableEntry {
  return { local: { addr: 0x0a000001, port: localPort }, remote: { addr: remoteAddr, port: remotePort } } as unknown as TableEntry;
}

describe('ConnTable', () => {
  it('replace swaps an entry for another of the same tuple, alone under its port pair or sharing it', () => {
    const t = new ConnTable();
    const alone = entry(80, 40000);
    // Two tuples with the same port pair: they share one slot (an array).
    const shared1 = entry(80, 40001, 0x0a000002);
    const shared2 = entry(80, 40001, 0x0a000003);
    for (const e of [alone, shared1, shared2]) t.set(e);
    const alone2 = entry(80, 40000);
    const shared2b = entry(80, 40001, 0x0a000003);
    t.replace(alone, alone2);
    t.replace(shared2, shared2b);
    expect(t.size).toBe(3);
    expect(t.find(0x0a000001, 80, 0x0a000002, 40000)).toBe(alone2);
    expect(t.find(0x0a000001, 80, 0x0a000003, 40001)).toBe(shared2b);
    expect(t.find(0x0a000001, 80, 0x0a000002, 40001)).toBe(shared1);
    expect([...t.values()]).toHaveLength(3);
    t.delete(alone2);
    t.delete(shared2b);
    expect(t.size).toBe(1);
    expect([...t.values()]).toEqual([shared1]);
  });

  it('replace of an entry that is not there registers the new one', () => {
    const t = new ConnTable();
    const e = entry(1, 2);
    t.replace(entry(1, 2), e);
    expect(t.size).toBe(1);
    expect(t.find(0x0a000001, 1, 0x0a000002, 2)).toBe(e);
  });

  it('the one-entry lookup cache never answers for an entry the table no longer holds', () => {
    const t = new ConnTable();
    const a = entry(80, 40000);
    t.set(a);
    // Found twice: the second answer comes from the cache.
    expect(t.find(0x0a000001, 80, 0x0a000002, 40000)).toBe(a);
    expect(t.find(0x0a000001, 80, 0x0a000002, 40000)).toBe(a);
    t.delete(a);
    expect(t.find(0x0a000001, 80, 0x0a000002, 40000)).toBeUndefined();
    t.set(a);
    expect(t.find(0x0a000001, 80, 0x0a000002, 40000)).toBe(a);
    const b = entry(80, 40000);
    t.replace(a, b);
    expect(t.find(0x0a000001, 80, 0x0a000002, 40000)).toBe(b);
    // set() of the same tuple displaces the cached entry.
    const c = entry(80, 40000);
    t.set(c);
    expect(t.find(0x0a000001, 80, 0x0a000002, 40000)).toBe(c);
    expect(t.size).toBe(1);
    // A miss leaves nothing behind for another tuple.
    expect(t.find(0x0a000001, 81, 0x0a000002, 40000)).toBeUndefined();
    expect(t.find(0x0a000001, 80, 0x0a000002, 40000)).toBe(c);
  });
});
