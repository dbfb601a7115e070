// Writes captures of mixed traffic with our own emitters and PcapWriter and
// has Wireshark's tshark read them back: every frame must be there, decoded
// as the protocol we meant, with good checksums, no malformed-packet errors
// and the timestamps we wrote. This checks the pcap writer and, through
// tshark's independent dissectors, the wire emitters too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LinkType } from '../src/link/link.js';
import { PcapWriter, readPcap } from '../src/link/pcap.js';
import type { PcapResolution } from '../src/link/pcap.js';
import { createPcapFile } from '../src/node/pcap-file.js';
import { CHECK_CHECKSUMS, CHECKSUM_FIELDS, checksumStatus, damage, DAMAGE_FIELDS, findTshark, runTshark, tsharkFields } from './helpers/tshark.js';
import { Instant, instantAdd } from '../src/time/instant.js';
import { Duration } from '../src/time/duration.js';
import type { Ipv4Address, MacAddress } from '../src/wire/address.js';
import { ipv4, MAC_BROADCAST, MAC_ZERO } from '../src/wire/address.js';
import { ArpOperation, emitArp, ARP_PACKET_LEN } from '../src/wire/arp.js';
import type { ArpRepr } from '../src/wire/arp.js';
import { emitEthernet, ethernetBufferLen, ETHERNET_MIN_FRAME_LEN, EtherType } from '../src/wire/ethernet.js';
import type { EthernetRepr } from '../src/wire/ethernet.js';
import { emitIcmpv4, icmpv4BufferLen, Icmpv4Type, Icmpv4UnreachableCode } from '../src/wire/icmpv4.js';
import type { Icmpv4Repr } from '../src/wire/icmpv4.js';
import { emitIpv4, IpProtocol, ipv4BufferLen } from '../src/wire/ipv4.js';
import type { Ipv4Repr } from '../src/wire/ipv4.js';
import { emitTcp, TcpFlag, tcpBufferLen } from '../src/wire/tcp.js';
import type { TcpRepr } from '../src/wire/tcp.js';
import { dataOptions, synOptions } from '../src/wire/tcp-options.js';
import type { TcpOption } from '../src/wire/tcp-options.js';
import { emitUdp, udpBufferLen } from '../src/wire/udp.js';

// ---------------------------------------------------------------------------
// Building the traffic

interface Host {
  readonly mac: MacAddress;
  readonly ip: Ipv4Address;
}

const A: Host = { mac: 0x02_00_5e_00_00_0a, ip: ipv4('10.0.0.1') };
const B: Host = { mac: 0x02_00_5e_00_00_0b, ip: ipv4('10.0.0.2') };

/** One captured packet: an ARP message (Ethernet only) or an IPv4 datagram. */
interface Packet {
  readonly from: Host;
  readonly to: Host;
  readonly ethertype: number;
  /** The bytes after the Ethernet header (for raw-IP captures: the whole frame). */
  readonly bytes: Uint8Array;
  /** A protocol tshark must list for this frame (its frame.protocols). */
  readonly expect: string;
  readonly what: string;
}

function build<R>(repr: R, len: number, emit: (r: R, buf: Uint8Array) => number): Uint8Array {
  const buf = new Uint8Array(len);
  const n = emit(repr, buf);
  expect(n).toBe(len);
  return buf;
}

/** Sequence arithmetic for the test's own bookkeeping: uint32, wrapping. */
const seq = (x: number, n: number): number => (x + n) >>> 0;

type Segment = Omit<TcpRepr, 'urgentPointer' | 'payload'> & { readonly payload?: Uint8Array };

class Traffic {
  readonly packets: Packet[] = [];
  #ipId = 0x1000;

  arp(what: string, from: Host, to: Host | undefined, repr: ArpRepr): void {
    const bytes = build(repr, ARP_PACKET_LEN, emitArp);
    const dst = to ?? { mac: MAC_BROADCAST, ip: repr.targetIp };
    this.packets.push({ from, to: dst, ethertype: EtherType.Arp, bytes, expect: 'arp', what });
  }

