/**
 * The IPv4 layer of a Stack: Ethernet and ARP input, IPv4 input (validation,
 * address filtering, reassembly, demultiplexing), ICMP (echo, errors in and
 * out), output (route, source address, ARP queueing, fragmentation: its
 * own module, ip-output.ts, which this layer owns) and optional
 * forwarding. It holds no timer: the Stack calls `poll` and asks `pollAt`,
 * and passes `now` everywhere. ICMP's own logic (echo, errors in
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
import { routeGeneration } from '../iface/route-generation.js';
import type { Reassembler } from '../iface/reassembly.js';
import type { CounterCell, Counters } from '../stats/counters.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { IPV4_BROADCAST, isIpv4Loopback, isIpv4Multicast, isMacMulticast } from '../wire/address.js';
import { ArpOperation, emitArp, parseArp, ARP_PACKET_LEN } from '../wire/arp.js';
import { ETHERNET_HEADER_LEN, EtherType, emitEthernetHeader } from '../wire/ethernet.js';
import { Icmpv4TimeExceededCode, Icmpv4Type, Icmpv4UnreachableCode } from '../wire/icmpv4.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import { IpProtocol, Ipv4ReprScratch, parseIpv4Into } from '../wire/ipv4.js';
import { LinkType } from '../link/link.js';
import type { IpFill, IpPacketIn, IpRoute, IpSendRequest, IpSendStatus, IpSender, TransportProtocol } from './transport.js';

import { IpOutput } from './ip-output.js';
import type { IpOutputConfig } from './ip-output.js';
import { PacketIn, datagramOf, plainIpv4Repr } from './packet-in.js';
import { IcmpHandler } from './icmp-handler.js';
import type { EchoReplyHandler } from './icmp-handler.js';

export interface IpLayerConfig extends IpOutputConfig {
  readonly protocols: ReadonlyMap<number, TransportProtocol>;
  readonly reassembler: Reassembler;
  readonly icmpLimiter: IcmpRateLimiter;
  readonly forwarding: boolean;
  readonly onEchoReply: EchoReplyHandler;
  /** ICMP errors quoting ICMP we sent (echo requests of ping sockets). */
  readonly onIcmpError?: (now: Instant, report: IcmpErrorReport) => void;
}

export class IpLayer implements IpSender {
  readonly #c: IpLayerConfig;
  readonly #stats: Counters;
  /** Route, header, ARP and link send (ip-output.ts). */
  readonly #out: IpOutput;
  /** Counters bumped for every packet, as cells (no name lookup per packet). */
  readonly #inReceives: CounterCell;
  readonly #inDelivers: CounterCell;
  readonly #icmp: IcmpHandler;

  constructor(config: IpLayerConfig) {
    this.#c = config;
    this.#stats = config.stats;
    this.#out = new IpOutput(config);
    this.#inReceives = config.stats.cell('ip.in-receives');
    this.#inDelivers = config.stats.cell('ip.in-delivers');
    this.#icmp = new IcmpHandler(config, this);
    this.#rxPacket = new PacketIn(config.loopback);
  }

