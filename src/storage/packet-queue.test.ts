import { describe, expect, it } from 'vitest';
import { PacketQueue } from './packet-queue.js';
import type { QueuedPacket } from './packet-queue.js';
import { SeededRng } from '../random/rng.js';

describe('PacketQueue', () => {
  it('is FIFO and keeps metadata with each packet', () => {
    const q = new PacketQueue<{ port: number }>({ maxPackets: 4, maxBytes: 100 });
    const a = new Uint8Array(3);
    const b = new Uint8Array(5);
    expect(q.push(a, { port: 1 })).toBe(true);
    expect(q.push(b, { port: 2 })).toBe(true);
    expect(q.length).toBe(2);
    expect(q.bytes).toBe(8);
    expect(q.peek()?.meta.port).toBe(1);
    const first = q.shift();
    expect(first?.data).toBe(a); // stored by reference, not copied
    expect(first?.meta).toEqual({ port: 1 });
    expect(q.shift()?.data).toBe(b);
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
    expect(q.bytes).toBe(0);
    expect(q.isEmpty).toBe(true);
  });

  it('drops on the packet limit and counts it', () => {
    const q = new PacketQueue({ maxPackets: 2, maxBytes: 1000 });
    expect(q.push(new Uint8Array(1), undefined)).toBe(true);
    expect(q.push(new Uint8Array(1), undefined)).toBe(true);
    expect(q.canAccept(0)).toBe(false);
    expect(q.push(new Uint8Array(1), undefined)).toBe(false);
    expect(q.dropped).toBe(1);
    expect(q.length).toBe(2);
    q.shift();
    expect(q.push(new Uint8Array(1), undefined)).toBe(true);
  });

  it('drops on the byte limit, and never takes a packet larger than the budget', () => {
    const q = new PacketQueue({ maxPackets: 100, maxBytes: 10 });
    expect(q.push(new Uint8Array(11), undefined)).toBe(false);
    expect(q.push(new Uint8Array(6), undefined)).toBe(true);
    expect(q.push(new Uint8Array(5), undefined)).toBe(false);
    expect(q.push(new Uint8Array(4), undefined)).toBe(true);
    expect(q.bytes).toBe(10);
    expect(q.push(new Uint8Array(0), undefined)).toBe(true); // empty datagrams cost a slot only
    expect(q.dropped).toBe(2);
  });

  it('counts bytes of views by their own length, not their buffer', () => {
    const q = new PacketQueue({ maxPackets: 10, maxBytes: 10 });
    const big = new Uint8Array(1000);
    expect(q.push(big.subarray(100, 108), undefined)).toBe(true);
    expect(q.bytes).toBe(8);
  });

  it('clear() empties without counting drops', () => {
    const q = new PacketQueue({ maxPackets: 10, maxBytes: 100 });
    q.push(new Uint8Array(4), undefined);
    q.push(new Uint8Array(4), undefined);
    expect(q.clear()).toBe(2);
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.dropped).toBe(0);
    expect(q.push(new Uint8Array(4), undefined)).toBe(true);
  });

  it('iterates oldest first across the wrap point', () => {
    const q = new PacketQueue<number>({ maxPackets: 4, maxBytes: 100 });
    for (let i = 0; i < 4; i++) q.push(new Uint8Array(1), i);
    q.shift();
    q.shift();
    q.push(new Uint8Array(1), 4);
    q.push(new Uint8Array(1), 5);
    expect([...q].map((p) => p.meta)).toEqual([2, 3, 4, 5]);
  });

  it('rejects impossible limits', () => {
    expect(() => new PacketQueue({ maxPackets: 0, maxBytes: 10 })).toThrow(RangeError);
    expect(() => new PacketQueue({ maxPackets: 1.5, maxBytes: 10 })).toThrow(RangeError);
    expect(() => new PacketQueue({ maxPackets: 1, maxBytes: -1 })).toThrow(RangeError);
    expect(() => new PacketQueue({ maxPackets: 1, maxBytes: Infinity })).toThrow(RangeError);
  });

  for (const seed of [1, 2, 3, 99, 0xfeed]) {
    it(`matches a plain array model (seed ${seed})`, () => {
      const nextRng = new SeededRng(seed);
      const next = (): number => nextRng.nextFloat();
      const int = (n: number): number => Math.floor(next() * n);
      const maxPackets = 1 + int(12);
      const maxBytes = int(200);
      const q = new PacketQueue<number>({ maxPackets, maxBytes });
      const model: QueuedPacket<number>[] = [];
      let dropped = 0;
      let id = 0;
      let accepted = 0;

      for (let step = 0; step < 5000; step++) {
        const op = int(100);
        // Bias pushes up in bursts so the queue fills and drains repeatedly.
        const pushBias = step % 400 < 200 ? 60 : 30;
        if (op < pushBias) {
          const data = new Uint8Array(int(40));
          const bytes = model.reduce((s, p) => s + p.data.length, 0);
          const fits = model.length < maxPackets && bytes + data.length <= maxBytes;
          expect(q.canAccept(data.length)).toBe(fits);
          expect(q.push(data, id)).toBe(fits);
          if (fits) {
            model.push({ data, meta: id });
            accepted++;
          } else dropped++;
          id++;
        } else if (op < 97) {
          const got = q.shift();
          const want = model.shift();
          expect(got?.meta).toBe(want?.meta);
          expect(got?.data).toBe(want?.data);
        } else {
          expect(q.clear()).toBe(model.length);
          model.length = 0;
        }
        expect(q.length).toBe(model.length);
        expect(q.bytes).toBe(model.reduce((s, p) => s + p.data.length, 0));
        expect(q.dropped).toBe(dropped);
        expect(q.peek()?.meta).toBe(model[0]?.meta);
        expect(q.length).toBeLessThanOrEqual(maxPackets);
        expect(q.bytes).toBeLessThanOrEqual(maxBytes);
        if (step % 50 === 0) expect([...q].map((p) => p.meta)).toEqual(model.map((p) => p.meta));
      }
      expect(dropped).toBeGreaterThan(0);
      expect(accepted).toBeGreaterThan(maxPackets);
    });
  }
});