  ip(
    what: string,
    from: Host,
    to: Host,
    protocol: number,
    payload: Uint8Array,
    expect: string,
    extra: Partial<Ipv4Repr> = {},
  ): Uint8Array {
    const repr: Ipv4Repr = {
      src: from.ip,
      dst: to.ip,
      protocol,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      identification: this.#ipId++,
      dontFragment: protocol === IpProtocol.Tcp,
      moreFragments: false,
      fragmentOffset: 0,
      options: new Uint8Array(0),
      payload,
      ...extra,
    };
    const bytes = build(repr, ipv4BufferLen(repr), (r, b) => emitIpv4(r, b));
    this.packets.push({ from, to, ethertype: EtherType.Ipv4, bytes, expect, what });
    return bytes;
  }

  icmp(what: string, from: Host, to: Host, repr: Icmpv4Repr): Uint8Array {
    const msg = build(repr, icmpv4BufferLen(repr), emitIcmpv4);
    return this.ip(what, from, to, IpProtocol.Icmp, msg, 'icmp');
  }

  udp(what: string, from: Host, to: Host, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
    const dgram = udpDatagram(from, to, srcPort, dstPort, data);
    return this.ip(what, from, to, IpProtocol.Udp, dgram, 'udp');
  }

  tcp(what: string, from: Host, to: Host, seg: Segment): void {
    const repr: TcpRepr = { urgentPointer: 0, payload: new Uint8Array(0), ...seg };
    const bytes = build(repr, tcpBufferLen(repr), (r, b) => emitTcp(r, b, { src: from.ip, dst: to.ip }));
    this.ip(what, from, to, IpProtocol.Tcp, bytes, 'tcp');
  }
}

function udpDatagram(from: Host, to: Host, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  const repr = { srcPort, dstPort, payload: data };
  return build(repr, udpBufferLen(repr), (r, b) => emitUdp(r, b, { src: from.ip, dst: to.ip }));
}

