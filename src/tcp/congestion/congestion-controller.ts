/**
 * The congestion controller interface the TCP connection drives, and the
 * window arithmetic every controller shares.
 *
 * Units: windows are BYTES (whole numbers), like Linux's snd_cwnd * mss. A
 * controller never reads a clock: every event carries `now`.
 *
 * Who does what. The connection owns loss detection and recovery (RFC 5681
 * 3.2 fast retransmit, RFC 6582 NewReno, RFC 6675 SACK recovery with
 * `SackScoreboard`). It tells the controller about events:
 *
 *   onAck(now, ackedBytes, rtt, bytesInFlight)
 *       an ACK advanced SND.UNA by `ackedBytes` (> 0) OUTSIDE recovery (the
 *       controller ignores it while in recovery, RFC 5681 3.2 / RFC 6582:
 *       the window is not grown during fast recovery). `rtt` is the current
 *       SRTT (undefined before any sample). `bytesInFlight` is the data that
 *       was outstanding just BEFORE this ACK (FlightSize, or RFC 6675 pipe
 *       when SACK is in use): used to tell cwnd-limited from
 *       application-limited (RFC 7661: the window only grows while at least
 *       half of it is in use).
 *   onCongestionEvent(now, bytesInFlight)
 *       fast retransmit / SACK loss detected: enter recovery; sets ssthresh
 *       and cwnd (Reno: RFC 5681 eqn 4, cwnd = ssthresh; CUBIC: RFC 9438
 *       4.6, cwnd * 0.7). A second call before onRecoveryEnd is ignored
 *       (RFC 6582 3.2 step 2: one reduction per window of data).
 *   onRecoveryEnd(now)
 *       the ACK covering the recovery point arrived (RFC 6582 3.2 step 3,
 *       RFC 6675 5 "full acknowledgment"); cwnd = ssthresh.
 *   onRetransmitTimeout(now, bytesInFlight)
 *       RTO fired: ssthresh per RFC 5681 eqn 4 (CUBIC: * 0.7), cwnd = 1 MSS
 *       (the loss window), recovery ends. Repeated timeouts of the same data
 *       (no ACK in between) keep ssthresh (RFC 5681 3.1 note on eqn 4).
 *   onIdleRestart(now)
 *       the connection sent nothing for more than an RTO: RFC 5681 4.1,
 *       cwnd = min(cwnd, restart window = initial window).
 *   setMss(mss)
 *       the sending MSS changed (handshake result, PMTU): windows keep their
 *       size in SEGMENTS, like Linux, so cwnd and ssthresh are rescaled.
 *
 * Recovery inflation. During recovery the connection governs how much it may
 * send: with SACK, RFC 6675 sends while pipe < cwnd; without SACK, NewReno
 * (RFC 6582 3.2 steps 4-5) inflates a send window by one MSS per duplicate
 * ACK and deflates it on partial ACKs: `newRenoPartialAck` below computes
 * that, starting from `cwnd + 3 * mss` (`newRenoRecoveryStart`).
 */
import type { Duration } from '../../time/duration.js';
import type { Instant } from '../../time/instant.js';

export type CongestionControlName = 'cubic' | 'reno';

export interface CongestionController {
  readonly name: CongestionControlName;
  /** Congestion window, bytes (a whole number >= 1 MSS). */
  readonly cwnd: number;
  /** Slow start threshold, bytes; INFINITE_SSTHRESH until the first congestion event. */
  readonly ssthresh: number;
  /** cwnd < ssthresh (RFC 5681 3.1). */
  readonly inSlowStart: boolean;
  /** Between onCongestionEvent and onRecoveryEnd / onRetransmitTimeout. */
  readonly inRecovery: boolean;
  /** The MSS the windows are counted in. */
  readonly mss: number;
  onAck(now: Instant, ackedBytes: number, rtt: Duration | undefined, bytesInFlight: number): void;
  onCongestionEvent(now: Instant, bytesInFlight: number): void;
  onRecoveryEnd(now: Instant): void;
  onRetransmitTimeout(now: Instant, bytesInFlight: number): void;
  onIdleRestart(now: Instant): void;
  setMss(mss: number): void;
}

