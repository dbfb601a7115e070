/**
 * The contract between the syscall layer (file descriptors, blocking, poll,
 * argument checking) and the protocol sockets behind the descriptors
 * (UdpSocket now, TCP stream sockets later).
 *
 * A SocketHandle is NON-BLOCKING and SYNCHRONOUS. Every operation either
 * completes at once, returns `WOULD_BLOCK` ("try again when my readiness
 * changes"), or fails by throwing `HandleError` with an errno name. The
 * syscall layer alone turns WOULD_BLOCK into waiting (a Promise), EAGAIN
 * (O_NONBLOCK, MSG_DONTWAIT, SO_RCVTIMEO/SO_SNDTIMEO expiry) or EINPROGRESS,
 * and turns HandleError into a SocketError naming the call the user made
 * (`read`, not the `recvmsg` it maps to). Handles therefore never see
 * timeouts, descriptors, promises or the user's spelling of the call.
 *
 * Readiness is a poll(2) mask (POLLIN, POLLOUT, POLLERR, POLLHUP,
 * POLLRDHUP, POLLPRI) computed on demand by `readiness()`. Whenever it may
 * have changed (data queued, a connection established, an error recorded, a
 * shutdown), the handle calls the waker it was given with `setWaker`. Waking
 * too often is harmless (waiters re-check `readiness()` and re-try their
 * operation); missing a wake-up hangs a caller, so when in doubt, wake.
 * The waker may run synchronously inside the handle's call; it only
 * schedules Promise continuations and never re-enters the handle.
 */
import type { SockOptValue } from './sockopt.js';

/** A handle's answer meaning "cannot do it now; wait for a readiness change". */
export const WOULD_BLOCK: unique symbol = Symbol('WOULD_BLOCK');
export type WouldBlock = typeof WOULD_BLOCK;

/** An IPv4 socket address as users write it: `{ address: '10.0.0.1', port: 53 }`. */
export interface SockAddrIn {
  readonly family?: number;
  readonly address: string;
  readonly port: number;
}

/** connect() to this dissolves a datagram socket's association (Linux: AF_UNSPEC). */
export interface SockAddrUnspec {
  readonly family: 0;
  readonly address?: string;
  readonly port?: number;
}

export type SockAddr = SockAddrIn | SockAddrUnspec;

/** The parsed, numeric form handles receive: already validated by the syscall layer. */
export interface Endpoint {
  /** IPv4 address as a uint32 (see wire/address.ts). */
  readonly address: number;
  readonly port: number;
}

export { HandleError, raise } from './handle-error.js';

/**
 * IP_RECVERR: one entry of a socket's error queue, read with
 * recvmsg(MSG_ERRQUEUE). Linux's `struct sock_extended_err` (the IP_RECVERR
 * control message) plus SO_EE_OFFENDER, as a typed record.
 */
export interface SockExtendedErr {
  /** ee_errno, e.g. 111. */
  readonly errno: number;
  /** Its name, e.g. 'ECONNREFUSED' (the `code` of a SocketError). */
  readonly name: string;
  /** ee_origin: SO_EE_ORIGIN_ICMP for an ICMP error (constants.SO_EE_ORIGIN_*). */
  readonly origin: number;
  /** ee_type and ee_code: the ICMP type and code. */
  readonly icmpType: number;
  readonly icmpCode: number;
  /** ee_info: the next-hop/path MTU for "fragmentation needed", else 0. */
  readonly info: number;
  /** ee_data: unused for ICMP, 0. */
  readonly data: number;
  /** SO_EE_OFFENDER: who sent the ICMP error (a router or the destination), e.g. '10.0.0.254'. */
  readonly offender: string;
}

/** What a receive produced. */
export interface RecvResult {
  /** Bytes copied into the caller's buffers (or, with MSG_TRUNC on a datagram socket, the datagram's real length). */
  readonly bytesRead: number;
  /** The sender, for datagram sockets; undefined for stream sockets. */
  readonly from: Endpoint | undefined;
  /** Output flags (MSG_TRUNC when a datagram did not fit, MSG_OOB, ...). */
  readonly flags: number;
  /** With MSG_ERRQUEUE: the error read (then `from` is the original destination, the data the quoted payload). */
  readonly error?: SockExtendedErr;
}

