/**
 * What TIME-WAIT needs of a TCB, taken out of it when the connection
 * enters TIME-WAIT (Linux tcp_time_wait copying a tcp_sock into a
 * tcp_timewait_sock): sequence numbers, the window to advertise, timestamp
 * state for PAWS, the 2 MSL deadline and the out-of-window ACK clock. The
 * stack then frees the TCB (buffers, scoreboard, congestion state: about
 * 3 KB) and keeps a TimeWaitEntry (tcp-entry.ts) holding this.
 *
 * Separate from time-wait.ts so that connection.ts can fill the record
 * without importing tcp-entry.ts (which imports connection.ts' types).
 */
import type { Duration } from '../time/duration.js';
import { durationMul } from '../time/duration.js';
import type { TcpEndpoint } from './tcb.js';
import type { Tcb } from './tcb.js';
import { nextDeadline } from './output.js';
import { TcpState } from './state.js';
import type { TimeWaitRuleFields } from './time-wait-rules.js';

export interface TimeWaitFields extends TimeWaitRuleFields {
  local: TcpEndpoint;
  remote: TcpEndpoint;
  /** SND.NXT = SND.UNA = SND.MAX: our FIN was acknowledged. */
  sndNxt: number;
  /** The window field of our ACKs (RCV.WND scaled down by our shift; Linux tw_rcv_wnd). */
  windowField: number;
  tsOffset: number;
  /** When 2 MSL run out (the deadline heap's key). */
  deadline: number;
  /** 2 MSL, for a restart. */
  timeWaitLen: Duration;
}

/**
 * Copies `t`'s TIME-WAIT state into `into` (a TimeWaitEntry: no snapshot
 * object in between), or returns false, leaving `into` as it was, while
 * TIME-WAIT still needs the whole TCB: anything pending besides the 2 MSL
 * timer (an ACK to send, another timer), data unacknowledged, SACK blocks
 * to report, or a window that would still move. Then the stack keeps the
 * TCB and asks again later.
 */
export function fillTimeWait(t: Tcb, into: TimeWaitFields): boolean {
  if (t.state !== TcpState.TIME_WAIT || t.rstDue !== undefined) return false;
  if (nextDeadline(t) !== t.timeWaitAt) return false;
  if (t.sndUna !== t.sndMax || t.sndNxt !== t.sndMax) return false;
  if (t.sackOk && !t.assembler.isEmpty) return false;
  const wnd = t.rcvWnd();
  // Tcb.windowToAdvertise is stable once an ACK went out with RCV.NXT as it is now.
  if (t.windowToAdvertise() !== wnd) return false;
  into.local = t.local;
  into.remote = t.remote;
  into.sndNxt = t.sndMax;
  into.rcvNxt = t.rcvNxt;
  into.windowField = Math.min(0xffff, wnd >>> t.rcvWscale);
  into.tsOk = t.tsOk;
  into.tsRecent = t.tsRecent;
  into.tsRecentAt = t.tsRecentAt;
  into.tsOffset = t.tsOffset;
  into.lastOowAckAt = t.lastOowAckAt;
  into.deadline = t.timeWaitAt;
  into.timeWaitLen = durationMul(t.config.msl, 2);
  return true;
}
