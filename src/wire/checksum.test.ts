import { describe, expect, it } from 'vitest';
import { fromHex } from './bytes.js';
import {
  checksumAdd,
  checksumAdjust,
  checksumAdjust32,
  checksumFinish,
  checksumAddChunks,
  checksumFold,
  checksumValid,
  internetChecksum,
  pseudoHeaderSum,
} from './checksum.js';
import { SeededRng } from '../random/rng.js';

/**
 * The obviously-correct reference: RFC 1071 4.1 word by word, folding after
 * every add so the sum never leaves 16 bits.
 */
function referenceSum(data: Uint8Array, initial = 0): number {
  let sum = checksumFold(initial);
  for (let i = 0; i < data.length; i += 2) {
    const word = (data[i]! << 8) | (i + 1 < data.length ? data[i + 1]! : 0);
    sum += word;
    if (sum > 0xffff) sum -= 0xffff; // end-around carry
  }
  return sum;
}

function referenceChecksum(data: Uint8Array, initial = 0): number {
  return ~referenceSum(data, initial) & 0xffff;
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

describe('checksumAdd / internetChecksum', () => {
  it('matches the RFC 1071 3 worked example (00 01 f2 03 f4 f5 f6 f7 sums to ddf2)', () => {
    const data = fromHex('0001f203f4f5f6f7');
    expect(checksumFold(checksumAdd(0, data))).toBe(0xddf2);
    expect(internetChecksum(data)).toBe(0x220d);
    expect(referenceSum(data)).toBe(0xddf2);
  });

  it('gives the same sum on a byte-swapped copy of the worked example, byte-swapped (RFC 1071 2(B))', () => {
    // Pad to 256 bytes so the 32-bit word path runs, not only the byte loop.
    const data = new Uint8Array(256);
    data.set(fromHex('0001f203f4f5f6f7'), 0);
    const swapped = new Uint8Array(257).subarray(1); // odd start: the other alignment
    for (let i = 0; i < data.length; i += 2) {
      swapped[i] = data[i + 1]!;
      swapped[i + 1] = data[i]!;
    }
    expect(checksumFold(checksumAdd(0, data))).toBe(0xddf2);
    expect(checksumFold(checksumAdd(0, swapped))).toBe(0xf2dd);
  });

  it('is 0xffff for empty and all-zero data, and never folds a non-zero sum to 0', () => {
    expect(internetChecksum(new Uint8Array(0))).toBe(0xffff);
    expect(checksumAdd(0, new Uint8Array(0))).toBe(0);
    for (const n of [1, 2, 127, 128, 1500, 65536]) {
      expect(checksumFold(checksumAdd(0, new Uint8Array(n)))).toBe(0);
      // All ones sum to 0xffff (negative zero), which must not become 0.
      expect(checksumFold(checksumAdd(0, new Uint8Array(n).fill(0xff)))).toBe(n % 2 === 1 ? 0xff00 : 0xffff);
    }
  });

  it('matches the reference for every length 0..300 at every byteOffset 0..7', () => {
    const nextRng = new SeededRng(1071);
    const next = (): number => nextRng.nextFloat();
    for (let n = 0; n <= 300; n++) {
      for (let offset = 0; offset < 8; offset++) {
        const backing = randomBytes(next, n + 16);
        const data = backing.subarray(offset, offset + n);
        const initial = Math.floor(next() * 0x3ffff);
        expect(checksumFold(checksumAdd(initial, data)), `n=${n} offset=${offset}`).toBe(referenceSum(data, initial));
        expect(internetChecksum(data, initial)).toBe(referenceChecksum(data, initial));
      }
    }
  });

  it('matches the reference on large buffers at every byteOffset 0..7', () => {
    const nextRng = new SeededRng(1624);
    const next = (): number => nextRng.nextFloat();
    const sizes = [1499, 1500, 1501, 4096, 9001, 65535, 65536, 65537, 200_003];
    for (const n of sizes) {
      const backing = randomBytes(next, n + 8);
      for (let offset = 0; offset < 8; offset++) {
        const data = backing.subarray(offset, offset + n);
        expect(checksumFold(checksumAdd(0, data)), `n=${n} offset=${offset}`).toBe(referenceSum(data));
      }
    }
  });

  it('stays exact on huge buffers of near-maximal words (no float64 rounding)', () => {
    // 24 MiB of 0xff with four 0xfe bytes every 32: nearly every 32-bit word
    // is near 2^32, and at any alignment each group of 8 words has an odd
    // total, so an unfolded float64 sum that passed 2^53 would round. The word
    // loop folds every 2^20 words (4 MiB) to stay below that.
    const n = 24 * 1024 * 1024 + 3;
    const backing = new Uint8Array(n + 3).fill(0xff);
    for (let i = 0; i < backing.length; i += 32) backing.fill(0xfe, i, i + 4);
    for (const offset of [0, 1, 2, 3]) {
      const data = backing.subarray(offset, offset + n);
      expect(checksumFold(checksumAdd(0, data)), `offset ${offset}`).toBe(referenceSum(data));
    }
    const allOnes = new Uint8Array(n).fill(0xff);
    expect(checksumFold(checksumAdd(0, allOnes))).toBe(referenceSum(allOnes));
  });

  it('accepts buffers whose ArrayBuffer length is not a multiple of 4', () => {
    const nextRng = new SeededRng(3);
    const next = (): number => nextRng.nextFloat();
    for (const total of [129, 130, 131, 1501, 1502, 1503]) {
      const data = randomBytes(next, total); // its own ArrayBuffer of `total` bytes
      expect(data.byteOffset).toBe(0);
      expect(checksumFold(checksumAdd(0, data))).toBe(referenceSum(data));
      const tail = data.subarray(1);
      expect(checksumFold(checksumAdd(0, tail))).toBe(referenceSum(tail));
    }
  });

  it('sums in chunks (only the last one odd) to the same value as in one go', () => {
    const nextRng = new SeededRng(9293);
    const next = (): number => nextRng.nextFloat();
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(next() * 3000);
      const offset = Math.floor(next() * 8);
      const data = randomBytes(next, n + 8).subarray(offset, offset + n);
      let sum = Math.floor(next() * 0x1ffff);
      const whole = referenceSum(data, sum);
      let at = 0;
      while (at < n) {
        // Even-length chunks, except that the last may be odd.
        let len = 2 * Math.floor(next() * 400);
        if (at + len >= n || len === 0) len = n - at;
        sum = checksumAdd(sum, data.subarray(at, at + len));
        at += len;
      }
      expect(checksumFold(sum), `round ${round}`).toBe(whole);
    }
  });

  it('returns an unfolded sum that later adds keep correct', () => {
    // Chaining very many chunks must not lose precision.
    const chunk = new Uint8Array(1500).fill(0xff);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) sum = checksumAdd(sum, chunk);
    expect(checksumFold(sum)).toBe(0xffff);
  });
});

