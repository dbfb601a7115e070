/**
 * A minimal IPv4 network of hosts that run sockstack's UDP and syscall
 * layers, for the UDP examples and tests. Each host has one address on one
 * shared subnet (no ARP, no routers: a packet goes straight to the host that
 * owns its destination after a fixed latency on the ManualClock), plus
 * 127.0.0.1. It implements the Stack's IpSender and UdpHost contracts the way
 * the Stack does, with real IPv4 and ICMP bytes, so UDP meets real packets.
 *
 * The UDP unit tests use it instead of `Stack` + `MemoryNetwork` because it
 * has no ARP and a fixed latency, so tests can assert exact packets and
 * times; programs written against `host.sys` run unchanged on a Stack's
 * syscalls (see src/syscall/stack-syscalls.test.ts and examples/udp-dns.ts).
 */
import type { IcmpErrorReport } from '../src/icmp/icmp-error.js';
import { icmpErrorMeaning } from '../src/icmp/icmp-error.js';
import { IcmpRateLimiter } from '../src/icmp/rate-limit.js';
import type { Interface } from '../src/iface/interface.js';
import { SeededRng } from '../src/random/rng.js';
import { Counters } from '../src/stats/counters.js';
import type { IpFill, IpPacketIn, IpRoute, IpSendRequest, IpSendStatus, IpSender } from '../src/stack/transport.js';
import { Syscalls } from '../src/syscall/syscalls.js';
import type { Instant } from '../src/time/instant.js';
import { ManualClock } from '../src/time/manual-clock.js';
import { UdpProtocol } from '../src/udp/udp-protocol.js';
import type { UdpHost } from '../src/udp/udp-protocol.js';
import type { Ipv4Address } from '../src/wire/address.js';
import { IPV4_BROADCAST, ipv4, ipv4Netmask, isIpv4Loopback, isIpv4Multicast } from '../src/wire/address.js';
import { Icmpv4Type, emitIcmpv4, icmpv4BufferLen, icmpv4ErrorQuote, parseIcmpQuote, parseIcmpv4 } from '../src/wire/icmpv4.js';
import { IPV4_HEADER_LEN, emitIpv4Header, parseIpv4 } from '../src/wire/ipv4.js';

const LOOPBACK = ipv4('127.0.0.1');
/** Stands in for the Interface the Stack would pass; UDP never looks inside it. */
const NO_IFACE = {} as Interface;

export class MiniNet {
  readonly clock: ManualClock;
  /** One-way delay of every packet, in microseconds. */
  latencyUs = 100;
  readonly hosts: MiniHost[] = [];
  /** Return true to lose a packet (fault injection). */
  drop: ((packet: Uint8Array, from: MiniHost) => boolean) | undefined = undefined;
  /** Every packet put on the wire, for assertions. */
  readonly wire: Uint8Array[] = [];

  constructor(clock = new ManualClock()) {
    this.clock = clock;
  }

  /** Adds a host with `cidr` (e.g. '10.0.0.1/24'); `seed` drives its ephemeral ports. */
  addHost(cidr: string, seed = this.hosts.length + 1): MiniHost {
    const [addr, len] = cidr.split('/');
    const h = new MiniHost(this, ipv4(addr!), Number(len ?? 24), seed);
    this.hosts.push(h);
    return h;
  }

  /** Puts a packet on the shared segment: unicast to its owner, broadcast and multicast to everyone else. */
  transmit(from: MiniHost, packet: Uint8Array): void {
    this.wire.push(packet);
    if (this.drop?.(packet, from) === true) return;
    const dst = (packet[16]! * 0x1000000 + packet[17]! * 0x10000 + packet[18]! * 0x100 + packet[19]!) >>> 0;
    const at = (this.clock.now() + this.latencyUs) as Instant;
    for (const h of this.hosts) {
      if (h === from) continue;
      if (h.address === dst || h.isBroadcastAddress(dst) || isIpv4Multicast(dst)) {
        // Each receiver gets its own copy, as from a real wire.
        const copy = packet.slice();
        this.clock.setTimer(at, () => {
          h.receiveIp(copy);
        });
      }
    }
  }

  /** Lets promise continuations run (any JS runtime: a macrotask turn). */
  async flush(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setTimeout(r, 0));
  }

  /**
   * Runs the network until nothing is pending: flushes continuations, then
   * jumps the clock to the next timer, again and again. Timeouts (SO_RCVTIMEO,
   * poll) fire in virtual time along the way.
   */
  async settle(maxSteps = 10_000): Promise<void> {
    for (let i = 0; i < maxSteps; i++) {
      await this.flush();
      const next = this.clock.nextTimerAt();
      if (next === undefined) return;
      this.clock.advanceTo(next);
    }
    throw new Error('MiniNet.settle: still busy');
  }

  /** Advances virtual time by `ms`, running timers and continuations in order. */
  async advance(ms: number): Promise<void> {
    const end = (this.clock.now() + Math.round(ms * 1000)) as Instant;
    for (;;) {
      await this.flush();
      const next = this.clock.nextTimerAt();
      if (next === undefined || next > end) break;
      this.clock.advanceTo(next);
    }
    this.clock.advanceTo(end);
    await this.flush();
  }
}

