/**
 * getsockopt(IPPROTO_TCP, TCP_INFO): the part of Linux's struct tcp_info that
 * sockstack keeps, with Linux's numbering of states (include/net/tcp_states.h).
 * Separate from tcp-socket.ts: it only reads a connection's statistics and
 * needs none of the socket's call state beyond its TCP state.
 */
import { TcpState } from './state.js';
import type { ConnEntry } from './tcp-entry.js';


/** Linux TCP_MSS_DEFAULT: what TCP_MAXSEG reads on a socket with no connection. */
export const TCP_MSS_DEFAULT = 536;

/** Linux's numbering of states in tcp_info.tcpi_state (include/net/tcp_states.h). */
export const LinuxTcpState: Readonly<Record<TcpState, number>> = Object.freeze({
  [TcpState.ESTABLISHED]: 1,
  [TcpState.SYN_SENT]: 2,
  [TcpState.SYN_RECEIVED]: 3,
  [TcpState.FIN_WAIT_1]: 4,
  [TcpState.FIN_WAIT_2]: 5,
  [TcpState.TIME_WAIT]: 6,
  [TcpState.CLOSED]: 7,
  [TcpState.CLOSE_WAIT]: 8,
  [TcpState.LAST_ACK]: 9,
  [TcpState.LISTEN]: 10,
  [TcpState.CLOSING]: 11,
});

/** getsockopt(IPPROTO_TCP, TCP_INFO): the fields of Linux's struct tcp_info that sockstack keeps. Times in microseconds. */
export interface TcpInfoValue {
  /** tcpi_state, Linux numbering (1 ESTABLISHED ... 10 LISTEN). */
  readonly state: number;
  /** The state's name ('ESTABLISHED'), for people. */
  readonly stateName: TcpState;
  readonly rto: number;
  readonly rtt: number;
  readonly rttvar: number;
  /** In segments, as Linux reports it. */
  readonly snd_cwnd: number;
  /** In segments; 0x7fffffff (TCP_INFINITE_SSTHRESH) until the first loss. */
  readonly snd_ssthresh: number;
  /** Consecutive retransmission timeouts of the current segment. */
  readonly retransmits: number;
  readonly total_retrans: number;
  readonly snd_mss: number;
  readonly rcv_mss: number;
}

/** TCP_INFO of a socket in state `st`; `e` is its connection (undefined for a listener or a socket without one). */
export function tcpInfo(st: TcpState, e: ConnEntry | undefined): TcpInfoValue {
  if (e === undefined) {
    return {
      state: LinuxTcpState[st],
      stateName: st,
      rto: 0,
      rtt: 0,
      rttvar: 0,
      snd_cwnd: 10,
      snd_ssthresh: 0x7fffffff,
      retransmits: 0,
      total_retrans: 0,
      snd_mss: TCP_MSS_DEFAULT,
      rcv_mss: TCP_MSS_DEFAULT,
    };
  }
  // Fields W2's TcpInfo may add later are read when present.
  const i = e.conn.info as typeof e.conn.info & { rttvar?: number; rcvMss?: number; totalRetrans?: number };
  const mss = Math.max(1, i.mss);
  return {
    state: LinuxTcpState[st],
    stateName: st,
    rto: i.rto,
    rtt: i.srtt,
    rttvar: i.rttvar ?? 0,
    snd_cwnd: Math.floor(i.cwnd / mss),
    snd_ssthresh: i.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.floor(i.ssthresh / mss),
    retransmits: i.retransmits,
    total_retrans: i.totalRetrans ?? e.totalRetrans,
    snd_mss: i.mss,
    rcv_mss: i.rcvMss ?? i.mss,
  };
}
