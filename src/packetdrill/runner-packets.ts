/**
 * Packet translation for the packetdrill runner: script TCP lines to IPv4
 * bytes (injected), and captured IPv4 bytes back to script form (matched
 * and printed). Sequence numbers are relative the way packetdrill writes
 * them: inbound values are used as they are (the script is the remote end
 * and picks its own ISN), outbound ones are shown relative to the stack's
 * ISN, which the stack's first SYN (or SYN-ACK) reveals.
 */
import type { IpInfo, TcpOptionSpec, TcpPacketSpec } from './ast.js';
import { IpProtocol, emitIpv4, ipv4BufferLen, parseIpv4 } from '../wire/ipv4.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import { emitTcp, parseTcp, TcpFlag, tcpBufferLen } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { TcpOption } from '../wire/tcp-options.js';
import type { Ipv4Address } from '../wire/address.js';
import { seqAdd } from '../tcp/seq.js';

/** The per-script state that relative numbers depend on. */
export interface FlowState {
  localIp: Ipv4Address;
  remoteIp: Ipv4Address;
  localPort: number;
  remotePort: number;
  /** The stack's ISN, known once it has sent a SYN. */
  localIsn: number;
  /** The script's ISN: its values are absolute, so 0. */
  readonly remoteIsn: number;
  /** TS val the stack sent last: inbound `ecr` values are rewritten to it. */
  lastTsVal: number | null;
}

const FLAG_LETTERS: readonly (readonly [string, number])[] = [
  ['F', TcpFlag.FIN],
  ['S', TcpFlag.SYN],
  ['R', TcpFlag.RST],
  ['P', TcpFlag.PSH],
  ['U', TcpFlag.URG],
  ['E', TcpFlag.ECE],
  ['W', TcpFlag.CWR],
];

export function flagsFromSpec(spec: TcpPacketSpec): number {
  let f = spec.ackFlag ? TcpFlag.ACK : 0;
  for (const ch of spec.flags) for (const [l, bit] of FLAG_LETTERS) if (l === ch) f |= bit;
  return f;
}

/** Flag letters in packetdrill's order (`S`, `F`, `R`, `P`, ...), without the ACK dot. */
function flagLetters(flags: number): string {
  let s = '';
  for (const [l, bit] of [
    ['S', TcpFlag.SYN],
    ['F', TcpFlag.FIN],
    ['R', TcpFlag.RST],
    ['P', TcpFlag.PSH],
    ['U', TcpFlag.URG],
    ['E', TcpFlag.ECE],
    ['W', TcpFlag.CWR],
  ] as const) {
    if ((flags & bit) !== 0) s += l;
  }
  return s;
}

const ECN_BITS = { noecn: 0, ect1: 1, ect0: 2, ect01: 2, ce: 3 } as const;

function ecnName(bits: number): IpInfo['ecn'] {
  return bits === 1 ? 'ect1' : bits === 2 ? 'ect0' : bits === 3 ? 'ce' : 'noecn';
}

