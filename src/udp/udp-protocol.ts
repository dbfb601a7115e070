/**
 * UDP (RFC 768) for one stack: the bind table, demultiplexing of received
 * datagrams to sockets, the send path, ICMP errors, and multicast
 * membership bookkeeping. Linux's rules throughout (net/ipv4/udp.c), since
 * programs written against sockstack are usually also run on Linux.
 *
 * The protocol reaches the rest of the stack only through `UdpHost` (IP
 * output, address ownership, routing, ICMP, statistics, the seeded RNG), so
 * it plugs into any Stack that provides those and is tested without one.
 */
import type { ErrnoName } from '../errno/errno.js';
import { concatBytes } from '../wire/bytes.js';
import type { Rng } from '../random/rng.js';
import type { CounterCell, Counters } from '../stats/counters.js';
import { PortAllocator } from '../stack/port-allocator.js';
import type { PortRange } from '../stack/port-allocator.js';
import { constants as C } from '../syscall/constants.js';
import { raise } from '../syscall/socket-handle.js';
import { IP_PMTUDISC_DO, IP_PMTUDISC_PROBE, IP_PMTUDISC_WANT } from '../syscall/sockopt.js';
import type { PmtuDiscState } from '../syscall/sockopt.js';
import type { Endpoint } from '../syscall/socket-handle.js';
import type { ProtocolFactory } from '../syscall/syscalls.js';
import { IPV4_BROADCAST, isIpv4Multicast } from '../wire/address.js';
import type { Ipv4Address } from '../wire/address.js';
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import { addressesOverlap as overlaps, flowHash } from '../stack/flow-hash.js';
import type { IpPacketIn, IpRoute, IpSender, TransportProtocol } from '../stack/transport.js';
import type { DeadlineWatch } from '../time/deadline-watch.js';
import type { Instant } from '../time/instant.js';
import { Icmpv4Type, Icmpv4UnreachableCode } from '../wire/icmpv4.js';
import { IPV4_DEFAULT_TTL, IPV4_HEADER_LEN, IpProtocol } from '../wire/ipv4.js';
import { UDP_HEADER_LEN, emitUdpHeader, finishUdpChecksum, parseUdp } from '../wire/udp.js';
import { IGMP_MAX_MEMBERSHIPS, UdpSocket } from './udp-socket.js';
import type { UdpSocketOwner } from './udp-socket.js';

/**
 * What UDP needs from the stack it runs in, besides the IpSender: address
 * ownership, statistics, the seeded RNG and the time of a user call. The
 * Stack implements it (the lead wires `new UdpProtocol(host)` in and
 * registers it both as a TransportProtocol and with Syscalls).
 */
/** An empty payload, shared. */
const NO_DATA: readonly Uint8Array[] = Object.freeze([]);

export interface UdpHost {
  readonly stats: Counters;
  /** Seeded: ephemeral ports repeat with the seed. */
  readonly rng: Rng;
  /** The IP output path used by send calls (Linux sends a datagram inside sendmsg). */
  readonly ip: IpSender;
  /** The current time, for sends made by user calls. */
  now(): Instant;
  /** Called after a send: the stack schedules a poll (ARP retries of a queued datagram). Optional. */
  wake?(): void;
  /** IP_TTL of sockets that did not set one. Default 64. */
  readonly defaultTtl?: number;
  /** True for an address of one of the stack's interfaces (loopback included). */
  isLocalAddress(a: Ipv4Address): boolean;
  /** True for 255.255.255.255 and the directed broadcast address of a local subnet. */
  isBroadcastAddress(a: Ipv4Address): boolean;
  /**
   * Host-level group membership changed (IGMP reports, interface filters).
   * Optional. `iface` is the interface address asked for, 0 for "any".
   */
  joinGroup?(group: Ipv4Address, iface: Ipv4Address): void;
  leaveGroup?(group: Ipv4Address, iface: Ipv4Address): void;
}

