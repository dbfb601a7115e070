/**
 * The sockstack demonstration: two hosts on a LAN, built packet by packet
 * with sockstack's wire formats (ARP, ping, UDP, a TCP connection with
 * Linux's options), dissected and printed like tcpdump, and captured to a
 * pcap file you can open in Wireshark. A malformed segment shows how bad
 * input is dropped and counted, never thrown.
 *
 *   npm run demo [-- --pcap FILE]
 */
import { createPcapFile } from '../src/node.js';
import {
  ArpOperation,
  Counters,
  Instant,
  EtherType,
  IPV4_DEFAULT_TTL,
  Icmpv4Type,
  IpProtocol,
  LinkType,
  MAC_BROADCAST,
  ManualClock,
  TcpFlag,
  arpBufferLen,
  dataOptions,
  dissect,
  emitArp,
  emitEthernet,
  emitIcmpv4,
  emitIpv4,
  emitTcp,
  emitUdp,
  formatDissection,
  formatDuration,
  instantDiff,
  internetChecksum,
  pseudoHeaderSum,
  writeU16,
  icmpv4BufferLen,
  ipv4,
  ipv4BufferLen,
  mac,
  synOptions,
  tcpBufferLen,
  udpBufferLen,
  type Icmpv4Repr,
  type Ipv4Address,
  type MacAddress,
  type TcpRepr,
} from '../src/index.js';

interface Host {
  readonly name: string;
  readonly mac: MacAddress;
  readonly ip: Ipv4Address;
}

const alice: Host = { name: 'alice', mac: mac('02:00:00:00:00:01'), ip: ipv4('10.0.0.1') };
const bob: Host = { name: 'bob', mac: mac('02:00:00:00:00:02'), ip: ipv4('10.0.0.2') };
const text = new TextEncoder();

function ethernet(from: Host, to: MacAddress, ethertype: number, payload: Uint8Array): Uint8Array {
  const repr = { dst: to, src: from.mac, ethertype, payload };
  const buf = new Uint8Array(14 + payload.length);
  emitEthernet(repr, buf);
  return buf;
}

let ipId = 0x1c46;
function ip(from: Host, to: Host, protocol: number, payload: Uint8Array): Uint8Array {
  const repr = {
    src: from.ip,
    dst: to.ip,
    protocol,
    ttl: IPV4_DEFAULT_TTL,
    dscp: 0,
    ecn: 0,
    identification: ipId++,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    options: new Uint8Array(0),
    payload,
  };
  const buf = new Uint8Array(ipv4BufferLen(repr));
  emitIpv4(repr, buf);
  return ethernet(from, to.mac, EtherType.Ipv4, buf);
}

function icmp(from: Host, to: Host, repr: Icmpv4Repr): Uint8Array {
  const buf = new Uint8Array(icmpv4BufferLen(repr));
  emitIcmpv4(repr, buf);
  return ip(from, to, IpProtocol.Icmp, buf);
}

function udp(from: Host, to: Host, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const repr = { srcPort, dstPort, payload };
  const buf = new Uint8Array(udpBufferLen(repr));
  emitUdp(repr, buf, { src: from.ip, dst: to.ip });
  return ip(from, to, IpProtocol.Udp, buf);
}

function tcp(from: Host, to: Host, seg: Omit<TcpRepr, 'urgentPointer'>): Uint8Array {
  const repr: TcpRepr = { ...seg, urgentPointer: 0 };
  const buf = new Uint8Array(tcpBufferLen(repr));
  emitTcp(repr, buf, { src: from.ip, dst: to.ip });
  return ip(from, to, IpProtocol.Tcp, buf);
}

function arp(from: Host, to: Host, operation: ArpOperation): Uint8Array {
  const repr = {
    operation,
    senderMac: from.mac,
    senderIp: from.ip,
    targetMac: operation === ArpOperation.Request ? 0 : to.mac,
    targetIp: to.ip,
  };
  const buf = new Uint8Array(arpBufferLen(repr));
  emitArp(repr, buf);
  return ethernet(from, operation === ArpOperation.Request ? MAC_BROADCAST : to.mac, EtherType.Arp, buf);
}