  /**
   * A frame this layer sent, handed back by its link once nobody references
   * it (Link.setRecycler); its buffer may serve a later frame.
   */
  get recycler(): (frame: Uint8Array) => void {
    return this.#out.recycler;
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
      for (const p of released) this.#out.sendFrames(iface, arp.senderMac, p.frames);
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
      this.#out.linkSend(iface, frame);
    }
  }

  /** The IPv4 packet at frame[at..]. */
  #ipInput(now: Instant, iface: Interface, frame: Uint8Array, at: number, linkGroup: boolean): void {
    this.#inReceives.n++;
    // One parse record and one packet record for every packet (issue 9); a
    // nested input, should there ever be one, gets its own.
    const nested = this.#rxDepth !== 0;
    const ip = nested ? new Ipv4ReprScratch() : this.#rxIp;
    // Read once per packet: three getters deep (Interface, link, switch), and
    // both the IP header check and the transport's checksum need it (issue 9).
    const verify = !iface.trusted;
    const err = parseIpv4Into(frame, at, verify, ip);
    if (err !== undefined) {
      this.#stats.increment('ip.in-hdr-errors');
      return this.#drop('ip', err);
    }
    const packet = nested ? new PacketIn(iface) : this.#rxPacket;
    this.#rxDepth++;
    try {
      this.#ipInputParsed(now, iface, ip, frame, linkGroup, packet, verify);
    } finally {
      this.#rxDepth--;
      ip.release();
      packet.release();
    }
  }

  readonly #rxIp = new Ipv4ReprScratch();
  readonly #rxPacket: PacketIn;
  #rxDepth = 0;

  #ipInputParsed(
    now: Instant,
    iface: Interface,
    ip: Ipv4ReprScratch,
    frame: Uint8Array,
    linkGroup: boolean,
    packet: PacketIn,
    verify: boolean,
  ): void {
    // The flow of the last packet accepted as plain unicast for us, on the
    // same interface, in the same route generation (addresses, interfaces and
    // routes bump it): its source and destination checks below stand, so a
    // connection's packets skip them (issue 9; Linux ip_rcv_finish likewise
    // reuses the dst that early demux found in the socket, sk_rx_dst, rather
    // than route each packet). Fragments still go to reassembly below.
    const generation = routeGeneration();
    if (ip.src === this.#flowSrc && ip.dst === this.#flowDst && iface === this.#flowIface && generation === this.#flowGeneration) {
      if (ip.moreFragments || ip.fragmentOffset !== 0) {
        this.#reassemble(now, iface, ip, frame, packet, false, verify);
        return;
      }
      packet.set(ip, frame, ip.at, ip.totalLength, frame, ip.payloadStart, ip.at + ip.totalLength, iface, false, verify);
      this.#deliver(now, packet);
      return;
    }
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
    if (local && !broadcast && !multicast) {
      this.#flowSrc = ip.src;
      this.#flowDst = ip.dst;
      this.#flowIface = iface;
      this.#flowGeneration = generation;
    }
    if (ip.moreFragments || ip.fragmentOffset !== 0) {
      this.#reassemble(now, iface, ip, frame, packet, broadcast || multicast, verify);
      return;
    }
    packet.set(ip, frame, ip.at, ip.totalLength, frame, ip.payloadStart, ip.at + ip.totalLength, iface, broadcast || multicast, verify);
    this.#deliver(now, packet);
  }

  /** See #ipInputParsed: the flow last accepted (-1: none). */
  #flowSrc = -1;
  #flowDst = -1;
  #flowIface: Interface | undefined;
  #flowGeneration = -1;

  /** A fragment for us: to the reassembler, and the whole datagram up once complete. */
  #reassemble(now: Instant, iface: Interface, ip: Ipv4ReprScratch, frame: Uint8Array, packet: PacketIn, group: boolean, verify: boolean): void {
    const st = this.#stats;
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
        packet.set(res.datagram, res.raw, 0, res.raw.length, payload, 0, payload.length, iface, group, verify);
        return this.#deliver(now, packet);
      }
    }
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
    return this.#out.isLocalAddress(a);
  }

  neighbourAdvice(now: Instant, dst: Ipv4Address, advice: 'confirm' | 'suspect'): void {
    this.#out.neighbourAdvice(now, dst, advice);
  }

  route(dst: Ipv4Address, src?: Ipv4Address, iface?: Interface): IpRoute | undefined {
    return this.#out.route(dst, src, iface);
  }

  send(now: Instant, req: IpSendRequest, payloadLength: number, fill: IpFill): IpSendStatus {
    return this.#out.send(now, req, payloadLength, fill);
  }

  /** RFC 5227 3 announcement (gratuitous ARP): tells the LAN our MAC for `address`. */
  announce(iface: Interface, address: Ipv4Address): void {
    this.#out.announce(iface, address);
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
    this.#out.transmit(now, out, r.gateway ?? ip.dst, ip.dst, frames);
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
      for (const ip of res.requests) this.#out.arpRequest(iface, ip);
      // NUD PROBE: re-verify a cached mapping by unicast to the MAC we hold.
      for (const p of res.probes) this.#out.arpRequest(iface, p.ip, p.mac);
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
