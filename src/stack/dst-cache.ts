/**
 * The IP layer's route cache for connections (Linux sk_dst_cache, with the
 * neighbour's cached link header, hh_cache): what a send to one destination
 * resolved (local-address checks, route lookup, source choice, path MTU,
 * the neighbour's MAC), kept while the route generation it was made in
 * stands (route-generation.ts, Linux dst_check against rt_genid). A
 * connection's segments then skip all of that (issue 9: a fifth of the IP
 * layer's cost per packet). Kept apart from the IP layer: it is a memory
 * and validity contract, not IP.
 *
 * One entry is shared by every connection with the same request (dst, src,
 * interface), as Linux shares a dst_entry: a transport keeps one reference
 * per connection (DstCacheSlot), so 100k connections to a server cost
 * 100k references, not 100k entries.
 */
import type { Interface } from '../iface/interface.js';
import type { Ipv4Address } from '../wire/address.js';
import type { IpRoute } from './ip-route.js';
import { macHighHalf, macLowHalf, writeMacHalf } from '../wire/address.js';

/** A cached route with no learnt path MTU: it never expires by itself. */
export const NO_EXPIRY = Number.POSITIVE_INFINITY;

/** No link header (a raw IP link): DstEntry.linkDst. */
export const NO_LINK_HEADER = -1;

/** A cached route; it is the IpRoute a cached send hands to `fill`. */
export class DstEntry implements IpRoute {
  /** The route generation it was resolved in. */
  readonly generation: number;
  /** The request it answers: IpSendRequest's src and iface as given (dst is `dst`). */
  readonly reqSrc: Ipv4Address | undefined;
  readonly reqIface: Interface | undefined;
  readonly iface: Interface;
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  readonly nextHop: Ipv4Address;
  readonly mtu: number;
  /** Set by each send before fill reads it: whether a link is trusted can change (a memory wire set to corrupt). */
  checksum: boolean;
  /** When a learnt path MTU in `mtu` expires (the route is stale from then on), else NO_EXPIRY. */
  readonly mtuExpiresAt: number;
  /** The destination MAC, or NO_LINK_HEADER. */
  readonly linkDst: number;
  /** Whether the interface's link gives frames back (Link.setRecycler): a property of its class, read once. */
  readonly recyclable: boolean;
  /**
   * The Ethernet header's addresses as 24-bit halves: small integers, written
   * byte by byte without a 48-bit double's division per frame (writeMac).
   */
  readonly #dstHi: number;
  readonly #dstLo: number;
  readonly #srcHi: number;
  readonly #srcLo: number;

  constructor(
    generation: number,
    reqSrc: Ipv4Address | undefined,
    reqIface: Interface | undefined,
    route: IpRoute,
    mtuExpiresAt: number,
    linkDst: number,
    linkSrc: number,
  ) {
    this.generation = generation;
    this.reqSrc = reqSrc;
    this.reqIface = reqIface;
    this.iface = route.iface;
    this.src = route.src;
    this.dst = route.dst;
    this.nextHop = route.nextHop;
    this.mtu = route.mtu;
    this.checksum = route.checksum;
    this.mtuExpiresAt = mtuExpiresAt;
    this.linkDst = linkDst;
    this.recyclable = route.iface.link.setRecycler !== undefined;
    this.#dstHi = linkDst < 0 ? 0 : macHighHalf(linkDst);
    this.#dstLo = linkDst < 0 ? 0 : macLowHalf(linkDst);
    this.#srcHi = macHighHalf(linkSrc);
    this.#srcLo = macLowHalf(linkSrc);
  }

  /** Whether it answers a request for (dst, src, iface) while the route generation is `generation`. */
  answers(generation: number, dst: Ipv4Address, src: Ipv4Address | undefined, iface: Interface | undefined): boolean {
    return this.generation === generation && this.dst === dst && this.reqSrc === src && this.reqIface === iface;
  }

  /** The 14-byte Ethernet header (IEEE 802.3 3.1.1) of an IPv4 frame at f[0..], as IpOutput.sendFrames writes it. */
  writeEthernetHeader(f: Uint8Array): void {
    writeMacHalf(f, 0, this.#dstHi);
    writeMacHalf(f, 3, this.#dstLo);
    writeMacHalf(f, 6, this.#srcHi);
    writeMacHalf(f, 9, this.#srcLo);
    f[12] = 0x08; // EtherType IPv4, 0x0800
    f[13] = 0x00;
  }
}
