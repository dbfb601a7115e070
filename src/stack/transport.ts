/**
 * How transport protocols (TCP, UDP, raw sockets, test protocols) plug into
 * the Stack.
 *
 * The contract (smoltcp's poll / poll_at, adapted):
 * - The Stack demultiplexes each received datagram addressed to us by its
 *   protocol number and calls `input`. The protocol may send replies at once
 *   through `out` (a RST, an ACK, a UDP port unreachable).
 * - ICMP errors about datagrams this protocol sent arrive at `icmpError`,
 *   already matched by protocol number and parsed (addresses and ports of
 *   the original datagram in `report.quote`). Locally detected failures (ARP
 *   gave up) arrive the same way with `report.local` true.
 * - `pollAt()` says when the protocol next needs to run (a retransmission
 *   timeout, a delayed ACK): the Stack keeps ONE clock timer for the earliest
 *   deadline over everything it owns and calls `poll(now, out)` when it is
 *   reached. Undefined means "nothing scheduled".
 * - After a user action that creates output (a socket write, connect,
 *   close), call `stack.wake()`: it schedules a poll of every protocol as
 *   soon as the clock allows, coalescing any number of wakes into one.
 *
 * Nothing here reads a clock: `now` is always passed in.
 */
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import type { Interface } from '../iface/interface.js';
import type { DeadlineWatch } from '../time/deadline-watch.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import type { DstEntry } from './dst-cache.js';
import type { IpRoute } from './ip-route.js';

/**
 * A received datagram addressed to this host, as a transport sees it. Valid
 * only during the `input` call it is passed to: the IP layer reuses the
 * record, its `ip` and the views in them for the next packet (issue 9), so
 * a transport copies what it keeps (see Ipv4ReprScratch).
 */
export interface IpPacketIn {
  /** The parsed header; `payload` is the transport segment (after reassembly, if it was fragmented). */
  readonly ip: Ipv4Repr;
  /** The whole IP datagram (header + payload): what an ICMP error about it quotes. */
  readonly raw: Uint8Array;
  /**
   * Optional: `ip.payload` as a range of a buffer,
   * bytes[payloadStart..payloadEnd), for a transport that parses in place
   * without the view (issue 9). The IP layer always sets them.
   */
  readonly bytes?: Uint8Array;
  readonly payloadStart?: number;
  readonly payloadEnd?: number;
  /** The interface it arrived on. */
  readonly iface: Interface;
  /**
   * False when it came over a trusted link (loopback, an uncorruptible memory
   * wire): the transport may skip verifying its checksum, as Linux does on
   * loopback (the sender may not have computed it).
   */
  readonly verifyChecksum: boolean;
  /** Sent to a broadcast or multicast address: TCP must drop it (RFC 9293 3.10.7.2 / RFC 1122 4.2.3.10). */
  readonly broadcast: boolean;
}

/** Where and how a datagram to some destination would go (ip-route.ts). */
export type { IpRoute };

export interface IpSendRequest {
  readonly dst: Ipv4Address;
  readonly protocol: number;
  /** Default: chosen from the route. Must be one of our addresses when given. */
  readonly src?: Ipv4Address;
  /** Default 64 (RFC 1122 3.2.1.7, Linux ip_default_ttl). */
  readonly ttl?: number;
  readonly dscp?: number;
  readonly ecn?: number;
  /**
   * Default true, as Linux sets DF on TCP (path MTU discovery, RFC 1191);
   * pass false for UDP (Linux IP_PMTUDISC_WANT fragments datagrams that do not fit).
   */
  readonly dontFragment?: boolean;
  /** Send out of this interface only (SO_BINDTODEVICE, or for broadcasts). */
  readonly iface?: Interface;
  /** Raw IPv4 header options, a multiple of 4 bytes (e.g. Router Alert, RFC 2113, on IGMP reports). Default none. */
  readonly options?: Uint8Array;
  /**
   * Where the IP layer may keep the route it resolves for this sender (a
   * connection: Linux sk_dst_cache), so that later sends with the same dst,
   * src and iface skip route, source, path MTU and neighbour lookups while
   * nothing they depend on changed. Optional; the sender only holds it.
   */
  readonly dstCache?: DstCacheSlot | undefined;
}

/** A sender's slot for its cached route (IpSendRequest.dstCache): one reference, written by the IP layer only. */
export interface DstCacheSlot {
  dstCache: DstEntry | undefined;
}

