import { describe, expect, it } from 'vitest';
import type { PacketSpec, Script, TcpOptionSpec, TcpPacketSpec } from './ast.js';
import { parseExpression, parseScriptOrThrow } from './parser.js';
import { formatEventTime, formatExpression, formatPacket, formatSeconds, formatSyscall, printScript } from './printer.js';
import { SeededRng } from '../random/rng.js';

function firstPacket(src: string): PacketSpec {
  const a = parseScriptOrThrow(src).events[0]?.action;
  if (a?.kind !== 'packet') throw new Error('not a packet');
  return a.packet;
}

describe('formatPacket', () => {
  it('prints packets the way scripts write them', () => {
    for (const line of [
      '> S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>',
      '< S. 0:0(0) ack 1 win 5792 <mss 1460,nop,wscale 2,nop,nop,sackOK>',
      '> . 1:1(0) ack 1',
      '< - 1:1001(1000) win 20000',
      '> [ect0] P. 1:1001(1000) ack 1',
      '< U. 1:101(100) ack 1 win 257 urg 100',
      '> S 0:0(0) <...>',
      '< . 1:1(0) ack 1 win 257 <sack 1:2 3:4,nop,nop>',
      '> S 0:0(0) <mss 1460,FO abcd1234,nop,nop,FOEXP>',
      '< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]',
      '< udp (100)',
    ]) {
      expect(formatPacket(firstPacket(`+0 ${line}`))).toBe(line);
    }
  });

  it('prints a packet the runner built by hand (no line of its own to keep)', () => {
    const got: TcpPacketSpec = {
      kind: 'tcp',
      line: 0,
      direction: '>',
      ip: null,
      ports: null,
      flags: 'F',
      ackFlag: true,
      seq: { start: 1, end: 1, length: 0 },
      ack: 12,
      window: 65535,
      urgent: null,
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', val: 5, ecr: '*' }],
    };
    expect(formatPacket(got)).toBe('> F. 1:1(0) ack 12 win 65535 <nop,nop,TS val 5 ecr *>');
  });
});

describe('other formatters', () => {
  it('formats times', () => {
    expect(formatSeconds(0)).toBe('0');
    expect(formatSeconds(100_000)).toBe('0.1');
    expect(formatSeconds(1_000_001)).toBe('1.000001');
    expect(formatEventTime({ kind: 'range', start: { relative: true, usecs: 4000 }, end: { relative: true, usecs: 8000 } })).toBe('+0.004~+0.008');
    expect(formatEventTime({ kind: 'any' })).toBe('*');
  });

  it('formats expressions and syscalls', () => {
    expect(formatExpression(parseExpression('{msg_name(...)=..., msg_iov(1)=[{..., 40}], msg_flags=MSG_ERRQUEUE|MSG_TRUNC}'))).toBe(
      '{msg_name(...)=..., msg_iov(1)=[{..., 40}], msg_flags=MSG_ERRQUEUE|MSG_TRUNC}',
    );
    expect(formatExpression(parseExpression('"a\\"b"...'))).toBe('"a\\"b"...');
    expect(formatExpression(parseExpression('0xffffffff'))).toBe('0xffffffff');
    const a = parseScriptOrThrow('+.1...0.2 read(4, ..., 512) = -1 ECONNRESET (Connection reset by peer)').events[0]?.action;
    expect(a?.kind === 'syscall' ? formatSyscall(a.call) : '').toBe('...0.2 read(4, ..., 512) = -1 ECONNRESET (Connection reset by peer)');
  });
});

describe('printScript', () => {
  it('keeps line numbers when asked, so a reparse is equal', () => {
    const src = '--tolerance_usecs=1000 --strict_segments\n\n`a\nb`\n// x\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\n+0 %{\nx\n}%\n  +0 > S 0:0(0) <...>\n';
    const s = parseScriptOrThrow(src);
    const printed = printScript(s, { preserveLines: true });
    expect(parseScriptOrThrow(printed)).toEqual(s);
    expect(printed.split('\n')[5]).toBe('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3');
  });

  it('prints one item per line by default', () => {
    const s = parseScriptOrThrow('--x=1\n0 f() = 0\n+0 > . 1:1(0) ack 1');
    expect(printScript(s)).toBe('--x=1\n0 f() = 0\n+0 > . 1:1(0) ack 1\n');
  });
});

/** A seeded generator of integers in [0, n) from the project's SeededRng: same seed, same packets. */
function rng(seed: number): (n: number) => number {
  const g = new SeededRng(seed);
  return (n) => g.nextInt(n);
}

function randomPacket(r: (n: number) => number): TcpPacketSpec {
  const u32 = (): number => (r(0x10000) * 0x10000 + r(0x10000)) >>> 0;
  const opts: TcpOptionSpec[] = [];
  const n = r(6);
  for (let i = 0; i < n; i++) {
    const pick = r(8);
    if (pick === 0) opts.push({ kind: 'nop' });
    else if (pick === 1) opts.push({ kind: 'mss', value: r(65536) });
    else if (pick === 2) opts.push({ kind: 'wscale', value: r(15) });
    else if (pick === 3) opts.push({ kind: 'sackOK' });
    else if (pick === 4) opts.push({ kind: 'sack', blocks: [[u32(), u32()], [u32(), u32()]].slice(0, 1 + r(2)) as [number, number][] });
    else if (pick === 5) opts.push({ kind: 'timestamp', val: r(2) === 0 ? '*' : u32(), ecr: u32() });
    else if (pick === 6) opts.push({ kind: 'fastOpen', experimental: r(2) === 0, cookie: r(2) === 0 ? null : u32().toString(16).padStart(8, '0') });
    else opts.push({ kind: 'eol' });
  }
  const flags = ['', 'S', 'F', 'R', 'P', 'FP', 'SEW', 'U'][r(8)] ?? '';
  const ackFlag = r(2) === 0;
  const start = u32();
  const length = r(3000);
  return {
    kind: 'tcp',
    line: 1,
    direction: r(2) === 0 ? '<' : '>',
    ip: r(4) === 0 ? { ecn: 'ect0' } : null,
    ports: null,
    flags,
    ackFlag,
    seq: { start, end: (start + length) >>> 0, length },
    ack: r(2) === 0 ? null : u32(),
    window: r(2) === 0 ? null : r(65536),
    urgent: r(8) === 0 ? r(65536) : null,
    options: r(5) === 0 ? null : r(6) === 0 ? 'any' : opts.length === 0 ? null : opts,
  };
}

describe('property: print then parse is the identity on packets', () => {
  it('holds for 2000 seeded random TCP packets', () => {
    const r = rng(0x5eed);
    for (let i = 0; i < 2000; i++) {
      const p = randomPacket(r);
      const script: Script = { options: [], events: [{ line: 1, time: { kind: 'relative', usecs: r(2_000_000) }, action: { kind: 'packet', packet: p } }] };
      expect(parseScriptOrThrow(printScript(script))).toEqual(script);
    }
  });
});