export class MiniHost implements UdpHost, IpSender {
  readonly net: MiniNet;
  readonly address: Ipv4Address;
  readonly prefixLength: number;
  readonly stats = new Counters();
  readonly rng: SeededRng;
  readonly ip: IpSender = this;
  readonly udp: UdpProtocol;
  readonly sys: Syscalls;
  readonly limiter = new IcmpRateLimiter();
  /** Groups the host has joined (what IGMP would report). */
  readonly groups = new Map<Ipv4Address, number>();
  #ident = 0;

  constructor(net: MiniNet, address: Ipv4Address, prefixLength: number, seed: number) {
    this.net = net;
    this.address = address;
    this.prefixLength = prefixLength;
    this.rng = new SeededRng(seed);
    this.udp = new UdpProtocol(this);
    this.sys = new Syscalls({ clock: net.clock });
    this.sys.registerProtocol(this.udp.factory());
  }

  now(): Instant {
    return this.net.clock.now();
  }

  isLocalAddress(a: Ipv4Address): boolean {
    return a === this.address || isIpv4Loopback(a);
  }

  get broadcastAddress(): Ipv4Address {
    return (this.address | ~ipv4Netmask(this.prefixLength)) >>> 0;
  }

  isBroadcastAddress(a: Ipv4Address): boolean {
    return a === IPV4_BROADCAST || a === this.broadcastAddress;
  }

  joinGroup(group: Ipv4Address): void {
    this.groups.set(group, (this.groups.get(group) ?? 0) + 1);
  }

  leaveGroup(group: Ipv4Address): void {
    this.groups.delete(group);
  }

  #onLink(dst: Ipv4Address): boolean {
    const mask = ipv4Netmask(this.prefixLength);
    return ((dst & mask) >>> 0) === ((this.address & mask) >>> 0);
  }

  route(dst: Ipv4Address, src?: Ipv4Address): IpRoute | undefined {
    if (src !== undefined && !this.isLocalAddress(src)) return undefined;
    if (isIpv4Loopback(dst) || dst === this.address) {
      return { iface: NO_IFACE, src: src ?? (isIpv4Loopback(dst) ? LOOPBACK : this.address), dst, nextHop: dst, mtu: 65535, checksum: true };
    }
    if (this.#onLink(dst) || this.isBroadcastAddress(dst) || isIpv4Multicast(dst)) {
      return { iface: NO_IFACE, src: src ?? this.address, dst, nextHop: dst, mtu: 1500, checksum: true };
    }
    return undefined;
  }

  send(_now: Instant, req: IpSendRequest, payloadLength: number, fill: IpFill): IpSendStatus {
    const route = this.route(req.dst, req.src);
    if (route === undefined) return 'ENETUNREACH';
    if (payloadLength + IPV4_HEADER_LEN > 65535) return 'EMSGSIZE';
    const packet = new Uint8Array(IPV4_HEADER_LEN + payloadLength);
    fill(packet.subarray(IPV4_HEADER_LEN), route);
    emitIpv4Header(
      {
        src: route.src,
        dst: req.dst,
        protocol: req.protocol,
        ttl: req.ttl ?? 64,
        dscp: req.dscp ?? 0,
        ecn: req.ecn ?? 0,
        identification: this.#ident++ & 0xffff,
        dontFragment: req.dontFragment ?? true,
        moreFragments: false,
        fragmentOffset: 0,
        options: new Uint8Array(0),
      },
      packet,
      payloadLength,
    );
    if (this.isLocalAddress(req.dst)) {
      this.net.clock.setTimer(this.now(), () => {
        this.receiveIp(packet);
      });
    } else {
      this.net.transmit(this, packet);
    }
    return 'sent';
  }

  sendIcmpError(now: Instant, about: IpPacketIn, type: number, code: number): boolean {
    if (about.broadcast || !this.limiter.allow(now, about.ip.src)) return false;
    const repr = { type: Icmpv4Type.DestinationUnreachable, code, nextHopMtu: 0, quoted: icmpv4ErrorQuote(about.raw) } as const;
    void type;
    const status = this.send(now, { dst: about.ip.src, protocol: 1 }, icmpv4BufferLen(repr), (buf) => {
      emitIcmpv4(repr, buf);
    });
    this.stats.increment('icmp.out-dest-unreach');
    return status === 'sent';
  }

  /** A packet arrives from the wire (or from ourselves). */
  receiveIp(raw: Uint8Array): void {
    const parsed = parseIpv4(raw);
    if (!parsed.ok) {
      this.stats.increment('ip.in-hdr-errors');
      return;
    }
    const ip = parsed.value;
    const now = this.now();
    const broadcast = this.isBroadcastAddress(ip.dst) || isIpv4Multicast(ip.dst);
    if (ip.protocol === 17) {
      this.udp.input(now, { ip, raw, iface: NO_IFACE, verifyChecksum: true, broadcast }, this);
    } else if (ip.protocol === 1) {
      const icmp = parseIcmpv4(ip.payload);
      if (!icmp.ok || !('quoted' in icmp.value)) return;
      const q = parseIcmpQuote(icmp.value.quoted);
      const meaning = icmpErrorMeaning(icmp.value.type, icmp.value.code);
      if (!q.ok || meaning === undefined) return;
      this.stats.increment('icmp.in-errors-delivered');
      const report: IcmpErrorReport = {
        type: icmp.value.type,
        code: icmp.value.code,
        from: ip.src,
        local: false,
        quote: q.value,
        errno: meaning.errno,
        hard: meaning.hard,
      };
      if (q.value.protocol === 17) this.udp.icmpError(now, report);
    }
  }
}
