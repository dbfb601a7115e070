/**
 * A socket's error queue (Linux sk_error_queue) for IP_RECVERR: ICMP errors
 * about datagrams the socket sent, read with recvmsg(MSG_ERRQUEUE).
 *
 * What is supported, precisely:
 * - Entries come from ICMP errors (and the stack's own "host unreachable"
 *   when ARP gives up) quoting a datagram of the socket, for UDP sockets and
 *   ping sockets with IP_RECVERR set; they carry the SockExtendedErr record
 *   (origin SO_EE_ORIGIN_ICMP, ICMP type/code, ee_info = path MTU for
 *   fragmentation needed, the offender address), the original destination
 *   (recvmsg's address: port for UDP, 0 for ping) and the quoted payload of
 *   the offending datagram (after the UDP header; for ping, the quoted ICMP
 *   message from its header on), as Linux's ip_icmp_error queues them.
 * - Not supported: SO_EE_ORIGIN_LOCAL errors from the send path (EMSGSIZE
 *   with IP_PMTUDISC_DO is reported by the send call itself), IP_RECVERR_RFC4884,
 *   timestamping/zerocopy origins, and the IP_PKTINFO/IP_RECVTTL control messages.
 * - Reading never blocks: an empty queue is EAGAIN, as on Linux. MSG_PEEK
 *   leaves the entry queued; MSG_TRUNC/short buffers behave as for data.
 * - The queue is bounded by the socket's receive buffer (Linux charges the
 *   error skbs to sk_rmem_alloc); errors that do not fit are dropped.
 */
import { Errno } from '../errno/errno.js';
import type { ErrnoName } from '../errno/errno.js';
import { constants as C } from '../syscall/constants.js';
import type { Endpoint, RecvResult, SockExtendedErr } from '../syscall/socket-handle.js';
import { formatIpv4 } from '../wire/address.js';
import { Icmpv4Type, Icmpv4UnreachableCode } from '../wire/icmpv4.js';
import type { IcmpErrorReport } from './icmp-error.js';

/** Bookkeeping charged per queued error on top of its payload (like UDP's per-datagram overhead). */
const ENTRY_OVERHEAD = 256;

interface Entry {
  readonly errno: ErrnoName;
  readonly error: SockExtendedErr;
  readonly to: Endpoint;
  readonly payload: Uint8Array;
  readonly cost: number;
}

/** The record Linux puts in the IP_RECVERR control message for `report`. */
export function extendedErrorOf(report: Pick<IcmpErrorReport, 'type' | 'code' | 'from' | 'errno' | 'pathMtu'>): SockExtendedErr {
  const fragNeeded = report.type === Icmpv4Type.DestinationUnreachable && report.code === Icmpv4UnreachableCode.FragmentationNeeded;
  return {
    errno: Errno[report.errno],
    name: report.errno,
    origin: C.SO_EE_ORIGIN_ICMP,
    icmpType: report.type,
    icmpCode: report.code,
    info: fragNeeded ? (report.pathMtu ?? 0) : 0,
    data: 0,
    offender: formatIpv4(report.from),
  };
}

export class ErrorQueue {
  readonly #entries: Entry[] = [];
  #bytes = 0;
  /** Errors refused because the queue was over the receive buffer. */
  drops = 0;

  get length(): number {
    return this.#entries.length;
  }

  /** Queues a copy of `payload`. False (and a drop counted) when `rcvbuf` is already used up. */
  push(report: Pick<IcmpErrorReport, 'type' | 'code' | 'from' | 'errno' | 'pathMtu'>, to: Endpoint, payload: Uint8Array, rcvbuf: number): boolean {
    if (this.#bytes > rcvbuf) {
      this.drops++;
      return false;
    }
    const cost = payload.length + ENTRY_OVERHEAD;
    this.#entries.push({ errno: report.errno, error: extendedErrorOf(report), to, payload: payload.slice(), cost });
    this.#bytes += cost;
    return true;
  }

  /**
   * recvmsg(MSG_ERRQUEUE): copies the oldest entry's payload into `buffers`.
   * Undefined when empty (the caller raises EAGAIN). Output flags carry
   * MSG_ERRQUEUE, and MSG_TRUNC when the buffers were short.
   */
  recv(buffers: readonly Uint8Array[], flags: number): RecvResult | undefined {
    const e = this.#entries[0];
    if (e === undefined) return undefined;
    let copied = 0;
    for (const b of buffers) {
      if (copied >= e.payload.length) break;
      const n = Math.min(b.length, e.payload.length - copied);
      b.set(e.payload.subarray(copied, copied + n));
      copied += n;
    }
    const truncated = copied < e.payload.length;
    if ((flags & C.MSG_PEEK) === 0) {
      this.#entries.shift();
      this.#bytes -= e.cost;
    }
    return {
      bytesRead: (flags & C.MSG_TRUNC) !== 0 ? e.payload.length : copied,
      from: e.to,
      flags: C.MSG_ERRQUEUE | (truncated ? C.MSG_TRUNC : 0),
      error: e.error,
    };
  }

  /** Linux sock_dequeue_err_skb: after a read, SO_ERROR becomes the next queued error's errno (or none). */
  nextErrno(): ErrnoName | undefined {
    return this.#entries[0]?.errno;
  }

  clear(): void {
    this.#entries.length = 0;
    this.#bytes = 0;
  }
}
