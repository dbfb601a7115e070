/**
 * RFC 6298 retransmission timer: the smoothed RTT estimator and the RTO.
 *
 * API (used by the connection state machine):
 *
 *   const rtt = new RttEstimator({ minRto?, maxRto?, initialRto?, granularity? });
 *   rtt.sample(measured)   // one RTT measurement (a Duration)
 *   rtt.rto                // the timeout to arm now, backoff included
 *   rtt.backoff()          // the retransmission timer expired (RFC 6298 5.5)
 *   rtt.resetBackoff()     // forget the backoff (sample() also does this)
 *   rtt.srtt / rtt.rttvar / rtt.minRtt   // undefined until the first sample
 *   rtt.backoffCount       // consecutive backoffs, for the retry limit
 *
 * What the caller must do (none of it can be checked here):
 *
 * - Karn's algorithm (RFC 6298 3, RFC 9293 3.8.1): without timestamps, never
 *   take a sample from a segment that was retransmitted, because the ACK
 *   cannot say which transmission it answers. With timestamps (RFC 7323 4.1)
 *   the echoed TSecr names the transmission, so every ACK that advances
 *   SND.UNA may give a sample (now - TSecr), retransmitted or not. Because
 *   samples only ever come from unambiguous measurements, `sample()` also
 *   clears the backoff: that is the moment Karn's algorithm lets the
 *   backed-off RTO go (RFC 6298 5, note after 5.7).
 * - RFC 6298 5.7: if a SYN timed out and no sample was taken during the
 *   handshake, call `synTimedOut()` once the connection is established, so
 *   data starts with an RTO of at least 3 s.
 * - RFC 6298 2.4 / 2.5 are applied here: the RTO is clamped to
 *   [minRto, maxRto]. The floor defaults to Linux's 200 ms (TCP_RTO_MIN), not
 *   the RFC's conservative 1 s, so that loss recovery behaves like Linux's;
 *   the ceiling to 120 s (Linux TCP_RTO_MAX; RFC 6298 2.5 allows >= 60 s).
 *
 * Arithmetic. SRTT and RTTVAR are kept unrounded (IEEE doubles: + - * / are
 * correctly rounded everywhere, so every runtime computes the same bits) and
 * rounded to whole microseconds only when read.
 */
import { Duration } from '../time/duration.js';
import { checkHz, roundUpToJiffies } from './jiffies.js';

/** Linux TCP_RTO_MIN: the floor of the retransmission timeout. */
export const RTO_MIN: Duration = Duration.fromMillis(200);
/** Linux TCP_RTO_MAX: the ceiling of the retransmission timeout (RFC 6298 2.5 allows >= 60 s). */
export const RTO_MAX: Duration = Duration.fromSecs(120);
/** RFC 6298 2.1: the RTO before any sample. */
export const RTO_INITIAL: Duration = Duration.fromSecs(1);
/** RFC 6298 5.7: the RTO for data after a SYN timed out without a sample. */
export const RTO_AFTER_SYN_TIMEOUT: Duration = Duration.fromSecs(3);

export interface RttEstimatorOptions {
  /** Floor of the RTO (default RTO_MIN, 200 ms). */
  readonly minRto?: Duration;
  /** Ceiling of the RTO (default RTO_MAX, 120 s). */
  readonly maxRto?: Duration;
  /** RTO before the first sample (default RTO_INITIAL, 1 s). */
  readonly initialRto?: Duration;
  /** Clock granularity G of RFC 6298 2.2 (default 1 ms: JS timers fire no finer). */
  readonly granularity?: Duration;
  /**
   * Linux's formula (tcp_rtt_estimator / __tcp_set_rto): RTO = SRTT +
   * max(K*RTTVAR, minRto), so the floor applies to the variance term and a
   * 10 ms path gets 210 ms, not 200. Never below RFC 6298's value, so still
   * within 2.4's "MAY place a lower bound"; default false (plain RFC 6298).
   */
  readonly linuxRto?: boolean;
  /**
   * Round the RTO up to whole ticks of this rate, as Linux keeps icsk_rto in
   * jiffies (__tcp_set_rto: usecs_to_jiffies(SRTT + RTTVAR)). Default: none,
   * whole microseconds.
   */
  readonly hz?: number;
}

// RFC 6298 2.3: alpha = 1/8, beta = 1/4, K = 4.
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

export class RttEstimator {
  readonly minRto: Duration;
  readonly maxRto: Duration;
  readonly granularity: Duration;
  #initialRto: Duration;
  /** Unrounded SRTT in us; NaN before the first sample. */
  #srtt = Number.NaN;
  /**
   * `srtt` as the getter answers it, worked out once per sample: it is read
   * several times per ACK and per send (congestion control, TLP, TSO, RACK),
   * and a Math.round per read was 1.2% of a tcp-rr profile (issue 9).
   */
  #srttRounded: Duration | undefined = undefined;
  #rttvar = Number.NaN;
  #minRtt = Number.POSITIVE_INFINITY;
  /** The RTO before backoff, clamped. */
  #baseRto: Duration;
  #backoffs = 0;
  readonly #linuxRto: boolean;
  readonly #hz: number | undefined;

