/** Test helpers for the MemoryNetwork tests (excluded from the build as *.fixtures.ts). */
import { writeMac } from '../wire/address.js';
import type { MacAddress } from '../wire/address.js';

/** A minimum-size (60-byte) Ethernet frame, local experimental EtherType, with a one-byte sequence number at offset 14. */
export function seqFrame(dst: MacAddress, src: MacAddress, seq: number): Uint8Array {
  const f = new Uint8Array(60);
  writeMac(f, 0, dst);
  writeMac(f, 6, src);
  f[12] = 0x88;
  f[13] = 0xb5;
  f[14] = seq;
  return f;
}

/** Lets a few rounds of microtasks run: enough for MemoryNetwork's due-now batches and what they chain. */
export async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
