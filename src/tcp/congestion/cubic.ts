/**
 * CUBIC congestion control (RFC 9438), the default, as in Linux.
 *
 * Slow start is Reno's (RFC 5681 + RFC 3465 L=2). In congestion avoidance
 * the window follows, in segments and seconds,
 *
 *   W_cubic(t) = C * (t - K)^3 + W_max,   K = cbrt((W_max - cwnd_epoch) / C)
 *
 * (RFC 9438 4.2, eqns 1-2), with t the time since the current congestion
 * avoidance epoch began. On each ACK the target is W_cubic(t + RTT), clamped
 * to [cwnd, 1.5 cwnd] (RFC 9438 4.2), and cwnd moves towards it by
 * (target - cwnd) / cwnd per segment acknowledged. The Reno-friendly
 * estimate W_est (RFC 9438 4.3) is the floor of the window.
 *
 * Reductions (RFC 9438 4.6) apply beta_cubic = 0.7 to cwnd, as Linux and
 * Windows do (the RFC allows flight size; cwnd is robust when the
 * application leaves the window partly unused). Fast convergence (4.7) is on
 * by default. After a timeout (4.8) the first epoch uses K = 0 and W_max =
 * the window at its start.
 *
 * Integer outputs: cwnd grows in whole MSS steps from a fractional credit,
 * like Linux's cnt, so cwnd and ssthresh are always whole bytes. All
 * arithmetic is + - * / on doubles (correctly rounded in every runtime) and
 * the cube root is a fixed Newton iteration rather than Math.cbrt, whose
 * last bit the ECMAScript spec leaves to the engine: same inputs, same
 * window, in any runtime.
 */
import type { Duration } from '../../time/duration.js';
import type { Instant } from '../../time/instant.js';
import type { CongestionController, CongestionControllerOptions } from './congestion-controller.js';
import { CongestionWindow } from './congestion-controller.js';

/** RFC 9438 4.6: multiplicative decrease factor. */
export const CUBIC_BETA = 0.7;
/** RFC 9438 5: the cubic scaling constant, segments / s^3. */
export const CUBIC_C = 0.4;
/** RFC 9438 4.3: the Reno-friendly additive increase, 3 (1 - beta) / (1 + beta). */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/**
 * Cube root of x >= 0 by Newton's method from above. Starting at max(1, x),
 * which is never below the root, the iterates decrease monotonically to it,
 * so "stop when it no longer decreases" terminates, deterministically.
 */
export function cubeRoot(x: number): number {
  if (!(x > 0)) return 0;
  let y = x > 1 ? x : 1;
  for (let i = 0; i < 200; i++) {
    const next = (2 * y + x / (y * y)) / 3;
    if (!(next < y)) break;
    y = next;
  }
  return y;
}

/** RFC 9438 eqn 1, in segments: W_cubic(t) for t seconds into the epoch. */
export function cubicWindow(t: number, k: number, wMax: number): number {
  const d = t - k;
  return CUBIC_C * d * d * d + wMax;
}

/** RFC 9438 eqn 2: K in seconds, for windows in segments. */
export function cubicK(wMax: number, cwndEpoch: number): number {
  return cubeRoot((wMax - cwndEpoch) / CUBIC_C);
}

export class CubicController implements CongestionController {
  readonly name = 'cubic' as const;
  readonly #w: CongestionWindow;
  readonly #fastConvergence: boolean;

  // RFC 9438 4.1 state, windows in SEGMENTS (fractional).
  /** W_max; 0 means "none yet" (no loss, or reset by a timeout). */
  #wMax = 0;
  /** cwnd_prior: the window before the last reduction; 0 when none. */
  #cwndPrior = 0;
  /** Start of the congestion avoidance epoch; undefined when none is running. */
  #epochStart: Instant | undefined;
  #k = 0;
  /** W_est of RFC 9438 4.3. */
  #wEst = 0;
  /** Growth not yet applied, in segments; cwnd grows by whole segments. */
  #credit = 0;
  /** The last RTT the connection reported, seconds. */
  #rttSecs = 0;

  constructor(options: CongestionControllerOptions) {
    this.#w = new CongestionWindow(options);
    this.#fastConvergence = options.fastConvergence ?? true;
  }

  get cwnd(): number {
    return this.#w.cwnd;
  }
  get ssthresh(): number {
    return this.#w.ssthresh;
  }
  get mss(): number {
    return this.#w.mss;
  }
  get inSlowStart(): boolean {
    return this.#w.inSlowStart;
  }
  get inRecovery(): boolean {
    return this.#w.inRecovery;
  }
  /** W_max in segments (0 before any congestion event); for tests and diagnostics. */
  get wMax(): number {
    return this.#wMax;
  }
  /** K in seconds of the running epoch; for tests and diagnostics. */
  get k(): number {
    return this.#k;
  }
  /** When the running congestion avoidance epoch started, if one is running. */
  get epochStart(): Instant | undefined {
    return this.#epochStart;
  }

