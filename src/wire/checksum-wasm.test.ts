import { describe, expect, it } from 'vitest';
import { WASM_SUM_MAX_BYTES, wasmWordSum } from './checksum-wasm.js';
import { checksumAdd, checksumAddRange, checksumFold, checksumValid, internetChecksum, useWasmChecksum } from './checksum.js';
import { SeededRng } from '../random/rng.js';

/** The RFC 1071 definition, a big-endian word at a time. */
function reference(data: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i += 2) sum += (data[i]! << 8) | (i + 1 < to ? data[i + 1]! : 0);
  return checksumFold(sum);
}

/** checksumFold of the JavaScript path's sum. */
function jsSum(data: Uint8Array, from: number, to: number): number {
  const was = useWasmChecksum(false);
  try {
    return checksumFold(checksumAddRange(0, data, from, to));
  } finally {
    useWasmChecksum(was);
  }
}

describe('WebAssembly SIMD word sum', () => {
  it('is available on this Node (or the tests below would only test the fallback)', () => {
    // 0x0102 + 0x0300 (the odd byte padded with zero).
    expect(wasmWordSum(new Uint8Array([1, 2, 3]), 0, 3)).toBe(0x0402);
  });

  it('folds to the RFC 1071 sum for seeded random ranges: lengths, even starts, odd ends, wraps of the lanes', () => {
    const rng = new SeededRng(1071);
    const data = new Uint8Array(WASM_SUM_MAX_BYTES + 64);
    for (let i = 0; i < data.length; i++) data[i] = rng.nextInt(256);
    const lengths = [0, 1, 2, 15, 16, 17, 31, 33, 511, 512, 513, 1448, 1449, 8191, 65534, 65535, WASM_SUM_MAX_BYTES];
    for (let k = 0; k < 300; k++) lengths.push(rng.nextInt(WASM_SUM_MAX_BYTES + 1));
    for (const n of lengths) {
      const from = 2 * rng.nextInt(32);
      const want = reference(data, from, from + n);
      expect(wasmWordSum(data, from, from + n), `length ${n} from ${from}`).toBe(want);
      expect(jsSum(data, from, from + n), `length ${n} from ${from}`).toBe(want);
    }
  });

  it('keeps zero apart from all ones, and sums the extremes without overflow', () => {
    const zeros = new Uint8Array(4000);
    expect(wasmWordSum(zeros, 0, zeros.length)).toBe(0);
    const ones = new Uint8Array(WASM_SUM_MAX_BYTES).fill(0xff);
    expect(wasmWordSum(ones, 0, ones.length)).toBe(0xffff);
    const high = new Uint8Array(WASM_SUM_MAX_BYTES).fill(0xfe);
    expect(wasmWordSum(high, 0, high.length)).toBe(reference(high, 0, high.length));
  });

  it('declines ranges beyond its memory, which checksum.ts then sums in JavaScript', () => {
    const big = new Uint8Array(WASM_SUM_MAX_BYTES + 2).fill(0x5a);
    expect(wasmWordSum(big, 0, big.length)).toBe(-1);
    expect(checksumFold(checksumAdd(0, big))).toBe(reference(big, 0, big.length));
  });

  it('gives checksum.ts the same checksums either way', () => {
    const rng = new SeededRng(7);
    const seg = new Uint8Array(1500);
    for (let i = 0; i < seg.length; i++) seg[i] = rng.nextInt(256);
    const withWasm = internetChecksum(seg, 0x1234);
    const was = useWasmChecksum(false);
    try {
      expect(internetChecksum(seg, 0x1234)).toBe(withWasm);
    } finally {
      useWasmChecksum(was);
    }
    // A segment carrying its own checksum verifies on the long path.
    seg[16] = 0;
    seg[17] = 0;
    const c = internetChecksum(seg);
    seg[16] = c >>> 8;
    seg[17] = c & 0xff;
    expect(checksumValid(seg)).toBe(true);
    seg[700] = seg[700]! ^ 1;
    expect(checksumValid(seg)).toBe(false);
  });
});
