/**
 * A UDP socket (RFC 768) as a SocketHandle: the state Linux keeps in
 * `struct udp_sock`, with its receive queue and options. The bind table,
 * demultiplexing and the IP send path belong to the UdpProtocol that owns
 * the socket (`UdpSocketOwner`), so a socket alone is pure bookkeeping.
 */
import { ErrorQueue } from '../icmp/error-queue.js';
import { byteRange, datagramIpOptions } from './datagram-options.js';
import { DatagramState, SHUT_SEND } from './datagram-state.js';
import { queueDatagram } from './rx-slab.js';
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import type { ErrnoName } from '../errno/errno.js';
import { constants as C } from '../syscall/constants.js';
import { raise } from '../syscall/socket-handle.js';
import type { Endpoint, RecvResult, SocketHandle, WouldBlock } from '../syscall/socket-handle.js';
import {
  SocketLevelOptions,
  asInt,
  mergeSockOptTables,
  sockOptTable,
  socketLevelTable,
  tableGet,
  tableSet,
} from '../syscall/sockopt.js';
import type { IpMreq, SockOptTable, SockOptValue } from '../syscall/sockopt.js';
import { formatIpv4, isIpv4Multicast, parseIpv4Address } from '../wire/address.js';
import type { Ipv4Address } from '../wire/address.js';

/**
 * Per-datagram bookkeeping charged to SO_RCVBUF on top of the payload, a
 * stand-in for Linux's skb truesize (which is larger than the data). A
 * constant keeps runs deterministic whatever the link.
 */
export const UDP_DATAGRAM_OVERHEAD = 256;

/** Linux net.ipv4.igmp_max_memberships. */
export const IGMP_MAX_MEMBERSHIPS = 20;

/** What a socket needs from its protocol. Implemented by UdpProtocol. */
export interface UdpSocketOwner {
  bind(sock: UdpSocket, local: Endpoint): void;
  connect(sock: UdpSocket, remote: Endpoint | undefined): void;
  send(sock: UdpSocket, data: readonly Uint8Array[], length: number, to: Endpoint): void;
  release(sock: UdpSocket): void;
  join(sock: UdpSocket, group: Ipv4Address, iface: Ipv4Address): ErrnoName | undefined;
  leave(sock: UdpSocket, group: Ipv4Address, iface: Ipv4Address): ErrnoName | undefined;
  isLocalAddress(a: Ipv4Address): boolean;
  readonly defaultTtl: number;
}

export interface Membership {
  readonly group: Ipv4Address;
  readonly iface: Ipv4Address;
}

function parseOptAddress(s: string): Ipv4Address {
  const a = parseIpv4Address(s);
  if (a === undefined) raise('EINVAL');
  return a;
}

export class UdpSocket implements SocketHandle {
  readonly family = C.AF_INET;
  readonly type = C.SOCK_DGRAM;
  readonly protocol = C.IPPROTO_UDP;

  readonly #owner: UdpSocketOwner;
  #waker: (() => void) | undefined;

  /** Local address (0: any) and port (0: not bound). Maintained by the owner. */
  localAddress: Ipv4Address = 0;
  localPort = 0;
  /** Set by an explicit bind(): disconnect then keeps the address / port (Linux SOCK_BINDADDR_LOCK / SOCK_BINDPORT_LOCK). */
  addressLocked = false;
  portLocked = false;
  remote: Endpoint | undefined = undefined;
  /** Bind order, for Linux's "most recently bound wins" among equals. Set by the owner. */
  bindSeq = 0;

  readonly so = new SocketLevelOptions();
  /** undefined: the stack default (IP_TTL -1). */
  ttl: number | undefined = undefined;
  tos = 0;
  multicastTtl = 1;
  multicastLoop = true;
  multicastAll = true;
  multicastIf: Ipv4Address = 0;
  recvErr = false;
  noCheck = false;
  readonly memberships: Membership[] = [];
  /** IP_RECVERR's error queue, read with recvmsg(MSG_ERRQUEUE). */
  readonly errorQueue = new ErrorQueue();

