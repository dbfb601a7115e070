/**
 * Checks of the BSD calls' arguments, the TypeErrors a wrong argument type
 * throws (programmer errors, thrown synchronously as Node's APIs do), and
 * buffer-list arithmetic for partial transfers. Free functions with no
 * descriptor state, kept apart from the Syscalls class that uses them.
 */

export function checkBuffer(buf: unknown, what = 'buffer'): asserts buf is Uint8Array {
  if (!(buf instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
}

export function checkIov(iov: unknown): asserts iov is readonly Uint8Array[] {
  if (!Array.isArray(iov)) throw new TypeError('iov must be an array of Uint8Array');
  for (const b of iov) checkBuffer(b, 'iov entry');
}

export function checkInt(v: unknown, what: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what} must be an integer`);
}

export function totalLength(bufs: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of bufs) n += b.length;
  return n;
}

/** Views of `bufs` from byte `skip` on (for continuing a partial transfer). */
export function sliceBuffers(bufs: readonly Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s = skip;
  for (const b of bufs) {
    if (s >= b.length) {
      s -= b.length;
      continue;
    }
    out.push(s === 0 ? b : b.subarray(s));
    s = 0;
  }
  return out;
}
