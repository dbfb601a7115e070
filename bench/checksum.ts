/**
 * Case "checksum": Internet checksum throughput against a plain memory copy
 * of the same bytes. The copy is roughly the most a pass over the bytes can
 * cost, so checksum/copy says how close the checksum comes to memory speed.
 */
import { internetChecksum } from '../src/wire/checksum.js';
import type { BenchCase, CaseContext, Measurement } from './lib/harness.js';
import { measureRate } from './lib/harness.js';

const SIZES = [1500, 65536] as const;

/** Seeded filler (xorshift32): the same bytes every run, and not all zero. */
function fill(b: Uint8Array, seed: number): Uint8Array {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const buffers = SIZES.map((n, i) => ({
  n,
  src: fill(new Uint8Array(n), 0x5eed + i),
  dst: new Uint8Array(n),
}));

// Results flow here so no engine can treat the work as dead.
let sink = 0;

export const checksumCase: BenchCase = {
  name: 'checksum',
  description: 'internetChecksum() over a buffer (RFC 1071)',
  reference: 'Uint8Array.prototype.set() copy of the same bytes',
  run(ctx: CaseContext): Measurement[] {
    const millis = ctx.quick ? 15 : 100;
    const out: Measurement[] = [];
    for (const { n, src, dst } of buffers) {
      const sum = (): void => {
        sink ^= internetChecksum(src);
      };
      const copy = (): void => {
        dst.set(src);
      };
      // Alternate which side goes first, so neither always meets a cold cache
      // or the tail of the other's frequency ramp.
      let sumRate: number;
      let copyRate: number;
      if (ctx.iteration % 2 === 0) {
        sumRate = measureRate(sum, millis);
        copyRate = measureRate(copy, millis);
      } else {
        copyRate = measureRate(copy, millis);
        sumRate = measureRate(sum, millis);
      }
      sink ^= dst[n - 1]!;
      out.push({ metric: `${n} B`, unit: 'GB/s', better: 'higher', sockstack: (sumRate * n) / 1e9, reference: (copyRate * n) / 1e9 });
    }
    if (sink === -1) console.log(sink); // never true; keeps `sink` observable
    return out;
  },
};