  readonly #d = new DatagramState(this.errorQueue);
  /** Datagrams dropped because the receive queue was full (Linux: the socket's drops counter). */
  drops = 0;

  constructor(owner: UdpSocketOwner) {
    this.#owner = owner;
  }

  get closed(): boolean {
    return this.#d.closed;
  }

  /** Bytes charged to SO_RCVBUF right now. */
  get receiveQueueBytes(): number {
    return this.#d.queue.bytes;
  }

  get receiveQueueLength(): number {
    return this.#d.queue.length;
  }

  #wake(): void {
    this.#waker?.();
  }

  // ------------------------------------------------------------ delivery, from the owner

  /**
   * Queues a received datagram (copying it: data enters the socket buffer
   * here). Returns false, and counts a drop, when SO_RCVBUF is exhausted.
   * Like Linux (__udp_enqueue_schedule_skb), a datagram is refused only when
   * the queue already holds more than SO_RCVBUF, so one datagram of any size
   * always fits an empty queue.
   */
  deliver(from: Endpoint, payload: Uint8Array): boolean {
    if (!queueDatagram(this.#d.queue, from, payload, payload.length + UDP_DATAGRAM_OVERHEAD, this.so.rcvbuf)) {
      this.drops++;
      return false;
    }
    this.#wake();
    return true;
  }

  /** Records an asynchronous error (ICMP), reported by the next call or SO_ERROR. */
  setError(code: ErrnoName): void {
    this.#d.error = code;
    this.#wake();
  }

  /** IP_RECVERR: queues the error for recvmsg(MSG_ERRQUEUE); `to` is the offending datagram's destination, `payload` its quoted data. */
  queueError(report: IcmpErrorReport, to: Endpoint, payload: Uint8Array): void {
    if (this.errorQueue.push(report, to, payload, this.so.rcvbuf)) this.#wake();
  }

  get pendingError(): ErrnoName | undefined {
    return this.#d.error;
  }

  // ------------------------------------------------------------ SocketHandle

  readiness(): number {
    return this.#d.readiness();
  }

  setWaker(waker: (() => void) | undefined): void {
    this.#waker = waker;
  }

  bind(local: Endpoint): void {
    this.#owner.bind(this, local);
  }

  connect(remote: Endpoint | undefined): void {
    this.#owner.connect(this, remote);
  }

  listen(): void {
    raise('EOPNOTSUPP');
  }

  accept(): never {
    raise('EOPNOTSUPP');
  }

  send(data: readonly Uint8Array[], to: Endpoint | undefined, flags: number): number | WouldBlock {
    // Linux udp_sendmsg: MSG_OOB is meaningless for datagrams.
    if ((flags & C.MSG_OOB) !== 0) raise('EOPNOTSUPP');
    let length = 0;
    for (const d of data) length += d.length;
    // The IPv4 total length (16 bits) bounds a datagram: 65535 - 20 (IP) - 8 (UDP) = 65507.
    if (length > C.UDP_MAX_PAYLOAD) raise('EMSGSIZE');
    // sock_alloc_send_skb reports (and clears) a pending error, then refuses after SHUT_WR.
    this.#d.raisePending();
    if ((this.#d.shutdown & SHUT_SEND) !== 0) raise('EPIPE');
    const dst = to ?? this.remote;
    if (dst === undefined) raise('EDESTADDRREQ');
    if (dst.port === 0) raise('EINVAL');
    this.#owner.send(this, data, length, dst);
    return length;
  }

  recv(buffers: readonly Uint8Array[], flags: number): RecvResult | WouldBlock {
    if ((flags & C.MSG_OOB) !== 0) raise('EOPNOTSUPP');
    // Linux __skb_recv_udp checks sock_error before the queue; end of file reads as from the peer.
    return this.#d.recv(buffers, flags, this.remote);
  }

  shutdown(how: number): void {
    // Linux inet_shutdown: ENOTCONN for an unconnected socket, but the flags are still set.
    this.#d.shut(how);
    this.#wake();
    if (this.remote === undefined) raise('ENOTCONN');
  }

  close(): void {
    if (!this.#d.close()) return;
    this.#owner.release(this);
  }

  localEndpoint(): Endpoint {
    return { address: this.localAddress, port: this.localPort };
  }

  remoteEndpoint(): Endpoint | undefined {
    return this.remote;
  }

  takeError(): number {
    return this.#d.takeErrno();
  }

  getsockopt(level: number, name: number): SockOptValue {
    return tableGet(UDP_OPTIONS, this, level, name);
  }

  setsockopt(level: number, name: number, value: SockOptValue): void {
    tableSet(UDP_OPTIONS, this, level, name, value);
  }

  // ------------------------------------------------------------ helpers for options

  ownerJoin(m: IpMreq, add: boolean): void {
    const group = parseOptAddress(m.multiaddr);
    if (!isIpv4Multicast(group)) raise('EINVAL');
    const iface = m.interface === undefined ? 0 : parseOptAddress(m.interface);
    if (iface !== 0 && !this.#owner.isLocalAddress(iface)) raise('ENODEV');
    const err = add ? this.#owner.join(this, group, iface) : this.#owner.leave(this, group, iface);
    if (err !== undefined) raise(err);
  }

  get owner(): UdpSocketOwner {
    return this.#owner;
  }
}

const flag = (get: (s: UdpSocket) => boolean, set: (s: UdpSocket, v: boolean) => void) =>
  ({
    kind: 'int',
    get: (s: UdpSocket) => (get(s) ? 1 : 0),
    set: (s: UdpSocket, v: SockOptValue) => {
      set(s, asInt(v) !== 0);
    },
  }) as const;

const UDP_OPTIONS: SockOptTable<UdpSocket> = mergeSockOptTables(
  socketLevelTable<UdpSocket>((s) => s.so),
  datagramIpOptions<UdpSocket>(),
  sockOptTable<UdpSocket>({
    [C.SOL_SOCKET]: {
      [C.SO_ACCEPTCONN]: { kind: 'int', get: () => 0 },
      // Linux: UDP over IPv4 may omit the checksum (RFC 768); SO_NO_CHECK does that on send.
      [C.SO_NO_CHECK]: flag(
        (s) => s.noCheck,
        (s, v) => {
          s.noCheck = v;
        },
      ),
    },
    [C.IPPROTO_IP]: {
      [C.IP_MULTICAST_TTL]: {
        kind: 'int',
        get: (s) => s.multicastTtl,
        set: (s, v) => {
          const n = asInt(v);
          s.multicastTtl = n === -1 ? 1 : byteRange(v, 0, 255);
        },
      },
      [C.IP_MULTICAST_LOOP]: flag(
        (s) => s.multicastLoop,
        (s, v) => {
          s.multicastLoop = v;
        },
      ),
      [C.IP_MULTICAST_ALL]: flag(
        (s) => s.multicastAll,
        (s, v) => {
          s.multicastAll = v;
        },
      ),
      [C.IP_MULTICAST_IF]: {
        kind: 'addr',
        get: (s) => formatIpv4(s.multicastIf),
        set: (s, v) => {
          const a = parseOptAddress(v as string);
          if (a !== 0 && !s.owner.isLocalAddress(a)) raise('EADDRNOTAVAIL');
          s.multicastIf = a;
        },
      },
      [C.IP_ADD_MEMBERSHIP]: {
        kind: 'mreq',
        set: (s, v) => {
          s.ownerJoin(v as IpMreq, true);
        },
      },
      [C.IP_DROP_MEMBERSHIP]: {
        kind: 'mreq',
        set: (s, v) => {
          s.ownerJoin(v as IpMreq, false);
        },
      },
    },
  }),
);

/** The kind of each UDP option (for argument checking before dispatch). */
export const udpOptionTable = UDP_OPTIONS;