  constructor(options: RttEstimatorOptions = {}) {
    this.#linuxRto = options.linuxRto ?? false;
    this.#hz = options.hz === undefined ? undefined : checkHz(options.hz);
    this.minRto = options.minRto ?? RTO_MIN;
    this.maxRto = options.maxRto ?? RTO_MAX;
    this.granularity = options.granularity ?? Duration.fromMillis(1);
    if (this.minRto <= 0 || this.maxRto < this.minRto) {
      throw new RangeError(`RttEstimator: need 0 < minRto <= maxRto, got ${this.minRto} us and ${this.maxRto} us`);
    }
    if (this.granularity < 0) throw new RangeError(`RttEstimator: negative granularity ${this.granularity} us`);
    this.#initialRto = options.initialRto ?? RTO_INITIAL;
    this.#baseRto = this.#clamp(this.#initialRto);
  }

  /**
   * Takes one RTT measurement (RFC 6298 2.2 / 2.3) and clears the backoff
   * (see the file comment: samples are unambiguous by contract). Negative
   * samples (a confused timestamp echo) are ignored; zero is a valid sample
   * on loopback.
   */
  sample(rtt: Duration): void {
    if (!(rtt >= 0) || !Number.isFinite(rtt)) return;
    if (Number.isNaN(this.#srtt)) {
      // RFC 6298 2.2: the first measurement R.
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
    } else {
      // RFC 6298 2.3: RTTVAR first, with the old SRTT.
      this.#rttvar = (1 - BETA) * this.#rttvar + BETA * Math.abs(this.#srtt - rtt);
      this.#srtt = (1 - ALPHA) * this.#srtt + ALPHA * rtt;
    }
    this.#srttRounded = Math.round(this.#srtt) as Duration;
    if (rtt < this.#minRtt) this.#minRtt = rtt;
    // RFC 6298 2.2/2.3: RTO = SRTT + max(G, K*RTTVAR), then 2.4/2.5 clamp.
    let rto = Math.round(this.#srtt + Math.max(this.#linuxRto ? this.minRto : this.granularity, K * this.#rttvar));
    // Rounded to ticks before the clamp, as __tcp_set_rto then tcp_bound_rto.
    if (this.#hz !== undefined) rto = roundUpToJiffies(rto, this.#hz);
    this.#baseRto = this.#clamp(rto as Duration);
    this.#backoffs = 0;
  }

  /** The retransmission timeout to arm now: the base RTO doubled per backoff, at most maxRto. */
  get rto(): Duration {
    let rto: number = this.#baseRto;
    for (let i = 0; i < this.#backoffs && rto < this.maxRto; i++) rto *= 2;
    return (rto < this.maxRto ? rto : this.maxRto) as Duration;
  }

  /** RFC 6298 5.5: the timer expired; the next RTO is twice this one (up to maxRto). */
  backoff(): void {
    // Counting past the point where rto saturates is harmless: the loop in
    // `rto` stops at maxRto, and the count still tells the retry limit.
    this.#backoffs++;
  }

  /** Drops the backoff, e.g. when new data is acknowledged without a usable sample. */
  resetBackoff(): void {
    this.#backoffs = 0;
  }

  /** How many times `backoff()` was called since the last sample or reset. */
  get backoffCount(): number {
    return this.#backoffs;
  }

  /**
   * RFC 6298 5.7: call when the connection is established after a SYN (or
   * SYN-ACK) timed out, and no RTT sample was taken: the RTO for data becomes
   * 3 s. A no-op once a sample exists.
   */
  synTimedOut(): void {
    if (!Number.isNaN(this.#srtt)) return;
    this.#initialRto = RTO_AFTER_SYN_TIMEOUT;
    this.#baseRto = this.#clamp(RTO_AFTER_SYN_TIMEOUT);
    this.#backoffs = 0;
  }

  /**
   * RFC 6298 5, note after 5.7: after repeated backoffs SRTT and RTTVAR may
   * be bogus; an implementation MAY clear them so that the next sample
   * starts afresh (2.2). The backed-off RTO stays in force until then.
   */
  forgetSamples(): void {
    if (Number.isNaN(this.#srtt)) return;
    const current = this.rto;
    this.#srtt = Number.NaN;
    this.#srttRounded = undefined;
    this.#rttvar = Number.NaN;
    this.#baseRto = current;
    this.#backoffs = 0;
  }

  /** True once a sample has been taken. */
  get hasSample(): boolean {
    return !Number.isNaN(this.#srtt);
  }

  /** Smoothed RTT, whole microseconds; undefined before the first sample. */
  get srtt(): Duration | undefined {
    return this.#srttRounded;
  }

  /** RTT variation, whole microseconds; undefined before the first sample. */
  get rttvar(): Duration | undefined {
    return Number.isNaN(this.#rttvar) ? undefined : (Math.round(this.#rttvar) as Duration);
  }

  /** The smallest sample ever taken (CUBIC/HyStart use it); undefined before the first. */
  get minRtt(): Duration | undefined {
    return this.#minRtt === Number.POSITIVE_INFINITY ? undefined : (this.#minRtt as Duration);
  }

  #clamp(rto: Duration): Duration {
    if (rto < this.minRto) return this.minRto;
    if (rto > this.maxRto) return this.maxRto;
    return rto;
  }
}