/** Deterministic filler: no RNG needed, just bytes that are not all alike. */
function pattern(len: number, salt: number): Uint8Array {
  return new Uint8Array(len).map((_, i) => (i * 7 + salt) & 0xff);
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * ARP, ping, UDP, an ICMP port unreachable, a TCP connection with the usual
 * options and one SACKed loss, and a UDP datagram in two fragments. Ports are
 * ones Wireshark has no dissector for, so the data shows as plain "data"
 * instead of as a malformed DNS or HTTP message.
 */
function scenario(withArp: boolean): Packet[] {
  const t = new Traffic();
  if (withArp) {
    t.arp('ARP request', A, undefined, {
      operation: ArpOperation.Request,
      senderMac: A.mac,
      senderIp: A.ip,
      targetMac: MAC_ZERO,
      targetIp: B.ip,
    });
    t.arp('ARP reply', B, A, {
      operation: ArpOperation.Reply,
      senderMac: B.mac,
      senderIp: B.ip,
      targetMac: A.mac,
      targetIp: A.ip,
    });
  }
  t.icmp('echo request', A, B, { type: Icmpv4Type.EchoRequest, identifier: 0x4d2, sequence: 1, data: pattern(56, 1) });
  t.icmp('echo reply', B, A, { type: Icmpv4Type.EchoReply, identifier: 0x4d2, sequence: 1, data: pattern(56, 1) });
  t.udp('UDP with payload', A, B, 45_000, 34_567, ascii('hello from sockstack'));
  // Odd length, to a closed port: B answers with a port unreachable quoting it whole.
  const refused = t.udp('UDP to a closed port', A, B, 45_001, 34_568, ascii('anyone there?'));
  t.icmp('port unreachable', B, A, {
    type: Icmpv4Type.DestinationUnreachable,
    code: Icmpv4UnreachableCode.PortUnreachable,
    nextHopMtu: 0,
    quoted: refused,
  });

  // TCP: A's ISN is arbitrary; B's is just below 2^32 so the data wraps it.
  const a = 0x1234_5678;
  const b = 0xffff_fe0c;
  const AP = 50_000;
  const BP = 40_080;
  const synOpts = synOptions({
    mss: 1460,
    sackPermitted: true,
    timestamps: { tsVal: 1000, tsEcr: 0 },
    windowScale: 7,
  });
  const A_ = { srcPort: AP, dstPort: BP };
  const B_ = { srcPort: BP, dstPort: AP };
  t.tcp('SYN', A, B, { ...A_, seq: a, ack: 0, flags: TcpFlag.SYN, window: 64_240, options: synOpts });
  t.tcp('SYN-ACK', B, A, {
    ...B_,
    seq: b,
    ack: seq(a, 1),
    flags: TcpFlag.SYN | TcpFlag.ACK,
    window: 65_160,
    options: synOptions({ mss: 1400, sackPermitted: true, timestamps: { tsVal: 5000, tsEcr: 1000 }, windowScale: 9 }),
  });
  const ts = (tsVal: number, tsEcr: number): TcpOption[] => dataOptions({ timestamps: { tsVal, tsEcr } });
  t.tcp('ACK', A, B, {
    ...A_,
    seq: seq(a, 1),
    ack: seq(b, 1),
    flags: TcpFlag.ACK,
    window: 502,
    options: ts(1001, 5000),
  });
  const request = ascii('GET /index.html\r\n');
  t.tcp('request', A, B, {
    ...A_,
    seq: seq(a, 1),
    ack: seq(b, 1),
    flags: TcpFlag.PSH | TcpFlag.ACK,
    window: 502,
    options: ts(1002, 5000),
    payload: request,
  });
  const aData = seq(a, 1 + request.length);
  const part = (i: number): Uint8Array => pattern(500, 0x30 + i);
  for (let i = 0; i < 3; i++) {
    t.tcp(`response segment ${i + 1}`, B, A, {
      ...B_,
      seq: seq(b, 1 + 500 * i),
      ack: aData,
      flags: i === 2 ? TcpFlag.PSH | TcpFlag.ACK : TcpFlag.ACK,
      window: 509,
      options: ts(5001 + i, 1002),
      payload: part(i),
    });
  }
  // Segment 2 was lost after the capture point: A acknowledges segment 1 and SACKs segment 3.
  t.tcp('ACK with SACK', A, B, {
    ...A_,
    seq: aData,
    ack: seq(b, 501),
    flags: TcpFlag.ACK,
    window: 500,
    options: dataOptions({
      timestamps: { tsVal: 1003, tsEcr: 5003 },
      sackBlocks: [{ left: seq(b, 1001), right: seq(b, 1501) }],
    }),
  });
  t.tcp('retransmission', B, A, {
    ...B_,
    seq: seq(b, 501),
    ack: aData,
    flags: TcpFlag.ACK,
    window: 509,
    options: ts(5010, 1003),
    payload: part(1),
  });
  t.tcp('cumulative ACK', A, B, {
    ...A_,
    seq: aData,
    ack: seq(b, 1501),
    flags: TcpFlag.ACK,
    window: 502,
    options: ts(1004, 5010),
  });
  t.tcp('FIN from A', A, B, {
    ...A_,
    seq: aData,
    ack: seq(b, 1501),
    flags: TcpFlag.FIN | TcpFlag.ACK,
    window: 502,
    options: ts(1005, 5010),
  });
  t.tcp('FIN from B', B, A, {
    ...B_,
    seq: seq(b, 1501),
    ack: seq(aData, 1),
    flags: TcpFlag.FIN | TcpFlag.ACK,
    window: 509,
    options: ts(5011, 1005),
  });
  t.tcp('last ACK', A, B, {
    ...A_,
    seq: seq(aData, 1),
    ack: seq(b, 1502),
    flags: TcpFlag.ACK,
    window: 502,
    options: ts(1006, 5011),
  });

  // A 2008-byte UDP datagram in two fragments; the checksum covers all of it.
  const big = udpDatagram(A, B, 45_002, 34_569, pattern(2000, 9));
  const cut = 1480; // a multiple of 8 (RFC 791: offsets count 8-byte units)
  const id = { identification: 0xbeef };
  t.ip('first fragment', A, B, IpProtocol.Udp, big.subarray(0, cut), 'ip', { ...id, moreFragments: true });
  t.ip('last fragment', A, B, IpProtocol.Udp, big.subarray(cut), 'udp', { ...id, fragmentOffset: cut });
  return t.packets;
}

function frames(packets: Packet[], linkType: LinkType): Uint8Array[] {
  if (linkType === LinkType.RawIp) return packets.map((p) => p.bytes);
  return packets.map((p) => {
    const repr: EthernetRepr = { dst: p.to.mac, src: p.from.mac, ethertype: p.ethertype, payload: p.bytes };
    const opts = { minFrameLen: ETHERNET_MIN_FRAME_LEN }; // padded like a real wire
    return build(repr, ethernetBufferLen(repr, opts), (r, b) => emitEthernet(r, b, opts));
  });
}

/** Timestamps with uneven microsecond parts, crossing a second boundary. */
function timestamps(n: number): Instant[] {
  const start = Instant.fromMicros(1_700_000_000_999_000);
  return Array.from({ length: n }, (_, i) => instantAdd(start, Duration.fromMicros(i * 137_071 + (i % 3))));
}

/** "1700000001.136071" from an instant: exact, no floating point. */
function epochString(t: Instant): string {
  const us = Instant.toMicros(t);
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
}

// ---------------------------------------------------------------------------
// Asking tshark

interface FrameReport {
  readonly number: number;
  readonly epoch: string;
  readonly len: number;
  readonly protocols: string[];
  /** Every checksum status tshark reports in the frame: 'good', 'bad' or 'unverified'. */
  readonly checksums: string[];
  /** What tshark says is damaged in the frame (helpers/tshark.ts damage()). */
  readonly problems: string[];
}

const FIELDS = ['frame.number', 'frame.time_epoch', 'frame.len', 'frame.protocols', ...CHECKSUM_FIELDS, ...DAMAGE_FIELDS] as const;

function tsharkFrames(tshark: string, file: string): FrameReport[] {
  return tsharkFields(tshark, file, FIELDS).map((get) => ({
    number: Number(get('frame.number')[0]),
    epoch: get('frame.time_epoch')[0] ?? '',
    len: Number(get('frame.len')[0]),
    protocols: (get('frame.protocols')[0] ?? '').split(':'),
    checksums: CHECKSUM_FIELDS.flatMap((f) => get(f)).map(checksumStatus),
    problems: damage(get),
  }));
}

// ---------------------------------------------------------------------------

const tshark = findTshark();
const dir = mkdtempSync(join(tmpdir(), 'sockstack-tshark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CASES: { name: string; linkType: LinkType; resolution: PcapResolution; arp: boolean }[] = [
  { name: 'ethernet-us', linkType: LinkType.Ethernet, resolution: 'us', arp: true },
  // ARP does not exist without a link layer: the raw-IP capture has the rest.
  { name: 'raw-ip-ns', linkType: LinkType.RawIp, resolution: 'ns', arp: false },
];

describe('pcap files read by tshark', () => {
  if (tshark === undefined) {
    const reason = 'tshark is not installed (Debian package "tshark"); run the project setup to install it';
    if (process.env.CI !== undefined && process.env.CI !== '') {
      it('needs tshark', () => {
        throw new Error(`${reason}. CI must run these checks.`);
      });
    } else {
      console.warn(`[pcap-tshark] SKIPPED: ${reason}.`);
      it.skip(`SKIPPED: ${reason}`, () => undefined);
    }
    return;
  }
  const bin = tshark;

  for (const c of CASES) {
    it(`decodes every frame of a ${c.name} capture with good checksums and exact timestamps`, () => {
      const packets = scenario(c.arp);
      const data = frames(packets, c.linkType);
      const times = timestamps(data.length);
      const file = join(dir, `${c.name}.pcap`);
      const cap = createPcapFile(file, { linkType: c.linkType, resolution: c.resolution });
      data.forEach((f, i) => cap.writer.writePacket(times[i]!, f));
      cap.close();
      expect(cap.writer.frames).toBe(data.length);

      // Our own reader agrees first: a cheap check with a clear failure message.
      const own = readPcap(new Uint8Array(readFileSync(file)));
      if (!own.ok) throw new Error(`readPcap: ${own.reason}`);
      expect(own.value.records.map((r) => r.at)).toEqual(times);

      const report = tsharkFrames(bin, file);
      expect(report.map((f) => f.number)).toEqual(data.map((_, i) => i + 1));
      expect(report.map((f) => f.len)).toEqual(data.map((f) => f.length));
      // tshark prints nanoseconds for both resolutions; ours are whole microseconds.
      expect(report.map((f) => f.epoch)).toEqual(times.map((t) => `${epochString(t)}000`));

      const link = c.linkType === LinkType.Ethernet ? 'eth' : 'raw';
      report.forEach((f, i) => {
        const p = packets[i]!;
        const where = `frame ${f.number} (${p.what}): ${f.protocols.join(':')}`;
        expect(f.protocols[0], where).toBe(link);
        expect(f.protocols, where).toContain(p.expect);
        expect(f.problems, where).toEqual([]);
      });
      // Checksums were verified, not skipped: every IP header and every
      // ICMP/UDP/TCP checksum (quoted ones inside the port unreachable too).
      const statuses = report.flatMap((f) => f.checksums);
      expect(statuses.filter((s) => s !== 'good')).toEqual([]);
      const ipPackets = packets.filter((p) => p.ethertype === EtherType.Ipv4).length;
      expect(statuses.length).toBeGreaterThanOrEqual(2 * ipPackets - 1); // first fragment: IP only
      // The fragments were reassembled into the UDP datagram we meant.
      expect(report.at(-1)!.protocols).toEqual([link, ...(link === 'eth' ? ['ethertype'] : []), 'ip', 'udp', 'data']);

      // And the human-readable expert summary agrees: no errors at all, no warnings about damage.
      const expert = runTshark(bin, ['-r', file, ...CHECK_CHECKSUMS, '-z', 'expert', '-q']);
      expect(expert).not.toMatch(/^Errors \(/m);
      expect(expert).not.toMatch(/malformed|bad checksum/i);
    });
  }

  it('notices damage: a bad checksum and a cut packet are reported (so the checks above can fail)', () => {
    const packets = scenario(false);
    const data = frames(packets, LinkType.RawIp).map((f) => f.slice());
    const syn = packets.findIndex((p) => p.what === 'SYN');
    const udp = packets.findIndex((p) => p.what === 'UDP with payload');
    const synBytes = data[syn]!;
    synBytes[20 + 16] = synBytes[20 + 16]! ^ 0x01; // flip a bit of the TCP checksum
    // Cut the UDP datagram's payload while its length fields still claim the whole.
    data[udp] = data[udp]!.subarray(0, 20 + 10);
    const chunks: Uint8Array[] = [];
    const w = new PcapWriter((ch) => chunks.push(ch), { linkType: LinkType.RawIp });
    const times = timestamps(data.length);
    data.forEach((f, i) => w.writePacket(times[i]!, f));
    const file = join(dir, 'damaged.pcap');
    writeFileSync(file, Buffer.concat(chunks));

    const report = tsharkFrames(bin, file);
    expect(report).toHaveLength(data.length);
    expect(report[syn]!.problems).toContain('bad tcp checksum');
    expect(report[udp]!.problems.length).toBeGreaterThan(0);
    const clean = report.filter((_, i) => i !== syn && i !== udp);
    expect(clean.flatMap((f) => f.problems)).toEqual([]);
    const expert = runTshark(bin, ['-r', file, ...CHECK_CHECKSUMS, '-z', 'expert', '-q']);
    expect(expert).toMatch(/^Errors \(/m);
    expect(expert).toMatch(/bad checksum/i);
  });
});