describe('checksumFold', () => {
  it('folds carries end-around, beyond 32 bits too', () => {
    expect(checksumFold(0)).toBe(0);
    expect(checksumFold(0xffff)).toBe(0xffff);
    expect(checksumFold(0x10000)).toBe(1);
    expect(checksumFold(0x1fffe)).toBe(0xffff);
    expect(checksumFold(0x2ddf0)).toBe(0xddf2);
    expect(checksumFold(0xffffffff)).toBe(0xffff);
    expect(checksumFold(2 ** 52)).toBe(referenceFold(2 ** 52));
    expect(checksumFold(2 ** 53 - 1)).toBe(31); // 2^53 = 2^5 (mod 0xffff)
  });

  it('matches repeated modular folding on random large sums', () => {
    const nextRng = new SeededRng(42);
    const next = (): number => nextRng.nextFloat();
    for (let i = 0; i < 1000; i++) {
      const x = Math.floor(next() * 2 ** 52);
      expect(checksumFold(x)).toBe(referenceFold(x));
    }
  });
});

/** x mod 0xffff mapped into 1..0xffff for non-zero x. */
function referenceFold(x: number): number {
  if (x === 0) return 0;
  const r = Number(BigInt(x) % 0xffffn);
  return r === 0 ? 0xffff : r;
}