  onAck(now: Instant, ackedBytes: number, rtt: Duration | undefined, bytesInFlight: number): void {
    if (!(ackedBytes > 0)) return;
    if (rtt !== undefined && rtt >= 0) this.#rttSecs = rtt / 1_000_000;
    // No growth in recovery, nor (RFC 9438 5.8 / RFC 7661) while application-limited; slow start first.
    const rest = this.#w.slowStartAck(ackedBytes, bytesInFlight);
    if (rest > 0) this.#congestionAvoidance(now, rest);
  }

  #congestionAvoidance(now: Instant, ackedBytes: number): void {
    const mss = this.#w.mss;
    const cwndSeg = this.#w.cwnd / mss;
    if (this.#epochStart === undefined) {
      // RFC 9438 4.2: a new epoch starts with the first ACK in congestion avoidance.
      this.#epochStart = now;
      this.#credit = 0;
      this.#wEst = cwndSeg;
      if (this.#wMax > cwndSeg) {
        this.#k = cubicK(this.#wMax, cwndSeg);
      } else {
        // No loss yet, after a timeout (RFC 9438 4.8), or the window already
        // passed W_max: the curve starts here, in its convex part.
        this.#k = 0;
        this.#wMax = cwndSeg;
      }
    }
    const t = (now - this.#epochStart) / 1_000_000;
    const segs = ackedBytes / mss;

    // RFC 9438 4.3: W_est grows like Reno with alpha_cubic; alpha is 1 once
    // W_est reaches cwnd_prior (no prior window: plain Reno).
    const alpha = this.#cwndPrior > 0 && this.#wEst < this.#cwndPrior ? CUBIC_ALPHA : 1;
    this.#wEst += (alpha * segs) / cwndSeg;

    if (cubicWindow(t, this.#k, this.#wMax) < this.#wEst) {
      // RFC 9438 4.3: Reno-friendly region, cwnd = W_est (in whole segments).
      const behind = this.#wEst - cwndSeg;
      if (behind >= 1) this.#w.cwnd += Math.floor(behind) * mss;
    } else {
      // RFC 9438 4.2: target = W_cubic(t + RTT), within [cwnd, 1.5 cwnd].
      let target = cubicWindow(t + this.#rttSecs, this.#k, this.#wMax);
      if (target < cwndSeg) target = cwndSeg;
      else if (target > 1.5 * cwndSeg) target = 1.5 * cwndSeg;
      // RFC 9438 4.4 / 4.5: cwnd += (target - cwnd) / cwnd per segment acknowledged.
      this.#credit += ((target - cwndSeg) / cwndSeg) * segs;
    }
    if (this.#credit >= 1) {
      const whole = Math.floor(this.#credit);
      this.#credit -= whole;
      this.#w.cwnd += whole * mss;
    }
  }

  #reduce(): void {
    const cwndSeg = this.#w.cwnd / this.#w.mss;
    // RFC 9438 4.7 fast convergence: a flow whose window shrank releases bandwidth.
    if (this.#fastConvergence && cwndSeg < this.#wMax) this.#wMax = (cwndSeg * (1 + CUBIC_BETA)) / 2;
    else this.#wMax = cwndSeg;
    this.#cwndPrior = cwndSeg;
    // RFC 9438 4.6: ssthresh = cwnd * beta_cubic, at least 2 segments.
    this.#w.ssthresh = Math.max(Math.floor(this.#w.cwnd * CUBIC_BETA), 2 * this.#w.mss);
    this.#epochStart = undefined;
    this.#credit = 0;
  }

  onCongestionEvent(_now: Instant, _bytesInFlight: number): void {
    if (this.#w.inRecovery) return;
    this.#reduce();
    this.#w.cwnd = this.#w.ssthresh;
    this.#w.inRecovery = true;
  }

  onRecoveryEnd(_now: Instant): void {
    if (!this.#w.inRecovery) return;
    this.#w.inRecovery = false;
    this.#w.cwnd = this.#w.ssthresh;
    this.#epochStart = undefined;
  }

  onRetransmitTimeout(_now: Instant, _bytesInFlight: number): void {
    // RFC 9438 4.8: ssthresh as in 4.6, cwnd as Reno (1 MSS). RFC 5681 3.1:
    // a repeated timeout of the same data holds ssthresh.
    if (!this.#w.timedOut) this.#reduce();
    this.#w.timedOut = true;
    // RFC 9438 4.8: the next epoch uses K = 0 and W_max = its starting window.
    this.#wMax = 0;
    this.#cwndPrior = 0;
    this.#epochStart = undefined;
    this.#credit = 0;
    this.#w.cwnd = this.#w.mss;
    this.#w.inRecovery = false;
  }

  onIdleRestart(_now: Instant): void {
    // RFC 5681 4.1 restart window; RFC 9438 5.8: the idle time must not
    // count as epoch time, so the curve restarts at the next ACK.
    this.#w.idleRestart();
    this.#epochStart = undefined;
    this.#credit = 0;
  }

  setMss(mss: number): void {
    // Segment-denominated state (W_max, W_est, K) is unchanged by design.
    this.#w.setMss(mss);
  }
}
