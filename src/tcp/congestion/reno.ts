/**
 * NewReno congestion control (RFC 5681 with RFC 3465 byte counting; the
 * RFC 6582 recovery mechanics live in the connection, see
 * congestion-controller.ts). The windows stay whole bytes.
 */
import type { Duration } from '../../time/duration.js';
import type { Instant } from '../../time/instant.js';
import type { CongestionController, CongestionControllerOptions } from './congestion-controller.js';
import { CongestionWindow, halvedSsthresh } from './congestion-controller.js';

export class RenoController implements CongestionController {
  readonly name = 'reno' as const;
  readonly #w: CongestionWindow;
  /** RFC 3465 2.1: bytes acknowledged since cwnd last grew in congestion avoidance. */
  #bytesAcked = 0;

  constructor(options: CongestionControllerOptions) {
    this.#w = new CongestionWindow(options);
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

  onAck(_now: Instant, ackedBytes: number, _rtt: Duration | undefined, bytesInFlight: number): void {
    if (!(ackedBytes > 0)) return;
    const w = this.#w;
    const rest = w.slowStartAck(ackedBytes, bytesInFlight);
    if (rest > 0) {
      // RFC 3465 2.1 / RFC 5681 3.1: one MSS per cwnd bytes acknowledged.
      this.#bytesAcked += rest;
      while (this.#bytesAcked >= w.cwnd) {
        this.#bytesAcked -= w.cwnd;
        w.cwnd += w.mss;
      }
    }
  }

  onCongestionEvent(_now: Instant, bytesInFlight: number): void {
    const w = this.#w;
    // RFC 6582 3.2 step 2: one reduction per window of data.
    if (w.inRecovery) return;
    // RFC 5681 3.2 step 2 (eqn 4) and step 3 without the +3 MSS inflation,
    // which the connection applies to its own send window (see the interface).
    w.ssthresh = halvedSsthresh(bytesInFlight, w.mss);
    w.cwnd = w.ssthresh;
    this.#bytesAcked = 0;
    w.inRecovery = true;
  }

  onRecoveryEnd(_now: Instant): void {
    const w = this.#w;
    if (!w.inRecovery) return;
    w.inRecovery = false;
    // RFC 6582 3.2 step 3 option 2 / RFC 5681 3.2 step 6: deflate to ssthresh.
    w.cwnd = w.ssthresh;
    this.#bytesAcked = 0;
  }

  onRetransmitTimeout(_now: Instant, bytesInFlight: number): void {
    const w = this.#w;
    // RFC 5681 3.1: eqn 4, but "held constant" when the same data times out again.
    if (!w.timedOut) w.ssthresh = halvedSsthresh(bytesInFlight, w.mss);
    w.timedOut = true;
    // RFC 5681 3.1: LW = 1 full-sized segment.
    w.cwnd = w.mss;
    this.#bytesAcked = 0;
    w.inRecovery = false;
  }

  onIdleRestart(_now: Instant): void {
    this.#w.idleRestart();
    this.#bytesAcked = 0;
  }

  setMss(mss: number): void {
    if (this.#w.setMss(mss)) this.#bytesAcked = 0;
  }
}
