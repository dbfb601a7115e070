/**
 * A point in time: whole microseconds since the epoch of the Clock that
 * produced it (ManualClock: its start, 0 by default; SystemClock: the Unix
 * epoch by default, so pcap timestamps read as real dates).
 *
 * Like Duration, a branded number: free on hot paths, and the brand keeps
 * "a point" and "a span" apart at compile time (Instant + Instant is
 * meaningless; Instant - Instant is a Duration).
 */
import type { Duration } from './duration.js';
import { formatDuration } from './duration.js';

declare const instantBrand: unique symbol;

/** Whole microseconds since a clock's epoch. */
export type Instant = number & { readonly [instantBrand]: 'Instant' };

function check(us: number, what: string): Instant {
  const v = Math.round(us);
  if (!Number.isSafeInteger(v)) throw new RangeError(`${what}: not a representable instant: ${us}`);
  return (v === 0 ? 0 : v) as Instant;
}

function fromMicros(us: number): Instant {
  if (!Number.isSafeInteger(us)) throw new RangeError(`Instant.fromMicros: not a whole number of microseconds: ${us}`);
  return (us === 0 ? 0 : us) as Instant;
}

function fromMillis(ms: number): Instant {
  return check(ms * 1_000, 'Instant.fromMillis');
}

function fromSecs(s: number): Instant {
  return check(s * 1_000_000, 'Instant.fromSecs');
}

function toMicros(t: Instant): number {
  return t;
}

function toMillis(t: Instant): number {
  return t / 1_000;
}

function toSecs(t: Instant): number {
  return t / 1_000_000;
}

/** Constructors and conversions; `Instant` is also the type. */
export const Instant = {
  ZERO: 0 as Instant,
  /** Later than any real instant: a deadline that never comes. */
  MAX: Number.MAX_SAFE_INTEGER as Instant,
  fromMicros,
  fromMillis,
  fromSecs,
  toMicros,
  toMillis,
  toSecs,
} as const;

export function instantAdd(t: Instant, d: Duration): Instant {
  return (t + d) as Instant;
}

export function instantSub(t: Instant, d: Duration): Instant {
  return (t - d) as Instant;
}

/** `a - b`: how long after `b` is `a` (negative when `a` is earlier). */
export function instantDiff(a: Instant, b: Instant): Duration {
  return (a - b) as Duration;
}

export function instantMin(a: Instant, b: Instant): Instant {
  return a < b ? a : b;
}

export function instantMax(a: Instant, b: Instant): Instant {
  return a > b ? a : b;
}

/** An instant as the time since its clock's epoch, e.g. "@12.5 s", for logs and test messages. */
export function formatInstant(t: Instant): string {
  return `@${formatDuration(t as number as Duration)}`;
}
