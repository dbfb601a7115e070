/**
 * Linux's timer granularity. The kernel keeps TCP timers (icsk_rto, the
 * delayed-ACK ato, the loss-probe and RACK reorder timeouts) in jiffies,
 * ticks of 1/HZ second, and converts microsecond quantities with
 * usecs_to_jiffies, which rounds UP. So the same RTT gives different timers
 * on a HZ=1000 kernel (1 ms ticks) and a HZ=250 one (4 ms ticks, Debian's
 * default): a RACK reorder timeout of 25 ms is 25 + 2 = 27 ms at HZ=1000 but
 * 7 + 2 = 9 jiffies = 36 ms at HZ=250.
 *
 * Durations here are microseconds (time/duration.ts); HZ is the tick rate.
 * What is not modelled: a timer armed at jiffies + n fires when the tick
 * counter reaches that value, i.e. up to one tick early measured from the
 * arming instant (jiffies counts whole ticks elapsed), and the timer wheel
 * rounds expiries beyond 63 ticks up to its level's granularity. Our timers
 * fire exactly n ticks after they are armed.
 */
import type { Duration } from '../time/duration.js';

/** Linux's finest configurable tick (CONFIG_HZ_1000). */
export const HZ_1000 = 1000;
/** Debian's and many distributions' kernels (CONFIG_HZ_250). */
export const HZ_250 = 250;

/** Linux TCP_TIMEOUT_MIN: 2 jiffies, the slack added to the RACK and TLP timers. */
export const TCP_TIMEOUT_MIN_JIFFIES = 2;

const USEC_PER_SEC = 1_000_000;

/** Throws RangeError unless `hz` is a tick rate we can model (an integer 1..1e6). */
export function checkHz(hz: number): number {
  if (!Number.isInteger(hz) || hz < 1 || hz > USEC_PER_SEC) {
    throw new RangeError(`timer HZ must be an integer from 1 to ${USEC_PER_SEC}, got ${hz}`);
  }
  return hz;
}

/** Linux usecs_to_jiffies: whole ticks, rounded up (0 stays 0). */
export function usecsToJiffies(us: number, hz: number): number {
  if (us <= 0) return 0;
  // us * hz is an exact integer below 2^53 for any timer (< 2^33 us at HZ 1e6):
  // the division is correctly rounded, so an exact multiple stays exact.
  return Math.ceil((us * hz) / USEC_PER_SEC);
}

/** Linux jiffies_to_usecs (truncating, as the kernel does for HZ not dividing 1e6). */
export function jiffiesToUsecs(jiffies: number, hz: number): Duration {
  return Math.floor((jiffies * USEC_PER_SEC) / hz) as Duration;
}

/** A duration as the kernel would time it: rounded up to whole ticks. */
export function roundUpToJiffies(us: number, hz: number): Duration {
  return jiffiesToUsecs(usecsToJiffies(us, hz), hz);
}
