/** Test helpers for byte arrays (excluded from the build as *.fixtures.ts). */

/** `n` deterministic bytes (an LCG), different per seed. */
export function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
