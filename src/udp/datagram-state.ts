/**
 * The receive-side state every IPv4 datagram socket (UDP, ping) keeps, and
 * the socket-call steps that act on it the same way: the receive queue, the
 * pending asynchronous error (SO_ERROR), the shutdown bits and the closed
 * flag, with Linux's datagram_poll, sock_error and ip_recv_error semantics.
 */

import { Errno } from '../errno/errno.js';
import type { ErrnoName } from '../errno/errno.js';
import type { ErrorQueue } from '../icmp/error-queue.js';
import { constants as C } from '../syscall/constants.js';
import { WOULD_BLOCK, raise } from '../syscall/socket-handle.js';
import type { Endpoint, RecvResult, WouldBlock } from '../syscall/socket-handle.js';
import { DatagramQueue } from './datagram-queue.js';

/** Shutdown bit: no more receiving (SHUT_RD). */
export const SHUT_RCV = 1;
/** Shutdown bit: no more sending (SHUT_WR). */
export const SHUT_SEND = 2;

export class DatagramState {
  readonly queue = new DatagramQueue();
  /** The socket's IP_RECVERR queue (the socket owns it; options read it). */
  readonly #errorQueue: ErrorQueue;
  /** The pending asynchronous error, reported by the next call or SO_ERROR. */
  error: ErrnoName | undefined = undefined;
  /** SHUT_RCV | SHUT_SEND bits. */
  shutdown = 0;
  closed = false;

  constructor(errorQueue: ErrorQueue) {
    this.#errorQueue = errorQueue;
  }

  /** Reports (and clears) the pending error, as Linux sock_error does before a send or receive. */
  raisePending(): void {
    const e = this.error;
    if (e !== undefined) {
      this.error = undefined;
      raise(e);
    }
  }

  /** SO_ERROR: the pending error as an errno (0 for none), cleared. */
  takeErrno(): number {
    const e = this.error;
    this.error = undefined;
    return e === undefined ? 0 : Errno[e];
  }

  /** A shutdown(how): sets its bits (the caller wakes and checks for ENOTCONN). */
  shut(how: number): void {
    this.shutdown |= how === C.SHUT_RD ? SHUT_RCV : how === C.SHUT_WR ? SHUT_SEND : SHUT_RCV | SHUT_SEND;
  }

  /**
   * recvmsg: MSG_ERRQUEUE reads the error queue (Linux ip_recv_error: never
   * blocks, an empty queue is EAGAIN; sock_dequeue_err_skb: the pending error
   * becomes the next queued one's). Otherwise the pending error comes first,
   * then the queue; after SHUT_RD an empty queue reads end of file from `eofFrom`.
   */
  recv(buffers: readonly Uint8Array[], flags: number, eofFrom: Endpoint | undefined): RecvResult | WouldBlock {
    if ((flags & C.MSG_ERRQUEUE) !== 0) {
      const r = this.#errorQueue.recv(buffers, flags);
      if (r === undefined) raise('EAGAIN');
      if ((flags & C.MSG_PEEK) === 0) this.error = this.#errorQueue.nextErrno();
      return r;
    }
    this.raisePending();
    const r = this.queue.recv(buffers, flags);
    if (r !== undefined) return r;
    if ((this.shutdown & SHUT_RCV) !== 0) return { bytesRead: 0, from: eofFrom, flags: 0 };
    return WOULD_BLOCK;
  }

  /**
   * Linux datagram_poll: always writable; POLLERR for a pending or queued
   * error; readable with data or after SHUT_RD (then also POLLRDHUP);
   * POLLHUP when both directions are shut.
   */
  readiness(): number {
    let m = C.POLLOUT | C.POLLWRNORM | C.POLLWRBAND;
    if (this.error !== undefined || this.#errorQueue.length > 0) m |= C.POLLERR;
    if (this.queue.length > 0) m |= C.POLLIN | C.POLLRDNORM;
    if ((this.shutdown & SHUT_RCV) !== 0) m |= C.POLLIN | C.POLLRDNORM | C.POLLRDHUP;
    if (this.shutdown === (SHUT_RCV | SHUT_SEND)) m |= C.POLLHUP;
    return m;
  }

  /** close(): false when already closed; otherwise empties both queues. */
  close(): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.queue.clear();
    this.#errorQueue.clear();
    return true;
  }
}