describe('pseudoHeaderSum', () => {
  it('equals the sum of a hand-built IPv4 pseudo-header (RFC 768, RFC 9293 3.1)', () => {
    const nextRng = new SeededRng(768);
    const next = (): number => nextRng.nextFloat();
    for (let i = 0; i < 100; i++) {
      const src = Math.floor(next() * 0x100000000);
      const dst = Math.floor(next() * 0x100000000);
      const protocol = next() < 0.5 ? 6 : 17;
      const length = Math.floor(next() * 0x10000);
      const ph = new Uint8Array(12);
      const view = new DataView(ph.buffer);
      view.setUint32(0, src);
      view.setUint32(4, dst);
      ph[8] = 0; // zero
      ph[9] = protocol;
      view.setUint16(10, length);
      expect(checksumFold(pseudoHeaderSum(src, dst, protocol, length))).toBe(referenceSum(ph));
    }
  });

  it('checksums a real UDP datagram with its pseudo-header', () => {
    // 192.168.0.1:1024 -> 192.168.0.199:53, payload "hi", checksum field zero.
    const udp = fromHex('04000035000a0000' + '6869');
    const ph = pseudoHeaderSum(0xc0a80001, 0xc0a800c7, 17, udp.length);
    const c = internetChecksum(udp, ph);
    const withSum = udp.slice();
    withSum[6] = c >>> 8;
    withSum[7] = c & 0xff;
    expect(checksumValid(withSum, ph)).toBe(true);
    expect(checksumValid(withSum, pseudoHeaderSum(0xc0a80001, 0xc0a800c8, 17, udp.length))).toBe(false);
  });
});

describe('checksumValid', () => {
  // The IPv4 header used as the example on Wikipedia's "Internet checksum" page.
  const header = fromHex('45000073000040004011b861c0a80001c0a800c7');

  it('accepts a real IPv4 header and rejects it after a bit flip', () => {
    expect(checksumValid(header)).toBe(true);
    const zeroed = header.slice();
    zeroed[10] = 0;
    zeroed[11] = 0;
    expect(internetChecksum(zeroed)).toBe(0xb861);
    for (let bit = 0; bit < header.length * 8; bit++) {
      const bad = header.slice();
      bad[bit >>> 3]! ^= 0x80 >>> (bit & 7);
      expect(checksumValid(bad), `bit ${bit}`).toBe(false);
    }
  });

  it('agrees with the reference on large packets at every offset', () => {
    const nextRng = new SeededRng(791);
    const next = (): number => nextRng.nextFloat();
    for (let offset = 0; offset < 8; offset++) {
      const data = randomBytes(next, 1500 + offset).subarray(offset);
      const c = referenceChecksum(data.subarray(2));
      data[0] = c >>> 8;
      data[1] = c & 0xff;
      expect(checksumValid(data)).toBe(true);
      data[700]! ^= 1;
      expect(checksumValid(data)).toBe(false);
    }
  });
});

