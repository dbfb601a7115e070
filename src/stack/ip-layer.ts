/**
 * The IPv4 layer of a Stack: Ethernet and ARP input, IPv4 input (validation,
 * address filtering, reassembly, demultiplexing), ICMP (echo, errors in and
 * out), output (route, source address, ARP queueing, fragmentation) and
 * optional forwarding. It holds no timer: the Stack calls `poll` and asks
 * `pollAt`, and passes `now` everywhere. ICMP's own logic (echo, errors in
 * and out) is icmp-handler.ts, which this layer owns and feeds.
 *
 * Every packet dropped here increments a counter in `stats`, named after the
 * layer and the reason (`ip.drop.bad-checksum`, `arp.drop.truncated`, ...),
 * next to SNMP-like totals (`ip.in-receives`, `ip.in-hdr-errors`, ...).
 */
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import type { IcmpRateLimiter } from '../icmp/rate-limit.js';
import { fragmentIpv4 } from '../iface/fragmentation.js';
import type { Interface } from '../iface/interface.js';
import { multicastMac } from '../iface/interface.js';
import type { PathMtuCache } from '../iface/path-mtu.js';
import { routeGeneration } from '../iface/route-generation.js';
import type { Reassembler } from '../iface/reassembly.js';
import type { RouteTable } from '../iface/route-table.js';
import type { CounterCell, Counters } from '../stats/counters.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import {
  IPV4_BROADCAST,
  MAC_BROADCAST,
  MAC_ZERO,
  isIpv4Loopback,
  isIpv4Multicast,
  isMacMulticast,
  writeMac,
} from '../wire/address.js';
import { ArpOperation, emitArp, parseArp, ARP_PACKET_LEN } from '../wire/arp.js';
import { ETHERNET_HEADER_LEN, EtherType, emitEthernetHeader } from '../wire/ethernet.js';
import { Icmpv4TimeExceededCode, Icmpv4Type, Icmpv4UnreachableCode } from '../wire/icmpv4.js';
import type { Ipv4Header, Ipv4Repr } from '../wire/ipv4.js';
import {
  IPV4_DEFAULT_TTL,
  IPV4_HEADER_LEN,
  IPV4_MAX_PACKET_LEN,
  IpProtocol,
  Ipv4ReprScratch,
  emitIpv4HeaderAt,
  emitIpv4PlainHeaderAt,
  parseIpv4Into,
} from '../wire/ipv4.js';
import { LinkType } from '../link/link.js';
import type {
  DstCacheSlot,
  IpFill,
  IpPacketIn,
  IpRoute,
  IpSendRequest,
  IpSendStatus,
  IpSender,
  TransportProtocol,
} from './transport.js';

import { DstEntry, NO_EXPIRY, NO_LINK_HEADER } from './dst-cache.js';
import { FrameSlab } from './frame-slab.js';
import { PacketIn, datagramOf, plainIpv4Repr } from './packet-in.js';
import { IcmpHandler } from './icmp-handler.js';
import type { EchoReplyHandler } from './icmp-handler.js';

const NO_OPTIONS = new Uint8Array(0);
/** Most shared route cache entries kept (see #dsts); past that the table starts afresh. */
const DST_TABLE_MAX = 4096;


type MutableRoute = { -readonly [K in keyof IpRoute]: IpRoute[K] };

export interface IpLayerConfig {
  readonly stats: Counters;
  readonly interfaces: readonly Interface[];
  readonly loopback: Interface;
  readonly routes: RouteTable<Interface>;
  readonly protocols: ReadonlyMap<number, TransportProtocol>;
  readonly reassembler: Reassembler;
  readonly pathMtu: PathMtuCache;
  readonly icmpLimiter: IcmpRateLimiter;
  /** The stack's clock reading, for route() which has no `now` parameter (path MTU expiry). */
  readonly now: () => Instant;
  readonly checksums: 'always' | 'auto';
  readonly forwarding: boolean;
  readonly defaultTtl?: number;
  /** First IP identification value (random, from the stack's Rng). */
  readonly initialId: number;
  readonly onEchoReply: EchoReplyHandler;
  /** ICMP errors quoting ICMP we sent (echo requests of ping sockets). */
  readonly onIcmpError?: (now: Instant, report: IcmpErrorReport) => void;
}

