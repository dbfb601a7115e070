/**
 * The output half of the IPv4 layer (IpLayer, ip-layer.ts): route and
 * source choice, the per-connection route cache (dst-cache.ts), the IPv4
 * header, ARP resolution or queueing, fragmentation and the link send. Its
 * own module so that input and output each read on their own; IpLayer owns
 * one and hands it the frames and requests it must send.
 */
import { fragmentIpv4 } from '../iface/fragmentation.js';
import type { Interface } from '../iface/interface.js';
import { multicastMac } from '../iface/interface.js';
import type { PathMtuCache } from '../iface/path-mtu.js';
import { routeGeneration } from '../iface/route-generation.js';
import type { RouteTable } from '../iface/route-table.js';
import type { CounterCell, Counters } from '../stats/counters.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { IPV4_BROADCAST, MAC_BROADCAST, MAC_ZERO, isIpv4Loopback, isIpv4Multicast, writeMac } from '../wire/address.js';
import { ArpOperation, emitArp, ARP_PACKET_LEN } from '../wire/arp.js';
import { ETHERNET_HEADER_LEN, EtherType, emitEthernetHeader } from '../wire/ethernet.js';
import type { Ipv4Header } from '../wire/ipv4.js';
import { IPV4_DEFAULT_TTL, IPV4_HEADER_LEN, IPV4_MAX_PACKET_LEN, emitIpv4HeaderAt, emitIpv4PlainHeaderAt } from '../wire/ipv4.js';
import { DstEntry, NO_EXPIRY, NO_LINK_HEADER } from './dst-cache.js';
import { FrameSlab } from './frame-slab.js';
import type { DstCacheSlot, IpFill, IpRoute, IpSendRequest, IpSendStatus } from './transport.js';

const NO_OPTIONS = new Uint8Array(0);
/** Most shared route cache entries kept (see #dsts); past that the table starts afresh. */
const DST_TABLE_MAX = 4096;

type MutableRoute = { -readonly [K in keyof IpRoute]: IpRoute[K] };

/** What the output path needs of the stack (IpLayerConfig's part). */
export interface IpOutputConfig {
  readonly stats: Counters;
  readonly interfaces: readonly Interface[];
  readonly loopback: Interface;
  readonly routes: RouteTable<Interface>;
  readonly pathMtu: PathMtuCache;
  /** The stack's clock reading, for route() which has no `now` parameter (path MTU expiry). */
  readonly now: () => Instant;
  readonly checksums: 'always' | 'auto';
  readonly defaultTtl?: number;
  /** First IP identification value (random, from the stack's Rng). */
  readonly initialId: number;
}

export class IpOutput {
  readonly #c: IpOutputConfig;
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
  /** Counted for every packet, as a cell (no name lookup per packet). */
  readonly #outRequests: CounterCell;
  /** The one-frame list transmit() gets for an unfragmented packet, reused (see send). */
  readonly #one: Uint8Array[] = [];
  readonly #scratchRoute: MutableRoute;
  #sendDepth = 0;
  /** The latest cached route per destination, shared by the connections that ask alike (dst-cache.ts). */
  readonly #dsts = new Map<Ipv4Address, DstEntry>();

  constructor(config: IpOutputConfig) {
    this.#c = config;
    this.#stats = config.stats;
    this.#id = config.initialId & 0xffff;
    this.#outRequests = config.stats.cell('ip.out-requests');
    this.#scratchRoute = { iface: config.loopback, src: 0, dst: 0, nextHop: 0, mtu: 0, checksum: true };
  }

