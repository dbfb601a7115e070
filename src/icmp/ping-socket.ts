/**
 * ICMP "ping" sockets as on Linux (net/ipv4/ping.c):
 * socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) lets an unprivileged program send
 * echo requests and receive the matching replies.
 *
 * - The socket's "port" is the ICMP identifier. bind() may choose it (port 0,
 *   or an implicit bind on first send, picks a free one at random); the
 *   kernel writes it over whatever identifier the program put in its header.
 * - sendto() takes a whole ICMP message: at least the 8-byte header, type 8
 *   (echo request) code 0, else EINVAL. The stack fills in the identifier and
 *   the checksum; the sequence number and data are the program's.
 * - recvfrom() returns echo replies carrying the socket's identifier (from
 *   the connected peer only, after connect()), as the whole ICMP message; the
 *   address is the replying host with port 0.
 * - ICMP errors quoting one of the socket's requests: with IP_RECVERR they
 *   are queued for recvmsg(MSG_ERRQUEUE) and set SO_ERROR; without it only
 *   hard errors on a connected socket do (Linux ping_err).
 *
 * stack.ping() is a separate client inside the stack: its identifiers are
 * drawn independently, so a reply to it could in principle also reach a ping
 * socket that picked the same identifier (Linux has the same property
 * between ping sockets and raw-socket pingers).
 */
import type { PortAllocator } from '../stack/port-allocator.js';
import type { IcmpSocketHandler, IpSender } from '../stack/transport.js';
import { constants as C } from '../syscall/constants.js';
import { raise } from '../syscall/socket-handle.js';
import type { Endpoint, RecvResult, SocketHandle, WouldBlock } from '../syscall/socket-handle.js';
import type { ProtocolFactory } from '../syscall/syscalls.js';
import {
  SocketLevelOptions,
  mergeSockOptTables,
  socketLevelTable,
  tableGet,
  tableKind,
  tableSet,
} from '../syscall/sockopt.js';
import type { SockOptTable, SockOptValue } from '../syscall/sockopt.js';
import type { Counters } from '../stats/counters.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { IPV4_BROADCAST, isIpv4Multicast } from '../wire/address.js';
import { readU16 } from '../wire/bytes.js';
import { ICMPV4_HEADER_LEN, Icmpv4Type, emitIcmpv4 } from '../wire/icmpv4.js';
import { IpProtocol } from '../wire/ipv4.js';
import { datagramIpOptions } from '../udp/datagram-options.js';
import { DatagramState, SHUT_RCV, SHUT_SEND } from '../udp/datagram-state.js';
import { ErrorQueue } from './error-queue.js';
import type { IcmpErrorReport } from './icmp-error.js';

/** Per-reply bookkeeping charged to SO_RCVBUF on top of the message. */
const REPLY_OVERHEAD = 256;
/** Linux ping_v4_sendmsg: the message must fit the 16-bit IPv4 total length. */
const PING_MAX_MESSAGE = 0xffff;

/** What ping sockets need from the stack. */
export interface PingSocketHost {
  readonly ip: IpSender;
  readonly stats: Counters;
  now(): Instant;
  wake(): void;
  isLocalAddress(a: Ipv4Address): boolean;
  isBroadcastAddress(a: Ipv4Address): boolean;
  readonly defaultTtl?: number;
}

export class PingSocket implements SocketHandle {
  readonly family = C.AF_INET;
  readonly type = C.SOCK_DGRAM;
  readonly protocol = C.IPPROTO_ICMP;
  readonly so = new SocketLevelOptions();
  readonly errorQueue = new ErrorQueue();
  localAddress: Ipv4Address = 0;
  /** The ICMP identifier; 0 until bound. */
  identifier = 0;
  remote: Ipv4Address | undefined = undefined;
  ttl: number | undefined = undefined;
  tos = 0;
  recvErr = false;
  drops = 0;
  readonly #owner: PingSocketProtocol;
  readonly #d = new DatagramState(this.errorQueue);
  #waker: (() => void) | undefined;

  constructor(owner: PingSocketProtocol) {
    this.#owner = owner;
  }

  get owner(): PingSocketProtocol {
    return this.#owner;
  }

