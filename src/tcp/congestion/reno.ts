/**
 * NewReno congestion control (RFC 5681 with RFC 3465 byte counting; the
 * RFC 6582 recovery mechanics live in the connection, see
 * congestion-controller.ts). The windows stay whole bytes.
 */
import type { Duration } from '../../time/duration.js';
import type { Instant } from '../../time/instant.js';
import type { CongestionController, CongestionControllerOptions } from './congestion-controller.js';
import {
  INFINITE_SSTHRESH,
  checkMss,
  halvedSsthresh,
  initialWindowSegments,
  isCwndLimited,
  rescaleWindows,
  restartWindow,
  slowStart,
  slowStartLimit,
} from './congestion-controller.js';

export class RenoController implements CongestionController {
  readonly name = 'reno' as const;
  #mss: number;
  readonly #initialSegments: number;
  #cwnd: number;
  #ssthresh = INFINITE_SSTHRESH;
  #inRecovery = false;
  /** RFC 3465 2.1: bytes acknowledged since cwnd last grew in congestion avoidance. */
  #bytesAcked = 0;
  /** Set by a timeout, cleared by the next ACK of new data (RFC 5681 3.1: hold ssthresh on repeated RTOs). */
  #timedOut = false;

  /** MSS per ACK in slow start (RFC 3465 L; Infinity as Linux). */
  readonly #slowStartLimit: number;

  constructor(options: CongestionControllerOptions) {
    this.#mss = checkMss(options.mss);
    this.#initialSegments = initialWindowSegments(options);
    this.#slowStartLimit = slowStartLimit(options);
    this.#cwnd = this.#initialSegments * this.#mss;
  }

  get cwnd(): number {
    return this.#cwnd;
  }
  get ssthresh(): number {
    return this.#ssthresh;
  }
  get mss(): number {
    return this.#mss;
  }
  get inSlowStart(): boolean {
    return this.#cwnd < this.#ssthresh;
  }
  get inRecovery(): boolean {
    return this.#inRecovery;
  }

  onAck(_now: Instant, ackedBytes: number, _rtt: Duration | undefined, bytesInFlight: number): void {
    if (!(ackedBytes > 0)) return;
    this.#timedOut = false;
    // RFC 5681 3.2 / RFC 6582: no growth during fast recovery.
    if (this.#inRecovery) return;
    if (!isCwndLimited(this.#cwnd, bytesInFlight)) return;
    // Slow start first; what it leaves over goes to congestion avoidance.
    const ss = slowStart(this.#cwnd, this.#ssthresh, this.#mss, ackedBytes, this.#slowStartLimit);
    this.#cwnd = ss.cwnd;
    const rest = ss.rest;
    if (rest > 0) {
      // RFC 3465 2.1 / RFC 5681 3.1: one MSS per cwnd bytes acknowledged.
      this.#bytesAcked += rest;
      while (this.#bytesAcked >= this.#cwnd) {
        this.#bytesAcked -= this.#cwnd;
        this.#cwnd += this.#mss;
      }
    }
  }

  onCongestionEvent(_now: Instant, bytesInFlight: number): void {
    // RFC 6582 3.2 step 2: one reduction per window of data.
    if (this.#inRecovery) return;
    // RFC 5681 3.2 step 2 (eqn 4) and step 3 without the +3 MSS inflation,
    // which the connection applies to its own send window (see the interface).
    this.#ssthresh = halvedSsthresh(bytesInFlight, this.#mss);
    this.#cwnd = this.#ssthresh;
    this.#bytesAcked = 0;
    this.#inRecovery = true;
  }

  onRecoveryEnd(_now: Instant): void {
    if (!this.#inRecovery) return;
    this.#inRecovery = false;
    // RFC 6582 3.2 step 3 option 2 / RFC 5681 3.2 step 6: deflate to ssthresh.
    this.#cwnd = this.#ssthresh;
    this.#bytesAcked = 0;
  }

  onRetransmitTimeout(_now: Instant, bytesInFlight: number): void {
    // RFC 5681 3.1: eqn 4, but "held constant" when the same data times out again.
    if (!this.#timedOut) this.#ssthresh = halvedSsthresh(bytesInFlight, this.#mss);
    this.#timedOut = true;
    // RFC 5681 3.1: LW = 1 full-sized segment.
    this.#cwnd = this.#mss;
    this.#bytesAcked = 0;
    this.#inRecovery = false;
  }

  onIdleRestart(_now: Instant): void {
    // RFC 5681 4.1: cwnd = min(RW, cwnd), RW = min(IW, cwnd).
    this.#cwnd = restartWindow(this.#cwnd, this.#initialSegments, this.#mss);
    this.#bytesAcked = 0;
  }

  setMss(mss: number): void {
    checkMss(mss);
    const old = this.#mss;
    if (mss === old) return;
    this.#mss = mss;
    const w = rescaleWindows(this.#cwnd, this.#ssthresh, old, mss);
    this.#cwnd = w.cwnd;
    this.#ssthresh = w.ssthresh;
    this.#bytesAcked = 0;
  }
}