export interface CongestionControllerOptions {
  /** Sender MSS in bytes (RFC 5681 SMSS). */
  readonly mss: number;
  /** Initial window in SEGMENTS (default 10, Linux and RFC 6928). */
  readonly initialWindow?: number;
  /** When the connection starts (cubic and reno need none: their epochs start at a congestion event). */
  readonly now?: Instant;
  /** CUBIC only: RFC 9438 4.7 fast convergence (default true, as Linux). */
  readonly fastConvergence?: boolean;
  /**
   * Slow start growth per ACK in MSS, RFC 3465 2.2's L (default ABC_LIMIT,
   * 2). Infinity grows cwnd by everything the ACK covers, as Linux's
   * tcp_slow_start does (cwnd += acked packets; Linux dropped ABC in 3.8):
   * a stretch ACK for ten segments then adds ten, not two.
   */
  readonly slowStartLimit?: number;
  /**
   * The window state to continue from when a live connection changes
   * controller (TCP_CONGESTION): Linux keeps snd_cwnd and snd_ssthresh in
   * tcp_sock and resets only the controller's own state
   * (tcp_reinit_congestion_control).
   */
  readonly continueFrom?: { readonly cwnd: number; readonly ssthresh: number; readonly inRecovery: boolean };
}

/** "Arbitrarily high" initial ssthresh (RFC 5681 3.1); Linux's TCP_INFINITE_SSTHRESH. */
export const INFINITE_SSTHRESH = 0x7fffffff;

/** Initial window in segments (RFC 6928, Linux TCP_INIT_CWND). */
export const DEFAULT_INITIAL_WINDOW = 10;

/** RFC 3465 2.2: the slow start byte-counting limit L, in MSS per ACK. */
export const ABC_LIMIT = 2;

/**
 * RFC 6582 3.2 step 4 entry: the NewReno send window right after the fast
 * retransmit, `ssthresh + 3 * mss` (the three duplicate ACKs left the network).
 */
export function newRenoRecoveryStart(ssthresh: number, mss: number): number {
  return ssthresh + 3 * mss;
}

/**
 * RFC 6582 3.2 step 5, a partial ACK: deflate the inflated send `window` by
 * the bytes newly acknowledged, and add one MSS back if at least one MSS was
 * acknowledged, so that roughly ssthresh bytes stay in flight. Never below
 * one MSS.
 */
export function newRenoPartialAck(window: number, ackedBytes: number, mss: number): number {
  let w = window - ackedBytes;
  if (ackedBytes >= mss) w += mss;
  return Math.max(w, mss);
}

/**
 * RFC 6582 3.2 step 3 option 1, a full ACK without SACK: the window to leave
 * recovery with, min(ssthresh, max(FlightSize, SMSS) + SMSS), which avoids a
 * burst when little is in flight. (`onRecoveryEnd` uses option 2, cwnd =
 * ssthresh; the connection may clamp with this.)
 */
export function newRenoFullAckWindow(ssthresh: number, flightSize: number, mss: number): number {
  return Math.min(ssthresh, Math.max(flightSize, mss) + mss);
}

/** RFC 5681 eqn 4: ssthresh = max(FlightSize / 2, 2 * SMSS), whole bytes. */
export function halvedSsthresh(flightSize: number, mss: number): number {
  return Math.max(Math.floor(flightSize / 2), 2 * mss);
}

/**
 * RFC 7661 4.1: the window is "validated" (and may grow) only while at least
 * half of it is in use; growing it while the application leaves it idle
 * would license a burst the path was never tested with. Linux applies the
 * same test in slow start (tcp_is_cwnd_limited).
 */
export function isCwndLimited(cwnd: number, bytesInFlight: number): boolean {
  return 2 * bytesInFlight >= cwnd;
}

/** Validates the slow start limit option (MSS per ACK, default ABC_LIMIT): a programmer error throws RangeError. */
export function slowStartLimit(options: CongestionControllerOptions): number {
  const l = options.slowStartLimit ?? ABC_LIMIT;
  if (!(l >= 1)) throw new RangeError(`congestion control: bad slow start limit ${l}`);
  return l;
}

/** Validates an MSS argument: a programmer error throws RangeError. */
export function checkMss(mss: number): number {
  if (!Number.isSafeInteger(mss) || mss < 1) throw new RangeError(`congestion control: bad MSS ${mss}`);
  return mss;
}

/** Validates the initial window option (segments, default 10): a programmer error throws RangeError. */
export function initialWindowSegments(options: CongestionControllerOptions): number {
  const n = options.initialWindow ?? DEFAULT_INITIAL_WINDOW;
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`congestion control: bad initial window ${n}`);
  return n;
}

/** RFC 5681 4.1: after idle, cwnd = min(RW, cwnd) with RW = min(IW, cwnd). */
export function restartWindow(cwnd: number, initialSegments: number, mss: number): number {
  return Math.min(cwnd, initialSegments * mss);
}

/** Keeps a window's size in segments when the MSS changes; whole bytes, at least `floor`. */
export function rescale(window: number, oldMss: number, newMss: number, floor: number): number {
  return Math.max(Math.round((window * newMss) / oldMss), floor);
}

