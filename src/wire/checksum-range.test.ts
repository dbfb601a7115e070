import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { checksumAdd, checksumAddRange, checksumFold, checksumRangeValid, useWasmChecksum } from './checksum.js';

describe('checksumAddRange', () => {
  it('folds to the same sum as checksumAdd over the subarray, for every kind of range', () => {
    const rng = new SeededRng(9);
    const data = new Uint8Array(400);
    for (let i = 0; i < data.length; i++) data[i] = rng.nextU32() & 0xff;
    for (const [from, to] of [
      [0, 0],
      [0, 20],
      [0, 21],
      [1, 21],
      [2, 60],
      [3, 3],
      [4, 131],
      [5, 400],
      [0, 400],
      [14, 34],
    ] as const) {
      const want = checksumFold(checksumAdd(7, data.subarray(from, to)));
      expect(checksumFold(checksumAddRange(7, data, from, to)), `${from}..${to}`).toBe(want);
    }
  });

  /** RFC 1071 by the book: big-endian words one at a time, odd byte padded. */
  function reference(data: Uint8Array, from: number, to: number): number {
    let sum = 0;
    for (let i = from; i < to; i += 2) sum += (data[i]! << 8) | (i + 1 < to ? data[i + 1]! : 0);
    return checksumFold(sum);
  }

  it('sums large ranges in place, across several buffers and views (the word-view cache), as RFC 1071 says', () => {
    const rng = new SeededRng(11);
    const buffers = [new ArrayBuffer(4096), new ArrayBuffer(2048), new ArrayBuffer(3001), new ArrayBuffer(65536)];
    for (const b of buffers) {
      const u = new Uint8Array(b);
      for (let i = 0; i < u.length; i++) u[i] = rng.nextU32() & 0xff;
    }
    for (let k = 0; k < 400; k++) {
      const buffer = buffers[rng.nextU32() % buffers.length]!;
      const offset = rng.nextU32() % 64;
      const view = new Uint8Array(buffer, offset, buffer.byteLength - offset - (rng.nextU32() % 64));
      const from = (rng.nextU32() % 100) & ~1;
      const to = Math.min(view.length, from + (rng.nextU32() % 1600));
      if (to < from) continue;
      // The bytes change between sums: a cached view must read them as they are now.
      view[from] = rng.nextU32() & 0xff;
      expect(checksumFold(checksumAddRange(0, view, from, to)), `${offset}+${from}..${to}`).toBe(reference(view, from, to));
      expect(checksumFold(checksumAdd(0, view.subarray(from, to)))).toBe(reference(view, from, to));
    }
  });

  it('still sums right after a resizable buffer it has seen shrinks or grows', () => {
    // ES2024 resizable buffers (Node 20 has them; the compiler's lib predates them).
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    // With the WebAssembly path off too: these lengths would otherwise all
    // take it, and the JavaScript loop's cached word view (the one a resize
    // leaves short) would go untested.
    for (const wasm of [true, false]) {
      const was = useWasmChecksum(wasm);
      try {
        const buffer = new Resizable(1024, { maxByteLength: 4096 });
        const view = new Uint8Array(buffer);
        for (let i = 0; i < 1024; i++) view[i] = (i * 7) & 0xff;
        expect(checksumFold(checksumAdd(0, view))).toBe(reference(view, 0, view.length));
        buffer.resize(4096);
        for (let i = 0; i < 4096; i++) view[i] = (i * 13) & 0xff;
        expect(checksumFold(checksumAdd(0, view)), `wasm ${wasm}`).toBe(reference(view, 0, 4096));
        buffer.resize(600);
        expect(checksumFold(checksumAdd(0, view)), `wasm ${wasm}`).toBe(reference(view, 0, 600));
      } finally {
        useWasmChecksum(was);
      }
    }
  });
});

describe('checksumRangeValid', () => {
  it('accepts a range whose checksum field is right and rejects it once a bit flips, at even and odd offsets', () => {
    const rng = new SeededRng(13);
    for (const at of [0, 1, 14, 35]) {
      const data = new Uint8Array(at + 60);
      for (let i = 0; i < data.length; i++) data[i] = rng.nextU32() & 0xff;
      // Word 5 of the range holds the checksum of the rest (an IPv4-like header at `at`).
      data[at + 10] = data[at + 11] = 0;
      const sum = checksumFold(checksumAdd(0x1234, data.subarray(at, at + 60)));
      const cks = ~sum & 0xffff;
      data[at + 10] = cks >>> 8;
      data[at + 11] = cks & 0xff;
      expect(checksumRangeValid(data, at, at + 60, 0x1234), `at ${at}`).toBe(true);
      expect(checksumRangeValid(data, at, at + 60), `at ${at}, no initial`).toBe(false);
      data[at + 33]! ^= 0x10;
      expect(checksumRangeValid(data, at, at + 60, 0x1234), `at ${at}, flipped`).toBe(false);
    }
  });
});