/** Outcome of `connect` on a handle that needs the network to finish (TCP). */
export const IN_PROGRESS: unique symbol = Symbol('IN_PROGRESS');
export type InProgress = typeof IN_PROGRESS;

/** An accepted connection: a new handle plus the peer it is connected to. */
export interface Accepted {
  readonly handle: SocketHandle;
  readonly peer: Endpoint;
}

export interface SocketHandle {
  /** AF_INET, ... */
  readonly family: number;
  /** SOCK_STREAM or SOCK_DGRAM (without SOCK_NONBLOCK/SOCK_CLOEXEC). */
  readonly type: number;
  /** The protocol number (IPPROTO_UDP, IPPROTO_TCP), never 0. */
  readonly protocol: number;

  /** Current poll mask. POLLERR/POLLHUP are reported even if nobody asked, like Linux. */
  readiness(): number;
  /** Installs the one listener called when readiness may have changed (undefined removes it). */
  setWaker(waker: (() => void) | undefined): void;

  /** EINVAL if already bound, EADDRINUSE, EADDRNOTAVAIL, EACCES. Port 0 picks an ephemeral port. */
  bind(local: Endpoint): void;
  /**
   * `undefined` means AF_UNSPEC (dissolve the association). Datagram handles
   * finish at once; stream handles return IN_PROGRESS and later make POLLOUT
   * (success) or POLLERR (failure, readable once through `takeError`) ready.
   * While a connect is in progress a second call must fail with EALREADY.
   */
  connect(remote: Endpoint | undefined): void | InProgress;
  /** Stream handles only; datagram handles raise EOPNOTSUPP. */
  listen(backlog: number): void;
  /** Stream handles only: the next completed connection, or WOULD_BLOCK when the queue is empty. */
  accept(): Accepted | WouldBlock;
  /**
   * Sends the concatenation of `data`. Returns the bytes taken (a stream
   * handle may take fewer than offered; the syscall layer loops for blocking
   * calls) or WOULD_BLOCK when no buffer space is free.
   */
  send(data: readonly Uint8Array[], to: Endpoint | undefined, flags: number): number | WouldBlock;
  /** Fills `buffers` in order. Returns WOULD_BLOCK when nothing can be read yet. */
  recv(buffers: readonly Uint8Array[], flags: number): RecvResult | WouldBlock;
  /**
   * Optional (issue 9): `recv(buffers, flags).bytesRead` without the
   * record, for read() and recv(), which report nothing else: a blocked
   * read tries twice per request/response exchange, and each record was
   * garbage. Same effects and errors as recv.
   */
  recvCount?(buffers: readonly Uint8Array[], flags: number): number | WouldBlock;
  /** SHUT_RD / SHUT_WR / SHUT_RDWR, already validated. */
  shutdown(how: number): void;
  /** The descriptor was closed: release everything (a stream handle may linger in the stack). */
  close(): void;
  /**
   * Optional, stream handles: after close() with SO_LINGER {1, N > 0}, true
   * while the close has not completed (our FIN is unacknowledged), so
   * `closeWait` keeps waiting. The handle calls the waker (which may be set
   * again after close()) whenever this may have changed.
   */
  lingerPending?(): boolean;

  /** Local address; 0.0.0.0:0 when unbound. */
  localEndpoint(): Endpoint;
  /** Remote address, or undefined when not connected (getpeername: ENOTCONN). */
  remoteEndpoint(): Endpoint | undefined;

  /** Reads and clears the pending error (SO_ERROR); 0 when none. An errno number (positive). */
  takeError(): number;
  /**
   * Protocol options (SOL_SOCKET ones included, except those the syscall
   * layer owns: SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_RCVTIMEO,
   * SO_SNDTIMEO). Raise ENOPROTOOPT for unknown ones. Values arrive already
   * checked against the option's kind (see sockopt.ts).
   */
  getsockopt(level: number, name: number): SockOptValue;
  setsockopt(level: number, name: number, value: SockOptValue): void;
}

/** `h.recv(buffers, flags)`'s byte count, through recvCount where the handle has it. */
export function recvCount(h: SocketHandle, buffers: readonly Uint8Array[], flags: number): number | WouldBlock {
  if (h.recvCount !== undefined) return h.recvCount(buffers, flags);
  const r = h.recv(buffers, flags);
  return r === WOULD_BLOCK ? r : r.bytesRead;
}
