/**
 * A span of time in whole microseconds.
 *
 * Durations are branded plain numbers, not objects: the stack computes
 * deadlines on every segment, and a number costs no allocation and compares
 * with `<`. The brand only stops a millisecond count (or an Instant) from
 * being passed where microseconds are meant; at run time it is a number.
 *
 * Integers stay exact up to 2^53 us (about 285 years), far beyond any timer
 * the stack sets. A Duration may be negative (the difference of two Instants
 * the wrong way round); the constructors reject fractions and non-finite
 * values because those would silently break `===` comparisons later.
 */

declare const durationBrand: unique symbol;

/** Whole microseconds. Build one with `Duration.fromMillis(...)` and friends. */
export type Duration = number & { readonly [durationBrand]: 'Duration' };

const US_PER_MS = 1_000;
const US_PER_S = 1_000_000;

/** Rounds to whole microseconds; throws RangeError for values no Duration can hold. */
function toWholeMicros(us: number, what: string): Duration {
  // Round (not truncate) so that 1.001 ms, stored as 1000.9999999999999 us, is 1001.
  const v = Math.round(us);
  if (!Number.isSafeInteger(v)) throw new RangeError(`${what}: not a representable duration: ${us}`);
  // Normalise -0 so that formatted output and Object.is behave.
  return (v === 0 ? 0 : v) as Duration;
}

function fromMicros(us: number): Duration {
  if (!Number.isSafeInteger(us)) throw new RangeError(`Duration.fromMicros: not a whole number of microseconds: ${us}`);
  return (us === 0 ? 0 : us) as Duration;
}

function fromMillis(ms: number): Duration {
  return toWholeMicros(ms * US_PER_MS, 'Duration.fromMillis');
}

function fromSecs(s: number): Duration {
  return toWholeMicros(s * US_PER_S, 'Duration.fromSecs');
}

function toMicros(d: Duration): number {
  return d;
}

/** Milliseconds, possibly fractional (1500 us -> 1.5). */
function toMillis(d: Duration): number {
  return d / US_PER_MS;
}

/** Seconds, possibly fractional. */
function toSecs(d: Duration): number {
  return d / US_PER_S;
}

/**
 * Constructors and conversions. `Duration` is both this namespace-like object
 * and the type, so `Duration.fromMillis(200)` has type `Duration`.
 */
export const Duration = {
  ZERO: 0 as Duration,
  /** The largest exact Duration (2^53 - 1 us); a stand-in for "never". */
  MAX: Number.MAX_SAFE_INTEGER as Duration,
  fromMicros,
  fromMillis,
  fromSecs,
  toMicros,
  toMillis,
  toSecs,
} as const;

export function durationAdd(a: Duration, b: Duration): Duration {
  return (a + b) as Duration;
}

export function durationSub(a: Duration, b: Duration): Duration {
  return (a - b) as Duration;
}

/** Scales by any factor (e.g. RTO backoff x2, RTTVAR x3/4), rounded to whole microseconds. */
export function durationMul(d: Duration, factor: number): Duration {
  return toWholeMicros(d * factor, 'durationMul');
}

export function durationMin(a: Duration, b: Duration): Duration {
  return a < b ? a : b;
}

export function durationMax(a: Duration, b: Duration): Duration {
  return a > b ? a : b;
}

/** `d` limited to [lo, hi], e.g. an RTO between RFC 6298's 1 s floor and a 60 s ceiling. */
export function durationClamp(d: Duration, lo: Duration, hi: Duration): Duration {
  return d < lo ? lo : d > hi ? hi : d;
}

/** Exact decimal of `us / unit`, trailing zeros trimmed: 1_500_000 / 1e6 -> "1.5". */
function decimal(us: number, unit: number, digits: number): string {
  const whole = Math.floor(us / unit);
  const frac = us - whole * unit;
  if (frac === 0) return String(whole);
  return `${whole}.${String(frac).padStart(digits, '0').replace(/0+$/, '')}`;
}

/**
 * Human-readable and exact: "1.5 s", "200 ms", "35 us", "-2.25 ms". The unit
 * is the largest one the magnitude reaches; no precision is dropped, because
 * these strings end up in test failure messages where 1.0004 s != 1 s matters.
 */
export function formatDuration(d: Duration): string {
  const sign = d < 0 ? '-' : '';
  const abs = Math.abs(d);
  if (abs >= US_PER_S) return `${sign}${decimal(abs, US_PER_S, 6)} s`;
  if (abs >= US_PER_MS) return `${sign}${decimal(abs, US_PER_MS, 3)} ms`;
  return `${sign}${abs} us`;
}
