/**
 * Rate limiting for ICMP errors (RFC 1812 4.3.2.8, RFC 1122 3.2.2): a flood
 * of bad packets must not turn the stack into a flood of ICMP. Modelled on
 * Linux: a global token bucket (icmp_msgs_per_sec 1000, burst 50) and one per
 * destination (icmp_ratelimit: one per second, burst 6). Pure: `now` is
 * passed in.
 */
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';

/** Tokens refill continuously at `ratePerSec`, up to `burst`; each event takes one. */
export class TokenBucket {
  readonly ratePerSec: number;
  readonly burst: number;
  #tokens: number;
  #last: Instant | undefined;

  constructor(ratePerSec: number, burst: number) {
    if (!(ratePerSec > 0) || !(burst >= 1)) throw new RangeError('TokenBucket: rate must be > 0 and burst >= 1');
    this.ratePerSec = ratePerSec;
    this.burst = burst;
    this.#tokens = burst;
    this.#last = undefined;
  }

  /** Takes a token if one is available. */
  take(now: Instant): boolean {
    if (this.#last !== undefined && now > this.#last) {
      const elapsed = Duration.toSecs((now - this.#last) as Duration);
      this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.ratePerSec);
    }
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the bucket is full again at `now` (so its state can be forgotten). */
  isFull(now: Instant): boolean {
    if (this.#last === undefined) return true;
    const elapsed = Duration.toSecs((now - this.#last) as Duration);
    return this.#tokens + elapsed * this.ratePerSec >= this.burst;
  }
}

export interface IcmpRateLimiterOptions {
  /** Global messages per second (Linux icmp_msgs_per_sec). Default 1000. */
  readonly globalRate?: number;
  /** Default 50 (Linux icmp_msgs_burst). */
  readonly globalBurst?: number;
  /** Per-destination messages per second (Linux icmp_ratelimit 1000 ms: 1). Default 1. */
  readonly perDestinationRate?: number;
  /** Default 6 (Linux XRLIM_BURST_FACTOR). */
  readonly perDestinationBurst?: number;
  /** Destinations tracked; beyond it the oldest is forgotten. Default 1024. */
  readonly maxDestinations?: number;
}

export class IcmpRateLimiter {
  readonly #global: TokenBucket;
  readonly #perDest = new Map<Ipv4Address, TokenBucket>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #max: number;

  constructor(options: IcmpRateLimiterOptions = {}) {
    this.#global = new TokenBucket(options.globalRate ?? 1000, options.globalBurst ?? 50);
    this.#rate = options.perDestinationRate ?? 1;
    this.#burst = options.perDestinationBurst ?? 6;
    this.#max = options.maxDestinations ?? 1024;
  }

  /** Whether an ICMP error to `dst` may be sent now; consumes a token when so. */
  allow(now: Instant, dst: Ipv4Address): boolean {
    let b = this.#perDest.get(dst);
    if (b === undefined) {
      if (this.#perDest.size >= this.#max) {
        // Forget buckets that refilled; if none did, the oldest.
        for (const [k, v] of this.#perDest) if (v.isFull(now)) this.#perDest.delete(k);
        if (this.#perDest.size >= this.#max) {
          const oldest = this.#perDest.keys().next();
          if (oldest.done !== true) this.#perDest.delete(oldest.value);
        }
      }
      b = new TokenBucket(this.#rate, this.#burst);
      this.#perDest.set(dst, b);
    }
    // Per-destination first, as Linux does, so one noisy peer cannot use up the global budget.
    if (!b.take(now)) return false;
    return this.#global.take(now);
  }
}
