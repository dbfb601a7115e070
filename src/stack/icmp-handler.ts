/**
 * ICMP in the IPv4 layer (RFC 792, RFC 1122 3.2.2): echo requests answered
 * and echo replies passed on, ICMP errors received (quote checks, path MTU
 * updates per RFC 1191, handing the report to the quoted transport) and
 * sent (RFC 1122 3.2.2's rules and the rate limit), and echo requests of
 * the ping client. Separate from ip-layer.ts, which keeps the per-packet
 * paths (input, routing, output, ARP, forwarding); it reaches the layer
 * only through its public IpSender face, so it does not import IpLayer.
 */
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import { icmpErrorMeaning, isIcmpErrorType } from '../icmp/icmp-error.js';
import type { IcmpRateLimiter } from '../icmp/rate-limit.js';
import type { Interface, PendingFrame } from '../iface/interface.js';
import type { PathMtuCache } from '../iface/path-mtu.js';
import type { Counters } from '../stats/counters.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { IPV4_BROADCAST, isIpv4Multicast } from '../wire/address.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import type { Icmpv4Repr } from '../wire/icmpv4.js';
import {
  ICMPV4_HEADER_LEN,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  emitIcmpv4,
  icmpv4ErrorQuote,
  isIcmpv4Other,
  parseIcmpQuote,
  parseIcmpv4,
} from '../wire/icmpv4.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import { IPV4_MAX_PACKET_LEN, IpProtocol } from '../wire/ipv4.js';
import type { IpPacketIn, IpSendStatus, IpSender, TransportProtocol } from './transport.js';

/** Receives echo replies (for the ping client). */
export type EchoReplyHandler = (now: Instant, from: Ipv4Address, identifier: number, sequence: number, data: Uint8Array, to: Ipv4Address) => void;

/** What IcmpHandler reads of the IPv4 layer's configuration (IpLayerConfig has it all). */
export interface IcmpConfig {
  readonly stats: Counters;
  readonly protocols: ReadonlyMap<number, TransportProtocol>;
  readonly pathMtu: PathMtuCache;
  readonly icmpLimiter: IcmpRateLimiter;
  readonly onEchoReply: EchoReplyHandler;
  /** ICMP errors quoting ICMP we sent (echo requests of ping sockets). */
  readonly onIcmpError?: (now: Instant, report: IcmpErrorReport) => void;
}

/** The IPv4 layer as ICMP uses it: sending, routing and the host's addresses. */
export interface IcmpIpLayer extends IpSender {
  isLocalAddress(a: Ipv4Address): boolean;
}

/** ICMP for one IpLayer, which owns it and hands it ICMP input, errors to send and echo requests. */
export class IcmpHandler {
  readonly #c: IcmpConfig;
  readonly #stats: Counters;
  readonly #ip: IcmpIpLayer;

  constructor(config: IcmpConfig, ip: IcmpIpLayer) {
    this.#c = config;
    this.#stats = config.stats;
    this.#ip = ip;
  }