describe('checksumAdjust / checksumAdjust32 (RFC 1624)', () => {
  /** A random packet-like buffer with its checksum stored in bytes 0..1. */
  function packet(next: () => number, n: number): Uint8Array {
    const p = randomBytes(next, n);
    p[0] = 0;
    p[1] = 0;
    const c = referenceChecksum(p);
    p[0] = c >>> 8;
    p[1] = c & 0xff;
    return p;
  }

  it('matches full recomputation for random 16-bit edits', () => {
    const nextRng = new SeededRng(1624);
    const next = (): number => nextRng.nextFloat();
    let zeroCases = 0;
    for (let round = 0; round < 2000; round++) {
      const p = packet(next, 2 + 2 * (1 + Math.floor(next() * 40)));
      const at = 2 + 2 * Math.floor(next() * ((p.length - 2) / 2));
      const oldWord = (p[at]! << 8) | p[at + 1]!;
      const newWord = next() < 0.1 ? [0, 0xffff][Math.floor(next() * 2)]! : Math.floor(next() * 0x10000);
      const oldChecksum = (p[0]! << 8) | p[1]!;
      p[at] = newWord >>> 8;
      p[at + 1] = newWord & 0xff;
      const body = p.subarray(2);
      const adjusted = checksumAdjust(oldChecksum, oldWord, newWord);
      if (body.every((x) => x === 0)) {
        // The one case eqn. 3 cannot get right: all-zero data, whose checksum
        // is 0xffff, comes out as 0x0000 (RFC 1624 3: harmless for real
        // packets, where the IP version or the pseudo-header's protocol field
        // is never zero).
        expect(adjusted).toBe(0x0000);
        zeroCases++;
        continue;
      }
      expect(adjusted, `round ${round}`).toBe(referenceChecksum(body));
      p[0] = adjusted >>> 8;
      p[1] = adjusted & 0xff;
      expect(checksumValid(p)).toBe(true);
    }
    expect(zeroCases).toBeGreaterThan(0); // the seed does reach the corner
  });

  it('matches full recomputation for random 32-bit edits at any even offset', () => {
    const nextRng = new SeededRng(32);
    const next = (): number => nextRng.nextFloat();
    for (let round = 0; round < 2000; round++) {
      const p = packet(next, 2 + 2 * (2 + Math.floor(next() * 40)));
      const at = 2 + 2 * Math.floor(next() * ((p.length - 4) / 2));
      const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
      const oldValue = view.getUint32(at);
      const newValue = Math.floor(next() * 0x100000000);
      const oldChecksum = view.getUint16(0);
      view.setUint32(at, newValue);
      const adjusted = checksumAdjust32(oldChecksum, oldValue, newValue);
      expect(adjusted, `round ${round}`).toBe(referenceChecksum(p.subarray(2)));
    }
  });

  it('gets the RFC 1624 3 example right: 0x0000, where RFC 1141 eqn. 1 gives 0xffff', () => {
    // All other words sum to 0xcd7a; the field m changes from 0x5555 to 0x3285.
    const before = fromHex('cd7a5555');
    const after = fromHex('cd7a3285');
    const hc = internetChecksum(before);
    expect(hc).toBe(0xdd2f);
    expect(internetChecksum(after)).toBe(0x0000);
    expect(checksumAdjust(hc, 0x5555, 0x3285)).toBe(0x0000);
    // The RFC 1141 formula, HC + m + ~m' folded, for contrast: the -0 answer.
    expect(checksumFold(hc + 0x5555 + (~0x3285 & 0xffff))).toBe(0xffff);
  });

  it('is the identity when the word does not change, including at 0x0000 and 0xffff', () => {
    // RFC 1624 erratum 4782 fears HC = 0x0000 with m = m' turns into 0xffff;
    // with end-around carry it stays 0x0000 (0xffff + 0xffff folds to 0xffff).
    for (const hc of [0x0000, 0x0001, 0x7fff, 0xfffe, 0xffff]) {
      for (const w of [0x0000, 0x1234, 0xffff]) {
        // A stored 0xffff (only all-zero data has it) comes back as the equivalent 0x0000.
        expect(checksumAdjust(hc, w, w)).toBe(hc === 0xffff ? 0x0000 : hc);
      }
    }
  });

  it('checksumFinish is the complement of the folded sum', () => {
    expect(checksumFinish(0xddf2)).toBe(0x220d);
    expect(checksumFinish(0x1ddf1)).toBe(0x220d);
    expect(checksumFinish(0)).toBe(0xffff);
  });
});

describe('checksumAddChunks', () => {
  it('sums chunks split anywhere (odd lengths too) like the contiguous buffer', () => {
    const nextRng = new SeededRng(0x2545f491);
    const next = (): number => nextRng.nextU32();
    for (let round = 0; round < 500; round++) {
      const data = new Uint8Array(next() % 600);
      for (let i = 0; i < data.length; i++) data[i] = next() & 0xff;
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < data.length; ) {
        const len = Math.min(data.length - at, next() % 40);
        chunks.push(data.subarray(at, at + len));
        at += len;
      }
      const initial = next() & 0xffff;
      expect(checksumFold(checksumAddChunks(initial, chunks))).toBe(checksumFold(checksumAdd(initial, data)));
      expect(checksumFold(checksumAddChunks(initial, data))).toBe(checksumFold(checksumAdd(initial, data)));
    }
  });
});
