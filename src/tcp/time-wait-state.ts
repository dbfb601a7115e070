/**
 * What TIME-WAIT needs of a TCB, taken out of it when the connection is
 * orphaned in TIME-WAIT (Linux tcp_time_wait copying a tcp_sock into a
 * tcp_timewait_sock): sequence numbers, the window to advertise, timestamp
 * state for PAWS, the 2 MSL deadline and the challenge-ACK budget. The
 * stack then frees the TCB (buffers, scoreboard, congestion state: about
 * 3 KB) and keeps a TimeWaitEntry (tcp-entry.ts) built from this.
 *
 * Separate from time-wait.ts so that connection.ts can take the snapshot
 * without importing tcp-entry.ts (which imports connection.ts' types).
 */
import type { Duration } from '../time/duration.js';
import { durationMul } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import type { TcpEndpoint } from './tcb.js';
import type { Tcb } from './tcb.js';
import { nextDeadline } from './output.js';
import { TcpState } from './state.js';

export interface TimeWaitSnapshot {
  readonly local: TcpEndpoint;
  readonly remote: TcpEndpoint;
  /** SND.NXT = SND.UNA = SND.MAX: our FIN was acknowledged. */
  readonly sndNxt: number;
  readonly rcvNxt: number;
  /** RCV.WND in bytes (RCV.ADV - RCV.NXT): fixed from now on, as RCV.NXT is. */
  readonly rcvWnd: number;
  /** The window field of our ACKs (RCV.WND scaled down by our shift). */
  readonly windowField: number;
  readonly lastAckSent: number;
  readonly sndWscale: number;
  readonly maxSndWnd: number;
  readonly sndWl1: number;
  readonly sndWl2: number;
  readonly tsOk: boolean;
  readonly tsRecent: number;
  readonly tsRecentAt: Instant;
  readonly tsOffset: number;
  /** When 2 MSL run out. */
  readonly deadline: Instant;
  /** 2 MSL, for a restart. */
  readonly timeWaitLen: Duration;
  readonly challengeAckLimit: number;
  readonly challengeWindowStart: Instant;
  readonly challengeCount: number;
}

/**
 * The snapshot of `t`, or undefined while TIME-WAIT still needs the whole
 * TCB: anything pending besides the 2 MSL timer (an ACK to send, another
 * timer), data unacknowledged, SACK blocks to report, or a window that
 * would still move. Then the stack keeps the TCB and asks again later.
 */
export function timeWaitSnapshot(t: Tcb): TimeWaitSnapshot | undefined {
  if (t.state !== TcpState.TIME_WAIT || t.rstDue !== undefined) return undefined;
  if (nextDeadline(t) !== t.timeWaitAt) return undefined;
  if (t.sndUna !== t.sndMax || t.sndNxt !== t.sndMax) return undefined;
  if (t.sackOk && !t.assembler.isEmpty) return undefined;
  const wnd = t.rcvWnd();
  // Tcb.windowToAdvertise is stable once an ACK went out with RCV.NXT as it is now.
  if (t.windowToAdvertise() !== wnd) return undefined;
  return {
    local: t.local,
    remote: t.remote,
    sndNxt: t.sndMax,
    rcvNxt: t.rcvNxt,
    rcvWnd: wnd,
    windowField: Math.min(0xffff, wnd >>> t.rcvWscale),
    lastAckSent: t.lastAckSent,
    sndWscale: t.sndWscale,
    maxSndWnd: t.maxSndWnd,
    sndWl1: t.sndWl1,
    sndWl2: t.sndWl2,
    tsOk: t.tsOk,
    tsRecent: t.tsRecent,
    tsRecentAt: t.tsRecentAt,
    tsOffset: t.tsOffset,
    deadline: t.timeWaitAt,
    timeWaitLen: durationMul(t.config.msl, 2),
    challengeAckLimit: t.config.challengeAckLimit,
    challengeWindowStart: t.challengeWindowStart,
    challengeCount: t.challengeCount,
  };
}
