/**
 * Connection states (RFC 9293 3.3.2, Figure 5). String values so that a
 * state reads the same in logs, test failures and `ss`-style listings.
 */
export const TcpState = {
  CLOSED: 'CLOSED',
  LISTEN: 'LISTEN',
  SYN_SENT: 'SYN-SENT',
  SYN_RECEIVED: 'SYN-RECEIVED',
  ESTABLISHED: 'ESTABLISHED',
  FIN_WAIT_1: 'FIN-WAIT-1',
  FIN_WAIT_2: 'FIN-WAIT-2',
  CLOSE_WAIT: 'CLOSE-WAIT',
  CLOSING: 'CLOSING',
  LAST_ACK: 'LAST-ACK',
  TIME_WAIT: 'TIME-WAIT',
} as const;

export type TcpState = (typeof TcpState)[keyof typeof TcpState];

/** RFC 9293 3.3.2: states past the handshake, where both ISNs are known. */
export function isSynchronized(s: TcpState): boolean {
  return s !== TcpState.CLOSED && s !== TcpState.LISTEN && s !== TcpState.SYN_SENT && s !== TcpState.SYN_RECEIVED;
}

/** States in which arriving segment text is delivered (RFC 9293 3.10.7.4, seventh step). */
export function acceptsText(s: TcpState): boolean {
  return s === TcpState.ESTABLISHED || s === TcpState.FIN_WAIT_1 || s === TcpState.FIN_WAIT_2;
}

/** States in which the user may still queue data (RFC 9293 3.10.2 SEND). */
export function acceptsSend(s: TcpState): boolean {
  return (
    s === TcpState.SYN_SENT || s === TcpState.SYN_RECEIVED || s === TcpState.ESTABLISHED || s === TcpState.CLOSE_WAIT
  );
}

/** The errors a connection reports to its owner (names from src/errno). */
export type TcpError = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EPIPE';
