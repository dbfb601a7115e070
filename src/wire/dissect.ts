/**
 * Dissects a whole frame into its layers, like one line of tcpdump: used by
 * the demo, the fuzz test (every parser in the chain at once) and debugging
 * output. The stack's receive path parses layer by layer itself.
 */
import { formatIpv4, formatMac } from './address.js';
import { ArpOperation, parseArp, type ArpRepr } from './arp.js';
import { EtherType, parseEthernet, type EthernetRepr } from './ethernet.js';
import { Icmpv4Type, isIcmpv4Other, parseIcmpv4, type Icmpv4Repr } from './icmpv4.js';
import { IpProtocol, parseIpv4, type Ipv4Repr } from './ipv4.js';
import type { WireError } from './result.js';
import { formatTcp, parseTcp, type TcpRepr } from './tcp.js';
import { parseUdp, type UdpRepr } from './udp.js';

export type DissectLayer = 'ethernet' | 'arp' | 'ipv4' | 'icmpv4' | 'udp' | 'tcp';

export interface Dissection {
  ethernet?: EthernetRepr;
  arp?: ArpRepr;
  ipv4?: Ipv4Repr;
  icmpv4?: Icmpv4Repr;
  udp?: UdpRepr;
  tcp?: TcpRepr;
  /** The layer that failed to parse, and why. Layers above it are absent. */
  error?: { readonly layer: DissectLayer; readonly reason: WireError };
}

export interface DissectOptions {
  /** Verify IPv4, ICMP, UDP and TCP checksums (default true). */
  readonly verifyChecksums?: boolean;
}

/**
 * Parses `frame` starting at an Ethernet header (`'ethernet'`) or a bare IP
 * packet (`'ip'`, as on a TUN device). Never throws.
 */
export function dissect(frame: Uint8Array, first: 'ethernet' | 'ip', opts?: DissectOptions): Dissection {
  const verify = opts?.verifyChecksums ?? true;
  const d: Dissection = {};
  let ipBytes = frame;
  if (first === 'ethernet') {
    const eth = parseEthernet(frame);
    if (!eth.ok) return { error: { layer: 'ethernet', reason: eth.reason } };
    d.ethernet = eth.value;
    if (eth.value.ethertype === EtherType.Arp) {
      const arp = parseArp(eth.value.payload);
      if (arp.ok) d.arp = arp.value;
      else d.error = { layer: 'arp', reason: arp.reason };
      return d;
    }
    if (eth.value.ethertype !== EtherType.Ipv4) return d;
    ipBytes = eth.value.payload;
  }
  const ip = parseIpv4(ipBytes, { verifyChecksum: verify });
  if (!ip.ok) {
    d.error = { layer: 'ipv4', reason: ip.reason };
    return d;
  }
  d.ipv4 = ip.value;
  // A fragment's transport header (if any) cannot be checked before reassembly.
  if (ip.value.moreFragments || ip.value.fragmentOffset !== 0) return d;
  const pseudo = verify ? { src: ip.value.src, dst: ip.value.dst } : undefined;
  switch (ip.value.protocol) {
    case IpProtocol.Icmp: {
      const r = parseIcmpv4(ip.value.payload, { verifyChecksum: verify });
      if (r.ok) d.icmpv4 = r.value;
      else d.error = { layer: 'icmpv4', reason: r.reason };
      break;
    }
    case IpProtocol.Udp: {
      const r = parseUdp(ip.value.payload, pseudo);
      if (r.ok) d.udp = r.value;
      else d.error = { layer: 'udp', reason: r.reason };
      break;
    }
    case IpProtocol.Tcp: {
      const r = parseTcp(ip.value.payload, pseudo);
      if (r.ok) d.tcp = r.value;
      else d.error = { layer: 'tcp', reason: r.reason };
      break;
    }
  }
  return d;
}

function describeIcmp(r: Icmpv4Repr): string {
  if (isIcmpv4Other(r)) return `ICMP type ${r.type} code ${r.code}, length ${8 + r.data.length}`;
  switch (r.type) {
    case Icmpv4Type.EchoRequest:
    case Icmpv4Type.EchoReply:
      return `ICMP echo ${r.type === Icmpv4Type.EchoRequest ? 'request' : 'reply'}, id ${r.identifier}, seq ${r.sequence}, length ${8 + r.data.length}`;
    case Icmpv4Type.DestinationUnreachable:
      return `ICMP unreachable code ${r.code}${r.code === 4 ? ` (need to frag, mtu ${r.nextHopMtu})` : ''}, quoting ${r.quoted.length} bytes`;
    case Icmpv4Type.TimeExceeded:
      return `ICMP time exceeded code ${r.code}, quoting ${r.quoted.length} bytes`;
  }
}

/** One tcpdump-like line describing a dissection. */
export function formatDissection(d: Dissection): string {
  const parts: string[] = [];
  if (d.arp !== undefined) {
    const a = d.arp;
    parts.push(
      a.operation === ArpOperation.Request
        ? `ARP who-has ${formatIpv4(a.targetIp)} tell ${formatIpv4(a.senderIp)}`
        : `ARP reply ${formatIpv4(a.senderIp)} is-at ${formatMac(a.senderMac)}`,
    );
  } else if (d.ipv4 !== undefined) {
    const ip = d.ipv4;
    const frag =
      ip.moreFragments || ip.fragmentOffset !== 0
        ? ` frag id ${ip.identification} offset ${ip.fragmentOffset}${ip.moreFragments ? '+' : ''}`
        : '';
    if (d.tcp !== undefined) {
      parts.push(`IP ${formatTcp(d.tcp, { src: ip.src, dst: ip.dst })}`);
    } else if (d.udp !== undefined) {
      parts.push(
        `IP ${formatIpv4(ip.src)}:${d.udp.srcPort} > ${formatIpv4(ip.dst)}:${d.udp.dstPort} UDP length ${d.udp.payload.length}`,
      );
    } else {
      const what = d.icmpv4 !== undefined ? describeIcmp(d.icmpv4) : `proto ${ip.protocol} length ${ip.payload.length}`;
      parts.push(`IP ${formatIpv4(ip.src)} > ${formatIpv4(ip.dst)}${frag} ${what}`);
    }
  } else if (d.ethernet !== undefined) {
    parts.push(
      `${formatMac(d.ethernet.src)} > ${formatMac(d.ethernet.dst)} ethertype 0x${d.ethernet.ethertype.toString(16).padStart(4, '0')}`,
    );
  }
  if (d.error !== undefined) parts.push(`[malformed ${d.error.layer}: ${d.error.reason}]`);
  return parts.join(' ');
}
