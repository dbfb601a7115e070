/**
 * Parses the packet half of a script line: everything after the time for
 * `<` (inject) and `>` (expect) events, following packetdrill's grammar
 * (tcp_packet_spec, udp_packet_spec, icmp_packet_spec in SYNTAX.md).
 */
import type {
  Direction,
  Ecn,
  IcmpEchoed,
  IcmpPacketSpec,
  IpInfo,
  MaybeWild,
  PacketSpec,
  SeqSpec,
  TcpOptionSpec,
  TcpPacketSpec,
  UdpPacketSpec,
} from './ast.js';
import { describeToken, type TokenCursor } from './cursor.js';

const ECN_WORDS: ReadonlySet<string> = new Set(['noecn', 'ect0', 'ect1', 'ect01', 'ce']);

/** Letters packetdrill accepts in a TCP flags word; `.` (ACK) is separate. */
const TCP_FLAG_LETTERS = 'FSRPUEW';

export function parsePacket(cur: TokenCursor, line: number): PacketSpec {
  const dirToken = cur.next();
  const direction = dirToken.text as Direction;
  const ip = parseOptIpInfo(cur);
  const ports = parseOptPorts(cur);
  const base = { line, direction, ip, ports };
  if (cur.isWord('udp')) return parseUdp(cur, base);
  if (cur.isWord('icmp')) return parseIcmp(cur, base);
  return parseTcp(cur, base);
}

type Base = Pick<TcpPacketSpec, 'line' | 'direction' | 'ip' | 'ports'>;

/** `[ect0]`, `(tos 0x2)`, `[ttl 64, id 3]`: bracket or parenthesis, comma-separated. */
function parseOptIpInfo(cur: TokenCursor): IpInfo | null {
  const open = cur.isPunct('[') ? '[' : cur.isPunct('(') ? '(' : null;
  if (open === null) return null;
  const close = open === '[' ? ']' : ')';
  cur.next();
  const info: { ecn?: Ecn; tos?: number; ttl?: number; id?: number; flowLabel?: number } = {};
  do {
    const t = cur.expectWord('an IP annotation (ect0, ect1, ce, noecn, tos, ttl, id, flowlabel)');
    if (ECN_WORDS.has(t.text)) info.ecn = t.text as Ecn;
    else if (t.text === 'tos') info.tos = cur.expectU32('tos');
    else if (t.text === 'ttl') info.ttl = cur.expectU32('ttl');
    else if (t.text === 'id') info.id = cur.expectU32('IP id');
    else if (t.text === 'flowlabel') info.flowLabel = cur.expectU32('flow label');
    else throw cur.errorAt(t, `unknown IP annotation '${t.text}'`);
  } while (cur.acceptPunct(','));
  cur.expectPunct(close, 'to close the IP annotation');
  return info;
}

/** `8080>1234` before the flags (or after `udp`). */
function parseOptPorts(cur: TokenCursor): { src: number; dst: number } | null {
  if (cur.peek().type !== 'int' || !cur.isPunct('>', 1)) return null;
  const src = cur.expectU32('source port');
  cur.next();
  const dst = cur.expectU32('destination port');
  return { src, dst };
}

export function parseSeq(cur: TokenCursor): SeqSpec {
  const start = cur.expectU32('sequence number');
  cur.expectPunct(':', "in 'start:end(length)'");
  const end = cur.expectU32('end sequence number');
  cur.expectPunct('(', "in 'start:end(length)'");
  const length = cur.expectU32('payload length');
  cur.expectPunct(')', "in 'start:end(length)'");
  return { start, end, length };
}

function parseTcp(cur: TokenCursor, base: Base): TcpPacketSpec {
  let flags = '';
  let ackFlag = false;
  const t = cur.peek();
  if (t.type === 'word') {
    for (const ch of t.text) {
      if (!TCP_FLAG_LETTERS.includes(ch)) throw cur.errorAt(t, `bad TCP flags '${t.text}': '${ch}' is not one of ${TCP_FLAG_LETTERS} or '.'`);
    }
    flags = cur.next().text;
    ackFlag = cur.acceptPunct('.');
  } else if (cur.acceptPunct('.')) {
    ackFlag = true;
  } else if (!cur.acceptPunct('-')) {
    throw cur.errorAt(t, `expected TCP flags, 'udp' or 'icmp' after '${base.direction}', got ${describeToken(t)}`);
  }
  const seq = parseSeq(cur);
  const ack = cur.acceptWord('ack') ? cur.expectU32('ack number') : null;
  const window = cur.acceptWord('win') ? cur.expectU32('window') : null;
  const urgent = cur.acceptWord('urg') ? cur.expectU32('urgent pointer') : null;
  let options: TcpPacketSpec['options'] = null;
  if (cur.acceptPunct('<')) {
    if (cur.peek().type === 'ellipsis') {
      cur.next();
      options = 'any';
    } else {
      const list: TcpOptionSpec[] = [];
      do list.push(parseTcpOption(cur));
      while (cur.acceptPunct(','));
      options = list;
    }
    cur.expectPunct('>', 'to close the TCP option list');
  }
  return { kind: 'tcp', ...base, flags, ackFlag, seq, ack, window, urgent, options };
}

