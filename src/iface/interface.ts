/**
 * A network interface: a Link plus its IPv4 addresses (with prefixes), MTU,
 * multicast memberships, per-interface counters and, on Ethernet, its ARP
 * cache. Holds state only; the Stack moves the packets.
 */
import type { Link } from '../link/link.js';
import { LinkType } from '../link/link.js';
import { Counters } from '../stats/counters.js';
import type { Ipv4Address, MacAddress } from '../wire/address.js';
import { macHighHalf, macLowHalf, readMacHalf } from '../wire/address.js';
import {
  IPV4_BROADCAST,
  formatIpv4,
  ipv4Netmask,
  isIpv4Multicast,
  parseIpv4Address,
} from '../wire/address.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import { IPV4_MAX_PACKET_LEN } from '../wire/ipv4.js';
import type { NeighbourCacheOptions } from './neighbour-cache.js';
import { NeighbourCache } from './neighbour-cache.js';
import { bumpRouteGeneration } from './route-generation.js';

/** An address assigned to an interface, like one line of `ip addr`. */
export interface InterfaceAddress {
  readonly address: Ipv4Address;
  readonly prefixLength: number;
}

/**
 * A datagram waiting in the ARP queue: its frames (one, or its fragments),
 * each with link headroom and then a whole IPv4 packet. Queued per datagram,
 * so the fragments of one datagram are kept or dropped together.
 */
export interface PendingFrame {
  readonly frames: readonly Uint8Array[];
}

/** RFC 1112 4: every host belongs to the all-hosts group on every multicast interface. */
export const ALL_HOSTS_GROUP: Ipv4Address = 0xe0000001;

/**
 * Parses "10.0.0.1/24" (a bare address means /32). Throws TypeError for
 * anything else: addresses in configuration are written by programmers.
 */
export function parseCidr(s: string): InterfaceAddress {
  const slash = s.indexOf('/');
  const addrPart = slash < 0 ? s : s.slice(0, slash);
  const lenPart = slash < 0 ? '32' : s.slice(slash + 1);
  const address = parseIpv4Address(addrPart);
  const prefixLength = /^\d{1,2}$/.test(lenPart) ? Number(lenPart) : NaN;
  if (address === undefined || !(prefixLength >= 0 && prefixLength <= 32)) {
    throw new TypeError(`not an IPv4 address with prefix: ${JSON.stringify(s)}`);
  }
  return { address, prefixLength };
}

export function formatCidr(a: InterfaceAddress): string {
  return `${formatIpv4(a.address)}/${a.prefixLength}`;
}

export function networkOf(a: InterfaceAddress): Ipv4Address {
  return (a.address & ipv4Netmask(a.prefixLength)) >>> 0;
}

/** The subnet-directed broadcast address (RFC 919, RFC 922); none for /31 (RFC 3021) and /32. */
export function broadcastOf(a: InterfaceAddress): Ipv4Address | undefined {
  if (a.prefixLength >= 31) return undefined;
  return (networkOf(a) | ~ipv4Netmask(a.prefixLength)) >>> 0;
}

export interface InterfaceOptions {
  /** Overrides the link's MTU downwards (never above it). */
  readonly mtu?: number;
  readonly neighbour?: NeighbourCacheOptions;
}

export class Interface {
  readonly name: string;
  /** Stable small integer, like if_nametoindex (the loopback is 1). */
  readonly index: number;
  readonly link: Link;
  /** Largest IP packet: the link's MTU (or less when configured), at most 65535. */
  readonly mtu: number;
  /** The MAC on Ethernet links, else undefined. */
  readonly mac: MacAddress | undefined;
  /** Bytes of link header in front of each IP packet (14 on Ethernet, 0 on raw IP). */
  readonly linkHeaderLen: number;
  /** ARP, only on Ethernet links. */
  readonly neighbours: NeighbourCache<PendingFrame> | undefined;
  /** Per-interface counters (rx-packets, tx-bytes, ...), like `ip -s link`. */
  readonly stats = new Counters();
  /** Cells of `stats` counted per frame (CounterCell: no name lookup per packet). */
  readonly rxPackets = this.stats.cell('rx-packets');
  readonly rxBytes = this.stats.cell('rx-bytes');
  readonly txPackets = this.stats.cell('tx-packets');
  readonly txBytes = this.stats.cell('tx-bytes');
  readonly isLoopback: boolean;
  /** `mac` as two 24-bit halves, small integers (-1 without a MAC): see isOwnMac. */
  readonly #macHi: number;
  readonly #macLo: number;
  #addresses: InterfaceAddress[] = [];
  /**
   * The directed broadcast addresses of #addresses, kept up to date with them:
   * isBroadcast runs twice per packet each way, and worked out every address's
   * netmask and broadcast each time (issue 9).
   */
  #broadcasts: Ipv4Address[] = [];
  readonly #groups = new Set<Ipv4Address>([ALL_HOSTS_GROUP]);

