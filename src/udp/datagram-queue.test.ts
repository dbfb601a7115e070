import { describe, expect, it } from 'vitest';
import { constants as C } from '../syscall/constants.js';
import { DatagramQueue } from './datagram-queue.js';

const from = { address: 1, port: 2 };

describe('DatagramQueue', () => {
  it('charges cost, refuses only when already over the limit, and keeps order across compaction', () => {
    const q = new DatagramQueue();
    expect(q.push(from, Uint8Array.of(0), 10, 5)).toBe(true);
    expect(q.push(from, Uint8Array.of(1), 10, 5)).toBe(false);
    expect(q.bytes).toBe(10);
    for (let i = 1; i < 200; i++) expect(q.push(from, Uint8Array.of(i & 0xff), 1, 1e9)).toBe(true);
    const buf = new Uint8Array(1);
    for (let i = 0; i < 200; i++) {
      const r = q.recv([buf], 0)!;
      expect(r.bytesRead).toBe(1);
      expect(buf[0]).toBe(i & 0xff);
    }
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.recv([buf], 0)).toBeUndefined();
  });

  it('MSG_PEEK leaves the datagram; MSG_TRUNC reports its real length; truncation discards the rest', () => {
    const q = new DatagramQueue();
    q.push(from, Uint8Array.of(1, 2, 3, 4), 4, 100);
    q.push(from, Uint8Array.of(9), 1, 100);
    const a = new Uint8Array(1);
    const b = new Uint8Array(2);
    expect(q.recv([a, b], C.MSG_PEEK | C.MSG_TRUNC)).toEqual({ bytesRead: 4, from, flags: C.MSG_TRUNC });
    expect([...a, ...b]).toEqual([1, 2, 3]);
    expect(q.length).toBe(2);
    expect(q.recv([a, b], 0)).toEqual({ bytesRead: 3, from, flags: C.MSG_TRUNC });
    expect(q.recv([b], 0)).toEqual({ bytesRead: 1, from, flags: 0 });
    expect(b[0]).toBe(9);
    q.push(from, Uint8Array.of(5), 1, 100);
    q.clear();
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
  });
});