/** setMss for both windows: cwnd at least 1 MSS, a finite ssthresh at least 2 MSS (kept infinite otherwise). */
export function rescaleWindows(cwnd: number, ssthresh: number, oldMss: number, newMss: number): WindowPair {
  WINDOWS.cwnd = rescale(cwnd, oldMss, newMss, newMss);
  WINDOWS.ssthresh = ssthresh === INFINITE_SSTHRESH ? ssthresh : rescale(ssthresh, oldMss, newMss, 2 * newMss);
  return WINDOWS;
}

export interface WindowPair {
  cwnd: number;
  ssthresh: number;
}

const WINDOWS: WindowPair = { cwnd: 0, ssthresh: 0 };

/**
 * RFC 5681 3.1 slow start with RFC 3465 2.2 byte counting: cwnd grows by the
 * bytes acknowledged, at most L MSS per ACK (`limit`, default 2; Infinity
 * is Linux's unlimited growth), and stops at ssthresh.
 * Returns the new cwnd and the acknowledged bytes left over for congestion
 * avoidance when ssthresh was reached (Linux does the same); out of slow
 * start (cwnd >= ssthresh) all of them are left over and cwnd is unchanged.
 * The returned pair is reused: read it before the next call.
 */
export function slowStart(
  cwnd: number,
  ssthresh: number,
  mss: number,
  ackedBytes: number,
  limit: number = ABC_LIMIT,
): SlowStartStep {
  if (cwnd >= ssthresh) {
    STEP.cwnd = cwnd;
    STEP.rest = ackedBytes;
    return STEP;
  }
  const step = Math.min(ackedBytes, limit * mss);
  const room = ssthresh - cwnd;
  if (step <= room) {
    STEP.cwnd = cwnd + step;
    STEP.rest = 0;
  } else {
    STEP.cwnd = ssthresh;
    STEP.rest = ackedBytes - room;
  }
  return STEP;
}

export interface SlowStartStep {
  cwnd: number;
  rest: number;
}

// One shared result: slow start runs on every ACK and must not allocate.
const STEP: SlowStartStep = { cwnd: 0, rest: 0 };

/**
 * The window state and the event steps every controller shares: validated
 * options, cwnd/ssthresh in bytes, the recovery and repeated-timeout flags,
 * slow start on an ACK, the idle restart window, and MSS rescaling. A
 * controller keeps one privately and adds its own congestion avoidance.
 */
export class CongestionWindow {
  mss: number;
  cwnd: number;
  ssthresh = INFINITE_SSTHRESH;
  inRecovery = false;
  /** Set by a timeout, cleared by the next ACK of new data (RFC 5681 3.1: hold ssthresh on repeated RTOs). */
  timedOut = false;
  readonly initialSegments: number;
  /** MSS per ACK in slow start (RFC 3465 L; Infinity as Linux). */
  readonly slowStartLimit: number;

  constructor(options: CongestionControllerOptions) {
    this.mss = checkMss(options.mss);
    this.initialSegments = initialWindowSegments(options);
    this.slowStartLimit = slowStartLimit(options);
    this.cwnd = this.initialSegments * this.mss;
    const from = options.continueFrom;
    if (from !== undefined) {
      this.cwnd = from.cwnd;
      this.ssthresh = from.ssthresh;
      this.inRecovery = from.inRecovery;
    }
  }

  get inSlowStart(): boolean {
    return this.cwnd < this.ssthresh;
  }

  /**
   * The shared part of onAck for `ackedBytes` > 0: clears the timeout flag;
   * no growth in recovery (RFC 5681 3.2 / RFC 6582) or while
   * application-limited (RFC 7661); then slow start. Returns the bytes left
   * over for congestion avoidance (0 when none).
   */
  slowStartAck(ackedBytes: number, bytesInFlight: number): number {
    this.timedOut = false;
    if (this.inRecovery) return 0;
    if (!isCwndLimited(this.cwnd, bytesInFlight)) return 0;
    // Slow start first; what it leaves over goes to congestion avoidance.
    const ss = slowStart(this.cwnd, this.ssthresh, this.mss, ackedBytes, this.slowStartLimit);
    this.cwnd = ss.cwnd;
    return ss.rest;
  }

  /** RFC 5681 4.1: cwnd = min(RW, cwnd), RW = min(IW, cwnd). */
  idleRestart(): void {
    this.cwnd = restartWindow(this.cwnd, this.initialSegments, this.mss);
  }

  /** setMss: validates, and rescales both windows; false when the MSS is unchanged. */
  setMss(mss: number): boolean {
    checkMss(mss);
    const old = this.mss;
    if (mss === old) return false;
    this.mss = mss;
    const w = rescaleWindows(this.cwnd, this.ssthresh, old, mss);
    this.cwnd = w.cwnd;
    this.ssthresh = w.ssthresh;
    return true;
  }
}