  #wake(): void {
    this.#waker?.();
  }

  /** From the protocol: an echo reply for this socket. Copies it into the receive queue. */
  deliver(from: Ipv4Address, message: Uint8Array): void {
    if (this.#d.closed || (this.#d.shutdown & SHUT_RCV) !== 0) return;
    if (!this.#d.queue.push({ address: from, port: 0 }, message, message.length + REPLY_OVERHEAD, this.so.rcvbuf)) {
      this.drops++;
      return;
    }
    this.#wake();
  }

  /** From the protocol: an ICMP error about one of our requests (Linux ping_err). */
  error(report: IcmpErrorReport): void {
    if (!this.recvErr && (!report.hard || this.remote === undefined)) return;
    if (this.recvErr) this.errorQueue.push(report, { address: report.quote.dst, port: 0 }, report.quote.transport, this.so.rcvbuf);
    this.#d.error = report.errno;
    this.#wake();
  }

  readiness(): number {
    // Linux: ping sockets poll through datagram_poll, like UDP.
    return this.#d.readiness();
  }

  setWaker(waker: (() => void) | undefined): void {
    this.#waker = waker;
  }

  bind(local: Endpoint): void {
    this.#owner.bind(this, local);
  }

  connect(remote: Endpoint | undefined): void {
    if (remote === undefined) {
      this.remote = undefined;
      return;
    }
    this.#owner.connect(this, remote.address);
  }

  listen(): void {
    raise('EOPNOTSUPP');
  }

  accept(): never {
    raise('EOPNOTSUPP');
  }

  send(data: readonly Uint8Array[], to: Endpoint | undefined, flags: number): number {
    if ((flags & C.MSG_OOB) !== 0) raise('EOPNOTSUPP');
    let length = 0;
    for (const d of data) length += d.length;
    if (length > PING_MAX_MESSAGE) raise('EMSGSIZE');
    // Linux ping_common_sendmsg: a whole echo request header from the user.
    if (length < ICMPV4_HEADER_LEN) raise('EINVAL');
    const message = new Uint8Array(length);
    let off = 0;
    for (const d of data) {
      message.set(d, off);
      off += d.length;
    }
    if (message[0] !== Icmpv4Type.EchoRequest || message[1] !== 0) raise('EINVAL');
    this.#d.raisePending();
    if ((this.#d.shutdown & SHUT_SEND) !== 0) raise('EPIPE');
    const dst = to?.address ?? this.remote;
    if (dst === undefined) raise('EDESTADDRREQ');
    this.#owner.send(this, dst, message);
    return length;
  }

  recv(buffers: readonly Uint8Array[], flags: number): RecvResult | WouldBlock {
    if ((flags & C.MSG_OOB) !== 0) raise('EOPNOTSUPP');
    return this.#d.recv(buffers, flags, undefined);
  }

  shutdown(how: number): void {
    this.#d.shut(how);
    this.#wake();
    if (this.remote === undefined) raise('ENOTCONN');
  }

  close(): void {
    if (!this.#d.close()) return;
    this.#owner.release(this);
  }

  localEndpoint(): Endpoint {
    return { address: this.localAddress, port: this.identifier };
  }

  remoteEndpoint(): Endpoint | undefined {
    return this.remote === undefined ? undefined : { address: this.remote, port: 0 };
  }

  takeError(): number {
    return this.#d.takeErrno();
  }

  getsockopt(level: number, name: number): SockOptValue {
    return tableGet(PING_OPTIONS, this, level, name);
  }

  setsockopt(level: number, name: number, value: SockOptValue): void {
    tableSet(PING_OPTIONS, this, level, name, value);
  }
}

const PING_OPTIONS: SockOptTable<PingSocket> = mergeSockOptTables(
  socketLevelTable<PingSocket>((s) => s.so),
  datagramIpOptions<PingSocket>(),
);

/** The ping sockets of one stack: identifier table, output, and the stack's echo-reply/ICMP-error hook. */
export class PingSocketProtocol implements IcmpSocketHandler {
  readonly #host: PingSocketHost;
  readonly #ids: PortAllocator<PingSocket>;

  constructor(host: PingSocketHost, ids: PortAllocator<PingSocket>) {
    this.#host = host;
    this.#ids = ids;
  }

  get defaultTtl(): number {
    return this.#host.defaultTtl ?? 64;
  }

  factory(): ProtocolFactory {
    return {
      family: C.AF_INET,
      type: C.SOCK_DGRAM,
      protocol: C.IPPROTO_ICMP,
      create: () => new PingSocket(this),
      optionKind: (level, name) => tableKind(PING_OPTIONS, level, name),
    };
  }

  /** Sockets with identifier `id` (for tests and diagnostics). */
  socketsWith(id: number): readonly PingSocket[] {
    return this.#ids.bindings(id);
  }

  #conflicts(sock: PingSocket, address: Ipv4Address, id: number): boolean {
    return this.#ids
      .bindings(id)
      .some((o) => o !== sock && (o.localAddress === 0 || address === 0 || o.localAddress === address) && !(o.so.reuseAddr && sock.so.reuseAddr));
  }

  bind(sock: PingSocket, local: Endpoint): void {
    if (sock.identifier !== 0) raise('EINVAL');
    const a = local.address;
    // Linux ping_check_bind_addr: a local address (or any); multicast/broadcast only as "any".
    if (a !== 0 && !this.#host.isLocalAddress(a)) raise('EADDRNOTAVAIL');
    let id = local.port;
    if (id === 0) {
      const free = this.#ids.allocate((p) => !this.#conflicts(sock, a, p));
      if (free === undefined) raise('EAGAIN');
      id = free;
    } else if (this.#conflicts(sock, a, id)) raise('EADDRINUSE');
    sock.localAddress = a;
    sock.identifier = id;
    this.#ids.bind(id, sock);
  }

  connect(sock: PingSocket, dst: Ipv4Address): void {
    if ((dst === IPV4_BROADCAST || this.#host.isBroadcastAddress(dst)) && !sock.so.broadcast) raise('EACCES');
    if (this.#host.ip.route(dst, sock.localAddress === 0 ? undefined : sock.localAddress) === undefined) raise('ENETUNREACH');
    if (sock.identifier === 0) this.bind(sock, { address: sock.localAddress, port: 0 });
    sock.remote = dst;
  }

  send(sock: PingSocket, dst: Ipv4Address, message: Uint8Array): void {
    // Linux ping_v4_sendmsg: broadcasts need SO_BROADCAST.
    if ((dst === IPV4_BROADCAST || this.#host.isBroadcastAddress(dst)) && !sock.so.broadcast) raise('EACCES');
    if (sock.identifier === 0) this.bind(sock, { address: sock.localAddress, port: 0 });
    const data = message.subarray(ICMPV4_HEADER_LEN);
    const sequence = readU16(message, 6);
    const identifier = sock.identifier;
    const src = sock.localAddress !== 0 && !isIpv4Multicast(sock.localAddress) ? sock.localAddress : undefined;
    const status = this.#host.ip.send(
      this.#host.now(),
      {
        dst,
        protocol: IpProtocol.Icmp,
        dontFragment: false,
        ttl: sock.ttl ?? this.defaultTtl,
        dscp: sock.tos >> 2,
        ...(src === undefined ? {} : { src }),
      },
      message.length,
      // The kernel owns the identifier and the checksum (Linux ping_v4_push_pending_frames).
      (buf) => void emitIcmpv4({ type: Icmpv4Type.EchoRequest, identifier, sequence, data }, buf),
    );
    if (status === 'ENETUNREACH' || status === 'EMSGSIZE' || status === 'EADDRNOTAVAIL') raise(status);
    this.#host.stats.increment('icmp.out-echos');
  }

  release(sock: PingSocket): void {
    if (sock.identifier !== 0) this.#ids.unbind(sock.identifier, sock);
  }

  // ------------------------------------------------------------ IcmpSocketHandler

  echoReply(_now: Instant, from: Ipv4Address, to: Ipv4Address, identifier: number, sequence: number, data: Uint8Array): void {
    const socks = this.#ids.bindings(identifier);
    for (const s of socks) {
      if (s.localAddress !== 0 && s.localAddress !== to) continue;
      if (s.remote !== undefined && s.remote !== from) continue;
      // Linux ping_lookup: the first matching socket gets the whole reply, ICMP header included.
      s.deliver(from, buildReply(identifier, sequence, data));
      return;
    }
  }

  icmpError(_now: Instant, report: IcmpErrorReport): void {
    const t = report.quote.transport;
    // Only errors about our echo requests: the quoted ICMP header names the identifier.
    if (t.length < ICMPV4_HEADER_LEN || t[0] !== Icmpv4Type.EchoRequest) return;
    const id = readU16(t, 4);
    for (const s of this.#ids.bindings(id)) {
      if (s.localAddress !== 0 && s.localAddress !== report.quote.src) continue;
      s.error(report);
      return;
    }
  }
}

function buildReply(identifier: number, sequence: number, data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(ICMPV4_HEADER_LEN + data.length);
  emitIcmpv4({ type: Icmpv4Type.EchoReply, identifier, sequence, data }, buf);
  return buf;
}
