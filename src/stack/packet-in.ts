/**
 * The record the IP layer hands each received packet to a transport in
 * (IpPacketIn), reused for every packet (issue 9). Kept apart from the IP
 * layer because it is a memory contract, not IP.
 */
import type { Interface } from '../iface/interface.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import { Ipv4ReprScratch } from '../wire/ipv4.js';
import type { IpPacketIn } from './transport.js';

const NO_BYTES = new Uint8Array(0);
/** What a released PacketIn holds: a record read by nobody. */
const EMPTY_IP: Ipv4Repr = new Ipv4ReprScratch();

/** bytes[at..at + len): `bytes` itself when that is all of it (no view made), else a view. */
function rangeOf(bytes: Uint8Array, at: number, len: number): Uint8Array {
  return at === 0 && len === bytes.length ? bytes : bytes.subarray(at, at + len);
}

/** The IP datagram parsed at frame[ip.at..] (header and payload, no link padding), as a view. */
export function datagramOf(frame: Uint8Array, ip: Ipv4ReprScratch): Uint8Array {
  return rangeOf(frame, ip.at, ip.totalLength);
}

/** A plain Ipv4Repr with the fields of `ip` (the payload still a view of its buffer). */
export function plainIpv4Repr(ip: Ipv4Repr): Ipv4Repr {
  return {
    src: ip.src,
    dst: ip.dst,
    protocol: ip.protocol,
    ttl: ip.ttl,
    dscp: ip.dscp,
    ecn: ip.ecn,
    identification: ip.identification,
    dontFragment: ip.dontFragment,
    moreFragments: ip.moreFragments,
    fragmentOffset: ip.fragmentOffset,
    options: ip.options,
    payload: ip.payload,
  };
}

/**
 * The IpPacketIn handed to transports: one per IpLayer, reused for every
 * packet (issue 9), under the contract of Ipv4ReprScratch (read during the
 * call, keep nothing). `raw`, which only ICMP errors quote, is made on
 * demand rather than per packet.
 */
export class PacketIn implements IpPacketIn {
  ip: Ipv4Repr = EMPTY_IP;
  iface: Interface;
  verifyChecksum = false;
  broadcast = false;
  bytes: Uint8Array = NO_BYTES;
  payloadStart = 0;
  payloadEnd = 0;
  #bytes: Uint8Array = NO_BYTES;
  #at = 0;
  #len = 0;
  #raw: Uint8Array | undefined;

  /** `iface`: any interface, until the first set() (the loopback). */
  constructor(iface: Interface) {
    this.iface = iface;
  }

  /**
   * The datagram `ip`, whole at bytes[at..at + len) (what `raw` views), its
   * payload at payload[payloadStart..payloadEnd). `verifyChecksum`: the
   * receiving interface is not trusted, as the IP layer read it once for
   * the packet (ip-layer.ts #ipInput).
   */
  set(
    ip: Ipv4Repr,
    bytes: Uint8Array,
    at: number,
    len: number,
    payload: Uint8Array,
    payloadStart: number,
    payloadEnd: number,
    iface: Interface,
    broadcast: boolean,
    verifyChecksum: boolean,
  ): void {
    this.ip = ip;
    this.bytes = payload;
    this.payloadStart = payloadStart;
    this.payloadEnd = payloadEnd;
    this.#bytes = bytes;
    this.#at = at;
    this.#len = len;
    this.#raw = undefined;
    this.iface = iface;
    this.verifyChecksum = verifyChecksum;
    this.broadcast = broadcast;
  }

  get raw(): Uint8Array {
    return (this.#raw ??= rangeOf(this.#bytes, this.#at, this.#len));
  }

  release(): void {
    this.ip = EMPTY_IP;
    this.bytes = NO_BYTES;
    this.payloadStart = this.payloadEnd = 0;
    this.#bytes = NO_BYTES;
    this.#raw = undefined;
  }
}
