/**
 * 32-bit modular sequence-number arithmetic, the only place in the stack that
 * does sequence math by hand.
 *
 * RFC 9293 3.4: "all arithmetic dealing with sequence numbers must be
 * performed modulo 2**32", and comparisons use the "=<" of that modular
 * space. We use serial-number comparison in the style of RFC 1982 3.2: `a` is
 * before `b` when going forward from `a` reaches `b` in fewer than 2^31 steps.
 *
 * Sequence numbers are plain numbers holding a uint32. Every result is
 * normalised with `>>> 0` (unsigned) or `| 0` (signed 32-bit distance), so the
 * functions accept any integer input (e.g. -1 is the same number as
 * 0xffffffff), allocate nothing, and stay on V8's small-integer fast paths.
 *
 * The half-window case. When two numbers are exactly 2^31 apart, neither is
 * "before" the other (RFC 1982 3.2 leaves it undefined; Linux's `before()`
 * says each is before the other). Undefined is not an option for code that
 * must not loop or contradict itself on hostile input, so we break the tie
 * deterministically: at distance exactly 2^31, the one with the smaller
 * unsigned value is the lesser. This keeps a strict trichotomy: for any a, b
 * exactly one of seqLt(a,b), seqEq(a,b), seqGt(a,b) holds; seqGt(a,b) is
 * seqLt(b,a); seqLe is !seqGt; seqMax/seqMin are commutative. Modular order is
 * still not transitive over more than half the space, and cannot be. A real
 * TCP never meets the tie: RFC 7323 2.3 caps the window at 2^30 precisely so
 * that every legitimate comparison is well within 2^31.
 */

/** A TCP sequence (or acknowledgment) number: an integer in [0, 2^32). */
export type SeqNumber = number;

const HALF = -0x80000000; // the signed 32-bit distance of exactly 2^31

/** `a + n` modulo 2^32. `n` may be negative. */
export function seqAdd(a: SeqNumber, n: number): SeqNumber {
  return (a + n) >>> 0;
}

/**
 * The signed distance from `b` forward to `a`, `a - b` as an int32, in
 * [-2^31, 2^31): seqAdd(b, seqSub(a, b)) === a. At the half-window tie it is
 * -2^31 whichever way round, so order with seqLt, not with the sign of this.
 */
export function seqSub(a: SeqNumber, b: SeqNumber): number {
  return (a - b) | 0;
}

/** `a == b` modulo 2^32. */
export function seqEq(a: SeqNumber, b: SeqNumber): boolean {
  return ((a - b) | 0) === 0;
}

/** `a < b` in sequence space (RFC 9293 3.4 "<"). */
export function seqLt(a: SeqNumber, b: SeqNumber): boolean {
  const d = (a - b) | 0;
  // See the module comment: at exactly 2^31 apart, the unsigned order decides.
  return d < 0 && (d !== HALF || a >>> 0 < b >>> 0);
}

/** `a =< b` in sequence space. */
export function seqLe(a: SeqNumber, b: SeqNumber): boolean {
  return !seqLt(b, a);
}

/** `a > b` in sequence space. */
export function seqGt(a: SeqNumber, b: SeqNumber): boolean {
  return seqLt(b, a);
}

/** `a >= b` in sequence space. */
export function seqGe(a: SeqNumber, b: SeqNumber): boolean {
  return !seqLt(a, b);
}

/** The later of `a` and `b` in sequence space (normalised to uint32). */
export function seqMax(a: SeqNumber, b: SeqNumber): SeqNumber {
  return seqLt(a, b) ? b >>> 0 : a >>> 0;
}

/** The earlier of `a` and `b` in sequence space (normalised to uint32). */
export function seqMin(a: SeqNumber, b: SeqNumber): SeqNumber {
  return seqLt(a, b) ? a >>> 0 : b >>> 0;
}

/**
 * `start =< x < start + len` modulo 2^32: x lies within the `len` numbers
 * that begin at `start`. This is the shape of the RFC 9293 3.10.7.4
 * acceptability test (`RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND`).
 *
 * Measured as the unsigned offset of x from start, so it is exact for any
 * `len` in [0, 2^32] (len 0: nothing is inside; len 2^32: everything is), and
 * never depends on the half-window tie. The zero-window special cases of
 * RFC 9293 3.10.7.4 (SEG.SEQ = RCV.NXT) are the caller's to apply.
 */
export function seqInWindow(x: SeqNumber, start: SeqNumber, len: number): boolean {
  return (x - start) >>> 0 < len;
}