  /** An ICMP datagram delivered to this host (IpLayer #deliver). */
  input(now: Instant, iface: Interface, ip: Ipv4Repr, raw: Uint8Array, group: boolean): void {
    const st = this.#stats;
    const r = parseIcmpv4(ip.payload, { verifyChecksum: !iface.trusted });
    if (!r.ok) {
      st.increment('icmp.in-errors');
      return this.#drop('icmp', r.reason);
    }
    st.increment('icmp.in-msgs');
    const m = r.value;
    if (isIcmpv4Other(m)) {
      if (m.type === Icmpv4Type.ParameterProblem) {
        st.increment('icmp.in-parm-probs');
        this.#icmpErrorInput(now, m.type, m.code, ip.src, m.data, 0);
      } else {
        st.increment('icmp.in-other');
      }
      return;
    }
    switch (m.type) {
      case Icmpv4Type.EchoRequest: {
        st.increment('icmp.in-echos');
        // Linux icmp_echo_ignore_broadcasts=1: answering broadcasts makes smurf amplifiers.
        if (group) return this.#drop('icmp', 'broadcast-echo');
        const reply: Icmpv4Repr = { type: Icmpv4Type.EchoReply, identifier: m.identifier, sequence: m.sequence, data: m.data };
        const status = this.#ip.send(
          now,
          { dst: ip.src, src: ip.dst, protocol: IpProtocol.Icmp, dontFragment: false, dscp: ip.dscp },
          ICMPV4_HEADER_LEN + m.data.length,
          (buf) => void emitIcmpv4(reply, buf),
        );
        if (isSent(status)) st.increment('icmp.out-echo-reps');
        return;
      }
      case Icmpv4Type.EchoReply:
        st.increment('icmp.in-echo-reps');
        this.#c.onEchoReply(now, ip.src, m.identifier, m.sequence, m.data, ip.dst);
        return;
      case Icmpv4Type.DestinationUnreachable:
        st.increment('icmp.in-dest-unreachs');
        this.#icmpErrorInput(now, m.type, m.code, ip.src, m.quoted, m.nextHopMtu);
        return;
      case Icmpv4Type.TimeExceeded:
        st.increment('icmp.in-time-excds');
        this.#icmpErrorInput(now, m.type, m.code, ip.src, m.quoted, 0);
        return;
    }
  }

  #icmpErrorInput(now: Instant, type: number, code: number, from: Ipv4Address, quoted: Uint8Array, nextHopMtu: number): void {
    const q = parseIcmpQuote(quoted);
    if (!q.ok) return this.#drop('icmp', `quote-${q.reason}`);
    const quote = q.value;
    // Only errors about datagrams we sent mean anything to our sockets.
    if (!this.#ip.isLocalAddress(quote.src)) return this.#drop('icmp', 'quote-not-ours');
    const meaning = icmpErrorMeaning(type, code);
    if (meaning === undefined) return;
    let pathMtu: number | undefined;
    if (type === Icmpv4Type.DestinationUnreachable && code === Icmpv4UnreachableCode.FragmentationNeeded) {
      // RFC 1191 4: lower the estimate for the destination.
      const route = this.#ip.route(quote.dst);
      const linkMtu = route?.iface.mtu ?? IPV4_MAX_PACKET_LEN;
      this.#c.pathMtu.update(now, quote.dst, nextHopMtu, quote.totalLength, linkMtu);
      pathMtu = this.#c.pathMtu.get(now, quote.dst, linkMtu);
      this.#stats.increment('ip.pmtu-updates');
    }
    const report: IcmpErrorReport = {
      type,
      code,
      from,
      local: false,
      quote,
      errno: meaning.errno,
      hard: meaning.hard,
      ...(pathMtu === undefined ? {} : { pathMtu }),
    };
    this.#reportError(now, report);
  }

  #reportError(now: Instant, report: IcmpErrorReport): void {
    const proto = this.#c.protocols.get(report.quote.protocol);
    if (proto === undefined && report.quote.protocol === IpProtocol.Icmp && this.#c.onIcmpError !== undefined) {
      return this.#c.onIcmpError(now, report);
    }
    if (proto === undefined) return this.#drop('icmp', 'error-no-protocol');
    proto.icmpError(now, report, this.#ip);
  }

  sendIcmpError(now: Instant, about: IpPacketIn, type: number, code: number, nextHopMtu = 0): boolean {
    const { ip, raw } = about;
    // RFC 1122 3.2.2: never about an ICMP error, a datagram to a broadcast or
    // multicast address, a non-first fragment, or from a source that does
    // not name a single host.
    if (about.broadcast || isIpv4Multicast(ip.dst) || ip.dst === IPV4_BROADCAST) return false;
    if (ip.fragmentOffset !== 0) return false;
    if (ip.protocol === IpProtocol.Icmp && (ip.payload.length < 1 || isIcmpErrorType(ip.payload[0]!))) return false;
    const quote = icmpv4ErrorQuote(raw);
    return this.emitIcmpError(now, ip.src, this.#ip.isLocalAddress(ip.dst) ? ip.dst : undefined, type, code, nextHopMtu, quote);
  }

  /** An ICMP error to `to`, quoting `quote`, within the rate limit; whether it went. */
  emitIcmpError(
    now: Instant,
    to: Ipv4Address,
    from: Ipv4Address | undefined,
    type: number,
    code: number,
    nextHopMtu: number,
    quote: Uint8Array,
  ): boolean {
    const st = this.#stats;
    if (to === 0 || to === IPV4_BROADCAST || isIpv4Multicast(to)) return false;
    if (!this.#c.icmpLimiter.allow(now, to)) {
      st.increment('icmp.out-rate-limited');
      return false;
    }
    let msg: Icmpv4Repr;
    if (type === Icmpv4Type.DestinationUnreachable) msg = { type, code, nextHopMtu, quoted: quote };
    else if (type === Icmpv4Type.TimeExceeded) msg = { type, code, quoted: quote };
    else msg = { type, code, rest: 0, data: quote };
    const status = this.#ip.send(
      now,
      { dst: to, ...(from === undefined ? {} : { src: from }), protocol: IpProtocol.Icmp, dontFragment: false, dscp: 0x30 },
      ICMPV4_HEADER_LEN + quote.length,
      (buf) => void emitIcmpv4(msg, buf),
    );
    if (!isSent(status)) return false;
    st.increment('icmp.out-msgs');
    st.increment(type === Icmpv4Type.DestinationUnreachable ? 'icmp.out-dest-unreachs' : type === Icmpv4Type.TimeExceeded ? 'icmp.out-time-excds' : 'icmp.out-other');
    return true;
  }

  /** Sends an echo request (the ping client). */
  sendEcho(now: Instant, dst: Ipv4Address, identifier: number, sequence: number, data: Uint8Array, ttl?: number): IpSendStatus {
    const msg: Icmpv4Repr = { type: Icmpv4Type.EchoRequest, identifier, sequence, data };
    const status = this.#ip.send(
      now,
      { dst, protocol: IpProtocol.Icmp, dontFragment: false, ...(ttl === undefined ? {} : { ttl }) },
      ICMPV4_HEADER_LEN + data.length,
      (buf) => void emitIcmpv4(msg, buf),
    );
    if (isSent(status)) this.#stats.increment('icmp.out-echos');
    return status;
  }

  /** ARP gave up on a datagram we sent: tell its transport "host unreachable", as Linux does. */
  localUnreachable(now: Instant, p: PendingFrame): void {
    const first = p.frames[0];
    if (first === undefined) return;
    const packet = first.subarray(ETHERNET_HEADER_LEN);
    const q = parseIcmpQuote(packet);
    if (!q.ok) return;
    const meaning = icmpErrorMeaning(Icmpv4Type.DestinationUnreachable, Icmpv4UnreachableCode.HostUnreachable)!;
    this.#reportError(now, {
      type: Icmpv4Type.DestinationUnreachable,
      code: Icmpv4UnreachableCode.HostUnreachable,
      from: q.value.src,
      local: true,
      quote: q.value,
      errno: meaning.errno,
      hard: meaning.hard,
    });
  }

  #drop(layer: string, reason: string): void {
    this.#stats.increment(`${layer}.drop.${reason}`);
  }
}

function isSent(s: IpSendStatus): boolean {
  return s === 'sent' || s === 'queued';
}