export class IpLayer implements IpSender {
  readonly #c: IpLayerConfig;
  readonly #stats: Counters;
  readonly #slab = new FrameSlab();
  /** The header send() emits unfragmented packets from (see there). */
  readonly #header: { -readonly [K in keyof Ipv4Header]: Ipv4Header[K] } = {
    src: 0,
    dst: 0,
    protocol: 0,
    ttl: IPV4_DEFAULT_TTL,
    dscp: 0,
    ecn: 0,
    identification: 0,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    options: NO_OPTIONS,
  };
  #id: number;
  /** Counters bumped for every packet, as cells (no name lookup per packet). */
  readonly #inReceives: CounterCell;
  readonly #inDelivers: CounterCell;
  readonly #outRequests: CounterCell;
  /** The one-frame list #transmit gets for an unfragmented packet, reused (see send). */
  readonly #one: Uint8Array[] = [];
  readonly #scratchRoute: MutableRoute;
  #sendDepth = 0;
  readonly #icmp: IcmpHandler;
  /** The latest cached route per destination, shared by the connections that ask alike (dst-cache.ts). */
  readonly #dsts = new Map<Ipv4Address, DstEntry>();

  constructor(config: IpLayerConfig) {
    this.#c = config;
    this.#stats = config.stats;
    this.#id = config.initialId & 0xffff;
    this.#inReceives = config.stats.cell('ip.in-receives');
    this.#inDelivers = config.stats.cell('ip.in-delivers');
    this.#outRequests = config.stats.cell('ip.out-requests');
    this.#scratchRoute = { iface: config.loopback, src: 0, dst: 0, nextHop: 0, mtu: 0, checksum: true };
    this.#icmp = new IcmpHandler(config, this);
    this.#rxPacket = new PacketIn(config.loopback);
  }

  /**
   * A frame this layer sent, handed back by its link once nobody references
   * it (Link.setRecycler); its buffer may serve a later frame.
   */
  recycle(frame: Uint8Array): void {
    this.#slab.recycle(frame);
  }

  // ---------------------------------------------------------------- input

  /** One frame received on `iface`. Never throws on bad input: drops are counted. */
  receive(now: Instant, iface: Interface, frame: Uint8Array): void {
    iface.rxPackets.n++;
    if (frame.length > 0) iface.rxBytes.n += frame.length;
    else iface.stats.increment('rx-bytes', 0);
    if (iface.link.linkType === LinkType.RawIp) {
      this.#ipInput(now, iface, frame, 0, false);
      return;
    }
    // parseEthernet's checks, read in place: no result objects per frame.
    if (frame.length < ETHERNET_HEADER_LEN) return this.#drop('link', 'truncated');
    const ethertype = (frame[12]! << 8) | frame[13]!;
    // A NIC filters by destination MAC; a flooding switch still shows us frames for others.
    // The group bit is the first octet's lowest (isMacMulticast), read without the 48-bit address.
    const groupAddressed = (frame[0]! & 1) !== 0;
    if (!groupAddressed && !iface.isOwnMac(frame, 0) && !iface.isLoopback) return this.#drop('link', 'not-for-us');
    // IPv4 is parsed in place, after the link header: no view of the payload per frame (issue 9).
    if (ethertype === EtherType.Ipv4) this.#ipInput(now, iface, frame, ETHERNET_HEADER_LEN, groupAddressed);
    else if (ethertype === EtherType.Arp) this.#arpInput(now, iface, frame.subarray(ETHERNET_HEADER_LEN));
    else this.#drop('link', 'unknown-ethertype');
  }

  #arpInput(now: Instant, iface: Interface, bytes: Uint8Array): void {
    const cache = iface.neighbours;
    const mac = iface.mac;
    if (cache === undefined || mac === undefined) return this.#drop('arp', 'not-ethernet');
    const r = parseArp(bytes);
    if (!r.ok) return this.#drop('arp', r.reason);
    const arp = r.value;
    this.#stats.increment(arp.operation === ArpOperation.Request ? 'arp.in-requests' : 'arp.in-replies');
    // Nobody may claim a group address; learning it would blackhole traffic.
    if (isMacMulticast(arp.senderMac) || isIpv4Multicast(arp.senderIp) || arp.senderIp === IPV4_BROADCAST) {
      return this.#drop('arp', 'bad-sender');
    }
    if (iface.hasAddress(arp.senderIp)) {
      // Someone else uses our address (RFC 5227 2.4 conflict); never learn it.
      return this.#drop('arp', 'address-conflict');
    }
    const forUs = iface.hasAddress(arp.targetIp);
    // RFC 826 "Packet Reception": update the sender if known, add it when we
    // are the target. A probe (sender 0.0.0.0, RFC 5227) teaches nothing.
    if (arp.senderIp !== 0) {
      // Only a reply to us proves our frames reach the sender (Linux arp_process: REACHABLE, else STALE).
      const released = cache.update(now, arp.senderIp, arp.senderMac, forUs, arp.operation === ArpOperation.Reply && forUs);
      for (const p of released) this.#sendFrames(iface, arp.senderMac, p.frames);
    }
    if (arp.operation === ArpOperation.Request && forUs) {
      const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_PACKET_LEN);
      emitEthernetHeader({ dst: arp.senderMac, src: mac, ethertype: EtherType.Arp }, frame);
      emitArp(
        {
          operation: ArpOperation.Reply,
          senderMac: mac,
          senderIp: arp.targetIp,
          targetMac: arp.senderMac,
          targetIp: arp.senderIp,
        },
        frame.subarray(ETHERNET_HEADER_LEN),
      );
      this.#stats.increment('arp.out-replies');
      this.#linkSend(iface, frame);
    }
  }

  /** The IPv4 packet at frame[at..]. */
  #ipInput(now: Instant, iface: Interface, frame: Uint8Array, at: number, linkGroup: boolean): void {
    this.#inReceives.n++;
    // One parse record and one packet record for every packet (issue 9); a
    // nested input, should there ever be one, gets its own.
    const nested = this.#rxDepth !== 0;
    const ip = nested ? new Ipv4ReprScratch() : this.#rxIp;
    const err = parseIpv4Into(frame, at, !iface.trusted, ip);
    if (err !== undefined) {
      this.#stats.increment('ip.in-hdr-errors');
      return this.#drop('ip', err);
    }
    const packet = nested ? new PacketIn(iface) : this.#rxPacket;
    this.#rxDepth++;
    try {
      this.#ipInputParsed(now, iface, ip, frame, linkGroup, packet);
    } finally {
      this.#rxDepth--;
      ip.release();
      packet.release();
    }
  }

  readonly #rxIp = new Ipv4ReprScratch();
  readonly #rxPacket: PacketIn;
  #rxDepth = 0;

  #ipInputParsed(now: Instant, iface: Interface, ip: Ipv4ReprScratch, frame: Uint8Array, linkGroup: boolean, packet: PacketIn): void {
    const st = this.#stats;
    // RFC 1122 3.2.1.3: a source address must not be broadcast or multicast;
    // RFC 1122 3.2.1.3 (g) and RFC 1812 5.3.7: 127/8 never appears on a wire.
    if (isIpv4Multicast(ip.src) || ip.src === IPV4_BROADCAST || iface.isBroadcast(ip.src)) {
      st.increment('ip.in-addr-errors');
      return this.#drop('ip', 'martian-source');
    }
    if (!iface.isLoopback && (isIpv4Loopback(ip.src) || isIpv4Loopback(ip.dst))) {
      st.increment('ip.in-addr-errors');
      return this.#drop('ip', 'martian-loopback');
    }
    const local = this.#isLocalDestination(ip.dst);
    const broadcast = iface.isBroadcast(ip.dst);
    const multicast = isIpv4Multicast(ip.dst);
    if (!local && !broadcast) {
      if (multicast) {
        if (!iface.isMulticastMember(ip.dst)) return this.#drop('ip', 'not-subscribed');
      } else if (this.#c.forwarding && !linkGroup) {
        return this.#forward(now, iface, ip, datagramOf(frame, ip));
      } else {
        st.increment('ip.in-addr-errors');
        return this.#drop('ip', 'not-for-us');
      }
    }
    if (ip.moreFragments || ip.fragmentOffset !== 0) {
      st.increment('ip.reasm-reqds');
      // The reassembler copies what it keeps (payload, first fragment's header);
      // it gets a plain record, so that no copy of it holds the frame (bytes).
      const res = this.#c.reassembler.input(now, plainIpv4Repr(ip), datagramOf(frame, ip));
      switch (res.kind) {
        case 'pending':
          return;
        case 'duplicate':
          st.increment('ip.reasm-duplicates');
          return;
        case 'dropped':
          st.increment('ip.reasm-fails');
          return this.#drop('ip', `reasm-${res.reason}`);
        case 'complete': {
          st.increment('ip.reasm-oks');
          const payload = res.datagram.payload;
          packet.set(res.datagram, res.raw, 0, res.raw.length, payload, 0, payload.length, iface, broadcast || multicast);
          return this.#deliver(now, packet);
        }
      }
    }
    packet.set(ip, frame, ip.at, ip.totalLength, frame, ip.payloadStart, ip.at + ip.totalLength, iface, broadcast || multicast);
    this.#deliver(now, packet);
  }

  #deliver(now: Instant, packet: PacketIn): void {
    const ip = packet.ip;
    if (ip.protocol === IpProtocol.Icmp) {
      this.#inDelivers.n++;
      return this.#icmp.input(now, packet.iface, ip, packet.raw, packet.broadcast);
    }
    const proto = this.#c.protocols.get(ip.protocol);
    if (proto === undefined) {
      this.#stats.increment('ip.in-unknown-protos');
      // RFC 1122 3.2.2.1: protocol unreachable, from the host itself.
      this.sendIcmpError(now, packet, Icmpv4Type.DestinationUnreachable, Icmpv4UnreachableCode.ProtocolUnreachable);
      return;
    }
    this.#inDelivers.n++;
    proto.input(now, packet, this);
  }

  /**
   * isLocalAddress for a received packet's destination: the last local
   * destination stands while the route generation does (addresses and
   * interfaces bump it), so a flow's packets skip the walk over every
   * interface's addresses (issue 9).
   */
  #isLocalDestination(a: Ipv4Address): boolean {
    const generation = routeGeneration();
    if (a === this.#localDst && generation === this.#localGeneration) return true;
    if (!this.isLocalAddress(a)) return false;
    this.#localDst = a;
    this.#localGeneration = generation;
    return true;
  }

  #localDst = -1;
  #localGeneration = -1;

  // --------------------------------------------------------------- output

  /** Whether `a` is one of this host's addresses (any interface: the weak host model, like Linux) or 127/8. */
  isLocalAddress(a: Ipv4Address): boolean {
    if (isIpv4Loopback(a)) return true;
    // Index loops on the per-packet paths: for-of allocated an iterator per packet (issue 9).
    const ifaces = this.#c.interfaces;
    for (let k = 0; k < ifaces.length; k++) if (ifaces[k]!.hasAddress(a)) return true;
    return false;
  }

  neighbourAdvice(now: Instant, dst: Ipv4Address, advice: 'confirm' | 'suspect'): void {
    const r = this.#c.routes.lookup(dst);
    const cache = r?.iface.neighbours;
    if (r === undefined || cache === undefined || r.iface.isLoopback) return;
    const nextHop = r.gateway ?? dst;
    if (advice === 'confirm') {
      cache.confirm(now, nextHop);
      return;
    }
    const probe = cache.suspect(now, nextHop);
    if (probe !== undefined) this.#arpRequest(r.iface, nextHop, probe);
  }

  route(dst: Ipv4Address, src?: Ipv4Address, iface?: Interface): IpRoute | undefined {
    return this.#route(dst, src, iface, undefined);
  }

  /** route(), written into `into` when given (send's scratch record) instead of a new object. */
  #route(dst: Ipv4Address, src: Ipv4Address | undefined, iface: Interface | undefined, into: MutableRoute | undefined): IpRoute | undefined {
    const c = this.#c;
    let out: Interface;
    let nextHop = dst;
    let source = src;
    if (this.isLocalAddress(dst) && (iface === undefined || iface.isLoopback)) {
      // Linux's local table: traffic to ourselves goes through lo, from dst itself.
      out = c.loopback;
      source ??= dst;
    } else if (dst === IPV4_BROADCAST || isIpv4Multicast(dst)) {
      const chosen = iface ?? c.routes.lookup(dst)?.iface ?? c.interfaces.find((i) => !i.isLoopback && i.primaryAddress !== undefined);
      if (chosen === undefined) return undefined;
      out = chosen;
      source ??= out.primaryAddress;
    } else {
      const r = iface === undefined ? c.routes.lookup(dst) : this.#lookupVia(dst, iface);
      if (r === undefined) return undefined;
      out = r.iface;
      nextHop = r.gateway ?? dst;
      source ??= r.source ?? out.sourceFor(nextHop);
    }
    if (source === undefined) return undefined;
    // No clock read per packet while no path MTU is learnt (the usual case).
    const mtu = c.pathMtu.size === 0 ? out.mtu : c.pathMtu.get(c.now(), dst, out.mtu);
    const checksum = c.checksums === 'always' || !out.trusted;
    if (into === undefined) return { iface: out, src: source, dst, nextHop, mtu, checksum };
    into.iface = out;
    into.src = source;
    into.dst = dst;
    into.nextHop = nextHop;
    into.mtu = mtu;
    into.checksum = checksum;
    return into;
  }

  #lookupVia(dst: Ipv4Address, iface: Interface): { iface: Interface; gateway?: Ipv4Address; source?: Ipv4Address } | undefined {
    for (const r of this.#c.routes.routes()) {
      if (r.iface === iface && ((dst ^ r.prefix) & (r.prefixLength === 0 ? 0 : (0xffffffff << (32 - r.prefixLength)) >>> 0)) === 0) return r;
    }
    // SO_BINDTODEVICE without a route: treat dst as on-link, as Linux does for a bound device.
    return { iface };
  }

  send(now: Instant, req: IpSendRequest, payloadLength: number, fill: IpFill): IpSendStatus {
    // One route record for every send (issue 9: no object per packet). It is
    // only read during the call (fill uses it synchronously; transports keep
    // nothing of it); a send nested inside a fill gets its own.
    const into = this.#sendDepth === 0 ? this.#scratchRoute : undefined;
    this.#sendDepth++;
    try {
      return this.#send(now, req, payloadLength, fill, into);
    } finally {
      this.#sendDepth--;
    }
  }

  #send(now: Instant, req: IpSendRequest, payloadLength: number, fill: IpFill, into: MutableRoute | undefined): IpSendStatus {
    const slot = req.dstCache;
    const generation = routeGeneration();
    if (slot !== undefined) {
      // Linux ip_queue_xmit with a valid sk_dst_cache: no route, source, path
      // MTU or neighbour lookup while nothing they depend on changed.
      const e = slot.dstCache;
      if (
        e !== undefined &&
        e.answers(generation, req.dst, req.src, req.iface) &&
        req.options === undefined &&
        IPV4_HEADER_LEN + payloadLength <= e.mtu &&
        (e.mtuExpiresAt === NO_EXPIRY || this.#c.now() < e.mtuExpiresAt)
      ) {
        return this.#sendCached(now, req, payloadLength, fill, e);
      }
    }
    const st = this.#stats;
    if (req.src !== undefined && req.src !== 0 && !this.isLocalAddress(req.src)) return 'EADDRNOTAVAIL';
    const route = this.#route(req.dst, req.src === 0 ? undefined : req.src, req.iface, into);
    if (route === undefined) {
      st.increment('ip.out-no-routes');
      return 'ENETUNREACH';
    }
    const options = req.options ?? NO_OPTIONS;
    const headerLen = IPV4_HEADER_LEN + options.length;
    const total = headerLen + payloadLength;
    if (total > IPV4_MAX_PACKET_LEN) return 'EMSGSIZE';
    this.#outRequests.n++;
    const identification = this.#nextId();
    const dontFragment = req.dontFragment ?? true;
    const headroom = route.iface.linkHeaderLen;
    if (total <= route.mtu) {
      const buf = this.#slab.alloc(headroom + total, route.iface.link.setRecycler !== undefined);
      fill(this.#slab.payloadView(buf, headroom + headerLen), route);
      // One header record reused for every unfragmented packet (issue 9: no
      // object per packet); filled after fill(), which could in principle send.
      const h = this.#header;
      h.src = route.src;
      h.dst = req.dst;
      h.protocol = req.protocol;
      h.ttl = req.ttl ?? this.#c.defaultTtl ?? IPV4_DEFAULT_TTL;
      h.dscp = req.dscp ?? 0;
      h.ecn = req.ecn ?? 0;
      h.identification = identification;
      h.dontFragment = dontFragment;
      h.options = options;
      // The IP header checksum is 20 bytes of work: always computed, so
      // captures of trusted links still show valid IP headers.
      emitIpv4HeaderAt(h, buf, headroom, payloadLength);
      h.options = NO_OPTIONS; // holds no caller's bytes between sends
      // A one-frame list reused for every packet: #transmit copies it before
      // anything can keep it (an ARP queue) or re-enter send (link.send).
      const one = this.#one;
      one[0] = buf;
      // Only a plain datagram's route is cached (no options: what the cached path sends).
      const learn = req.options === undefined ? slot : undefined;
      const status = this.#transmit(now, route.iface, route.nextHop, req.dst, one, learn, req, route, generation);
      one.pop(); // not `length = 0`, a runtime call per packet (issue 9)
      return status;
    }
    const header: Ipv4Header = {
      src: route.src,
      dst: req.dst,
      protocol: req.protocol,
      ttl: req.ttl ?? this.#c.defaultTtl ?? IPV4_DEFAULT_TTL,
      dscp: req.dscp ?? 0,
      ecn: req.ecn ?? 0,
      identification,
      dontFragment,
      moreFragments: false,
      fragmentOffset: 0,
      options,
    };
    if (header.dontFragment) {
      st.increment('ip.frag-fails');
      return 'EMSGSIZE';
    }
    const payload = new Uint8Array(payloadLength);
    fill(payload, route);
    const frames = fragmentIpv4(header, payload, route.mtu, { headroom });
    st.increment('ip.frag-oks');
    st.increment('ip.frag-creates', frames.length);
    return this.#transmit(now, route.iface, route.nextHop, req.dst, frames);
  }

  /**
   * #send of an unfragmented datagram through the route `e` cached: the
   * same packet as the full path, header for header.
   */
  #sendCached(now: Instant, req: IpSendRequest, payloadLength: number, fill: IpFill, e: DstEntry): IpSendStatus {
    this.#outRequests.n++;
    const identification = this.#nextId();
    const iface = e.iface;
    const headroom = iface.linkHeaderLen;
    const buf = this.#slab.alloc(headroom + IPV4_HEADER_LEN + payloadLength, iface.link.setRecycler !== undefined);
    e.checksum = this.#c.checksums === 'always' || !iface.trusted;
    fill(this.#slab.payloadView(buf, headroom + IPV4_HEADER_LEN), e);
    // The header emitIpv4HeaderAt would write, without its checks and byte-wise checksum (issue 9).
    emitIpv4PlainHeaderAt(
      buf,
      headroom,
      e.src,
      req.dst,
      req.protocol,
      req.ttl ?? this.#c.defaultTtl ?? IPV4_DEFAULT_TTL,
      (((req.dscp ?? 0) & 0x3f) << 2) | ((req.ecn ?? 0) & 3),
      identification,
      req.dontFragment ?? true,
      payloadLength,
    );
    if (e.generation !== routeGeneration()) {
      // fill sent something that changed the world (it never does today): resolve the MAC afresh.
      const one = this.#one;
      one[0] = buf;
      const status = this.#transmit(now, iface, e.nextHop, req.dst, one);
      one.pop();
      return status;
    }
    if (e.linkDst !== NO_LINK_HEADER) e.writeEthernetHeader(buf);
    this.#linkSend(iface, buf);
    return 'sent';
  }

  /**
   * Keeps the route and link destination a send just resolved for `slot`'s
   * later sends, when nothing changed since the send began (`generation`).
   */
  #learn(slot: DstCacheSlot, req: IpSendRequest, route: IpRoute, generation: number, linkDst: number): void {
    if (routeGeneration() !== generation) return;
    let e = this.#dsts.get(route.dst);
    if (e === undefined || !e.answers(generation, route.dst, req.src, req.iface)) {
      const c = this.#c;
      const expiresAt = c.pathMtu.size === 0 ? undefined : c.pathMtu.expiresAt(route.dst);
      e = new DstEntry(generation, req.src, req.iface, route, expiresAt ?? NO_EXPIRY, linkDst, route.iface.mac ?? MAC_ZERO);
      if (this.#dsts.size >= DST_TABLE_MAX) this.#dsts.clear();
      this.#dsts.set(route.dst, e);
    }
    slot.dstCache = e;
  }

  /**
   * Frames (headroom + IP packet each) to `nextHop` on `iface`: fills the link
   * header, resolving the MAC with ARP. With `learn`, a unicast destination
   * resolved at once is cached there for the sender (#learn).
   */
  #transmit(
    now: Instant,
    iface: Interface,
    nextHop: Ipv4Address,
    dst: Ipv4Address,
    frames: readonly Uint8Array[],
    learn?: DstCacheSlot,
    req?: IpSendRequest,
    route?: IpRoute,
    generation = 0,
  ): IpSendStatus {
    const cache = iface.neighbours;
    if (cache === undefined) {
      if (learn !== undefined) this.#learn(learn, req!, route!, generation, NO_LINK_HEADER);
      if (frames.length === 1) this.#linkSend(iface, frames[0]!);
      else for (const f of frames) this.#linkSend(iface, f);
      return 'sent';
    }
    let mac: number;
    if (iface.isLoopback) {
      mac = iface.mac ?? MAC_ZERO;
      if (learn !== undefined) this.#learn(learn, req!, route!, generation, mac);
    } else if (dst === IPV4_BROADCAST || iface.isBroadcast(dst) || iface.isBroadcast(nextHop)) mac = MAC_BROADCAST;
    else if (isIpv4Multicast(dst)) mac = multicastMac(dst);
    else {
      // The usual case, a known neighbour, without the queue entry and outcome objects of resolve().
      const known = cache.lookupForSend(now, nextHop);
      if (known !== undefined) {
        if (learn !== undefined) this.#learn(learn, req!, route!, generation, known);
        this.#sendFrames(iface, known, frames);
        return 'sent';
      }
      const res = cache.resolve(now, nextHop, { frames: frames.slice() });
      if (res.kind === 'dropped') {
        this.#stats.increment('arp.queue-dropped');
        this.#stats.increment('ip.out-discards');
        return 'dropped';
      }
      if (res.kind === 'queued') {
        if (res.sendRequest) this.#arpRequest(iface, nextHop);
        return 'queued';
      }
      mac = res.mac;
    }
    this.#sendFrames(iface, mac, frames);
    return 'sent';
  }

  #sendFrames(iface: Interface, dstMac: number, frames: readonly Uint8Array[]): void {
    const src = iface.mac ?? MAC_ZERO;
    for (let k = 0; k < frames.length; k++) {
      const f = frames[k]!;
      // The 14-byte header in place (IEEE 802.3 3.1.1), without a header object per frame.
      if (f.length < ETHERNET_HEADER_LEN) throw new RangeError(`IpLayer: frame of ${f.length} bytes has no room for an Ethernet header`);
      writeMac(f, 0, dstMac);
      writeMac(f, 6, src);
      f[12] = EtherType.Ipv4 >>> 8;
      f[13] = EtherType.Ipv4 & 0xff;
      this.#linkSend(iface, f);
    }
  }

  #arpRequest(iface: Interface, target: Ipv4Address, unicastTo?: number): void {
    const mac = iface.mac;
    if (mac === undefined) return;
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_PACKET_LEN);
    emitEthernetHeader({ dst: unicastTo ?? MAC_BROADCAST, src: mac, ethertype: EtherType.Arp }, frame);
    emitArp(
      { operation: ArpOperation.Request, senderMac: mac, senderIp: iface.sourceFor(target) ?? 0, targetMac: MAC_ZERO, targetIp: target },
      frame.subarray(ETHERNET_HEADER_LEN),
    );
    this.#stats.increment('arp.out-requests');
    this.#linkSend(iface, frame);
  }

  /** RFC 5227 3 announcement (gratuitous ARP): tells the LAN our MAC for `address`. */
  announce(iface: Interface, address: Ipv4Address): void {
    const mac = iface.mac;
    if (mac === undefined || iface.isLoopback) return;
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_PACKET_LEN);
    emitEthernetHeader({ dst: MAC_BROADCAST, src: mac, ethertype: EtherType.Arp }, frame);
    emitArp(
      { operation: ArpOperation.Request, senderMac: mac, senderIp: address, targetMac: MAC_ZERO, targetIp: address },
      frame.subarray(ETHERNET_HEADER_LEN),
    );
    this.#stats.increment('arp.out-announcements');
    this.#linkSend(iface, frame);
  }

  #linkSend(iface: Interface, frame: Uint8Array): void {
    iface.txPackets.n++;
    if (frame.length > 0) iface.txBytes.n += frame.length;
    else iface.stats.increment('tx-bytes', 0);
    iface.link.send(frame);
  }

  #nextId(): number {
    const id = this.#id;
    this.#id = (this.#id + 1) & 0xffff;
    return id;
  }

  // ----------------------------------------------------------- forwarding

  #forward(now: Instant, inIface: Interface, ip: Ipv4Repr, raw: Uint8Array): void {
    const st = this.#stats;
    const about: IpPacketIn = { ip, raw, iface: inIface, verifyChecksum: false, broadcast: false };
    // RFC 1812 5.3.1: a datagram that would leave with TTL 0 is discarded with time exceeded.
    if (ip.ttl <= 1) {
      st.increment('ip.in-hdr-errors');
      this.#drop('ip', 'ttl-exceeded');
      this.sendIcmpError(now, about, Icmpv4Type.TimeExceeded, Icmpv4TimeExceededCode.TtlExceeded);
      return;
    }
    const r = this.#c.routes.lookup(ip.dst);
    if (r === undefined || r.iface.isLoopback) {
      st.increment('ip.out-no-routes');
      this.sendIcmpError(now, about, Icmpv4Type.DestinationUnreachable, Icmpv4UnreachableCode.NetUnreachable);
      return;
    }
    const out = r.iface;
    const mtu = this.#c.pathMtu.get(now, ip.dst, out.mtu);
    if (raw.length > mtu && ip.dontFragment) {
      st.increment('ip.frag-fails');
      this.sendIcmpError(now, about, Icmpv4Type.DestinationUnreachable, Icmpv4UnreachableCode.FragmentationNeeded, mtu);
      return;
    }
    const frames = fragmentIpv4({ ...ip, ttl: ip.ttl - 1 }, ip.payload, mtu, { headroom: out.linkHeaderLen });
    if (frames.length > 1) {
      st.increment('ip.frag-oks');
      st.increment('ip.frag-creates', frames.length);
    }
    st.increment('ip.forw-datagrams');
    this.#transmit(now, out, r.gateway ?? ip.dst, ip.dst, frames);
  }

  // ---------------------------------------------------------- ICMP output

  sendIcmpError(now: Instant, about: IpPacketIn, type: number, code: number, nextHopMtu = 0): boolean {
    return this.#icmp.sendIcmpError(now, about, type, code, nextHopMtu);
  }

  /** Sends an echo request (the ping client). */
  sendEcho(now: Instant, dst: Ipv4Address, identifier: number, sequence: number, data: Uint8Array, ttl?: number): IpSendStatus {
    return this.#icmp.sendEcho(now, dst, identifier, sequence, data, ttl);
  }

  // ----------------------------------------------------------------- time

  /** ARP retries and failures, reassembly timeouts. */
  poll(now: Instant): void {
    const st = this.#stats;
    for (const iface of this.#c.interfaces) {
      const cache = iface.neighbours;
      if (cache === undefined) continue;
      const res = cache.poll(now);
      for (const ip of res.requests) this.#arpRequest(iface, ip);
      // NUD PROBE: re-verify a cached mapping by unicast to the MAC we hold.
      for (const p of res.probes) this.#arpRequest(iface, p.ip, p.mac);
      if (res.expired > 0) st.increment('arp.expired', res.expired);
      for (const f of res.failed) {
        if (f.ip !== 0) st.increment('arp.resolve-failed');
        for (const p of f.packets) {
          st.increment('ip.out-discards');
          this.#icmp.localUnreachable(now, p);
        }
      }
    }
    for (const d of this.#c.reassembler.poll(now)) {
      st.increment('ip.reasm-timeout');
      st.increment('ip.reasm-fails');
      // RFC 1122 3.3.2: time exceeded (code 1) only when fragment zero arrived.
      if (d.firstFragmentQuote !== undefined && this.isLocalAddress(d.dst)) {
        this.#icmp.emitIcmpError(now, d.src, d.dst, Icmpv4Type.TimeExceeded, Icmpv4TimeExceededCode.FragmentReassemblyTimeExceeded, 0, d.firstFragmentQuote);
      }
    }
  }

  pollAt(): Instant | undefined {
    let at = this.#c.reassembler.pollAt();
    // An index loop: for-of allocated an iterator per call, and the stack asks after every frame (issue 9).
    const ifaces = this.#c.interfaces;
    for (let k = 0; k < ifaces.length; k++) {
      const t = ifaces[k]!.neighbours?.pollAt();
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    return at;
  }

  #drop(layer: string, reason: string): void {
    this.#stats.increment(`${layer}.drop.${reason}`);
  }
}