function hexBytes(hex: string): Uint8Array {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(clean.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function optionToWire(o: TcpOptionSpec, flow: FlowState): TcpOption {
  switch (o.kind) {
    case 'nop':
      return { kind: 'nop' };
    case 'eol':
      return { kind: 'eol' };
    case 'mss':
      return { kind: 'mss', value: o.value };
    case 'wscale':
      return { kind: 'window-scale', shift: o.value };
    case 'sackOK':
      return { kind: 'sack-permitted' };
    case 'sack':
      // Inbound SACK blocks acknowledge the stack's data: relative to its ISN.
      return { kind: 'sack', blocks: o.blocks.map(([l, r]) => ({ left: seqAdd(flow.localIsn, l), right: seqAdd(flow.localIsn, r) })) };
    case 'timestamp': {
      const val = o.val === '*' ? 0 : o.val;
      // packetdrill rewrites the script's ecr to a TS val the stack really sent, so PAWS/RTT see sane values.
      const ecr = o.ecr === '*' || o.ecr === 0 ? (o.ecr === 0 ? 0 : (flow.lastTsVal ?? 0)) : (flow.lastTsVal ?? o.ecr);
      return { kind: 'timestamps', tsVal: val >>> 0, tsEcr: ecr >>> 0 };
    }
    case 'md5':
      return { kind: 'unknown', type: 19, data: hexBytes(o.digest).subarray(0, 16) };
    case 'fastOpen': {
      const cookie = o.cookie === null ? new Uint8Array(0) : hexBytes(o.cookie);
      if (o.experimental) {
        const data = new Uint8Array(2 + cookie.length);
        data[0] = 0xf9;
        data[1] = 0x89;
        data.set(cookie, 2);
        return { kind: 'unknown', type: 254, data };
      }
      return { kind: 'unknown', type: 34, data: cookie };
    }
  }
}

/** Builds the IPv4 packet for an inbound (`<`) TCP line. */
export function buildInboundTcp(spec: TcpPacketSpec, flow: FlowState): Uint8Array {
  const flags = flagsFromSpec(spec);
  const options = spec.options === null || spec.options === 'any' ? [] : spec.options.map((o) => optionToWire(o, flow));
  const tcp: TcpRepr = {
    srcPort: spec.ports?.src ?? flow.remotePort,
    dstPort: spec.ports?.dst ?? flow.localPort,
    seq: seqAdd(flow.remoteIsn, spec.seq.start),
    ack: spec.ack === null ? 0 : seqAdd(flow.localIsn, spec.ack),
    flags,
    window: spec.window ?? 0,
    urgentPointer: spec.urgent ?? 0,
    options,
    payload: new Uint8Array(spec.seq.length),
  };
  const seg = new Uint8Array(tcpBufferLen(tcp));
  emitTcp(tcp, seg, { src: flow.remoteIp, dst: flow.localIp });
  const ip = ipRepr(spec.ip, flow.remoteIp, flow.localIp, IpProtocol.Tcp, seg);
  const out = new Uint8Array(ipv4BufferLen(ip));
  emitIpv4(ip, out);
  return out;
}

export function ipRepr(info: IpInfo | null, src: Ipv4Address, dst: Ipv4Address, protocol: number, payload: Uint8Array): Ipv4Repr {
  const tos = info?.tos ?? 0;
  return {
    src,
    dst,
    protocol,
    ttl: info?.ttl ?? 64,
    dscp: tos >>> 2,
    ecn: info?.ecn !== undefined ? ECN_BITS[info.ecn] : tos & 3,
    identification: info?.id ?? 0,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    options: new Uint8Array(0),
    payload,
  };
}

/** A parsed outbound packet, with both the wire form and the script form. */
export interface CapturedTcp {
  readonly ip: Ipv4Repr;
  readonly tcp: TcpRepr;
}

export function parseCaptured(bytes: Uint8Array): CapturedTcp | string {
  const ip = parseIpv4(bytes);
  if (!ip.ok) return `unparsable IPv4 packet (${ip.reason})`;
  if (ip.value.protocol !== IpProtocol.Tcp) return `IP protocol ${ip.value.protocol} packet`;
  const tcp = parseTcp(ip.value.payload, { src: ip.value.src, dst: ip.value.dst });
  if (!tcp.ok) return `unparsable TCP segment (${tcp.reason})`;
  return { ip: ip.value, tcp: tcp.value };
}

/** Learns the stack's ISN and port from its SYNs, and its latest TS val. */
export function learnFromOutbound(c: CapturedTcp, flow: FlowState): void {
  if ((c.tcp.flags & TcpFlag.SYN) !== 0) {
    flow.localIsn = c.tcp.seq;
    flow.localPort = c.tcp.srcPort;
  }
  for (const o of c.tcp.options) if (o.kind === 'timestamps') flow.lastTsVal = o.tsVal;
}

function optionFromWire(o: TcpOption, flow: FlowState): TcpOptionSpec {
  switch (o.kind) {
    case 'nop':
      return { kind: 'nop' };
    case 'eol':
      return { kind: 'eol' };
    case 'mss':
      return { kind: 'mss', value: o.value };
    case 'window-scale':
      return { kind: 'wscale', value: o.shift };
    case 'sack-permitted':
      return { kind: 'sackOK' };
    case 'sack':
      return { kind: 'sack', blocks: o.blocks.map((b) => [seqAdd(b.left, -flow.remoteIsn), seqAdd(b.right, -flow.remoteIsn)] as const) };
    case 'timestamps':
      return { kind: 'timestamp', val: o.tsVal, ecr: o.tsEcr };
    case 'unknown':
      return { kind: 'md5', digest: `kind${o.type}` };
  }
}

/** The captured packet in script form (relative numbers), for matching and for "got ..." reports. */
export function capturedToSpec(c: CapturedTcp, flow: FlowState, line: number): TcpPacketSpec {
  const start = seqAdd(c.tcp.seq, -flow.localIsn);
  const len = c.tcp.payload.length;
  const acked = (c.tcp.flags & TcpFlag.ACK) !== 0;
  return {
    kind: 'tcp',
    line,
    direction: '>',
    ip: c.ip.ecn !== 0 ? { ecn: ecnName(c.ip.ecn) ?? 'noecn' } : null,
    ports: null,
    flags: flagLetters(c.tcp.flags),
    ackFlag: acked,
    seq: { start, end: seqAdd(start, len), length: len },
    ack: acked ? seqAdd(c.tcp.ack, -flow.remoteIsn) : null,
    window: c.tcp.window,
    urgent: (c.tcp.flags & TcpFlag.URG) !== 0 ? c.tcp.urgentPointer : null,
    options: c.tcp.options.length === 0 ? null : c.tcp.options.map((o) => optionFromWire(o, flow)),
  };
}

/** Why `got` does not match `want`, or null when it does (TS val is not checked: the clocks differ). */
export function mismatch(want: TcpPacketSpec, got: TcpPacketSpec): string | null {
  if (want.flags.split('').sort().join('') !== got.flags.split('').sort().join('') || want.ackFlag !== got.ackFlag) return 'flags';
  if (want.seq.start >>> 0 !== got.seq.start) return 'seq';
  if (want.seq.length !== got.seq.length) return 'payload length';
  if (want.ackFlag && want.ack !== null && want.ack >>> 0 !== got.ack) return 'ack';
  if (want.window !== null && want.window !== got.window) return 'window';
  if (want.urgent !== null && want.urgent !== got.urgent) return 'urgent pointer';
  if (want.ip?.ecn !== undefined && want.ip.ecn !== (got.ip?.ecn ?? 'noecn')) {
    if (!(want.ip.ecn === 'ect01' && (got.ip?.ecn === 'ect0' || got.ip?.ecn === 'ect1'))) return 'ECN';
  }
  if (want.options === 'any') return null;
  const w = want.options ?? [];
  const g = got.options === 'any' ? [] : (got.options ?? []);
  if (w.length !== g.length) return 'options';
  for (let i = 0; i < w.length; i++) {
    const a = w[i];
    const b = g[i];
    if (a === undefined || b === undefined || a.kind !== b.kind) return 'options';
    if (a.kind === 'mss' && b.kind === 'mss' && a.value !== b.value) return 'mss option';
    if (a.kind === 'wscale' && b.kind === 'wscale' && a.value !== b.value) return 'wscale option';
    if (a.kind === 'timestamp' && b.kind === 'timestamp' && a.ecr !== '*' && a.ecr >>> 0 !== b.ecr) {
      return 'TS ecr';
    }
    if (a.kind === 'sack' && b.kind === 'sack') {
      if (a.blocks.length !== b.blocks.length) return 'SACK blocks';
      for (let j = 0; j < a.blocks.length; j++) {
        const x = a.blocks[j];
        const y = b.blocks[j];
        if (x === undefined || y === undefined || x[0] >>> 0 !== y[0] || x[1] >>> 0 !== y[1]) return 'SACK blocks';
      }
    }
  }
  return null;
}