function parseWild(cur: TokenCursor, what: string): MaybeWild {
  if (cur.acceptPunct('*')) return '*';
  return cur.expectU32(what);
}

/** A hex cookie or digest; digit-led runs lex as blobs or ints, so take any of them as text. */
function parseOptHexBlob(cur: TokenCursor): string | null {
  const t = cur.peek();
  if (t.type === 'word' || t.type === 'blob' || t.type === 'int' || t.type === 'hex') return cur.next().text;
  return null;
}

function parseTcpOption(cur: TokenCursor): TcpOptionSpec {
  const t = cur.expectWord('a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, md5, FO, FOEXP)');
  switch (t.text) {
    case 'nop':
      return { kind: 'nop' };
    case 'eol':
      return { kind: 'eol' };
    case 'mss':
      return { kind: 'mss', value: cur.expectU32('MSS') };
    case 'wscale':
      return { kind: 'wscale', value: cur.expectU32('window scale') };
    case 'sackOK':
      return { kind: 'sackOK' };
    case 'sack': {
      const blocks: (readonly [number, number])[] = [];
      do {
        const left = cur.expectU32('SACK block left edge');
        cur.expectPunct(':', "in SACK block 'left:right'");
        blocks.push([left, cur.expectU32('SACK block right edge')]);
      } while (cur.peek().type === 'int');
      return { kind: 'sack', blocks };
    }
    case 'TS': {
      cur.expectKeyword('val');
      const val = parseWild(cur, 'TS val');
      cur.expectKeyword('ecr');
      return { kind: 'timestamp', val, ecr: parseWild(cur, 'TS ecr') };
    }
    case 'md5': {
      const digest = parseOptHexBlob(cur);
      if (digest === null) throw cur.errorAt(cur.peek(), `expected an MD5 digest, got ${describeToken(cur.peek())}`);
      return { kind: 'md5', digest };
    }
    case 'FO':
      return { kind: 'fastOpen', experimental: false, cookie: parseOptHexBlob(cur) };
    case 'FOEXP':
      return { kind: 'fastOpen', experimental: true, cookie: parseOptHexBlob(cur) };
    default:
      throw cur.errorAt(t, `unknown TCP option '${t.text}'`);
  }
}

function parseUdp(cur: TokenCursor, base: Base): UdpPacketSpec {
  cur.next(); // 'udp'
  const ports = parseOptPorts(cur) ?? base.ports;
  cur.expectPunct('(', "before the UDP payload length, as in 'udp (100)'");
  const length = cur.expectU32('UDP payload length');
  cur.expectPunct(')', 'after the UDP payload length');
  return { kind: 'udp', ...base, ports, length };
}

function parseIcmp(cur: TokenCursor, base: Base): IcmpPacketSpec {
  cur.next(); // 'icmp'
  const type = cur.expectWord('an ICMP type (unreachable, time_exceeded, ...)').text;
  let code: string | null = null;
  if (cur.peek().type === 'word' && !cur.isWord('mtu') && !cur.isWord('id')) code = cur.next().text;
  const mtu = cur.acceptWord('mtu') ? cur.expectU32('MTU') : null;
  const echoId = cur.acceptWord('id') ? cur.expectU32('echo id') : null;
  let echoed: IcmpEchoed | null = null;
  if (cur.acceptPunct('[')) {
    if (cur.isWord('udp') || cur.isWord('raw')) {
      const kind = cur.next().text as 'udp' | 'raw';
      cur.expectPunct('(');
      const length = cur.expectU32('echoed length');
      cur.expectPunct(')');
      echoed = { kind, length };
    } else {
      echoed = { kind: 'tcp', seq: parseSeq(cur) };
    }
    cur.expectPunct(']', 'to close the echoed packet');
  }
  return { kind: 'icmp', ...base, type, code, mtu, echoId, echoed };
}
