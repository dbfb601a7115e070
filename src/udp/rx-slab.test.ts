import { describe, expect, it } from 'vitest';
import { DatagramQueue } from './datagram-queue.js';
import { queueDatagram } from './rx-slab.js';

const from = { address: 1, port: 2 };
const dgram = (len: number, seed: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (seed * 31 + i) & 0xff);

/** Datagrams through `q`, each read at once: traffic that retires slabs. */
function flow(q: DatagramQueue, count: number, len: number): void {
  const buf = new Uint8Array(len);
  for (let i = 0; i < count; i++) {
    expect(queueDatagram(q, from, dgram(len, i), len, 1e9)).toBe(true);
    expect(q.recv([buf], 0)!.bytesRead).toBe(len);
    expect(buf).toEqual(dgram(len, i));
  }
}

describe('received datagrams in shared slabs', () => {
  it('a datagram left waiting gets its own copy once another slab of traffic went by, bytes intact', () => {
    const idle = new DatagramQueue();
    const busy = new DatagramQueue();
    flow(busy, 1, 100);
    expect(queueDatagram(idle, from, dgram(100, 7), 100, 1e9)).toBe(true);
    expect(idle.shared).toBe(1);
    // Two slabs' worth (16 KiB each): the idle one's slab retires, then stays mostly unused a whole slab long.
    flow(busy, 400, 100);
    expect(idle.shared).toBe(0);
    const buf = new Uint8Array(100);
    expect(idle.recv([buf], 0)!.bytesRead).toBe(100);
    expect(buf).toEqual(dgram(100, 7));
    // And it still takes new datagrams into slabs.
    expect(queueDatagram(idle, from, dgram(50, 8), 50, 1e9)).toBe(true);
    expect(idle.shared).toBe(1);
    idle.clear();
  });

  it('a deep queue that fills its slab keeps sharing it (no copies while most of it is in use)', () => {
    const deep = new DatagramQueue();
    const busy = new DatagramQueue();
    for (let i = 0; i < 150; i++) expect(queueDatagram(deep, from, dgram(100, i), 100, 1e9)).toBe(true);
    flow(busy, 400, 100);
    expect(deep.shared).toBe(150);
    const buf = new Uint8Array(100);
    for (let i = 0; i < 150; i++) {
      expect(deep.recv([buf], 0)!.bytesRead).toBe(100);
      expect(buf).toEqual(dgram(100, i));
    }
  });

  it('a refused datagram takes no room and large ones get their own array', () => {
    const q = new DatagramQueue();
    expect(queueDatagram(q, from, dgram(10, 1), 10, 0)).toBe(true);
    expect(queueDatagram(q, from, dgram(10, 2), 10, 0)).toBe(false);
    expect(queueDatagram(q, from, dgram(3000, 3), 3000, 1e9)).toBe(true);
    expect(q.length).toBe(2);
    expect(q.shared).toBe(1);
    const buf = new Uint8Array(3000);
    expect(q.recv([buf], 0)!.bytesRead).toBe(10);
    expect(buf.subarray(0, 10)).toEqual(dgram(10, 1));
    expect(q.recv([buf], 0)!.bytesRead).toBe(3000);
    expect(buf).toEqual(dgram(3000, 3));
  });
});