export interface UdpProtocolOptions {
  /** ip_local_port_range; default 32768-60999. Ignored when `ports` is given. */
  readonly ephemeralPorts?: PortRange;
  /** The stack's UDP port table (`stack.ports(17)`), so every UDP user of the stack shares one. */
  readonly ports?: PortAllocator<UdpSocket>;
}

/** Counter names, after Linux's `netstat -s` Udp: lines. */
export const UdpCounter = {
  InDatagrams: 'udp.in-datagrams',
  NoPorts: 'udp.no-ports',
  InErrors: 'udp.in-errors',
  InCsumErrors: 'udp.in-csum-errors',
  RcvbufErrors: 'udp.rcvbuf-errors',
  OutDatagrams: 'udp.out-datagrams',
  IgnoredMulti: 'udp.ignored-multi',
  SendErrors: 'udp.send-errors',
} as const;


export class UdpProtocol implements UdpSocketOwner, TransportProtocol {
  readonly protocol = IpProtocol.Udp;
  readonly #host: UdpHost;
  readonly #ports: PortAllocator<UdpSocket>;
  readonly #groups = new Map<string, number>();
  #bindSeq = 0;

  // Per-datagram counters, taken once (issue 9: no name lookup per datagram).
  readonly #inDatagrams: CounterCell;
  readonly #outDatagrams: CounterCell;

  constructor(host: UdpHost, opts: UdpProtocolOptions = {}) {
    this.#host = host;
    this.#inDatagrams = host.stats.cell(UdpCounter.InDatagrams);
    this.#outDatagrams = host.stats.cell(UdpCounter.OutDatagrams);
    this.#ports = opts.ports ?? new PortAllocator<UdpSocket>(host.rng, opts.ephemeralPorts);
  }

  get defaultTtl(): number {
    return this.#host.defaultTtl ?? IPV4_DEFAULT_TTL;
  }

  /** Like writing ip_local_port_range. */
  setEphemeralRange(range: PortRange): void {
    this.#ports.setEphemeralRange(range);
  }

  /** The factory to register with Syscalls: SOCK_DGRAM sockets of AF_INET, protocol IPPROTO_UDP. */
  factory(): ProtocolFactory {
    return {
      family: C.AF_INET,
      type: C.SOCK_DGRAM,
      protocol: C.IPPROTO_UDP,
      create: () => new UdpSocket(this),
    };
  }

  /** Sockets bound to `port` (for tests and diagnostics), oldest first. */
  socketsOn(port: number): readonly UdpSocket[] {
    return this.#ports.bindings(port);
  }

  isLocalAddress(a: Ipv4Address): boolean {
    return this.#host.isLocalAddress(a);
  }

  // ------------------------------------------------------------ bind / connect

