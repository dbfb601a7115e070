import { describe, expect, it } from 'vitest';
import { bytesEqual, dataView, fromHex, readU16, readU32, toHex, writeU16, writeU32 } from './bytes.js';

describe('bytes', () => {
  it('reads and writes big-endian integers', () => {
    const b = new Uint8Array(6);
    writeU16(b, 0, 0xbeef);
    writeU32(b, 2, 0xdeadbeef);
    expect(toHex(b)).toBe('beefdeadbeef');
    expect(readU16(b, 0)).toBe(0xbeef);
    expect(readU32(b, 2)).toBe(0xdeadbeef);
  });

  it('dataView covers exactly the subarray', () => {
    const whole = new Uint8Array([1, 2, 3, 4, 5]);
    const v = dataView(whole.subarray(1, 4));
    expect(v.byteLength).toBe(3);
    expect(v.getUint8(0)).toBe(2);
  });

  it('hex round trip, separators allowed, junk rejected', () => {
    expect(toHex(fromHex('00 ff:10\n7a'))).toBe('00ff107a');
    expect(() => fromHex('abc')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
    expect(bytesEqual(fromHex('0102'), new Uint8Array([1, 2]))).toBe(true);
    expect(bytesEqual(fromHex('0102'), new Uint8Array([1, 3]))).toBe(false);
  });
});