// A conversation, with the virtual time (ms) at which each frame is sent.
const A = 0x2c1b6a10; // alice's initial sequence number
const B = 0x91f2e003; // bob's
const request = text.encode('GET / HTTP/1.0\r\n\r\n');
const response = text.encode('HTTP/1.0 200 OK\r\ncontent-length: 6\r\n\r\nhello\n');
const ts = (val: number, ecr: number) => ({ tsVal: val, tsEcr: ecr });
const base = { srcPort: 40000, dstPort: 80, window: 502 };
const back = { srcPort: 80, dstPort: 40000, window: 509 };
const none = new Uint8Array(0);
const conversation: [number, Uint8Array][] = [
  [0, arp(alice, bob, ArpOperation.Request)],
  [0.2, arp(bob, alice, ArpOperation.Reply)],
  [1, icmp(alice, bob, { type: Icmpv4Type.EchoRequest, identifier: 7, sequence: 1, data: text.encode('sockstack ping') })],
  [1.3, icmp(bob, alice, { type: Icmpv4Type.EchoReply, identifier: 7, sequence: 1, data: text.encode('sockstack ping') })],
  [2, udp(alice, bob, 5353, 53, text.encode('what time is it?'))],
  [2.4, udp(bob, alice, 53, 5353, text.encode(new Date(0).toISOString()))],
  [10, tcp(alice, bob, { ...base, window: 64240, seq: A, ack: 0, flags: TcpFlag.SYN, options: synOptions({ mss: 1460, sackPermitted: true, timestamps: ts(1000, 0), windowScale: 7 }), payload: none })],
  [10.5, tcp(bob, alice, { ...back, window: 65160, seq: B, ack: A + 1, flags: TcpFlag.SYN | TcpFlag.ACK, options: synOptions({ mss: 1460, sackPermitted: true, timestamps: ts(5000, 1000), windowScale: 7 }), payload: none })],
  [11, tcp(alice, bob, { ...base, seq: A + 1, ack: B + 1, flags: TcpFlag.ACK, options: dataOptions({ timestamps: ts(1001, 5000) }), payload: none })],
  [11, tcp(alice, bob, { ...base, seq: A + 1, ack: B + 1, flags: TcpFlag.ACK | TcpFlag.PSH, options: dataOptions({ timestamps: ts(1001, 5000) }), payload: request })],
  [11.5, tcp(bob, alice, { ...back, seq: B + 1, ack: A + 1 + request.length, flags: TcpFlag.ACK | TcpFlag.PSH, options: dataOptions({ timestamps: ts(5001, 1001) }), payload: response })],
  [11.6, tcp(bob, alice, { ...back, seq: B + 1 + response.length, ack: A + 1 + request.length, flags: TcpFlag.ACK | TcpFlag.FIN, options: dataOptions({ timestamps: ts(5001, 1001) }), payload: none })],
  [12, tcp(alice, bob, { ...base, seq: A + 1 + request.length, ack: B + 2 + response.length, flags: TcpFlag.ACK | TcpFlag.FIN, options: dataOptions({ timestamps: ts(1002, 5001) }), payload: none })],
  [12.5, tcp(bob, alice, { ...back, seq: B + 2 + response.length, ack: A + 2 + request.length, flags: TcpFlag.ACK, options: dataOptions({ timestamps: ts(5002, 1002) }), payload: none })],
];

// A segment whose MSS option claims length 3: RFC 9293 MUST-7 says the
// receiver must not crash; sockstack drops it and counts the drop.
const evil = tcp(alice, bob, { ...base, seq: A, ack: 0, flags: TcpFlag.SYN, options: synOptions({ mss: 1460 }), payload: none });
{
  const seg = evil.subarray(14 + 20); // past the Ethernet and IPv4 headers
  seg[21] = 3; // the MSS option's length byte
  seg[16] = 0; // recompute the checksum so only the option is wrong
  seg[17] = 0;
  writeU16(seg, 16, internetChecksum(seg, pseudoHeaderSum(alice.ip, bob.ip, IpProtocol.Tcp, seg.length)));
}
conversation.push([20, evil]);

function main(): void {
  const args = process.argv.slice(2);
  const pcapPath = args[args.indexOf('--pcap') + 1] ?? 'demo.pcap';
  const clock = new ManualClock();
  const pcap = createPcapFile(pcapPath, { linkType: LinkType.Ethernet, resolution: 'us' });
  const counters = new Counters();

  console.log('sockstack demo: alice 10.0.0.1 and bob 10.0.0.2 on a virtual LAN\n');
  for (const [ms, frame] of conversation) {
    clock.advanceTo(Instant.fromMillis(ms));
    pcap.writer.writePacket(clock.now(), frame);
    const d = dissect(frame, 'ethernet');
    counters.increment('frames');
    if (d.error !== undefined) counters.increment(`dropped.${d.error.layer}.${d.error.reason}`);
    console.log(`${formatDuration(instantDiff(clock.now(), Instant.ZERO)).padStart(8)}  ${formatDissection(d)}`);
  }
  pcap.close();
  console.log('\ncounters:', counters.snapshot());
  console.log(`\nwrote ${pcap.writer.frames} frames to ${pcapPath} (open it with wireshark or tshark -r ${pcapPath})`);
}

main();
