/**
 * Real Linux packets (test/fixtures/linux-packets.ts, captured by
 * scripts/capture-fixtures.sh) through every wire parser: each layer must
 * parse, verify its checksum and re-emit byte for byte. Then a few facts per
 * packet that only hold if the fields were read from the right places.
 */
import { describe, expect, it } from 'vitest';
import { linuxPackets } from './fixtures/linux-packets.js';
import type { LinuxPacketFixture } from './fixtures/linux-packets.js';
import { bytesEqual, fromHex, readU16, readU32, toHex } from '../src/wire/bytes.js';
import { ipv4, mac, MAC_BROADCAST } from '../src/wire/address.js';
import { EtherType, emitEthernet, ethernetBufferLen, parseEthernet } from '../src/wire/ethernet.js';
import type { EthernetRepr } from '../src/wire/ethernet.js';
import { ArpOperation, arpBufferLen, emitArp, parseArp } from '../src/wire/arp.js';
import type { ArpRepr } from '../src/wire/arp.js';
import { IpProtocol, emitIpv4, ipv4BufferLen, ipv4Options, parseIpv4 } from '../src/wire/ipv4.js';
import type { Ipv4Repr } from '../src/wire/ipv4.js';
import {
  Icmpv4Type,
  Icmpv4UnreachableCode,
  emitIcmpv4,
  icmpv4BufferLen,
  isIcmpv4Other,
  parseIcmpQuote,
  parseIcmpv4,
} from '../src/wire/icmpv4.js';
import type { Icmpv4OtherRepr, Icmpv4Repr } from '../src/wire/icmpv4.js';
import { emitUdp, parseUdp, udpBufferLen } from '../src/wire/udp.js';
import type { UdpRepr } from '../src/wire/udp.js';
import { TcpFlag, emitTcp, parseTcp, tcpBufferLen } from '../src/wire/tcp.js';
import type { TcpRepr } from '../src/wire/tcp.js';
import { dataOptions, synOptions } from '../src/wire/tcp-options.js';
import { summarizeTcpOptions } from '../src/wire/tcp-options-summary.js';
import type { ParseResult } from '../src/wire/result.js';

const A = ipv4('10.77.1.1');
const R = ipv4('10.77.1.254');
const B = ipv4('10.77.2.2');
const MAC_A = mac('02:00:00:77:01:01');
const MAC_R = mac('02:00:00:77:01:fe');

/** Every layer of one fixture, parsed. Fragments have no transport layer. */
interface Layers {
  readonly frame: Uint8Array;
  readonly eth: EthernetRepr;
  readonly arp?: ArpRepr;
  readonly ip?: Ipv4Repr;
  /** The IPv4 packet's bytes, padding excluded. */
  readonly ipBytes?: Uint8Array;
  readonly icmp?: Icmpv4Repr;
  readonly udp?: UdpRepr;
  readonly tcp?: TcpRepr;
}

function must<T>(r: ParseResult<T>, what: string): T {
  if (!r.ok) throw new Error(`${what}: parse failed with '${r.reason}'`);
  return r.value;
}

/** Emits into a buffer of exactly bufferLen bytes and checks the returned length. */
function emitted(len: number, emit: (buf: Uint8Array) => number): Uint8Array {
  const buf = new Uint8Array(len).fill(0xa5); // not zero: emit must write every byte itself
  expect(emit(buf)).toBe(len);
  return buf;
}

function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  // Hex strings make a mismatch readable.
  expect(toHex(actual)).toBe(toHex(expected));
}

function isFragment(ip: Ipv4Repr): boolean {
  return ip.moreFragments || ip.fragmentOffset !== 0;
}

