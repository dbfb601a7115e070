/**
 * The records the BSD calls take and answer beyond plain numbers: the
 * msghdr of sendmsg, and what recvfrom, recvmsg and accept resolve to. Kept
 * apart from the Syscalls class so the shapes read on their own.
 */
import type { SockAddr, SockAddrIn, SockExtendedErr } from './socket-handle.js';

export interface MsgHdr {
  readonly iov: readonly Uint8Array[];
  /** Destination (sendmsg) or, after recvmsg, the source. */
  readonly name?: SockAddr;
}

export interface RecvFromResult {
  readonly bytesRead: number;
  readonly address: SockAddrIn;
}

export interface RecvMsgResult {
  readonly bytesRead: number;
  readonly address: SockAddrIn;
  /** Output flags: MSG_TRUNC when a datagram was longer than the buffers, MSG_ERRQUEUE, ... */
  readonly flags: number;
  /**
   * recvmsg(MSG_ERRQUEUE) on a socket with IP_RECVERR: the queued error (the
   * IP_RECVERR control message as a record). `address` is then the original
   * destination and the bytes read the quoted payload of the offending datagram.
   */
  readonly error?: SockExtendedErr;
}

export interface AcceptResult {
  readonly fd: number;
  readonly address: SockAddrIn;
}