  /** Linux udp_lib_lport_inuse: may `sock` use (address, port) next to the sockets already there? */
  #conflicts(sock: UdpSocket, address: Ipv4Address, port: number): boolean {
    for (const other of this.#ports.bindings(port)) {
      if (other === sock || !overlaps(other.localAddress, address)) continue;
      if (other.so.reuseAddr && sock.so.reuseAddr) continue;
      if (other.so.reusePort && sock.so.reusePort) continue;
      return true;
    }
    return false;
  }

  #hash(sock: UdpSocket, address: Ipv4Address, port: number): void {
    sock.localAddress = address;
    sock.localPort = port;
    sock.bindSeq = ++this.#bindSeq;
    this.#ports.bind(port, sock);
  }

  /** Binds to an ephemeral port (Linux inet_autobind). Raises EAGAIN when the range is exhausted. */
  #autobind(sock: UdpSocket, address: Ipv4Address): void {
    const port = this.#ports.allocate((p) => !this.#conflicts(sock, address, p));
    if (port === undefined) raise('EAGAIN');
    this.#hash(sock, address, port);
  }

  bind(sock: UdpSocket, local: Endpoint): void {
    if (sock.localPort !== 0) raise('EINVAL');
    const a = local.address;
    // Linux inet_bind: the address must be ours, multicast or broadcast (no IP_FREEBIND here).
    if (a !== 0 && !isIpv4Multicast(a) && !this.#host.isBroadcastAddress(a) && !this.#host.isLocalAddress(a)) {
      raise('EADDRNOTAVAIL');
    }
    if (local.port === 0) {
      this.#autobind(sock, a);
    } else {
      if (this.#conflicts(sock, a, local.port)) raise('EADDRINUSE');
      this.#hash(sock, a, local.port);
    }
    sock.addressLocked = a !== 0;
    sock.portLocked = local.port !== 0;
  }

  connect(sock: UdpSocket, remote: Endpoint | undefined): void {
    if (remote === undefined) {
      // Linux __udp_disconnect: forget the peer; an address or port that bind()
      // did not choose explicitly is given up too.
      sock.remote = undefined;
      if (!sock.addressLocked) sock.localAddress = 0;
      if (!sock.portLocked && sock.localPort !== 0) {
        this.#ports.unbind(sock.localPort, sock);
        sock.localPort = 0;
      }
      return;
    }
    const dst = remote.address;
    if ((dst === IPV4_BROADCAST || this.#host.isBroadcastAddress(dst)) && !sock.so.broadcast) raise('EACCES');
    // ip4_datagram_connect: the route must exist now (ENETUNREACH), and it picks the source.
    const src = this.#sourceFor(sock, dst);
    if (sock.localPort === 0) this.#autobind(sock, src);
    // ip4_datagram_connect: an unbound (wildcard) local address becomes the route's source.
    else if (sock.localAddress === 0) sock.localAddress = src;
    sock.remote = { address: dst, port: remote.port };
  }

  /** The source address of a datagram from `sock` to `dst` (RFC 1122 3.3.4.3 via the route when not bound). */
  #sourceFor(sock: UdpSocket, dst: Ipv4Address): Ipv4Address {
    const bound = sock.localAddress;
    const specific = bound !== 0 && !isIpv4Multicast(bound) && !this.#host.isBroadcastAddress(bound);
    const src = specific ? bound : isIpv4Multicast(dst) && sock.multicastIf !== 0 ? sock.multicastIf : undefined;
    const route = this.#host.ip.route(dst, src === 0 ? undefined : src);
    if (route === undefined) raise('ENETUNREACH');
    return src ?? route.src;
  }

  release(sock: UdpSocket): void {
    if (sock.localPort !== 0) this.#ports.unbind(sock.localPort, sock);
    for (const m of [...sock.memberships]) this.leave(sock, m.group, m.iface);
  }

  // ------------------------------------------------------------ multicast membership

  join(sock: UdpSocket, group: Ipv4Address, iface: Ipv4Address): ErrnoName | undefined {
    if (sock.memberships.some((m) => m.group === group && m.iface === iface)) return 'EADDRINUSE';
    if (sock.memberships.length >= IGMP_MAX_MEMBERSHIPS) return 'ENOBUFS';
    sock.memberships.push({ group, iface });
    const key = `${group}/${iface}`;
    const n = this.#groups.get(key) ?? 0;
    this.#groups.set(key, n + 1);
    if (n === 0) this.#host.joinGroup?.(group, iface);
    return undefined;
  }

  leave(sock: UdpSocket, group: Ipv4Address, iface: Ipv4Address): ErrnoName | undefined {
    // Linux ip_mc_leave_group: interface 0 matches a membership on any interface.
    const i = sock.memberships.findIndex((m) => m.group === group && (iface === 0 || m.iface === iface));
    if (i < 0) return 'EADDRNOTAVAIL';
    const m = sock.memberships[i]!;
    sock.memberships.splice(i, 1);
    const key = `${m.group}/${m.iface}`;
    const n = (this.#groups.get(key) ?? 1) - 1;
    if (n <= 0) {
      this.#groups.delete(key);
      this.#host.leaveGroup?.(m.group, m.iface);
    } else {
      this.#groups.set(key, n);
    }
    return undefined;
  }

  /** True when some socket of this stack joined `group` (on any interface). */
  hasGroup(group: Ipv4Address): boolean {
    for (const key of this.#groups.keys()) if (key.startsWith(`${group}/`)) return true;
    return false;
  }

  // ------------------------------------------------------------ sending

  send(sock: UdpSocket, data: readonly Uint8Array[], length: number, to: Endpoint): void {
    const dst = to.address;
    const broadcast = dst === IPV4_BROADCAST || this.#host.isBroadcastAddress(dst);
    // Linux udp_sendmsg -> ip_route_output: broadcast needs SO_BROADCAST.
    if (broadcast && !sock.so.broadcast) raise('EACCES');
    const multicast = isIpv4Multicast(dst);
    const src = this.#sourceFor(sock, dst);
    if (sock.localPort === 0) this.#autobind(sock, 0);
    const srcPort = sock.localPort;
    const tos = sock.tos;
    const now = this.#host.now();
    // IP_MTU_DISCOVER (ip(7)); Linux __ip_make_skb: DO and PROBE always set
    // DF (a datagram larger than the path MTU fails with EMSGSIZE); WANT, the
    // default (ip_no_pmtu_disc=0), sets it when the datagram fits the path
    // MTU and fragments it otherwise; DONT, INTERFACE and OMIT never do.
    const mode = (sock as PmtuDiscState).pmtuDisc ?? IP_PMTUDISC_WANT;
    let dontFragment = mode === IP_PMTUDISC_DO || mode === IP_PMTUDISC_PROBE;
    const total = IPV4_HEADER_LEN + UDP_HEADER_LEN + length;
    if (mode === IP_PMTUDISC_WANT) {
      // Any IPv4 path carries 576 bytes (RFC 791, RFC 1122 3.3.3) in practice: look the route up only above that.
      if (total <= 576) dontFragment = true;
      else {
        const route = this.#host.ip.route(dst, src);
        dontFragment = route !== undefined && total <= route.mtu;
      }
    }
    const req = {
      dst,
      src,
      protocol: IpProtocol.Udp,
      ttl: multicast ? sock.multicastTtl : (sock.ttl ?? this.defaultTtl),
      dscp: tos >>> 2,
      ecn: tos & 3,
      dontFragment,
    };
    this.#fillSock = sock;
    this.#fillData = data;
    this.#fillLen = length;
    this.#fillPorts.srcPort = srcPort;
    this.#fillPorts.dstPort = to.port;
    const fill = this.#fillPending;
    let status = this.#host.ip.send(now, req, UDP_HEADER_LEN + length, fill);
    // WANT on a link narrower than 576 bytes: fragment after all.
    if (status === 'EMSGSIZE' && mode === IP_PMTUDISC_WANT && dontFragment && total <= 65535) {
      status = this.#host.ip.send(now, { ...req, dontFragment: false }, UDP_HEADER_LEN + length, fill);
    }
    // Hold no caller's bytes between sends.
    this.#fillSock = undefined;
    this.#fillData = NO_DATA;
    this.#host.wake?.();
    if (status !== 'sent' && status !== 'queued' && status !== 'dropped') {
      this.#host.stats.increment(UdpCounter.SendErrors);
      raise(status);
    }
    this.#outDatagrams.n++;
    // Linux loops multicast (IP_MULTICAST_LOOP) and broadcast back to local sockets at IP output.
    if ((multicast && sock.multicastLoop && this.hasGroup(dst)) || broadcast) {
      this.#deliverToMany(src, srcPort, dst, to.port, data.length === 1 ? data[0]! : concatBytes(data, length), multicast);
    }
  }

  // The datagram #fillPending writes: ip.send calls its fill synchronously
  // (before returning), so one bound function and these fields replace a
  // closure and a ports record per datagram.
  #fillSock: UdpSocket | undefined;
  #fillData: readonly Uint8Array[] = NO_DATA;
  #fillLen = 0;
  readonly #fillPorts = { srcPort: 0, dstPort: 0 };
  readonly #fillPending = (out: Uint8Array, route: IpRoute): void => {
    const sock = this.#fillSock;
    if (sock === undefined) throw new Error('udp: fill called outside ip.send');
    const length = this.#fillLen;
    let at = UDP_HEADER_LEN;
    for (const d of this.#fillData) {
      out.set(d, at);
      at += d.length;
    }
    // RFC 768 lets IPv4 senders omit the checksum: SO_NO_CHECK, or a trusted link that does not need it.
    if (sock.noCheck || !route.checksum) {
      emitUdpHeader(this.#fillPorts, out, length);
    } else {
      emitUdpHeader(this.#fillPorts, out, length, { src: route.src, dst: route.dst });
      finishUdpChecksum(out, out.subarray(UDP_HEADER_LEN, UDP_HEADER_LEN + length));
    }
  };

  // ------------------------------------------------------------ receiving

  /**
   * Demultiplexes one received datagram. Unicast goes to the best matching
   * socket (Linux compute_score: a connected socket beats an unconnected
   * one, a specific address beats the wildcard, the most recently bound wins
   * ties, and a SO_REUSEPORT group shares by flow hash). Broadcast and
   * multicast go to every matching socket. No socket: ICMP port unreachable
   * for unicast (RFC 1122 3.2.2.1 / 4.1.3.1), silence for the rest.
   */
  input(now: Instant, packet: IpPacketIn, out: IpSender): void {
    const ip = packet.ip;
    this.receive(ip.src, ip.dst, ip.payload, packet.verifyChecksum, () => {
      // RFC 1122 4.1.3.1: port unreachable for unicast only (3.2.2: never for broadcast or multicast).
      if (!packet.broadcast) out.sendIcmpError(now, packet, Icmpv4Type.DestinationUnreachable, Icmpv4UnreachableCode.PortUnreachable);
    });
  }

  /** The demultiplexing core of `input`; `noPort` runs when no socket takes a unicast datagram. */
  receive(src: Ipv4Address, dst: Ipv4Address, datagram: Uint8Array, verifyChecksum: boolean, noPort: () => void): void {
    const stats = this.#host.stats;
    const parsed = parseUdp(datagram, verifyChecksum ? { src, dst } : undefined);
    if (!parsed.ok) {
      stats.increment(UdpCounter.InErrors);
      if (parsed.reason === 'bad-checksum') stats.increment(UdpCounter.InCsumErrors);
      return;
    }
    const { srcPort, dstPort, payload } = parsed.value;
    // Port 0 is never a destination.
    if (dstPort === 0) {
      stats.increment(UdpCounter.InErrors);
      return;
    }
    const multicast = isIpv4Multicast(dst);
    if (multicast || dst === IPV4_BROADCAST || this.#host.isBroadcastAddress(dst)) {
      if (multicast && !this.hasGroup(dst)) {
        stats.increment(UdpCounter.IgnoredMulti);
        return;
      }
      if (this.#deliverToMany(src, srcPort, dst, dstPort, payload, multicast) === 0) {
        stats.increment(multicast ? UdpCounter.IgnoredMulti : UdpCounter.NoPorts);
      }
      return;
    }
    const sock = this.#lookup(src, srcPort, dst, dstPort);
    if (sock === undefined) {
      stats.increment(UdpCounter.NoPorts);
      noPort();
      return;
    }
    this.#enqueue(sock, src, srcPort, payload);
  }

  poll(): void {
    // UDP keeps no timers: every datagram leaves inside the call that sends it.
  }

  pollAt(): Instant | undefined {
    return undefined;
  }

  /** pollAt() never changes: nothing to raise, and the stack never asks again (issue 9). */
  watchDeadline(_w: DeadlineWatch | undefined): void {}

  #enqueue(sock: UdpSocket, src: Ipv4Address, srcPort: number, payload: Uint8Array): boolean {
    if (sock.deliver({ address: src, port: srcPort }, payload)) {
      this.#inDatagrams.n++;
      return true;
    }
    this.#host.stats.increment(UdpCounter.RcvbufErrors);
    this.#host.stats.increment(UdpCounter.InErrors);
    return false;
  }

  /** Linux __udp4_lib_mcast_deliver; returns how many sockets matched. */
  #deliverToMany(
    src: Ipv4Address,
    srcPort: number,
    dst: Ipv4Address,
    dstPort: number,
    payload: Uint8Array,
    multicast: boolean,
  ): number {
    let n = 0;
    for (const s of this.#ports.bindings(dstPort)) {
      if (s.localAddress !== 0 && s.localAddress !== dst) continue;
      if (s.remote !== undefined && (s.remote.address !== src || s.remote.port !== srcPort)) continue;
      // ip_mc_sf_allow: with IP_MULTICAST_ALL off, only sockets that joined the group itself.
      if (multicast && !s.multicastAll && !s.memberships.some((m) => m.group === dst)) continue;
      n++;
      this.#enqueue(s, src, srcPort, payload);
    }
    return n;
  }

  #score(s: UdpSocket, src: Ipv4Address, srcPort: number, dst: Ipv4Address): number {
    let score = 0;
    if (s.localAddress !== 0) {
      if (s.localAddress !== dst) return -1;
      score += 4;
    }
    if (s.remote !== undefined) {
      if (s.remote.address !== src || s.remote.port !== srcPort) return -1;
      score += 8;
    }
    return score;
  }

  #lookup(src: Ipv4Address, srcPort: number, dst: Ipv4Address, dstPort: number): UdpSocket | undefined {
    let best: UdpSocket | undefined;
    let bestScore = -1;
    for (const s of this.#ports.bindings(dstPort)) {
      const score = this.#score(s, src, srcPort, dst);
      if (score < 0) continue;
      if (score > bestScore || (score === bestScore && best !== undefined && s.bindSeq > best.bindSeq)) {
        best = s;
        bestScore = score;
      }
    }
    if (best === undefined || !best.so.reusePort || best.remote !== undefined) return best;
    // SO_REUSEPORT: the unconnected sockets of the group with the same local
    // address share the flow space; one flow always lands on the same socket.
    const group = this.#ports
      .bindings(dstPort)
      .filter((s) => s.so.reusePort && s.remote === undefined && s.localAddress === best.localAddress);
    return group[flowHash(src, srcPort, dst, dstPort) % group.length];
  }

  /**
   * An ICMP error quoting a datagram we sent. Linux __udp4_lib_err: without
   * IP_RECVERR only hard errors on connected sockets are reported (as the
   * next call's error and SO_ERROR); with it, every error is.
   */
  icmpError(_now: Instant, report: IcmpErrorReport): void {
    this.handleIcmpError(report);
  }

  handleIcmpError(e: IcmpErrorReport): void {
    const q = e.quote;
    if (q.protocol !== IpProtocol.Udp || q.srcPort === undefined || q.dstPort === undefined) return;
    // The datagram went from us (q.src:q.srcPort) to them: look it up as if they had answered.
    const sock = this.#lookup(q.dst, q.dstPort, q.src, q.srcPort);
    if (sock === undefined) return;
    if (!sock.recvErr && (!e.hard || sock.remote === undefined)) return;
    // Linux ip_icmp_error: the queued entry holds what was quoted after the UDP header.
    if (sock.recvErr) sock.queueError(e, { address: q.dst, port: q.dstPort }, q.transport.subarray(8));
    sock.setError(e.errno);
  }
}