/** Parses and re-emits each layer of a fixture, asserting byte-for-byte equality. */
function layersOf(f: LinuxPacketFixture): Layers {
  const frame = fromHex(f.hex);
  const eth = must(parseEthernet(frame), 'ethernet');
  // Ethernet's payload includes any link padding, so the whole frame re-emits.
  expectSameBytes(emitted(ethernetBufferLen(eth), (b) => emitEthernet(eth, b)), frame);

  if (eth.ethertype === EtherType.Arp) {
    const arp = must(parseArp(eth.payload), 'arp');
    const len = arpBufferLen(arp);
    expectSameBytes(emitted(len, (b) => emitArp(arp, b)), eth.payload.subarray(0, len));
    expect(eth.payload.subarray(len).every((x) => x === 0)).toBe(true); // only zero padding follows
    return { frame, eth, arp };
  }

  expect(eth.ethertype).toBe(EtherType.Ipv4);
  const ip = must(parseIpv4(eth.payload), 'ipv4'); // verifies the header checksum
  const ipLen = ipv4BufferLen(ip);
  const ipBytes = eth.payload.subarray(0, ipLen);
  expectSameBytes(emitted(ipLen, (b) => emitIpv4(ip, b)), ipBytes);
  expect(eth.payload.subarray(ipLen).every((x) => x === 0)).toBe(true);
  if (isFragment(ip)) return { frame, eth, ip, ipBytes };

  const pseudo = { src: ip.src, dst: ip.dst };
  switch (ip.protocol) {
    case IpProtocol.Icmp: {
      const icmp = must(parseIcmpv4(ip.payload), 'icmpv4');
      expectSameBytes(emitted(icmpv4BufferLen(icmp), (b) => emitIcmpv4(icmp, b)), ip.payload);
      return { frame, eth, ip, ipBytes, icmp };
    }
    case IpProtocol.Udp: {
      const udp = must(parseUdp(ip.payload, pseudo), 'udp');
      expectSameBytes(emitted(udpBufferLen(udp), (b) => emitUdp(udp, b, pseudo)), ip.payload);
      return { frame, eth, ip, ipBytes, udp };
    }
    case IpProtocol.Tcp: {
      const tcp = must(parseTcp(ip.payload, pseudo), 'tcp');
      expectSameBytes(emitted(tcpBufferLen(tcp), (b) => emitTcp(tcp, b, pseudo)), ip.payload);
      return { frame, eth, ip, ipBytes, tcp };
    }
    default:
      throw new Error(`unexpected IP protocol ${ip.protocol}`);
  }
}

const parsed = new Map<string, Layers>();
function layers(name: string): Layers {
  let l = parsed.get(name);
  if (l === undefined) {
    const f = linuxPackets.find((x) => x.name === name);
    if (f === undefined) throw new Error(`no fixture named ${name}`);
    l = layersOf(f);
    parsed.set(name, l);
  }
  return l;
}

function tcpOf(name: string): TcpRepr {
  const t = layers(name).tcp;
  if (t === undefined) throw new Error(`${name} is not TCP`);
  return t;
}

function udpOf(name: string): UdpRepr {
  const u = layers(name).udp;
  if (u === undefined) throw new Error(`${name} is not UDP`);
  return u;
}

function ipOf(name: string): Ipv4Repr {
  const ip = layers(name).ip;
  if (ip === undefined) throw new Error(`${name} is not IPv4`);
  return ip;
}

