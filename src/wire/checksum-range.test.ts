import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { checksumAdd, checksumAddRange, checksumFold } from './checksum.js';

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
});