  /**
   * A frame this layer sent, handed back by its link once nobody references
   * it (Link.setRecycler); its buffer may serve a later frame.
   */
  get recycler(): (frame: Uint8Array) => void {
    return this.#slab.recycle;
  }


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
    if (probe !== undefined) this.arpRequest(r.iface, nextHop, probe);
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
    const slot = req.dstCache;
    if (slot !== undefined) {
      // Linux ip_queue_xmit with a valid sk_dst_cache: no route, source, path
      // MTU or neighbour lookup while nothing they depend on changed. Checked
      // first, outside the scratch record's bookkeeping below, which only the
      // full path uses (issue 9: a connection's every segment comes here).
      const e = slot.dstCache;
      if (
        e !== undefined &&
        e.answers(routeGeneration(), req.dst, req.src, req.iface) &&
        req.options === undefined &&
        IPV4_HEADER_LEN + payloadLength <= e.mtu &&
        (e.mtuExpiresAt === NO_EXPIRY || this.#c.now() < e.mtuExpiresAt)
      ) {
        return this.#sendCached(now, req, payloadLength, fill, e);
      }
    }
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
    // send() took the cached route when it could (see there).
    const slot = req.dstCache;
    const generation = routeGeneration();
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
      // A one-frame list reused for every packet: transmit() copies it before
      // anything can keep it (an ARP queue) or re-enter send (link.send).
      const one = this.#one;
      one[0] = buf;
      // Only a plain datagram's route is cached (no options: what the cached path sends).
      const learn = req.options === undefined ? slot : undefined;
      const status = this.transmit(now, route.iface, route.nextHop, req.dst, one, learn, req, route, generation);
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
    return this.transmit(now, route.iface, route.nextHop, req.dst, frames);
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
    const buf = this.#slab.alloc(headroom + IPV4_HEADER_LEN + payloadLength, e.recyclable);
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
      const status = this.transmit(now, iface, e.nextHop, req.dst, one);
      one.pop();
      return status;
    }
    if (e.linkDst !== NO_LINK_HEADER) e.writeEthernetHeader(buf);
    this.linkSend(iface, buf);
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
  transmit(
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
      if (frames.length === 1) this.linkSend(iface, frames[0]!);
      else for (const f of frames) this.linkSend(iface, f);
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
        this.sendFrames(iface, known, frames);
        return 'sent';
      }
      const res = cache.resolve(now, nextHop, { frames: frames.slice() });
      if (res.kind === 'dropped') {
        this.#stats.increment('arp.queue-dropped');
        this.#stats.increment('ip.out-discards');
        return 'dropped';
      }
      if (res.kind === 'queued') {
        if (res.sendRequest) this.arpRequest(iface, nextHop);
        return 'queued';
      }
      mac = res.mac;
    }
    this.sendFrames(iface, mac, frames);
    return 'sent';
  }

  sendFrames(iface: Interface, dstMac: number, frames: readonly Uint8Array[]): void {
    const src = iface.mac ?? MAC_ZERO;
    for (let k = 0; k < frames.length; k++) {
      const f = frames[k]!;
      // The 14-byte header in place (IEEE 802.3 3.1.1), without a header object per frame.
      if (f.length < ETHERNET_HEADER_LEN) throw new RangeError(`IpLayer: frame of ${f.length} bytes has no room for an Ethernet header`);
      writeMac(f, 0, dstMac);
      writeMac(f, 6, src);
      f[12] = EtherType.Ipv4 >>> 8;
      f[13] = EtherType.Ipv4 & 0xff;
      this.linkSend(iface, f);
    }
  }

  arpRequest(iface: Interface, target: Ipv4Address, unicastTo?: number): void {
    const mac = iface.mac;
    if (mac === undefined) return;
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_PACKET_LEN);
    emitEthernetHeader({ dst: unicastTo ?? MAC_BROADCAST, src: mac, ethertype: EtherType.Arp }, frame);
    emitArp(
      { operation: ArpOperation.Request, senderMac: mac, senderIp: iface.sourceFor(target) ?? 0, targetMac: MAC_ZERO, targetIp: target },
      frame.subarray(ETHERNET_HEADER_LEN),
    );
    this.#stats.increment('arp.out-requests');
    this.linkSend(iface, frame);
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
    this.linkSend(iface, frame);
  }

  linkSend(iface: Interface, frame: Uint8Array): void {
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
}