  constructor(name: string, index: number, link: Link, options: InterfaceOptions = {}, isLoopback = false) {
    this.name = name;
    this.index = index;
    this.link = link;
    this.isLoopback = isLoopback;
    this.mtu = Math.min(options.mtu ?? link.mtu, link.mtu, IPV4_MAX_PACKET_LEN);
    if (!(this.mtu >= 68)) throw new RangeError(`Interface ${name}: MTU ${this.mtu} is below IPv4's minimum of 68`);
    if (link.linkType === LinkType.Ethernet) {
      if (link.mac === undefined) throw new TypeError(`Interface ${name}: an Ethernet link needs a MAC address`);
      this.mac = link.mac;
      this.linkHeaderLen = ETHERNET_HEADER_LEN;
      this.neighbours = new NeighbourCache<PendingFrame>(options.neighbour);
    } else {
      this.mac = undefined;
      this.linkHeaderLen = 0;
      this.neighbours = undefined;
    }
    this.#macHi = this.mac === undefined ? -1 : macHighHalf(this.mac);
    this.#macLo = this.mac === undefined ? -1 : macLowHalf(this.mac);
  }

  /**
   * Whether the six bytes at b[at..] are this interface's MAC: compared as
   * two 24-bit halves, not as a 48-bit number (a heap-allocated double) per
   * frame received (issue 9).
   */
  isOwnMac(b: Uint8Array, at: number): boolean {
    return readMacHalf(b, at) === this.#macHi && readMacHalf(b, at + 3) === this.#macLo;
  }

  /**
   * Frames cannot be corrupted on this link: checksums may be skipped. Read
   * from the link each time, since a memory link stops being trusted when
   * corruption is switched on.
   */
  get trusted(): boolean {
    return this.link.trusted === true;
  }

  get addresses(): readonly InterfaceAddress[] {
    return this.#addresses;
  }

  /** The first address: the default source for packets out of this interface. */
  get primaryAddress(): Ipv4Address | undefined {
    return this.#addresses[0]?.address;
  }

  /** Adds an address; the Stack also adds the connected route. Returns false if already present. */
  addAddress(a: InterfaceAddress): boolean {
    if (this.#addresses.some((x) => x.address === a.address)) return false;
    this.#addresses.push({ address: a.address >>> 0, prefixLength: a.prefixLength });
    this.#addressesChanged();
    return true;
  }

  removeAddress(address: Ipv4Address): InterfaceAddress | undefined {
    const i = this.#addresses.findIndex((x) => x.address === address);
    if (i < 0) return undefined;
    const removed = this.#addresses.splice(i, 1)[0];
    this.#addressesChanged();
    return removed;
  }

  /** Source choice and local delivery depend on the addresses: cached routes are stale, broadcasts recomputed. */
  #addressesChanged(): void {
    this.#broadcasts = this.#addresses.map(broadcastOf).filter((b) => b !== undefined);
    bumpRouteGeneration();
  }

  hasAddress(a: Ipv4Address): boolean {
    // Plain loops here and in isBroadcast: both run for every packet received.
    const list = this.#addresses;
    for (let k = 0; k < list.length; k++) if (list[k]!.address === a) return true;
    return false;
  }

  /** 255.255.255.255 or the directed broadcast of one of our subnets. */
  isBroadcast(a: Ipv4Address): boolean {
    if (a === IPV4_BROADCAST) return true;
    const list = this.#broadcasts;
    for (let k = 0; k < list.length; k++) if (list[k] === a) return true;
    return false;
  }

  /** Whether `a` is on one of this interface's subnets. */
  isOnLink(a: Ipv4Address): boolean {
    return this.#addresses.some((x) => ((a & ipv4Netmask(x.prefixLength)) >>> 0) === networkOf(x));
  }

  /**
   * The source address for a packet to `dst` through this interface
   * (RFC 1122 3.3.4.3): the address on dst's subnet if any, else the primary.
   */
  sourceFor(dst: Ipv4Address): Ipv4Address | undefined {
    for (const x of this.#addresses) {
      if (((dst & ipv4Netmask(x.prefixLength)) >>> 0) === networkOf(x)) return x.address;
    }
    return this.primaryAddress;
  }

  joinMulticast(group: Ipv4Address): void {
    if (!isIpv4Multicast(group)) throw new RangeError(`joinMulticast: ${formatIpv4(group)} is not a multicast address`);
    this.#groups.add(group);
  }

  leaveMulticast(group: Ipv4Address): void {
    if (group !== ALL_HOSTS_GROUP) this.#groups.delete(group);
  }

  isMulticastMember(group: Ipv4Address): boolean {
    return this.#groups.has(group);
  }
}

/** RFC 1112 6.4: an IPv4 multicast group maps to 01:00:5e plus its low 23 bits. */
export function multicastMac(group: Ipv4Address): MacAddress {
  return 0x01005e000000 + (group & 0x7fffff);
}

/**
 * Whether `a` is the directed broadcast address of a non-loopback interface
 * (RFC 1122 3.3.6). Transports ask for every packet received: a loop, not
 * some() with a closure per call.
 */
export function isDirectedBroadcast(interfaces: readonly { readonly isLoopback: boolean; isBroadcast(a: Ipv4Address): boolean }[], a: Ipv4Address): boolean {
  for (let k = 0; k < interfaces.length; k++) {
    const i = interfaces[k]!;
    if (!i.isLoopback && i.isBroadcast(a)) return true;
  }
  return false;
}
