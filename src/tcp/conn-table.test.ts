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
});
