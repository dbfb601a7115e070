/**
 * A connection's negotiated parameters and counters (TcpConnection.info),
 * for getsockopt(TCP_INFO)-like queries and tests. Split from connection.ts:
 * it only reads the TCB. (tcp-info.ts builds the socket-level TCP_INFO from it.)
 */
import type { Tcb } from './tcb.js';
import type { TcpState } from './state.js';

/** Negotiated parameters and counters of the connection over `t`. */
export function connectionInfo(t: Tcb): TcpInfo {
  return {
    state: t.state,
    mss: t.mss,
    sndWscale: t.sndWscale,
    rcvWscale: t.rcvWscale,
    timestamps: t.tsOk,
    sack: t.sackOk,
    rto: t.rto,
    srtt: t.rtt.srtt ?? 0,
    cwnd: t.cwnd(),
    ssthresh: t.cc.ssthresh,
    congestionControl: t.cc.name,
    sndWnd: t.sndWnd,
    rcvWnd: t.rcvWnd(),
    retransmits: t.retries,
    recvBufferSize: t.rcvBuf.capacity,
    sendBufferSize: t.sndbuf,
    sndUna: t.sndUna,
    sndNxt: t.sndNxt,
    rcvNxt: t.rcvNxt,
  };
}

export interface TcpInfo {
  readonly state: TcpState;
  readonly mss: number;
  readonly sndWscale: number;
  readonly rcvWscale: number;
  readonly timestamps: boolean;
  readonly sack: boolean;
  readonly rto: number;
  readonly srtt: number;
  readonly cwnd: number;
  readonly ssthresh: number;
  /** The congestion controller in use (TCP_CONGESTION). */
  readonly congestionControl: 'cubic' | 'reno';
  readonly sndWnd: number;
  readonly rcvWnd: number;
  readonly retransmits: number;
  readonly recvBufferSize: number;
  /** The send buffer's current capacity (grows with cwnd unless fixed by SO_SNDBUF). */
  readonly sendBufferSize: number;
  readonly sndUna: number;
  readonly sndNxt: number;
  readonly rcvNxt: number;
}