function icmpOf(name: string): Exclude<Icmpv4Repr, Icmpv4OtherRepr> {
  const icmp = layers(name).icmp;
  if (icmp === undefined) throw new Error(`${name} is not ICMP`);
  if (isIcmpv4Other(icmp)) throw new Error(`${name}: unexpected ICMP type ${icmp.type}`);
  return icmp;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const names = linuxPackets.map((f) => f.name);
const flagsOnly = (t: TcpRepr, flags: number): boolean => t.flags === flags;

describe('Linux fixtures', () => {
  it('are a modest, uniquely named set of Ethernet frames', () => {
    expect(linuxPackets.length).toBeGreaterThanOrEqual(25);
    expect(linuxPackets.length).toBeLessThanOrEqual(40);
    expect(new Set(names).size).toBe(names.length);
    for (const f of linuxPackets) expect(f.linkType).toBe('ethernet');
  });

  it.each(names)('%s: every layer parses, verifies and re-emits byte for byte', (name) => {
    layers(name);
  });
});

describe('facts Linux put in the fixtures', () => {
  it('ARP request and reply', () => {
    const req = layers('arp-request');
    expect(req.eth.dst).toBe(MAC_BROADCAST);
    expect(req.arp).toEqual({ operation: ArpOperation.Request, senderMac: MAC_A, senderIp: A, targetMac: 0, targetIp: R });
    const rep = layers('arp-reply');
    expect(rep.eth.dst).toBe(MAC_A);
    expect(rep.arp).toEqual({ operation: ArpOperation.Reply, senderMac: MAC_R, senderIp: R, targetMac: MAC_A, targetIp: A });
  });

  it('ICMP echo request and reply match', () => {
    for (const [q, r] of [
      ['icmp-echo-request', 'icmp-echo-reply'],
      ['icmp-echo-request-rr', 'icmp-echo-reply-rr'],
    ] as const) {
      const req = icmpOf(q);
      const rep = icmpOf(r);
      if (req.type !== Icmpv4Type.EchoRequest || rep.type !== Icmpv4Type.EchoReply) throw new Error('not an echo pair');
      expect(rep.identifier).toBe(req.identifier);
      expect(rep.sequence).toBe(req.sequence);
      expect(bytesEqual(rep.data, req.data)).toBe(true);
      expect(ipOf(q).src).toBe(A);
      expect(ipOf(r).src).toBe(R);
    }
    expect(ipOf('icmp-echo-request').options.length).toBe(0);
  });

  it('ping -R carries a Record Route option that R filled in', () => {
    const recorded = (name: string): number[] => {
      const opts = [...ipv4Options(ipOf(name).options)];
      expect(opts.every((o) => o.ok)).toBe(true);
      // Linux's ping -R writes nop, then Record Route (RFC 791 type 7), then end of list.
      const rr = opts.find((o) => o.ok && o.value.type === 7);
      if (rr === undefined || !rr.ok) throw new Error('no Record Route option');
      expect(rr.value.length).toBe(39); // room for 9 addresses
      const pointer = rr.value.data[0]!;
      const route: number[] = [];
      // RFC 791: the pointer is 1-based from the option's type octet, smallest legal value 4.
      for (let at = 4; at < pointer; at += 4) route.push(readU32(rr.value.data, at - 3));
      return route;
    };
    expect(ipOf('icmp-echo-request-rr').options.length).toBe(40);
    const out = recorded('icmp-echo-request-rr');
    const back = recorded('icmp-echo-reply-rr');
    expect(out).toEqual([A]);
    expect(back.length).toBeGreaterThan(out.length);
    expect(back[0]).toBe(A);
    expect(back).toContain(R);
  });

  it('TCP handshake: Linux SYN options in Linux layout', () => {
    const conn = names.filter((n) => n.startsWith('tcp-conn-')).map(tcpOf);
    const syn = conn.find((t) => flagsOnly(t, TcpFlag.SYN))!;
    const synAck = conn.find((t) => flagsOnly(t, TcpFlag.SYN | TcpFlag.ACK))!;
    expect(syn.dstPort).toBe(5000);
    for (const s of [syn, synAck]) {
      const o = summarizeTcpOptions(s.options);
      expect(o.mss).toBe(1460);
      expect(o.sackPermitted).toBe(true);
      expect(o.timestamps).toBeDefined();
      expect(o.windowScale).toBeGreaterThanOrEqual(7); // 7 with default buffers, 10 with large ones
      // mss, sackOK, TS, nop, wscale: our builder reproduces Linux's layout exactly.
      expect(s.options).toEqual(synOptions({ mss: 1460, sackPermitted: true, timestamps: o.timestamps!, windowScale: o.windowScale! }));
    }
    expect(summarizeTcpOptions(syn.options).timestamps!.tsEcr).toBe(0);
    expect(synAck.ack).toBe((syn.seq + 1) >>> 0);
    expect(summarizeTcpOptions(synAck.options).timestamps!.tsEcr).toBe(summarizeTcpOptions(syn.options).timestamps!.tsVal);
  });

  it('TCP data both ways, acknowledged, then FIN/ACK teardown', () => {
    const conn = names.filter((n) => n.startsWith('tcp-conn-')).map(tcpOf);
    const syn = conn.find((t) => flagsOnly(t, TcpFlag.SYN))!;
    const synAck = conn.find((t) => flagsOnly(t, TcpFlag.SYN | TcpFlag.ACK))!;
    const fromA = conn.filter((t) => t.srcPort === syn.srcPort);
    const fromR = conn.filter((t) => t.srcPort === 5000);
    expect(fromA.length + fromR.length).toBe(conn.length);

    const req = fromA.find((t) => t.payload.length > 0)!;
    const rep = fromR.find((t) => t.payload.length > 0)!;
    expect(text(req.payload)).toBe('hello from A, sockstack fixture request\n');
    expect(text(rep.payload)).toBe('hello from R, sockstack fixture reply\n');
    expect(req.seq).toBe((syn.seq + 1) >>> 0);
    expect(rep.seq).toBe((synAck.seq + 1) >>> 0);
    const reqEnd = (req.seq + req.payload.length) >>> 0;
    expect(fromR.some((t) => t.ack === reqEnd)).toBe(true);
    // Every non-SYN segment carries nop,nop,TS as Linux lays it out.
    for (const t of conn.filter((s) => (s.flags & TcpFlag.SYN) === 0)) {
      expect(t.options).toEqual(dataOptions({ timestamps: summarizeTcpOptions(t.options).timestamps! }));
    }

    const finA = fromA.find((t) => (t.flags & TcpFlag.FIN) !== 0)!;
    const finR = fromR.find((t) => (t.flags & TcpFlag.FIN) !== 0)!;
    expect(finA.seq).toBe(reqEnd);
    expect(finR.ack).toBe((finA.seq + 1) >>> 0); // R acknowledges A's FIN
    const last = conn[conn.length - 1]!;
    expect(last.flags).toBe(TcpFlag.ACK);
    expect(last.ack).toBe((finR.seq + 1) >>> 0); // A acknowledges R's FIN
  });

  it('TCP RST from a closed port', () => {
    const syn = tcpOf('tcp-rst-syn');
    const rst = tcpOf('tcp-rst');
    expect(rst.flags).toBe(TcpFlag.RST | TcpFlag.ACK);
    expect(rst.srcPort).toBe(5999);
    expect(rst.dstPort).toBe(syn.srcPort);
    expect(rst.ack).toBe((syn.seq + 1) >>> 0);
    expect(rst.window).toBe(0);
    expect(rst.options).toEqual([]);
    expect(rst.payload.length).toBe(0);
  });

  it('UDP echo', () => {
    const req = udpOf('udp-request');
    const rep = udpOf('udp-reply');
    expect(req.dstPort).toBe(6000);
    expect(rep.srcPort).toBe(6000);
    expect(rep.dstPort).toBe(req.srcPort);
    expect(req.payload.length).toBe(64);
    expect(bytesEqual(rep.payload, req.payload)).toBe(true);
  });

  it('ICMP port unreachable quotes the datagram it is about', () => {
    const dgram = layers('udp-closed-port');
    const icmp = icmpOf('icmp-port-unreachable');
    if (icmp.type !== Icmpv4Type.DestinationUnreachable) throw new Error('not unreachable');
    expect(icmp.code).toBe(Icmpv4UnreachableCode.PortUnreachable);
    // A short datagram is quoted whole (RFC 1812 4.3.2.3: up to 576 bytes).
    expect(toHex(icmp.quoted)).toBe(toHex(dgram.ipBytes!));
    const q = must(parseIcmpQuote(icmp.quoted), 'quote');
    expect(q).toMatchObject({ src: A, dst: R, protocol: IpProtocol.Udp, fragmentOffset: 0 });
    expect(q.srcPort).toBe(udpOf('udp-closed-port').srcPort);
    expect(q.dstPort).toBe(6001);
  });

  it('IPv4 fragments add up to the 4000-byte UDP datagram', () => {
    const frags = names.filter((n) => n.startsWith('udp-fragment-')).map(ipOf);
    expect(frags.length).toBeGreaterThanOrEqual(3);
    frags.sort((x, y) => x.fragmentOffset - y.fragmentOffset);
    let next = 0;
    for (const [i, f] of frags.entries()) {
      expect(f.identification).toBe(frags[0]!.identification);
      expect(f.protocol).toBe(IpProtocol.Udp);
      expect(f.fragmentOffset).toBe(next);
      expect(f.moreFragments).toBe(i < frags.length - 1);
      if (f.moreFragments) expect(f.payload.length % 8).toBe(0); // RFC 791: only the last may be ragged
      next += f.payload.length;
    }
    expect(next).toBe(8 + 4000);
    const whole = new Uint8Array(next);
    for (const f of frags) whole.set(f.payload, f.fragmentOffset);
    // The UDP checksum spans all fragments: it verifies only if they were cut where the offsets say.
    const udp = must(parseUdp(whole, { src: frags[0]!.src, dst: frags[0]!.dst }), 'reassembled udp');
    expect(udp.dstPort).toBe(6000);
    expect(udp.payload.length).toBe(4000);
    expect(text(udp.payload.subarray(0, 22))).toBe('sockstack udp fixture ');
    expectSameBytes(emitted(udpBufferLen(udp), (b) => emitUdp(udp, b, { src: frags[0]!.src, dst: frags[0]!.dst })), whole);
    // A first fragment alone does not hold the datagram its UDP length claims.
    const first = parseUdp(frags[0]!.payload);
    expect(first.ok ? 'ok' : first.reason).toBe('bad-length');
  });

  it('SACK blocks describe data above the cumulative ACK, in Linux layout', () => {
    const sacks = names.filter((n) => n.startsWith('tcp-sack')).map(tcpOf);
    expect(sacks.length).toBeGreaterThanOrEqual(3);
    for (const t of sacks) {
      const o = summarizeTcpOptions(t.options);
      expect(t.srcPort).toBe(5001);
      expect(o.sackBlocks.length).toBeGreaterThanOrEqual(1);
      for (const b of o.sackBlocks) {
        // Modular distances: both edges above the ACK, the right one past the left.
        expect(((b.left - t.ack) | 0) > 0).toBe(true);
        expect(((b.right - b.left) | 0) > 0).toBe(true);
      }
      expect(t.options).toEqual(dataOptions({ timestamps: o.timestamps!, sackBlocks: o.sackBlocks }));
    }
    expect(summarizeTcpOptions(tcpOf('tcp-sack-multi').options).sackBlocks.length).toBeGreaterThanOrEqual(2);
    const rtx = tcpOf('tcp-bulk-retransmit');
    expect(rtx.dstPort).toBe(5001);
    expect(rtx.payload.length).toBeGreaterThan(0);
    // A resends the hole: data at a cumulative ACK that R sent with SACK blocks.
    expect(sacks.some((t) => t.ack === rtx.seq)).toBe(true);
  });

  it('ICMP time exceeded quotes the TTL 1 echo request', () => {
    const icmp = icmpOf('icmp-time-exceeded');
    if (icmp.type !== Icmpv4Type.TimeExceeded) throw new Error('not time exceeded');
    expect(icmp.code).toBe(0);
    expect(ipOf('icmp-time-exceeded').src).toBe(R);
    expect(toHex(icmp.quoted)).toBe(toHex(layers('icmp-echo-request-ttl1').ipBytes!));
    const q = must(parseIcmpQuote(icmp.quoted), 'quote');
    expect(q).toMatchObject({ src: A, dst: B, protocol: IpProtocol.Icmp, ttl: 1 });
  });

  it('ICMP fragmentation needed carries the next-hop MTU and a 576-byte-limited quote', () => {
    const icmp = icmpOf('icmp-frag-needed');
    if (icmp.type !== Icmpv4Type.DestinationUnreachable) throw new Error('not unreachable');
    expect(icmp.code).toBe(Icmpv4UnreachableCode.FragmentationNeeded);
    expect(icmp.nextHopMtu).toBe(1280);
    const big = layers('icmp-echo-request-df').ipBytes!;
    expect(big.length).toBe(1428);
    expect(ipv4BufferLen(ipOf('icmp-frag-needed'))).toBeLessThanOrEqual(576);
    expect(toHex(icmp.quoted)).toBe(toHex(big.subarray(0, icmp.quoted.length)));
    const q = must(parseIcmpQuote(icmp.quoted), 'quote');
    expect(q).toMatchObject({ src: A, dst: B, dontFragment: true, totalLength: 1428 });
    expect(q.transport.length).toBe(icmp.quoted.length - 20);
    expect(readU16(q.transport, 0)).toBe(0x0800); // the quoted echo request's type and code
  });
});