/**
 * The outcome of a send. Errno names are what the socket call should fail
 * with; the others mean the datagram was accepted (even when dropped later,
 * like a full ARP queue, which Linux does not report either).
 */
export type IpSendStatus =
  | 'sent'
  /** Waiting for ARP; it goes out when the neighbour answers. */
  | 'queued'
  /** Accepted but dropped (ARP queue full); counted in the stack's stats. */
  | 'dropped'
  /** No route to the destination. */
  | 'ENETUNREACH'
  /** Larger than the path MTU with DF set, or than 65535 bytes. */
  | 'EMSGSIZE'
  /** `src` is not an address of this host. */
  | 'EADDRNOTAVAIL';

/**
 * Writes the transport part of an outgoing datagram in place. `payload` is
 * exactly `payloadLength` bytes inside the frame buffer (no copy follows);
 * `route` gives the addresses for the pseudo-header checksum and says
 * whether the checksum is needed at all.
 */
export type IpFill = (payload: Uint8Array, route: IpRoute) => void;

/** The output path the Stack gives to transports. */
export interface IpSender {
  /** The route `send` would take, or undefined when there is none (ENETUNREACH). */
  route(dst: Ipv4Address, src?: Ipv4Address, iface?: Interface): IpRoute | undefined;
  /**
   * Builds one datagram: route lookup, ONE buffer allocated for link header +
   * IP header + `payloadLength` bytes, `fill` called on the payload part,
   * then ARP resolution (or queueing) and transmission, fragmenting when the
   * datagram exceeds the path MTU and DF is clear. `fill` is not called when
   * the status is an errno.
   */
  send(now: Instant, req: IpSendRequest, payloadLength: number, fill: IpFill): IpSendStatus;
  /**
   * Sends an ICMP error about a received datagram (e.g. port unreachable for
   * UDP, RFC 1122 4.1.3.1), following RFC 1122 3.2.2's rules (never about an
   * ICMP error, a broadcast, a non-first fragment or a non-unicast source)
   * and the stack's rate limit. Returns whether it was sent.
   */
  sendIcmpError(now: Instant, about: IpPacketIn, type: number, code: number): boolean;
  /**
   * Reachability hints from a transport about the neighbour that datagrams
   * to `dst` go through (Linux dst_confirm / negative advice): 'confirm'
   * when the peer acknowledged new data (the mapping works: REACHABLE),
   * 'suspect' when a retransmission timer fired (re-verify the mapping now
   * with unicast ARP probes, so a wrong MAC costs seconds). Optional.
   */
  neighbourAdvice?(now: Instant, dst: Ipv4Address, advice: 'confirm' | 'suspect'): void;
}

/**
 * Receives the ICMP the Stack does not consume itself (ICMP is built in, not
 * a registered protocol): echo replies, and errors quoting echo requests we
 * sent. Ping sockets (SOCK_DGRAM + IPPROTO_ICMP) plug in here.
 */
export interface IcmpSocketHandler {
  echoReply(now: Instant, from: Ipv4Address, to: Ipv4Address, identifier: number, sequence: number, data: Uint8Array): void;
  icmpError(now: Instant, report: IcmpErrorReport): void;
}

export interface TransportProtocol {
  /** The IP protocol number it handles (IpProtocol.Tcp, IpProtocol.Udp, ...). */
  readonly protocol: number;
  input(now: Instant, packet: IpPacketIn, out: IpSender): void;
  icmpError(now: Instant, report: IcmpErrorReport, out: IpSender): void;
  poll(now: Instant, out: IpSender): void;
  pollAt(): Instant | undefined;
  /**
   * Optional (issue 9): the protocol raises `w.changed` on every change of
   * its pollAt() answer from now on (earlier or later), and the stack asks
   * its pollAt() only after one. A protocol without it is asked every time
   * (TCP: its answer is a heap's top, which moves on nearly every segment).
   */
  watchDeadline?(w: DeadlineWatch | undefined): void;
  /**
   * Optional (issue 9, GRO): the packets input() gets from now on belong to
   * one run of frames (Link.setBatchEnd) that batchEnd() closes, and until
   * then input() may hold packets back to merge them (Linux GRO, flushed at
   * the end of a NAPI poll). Their bytes stay valid until batchEnd returns.
   */
  batchBegin?(): void;
  /** The run is over: true when input() held packets back, which batchFlush() must now process. */
  batchEnd?(): boolean;
  /** Processes whatever input() held back during the run. */
  batchFlush?(now: Instant, out: IpSender): void;
}
