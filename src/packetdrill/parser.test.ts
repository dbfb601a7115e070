import { describe, expect, it } from 'vitest';
import type { Action, PacketSpec, ScriptEvent, SyscallSpec } from './ast.js';
import { parseExpression, parseScript, parseScriptOrThrow } from './parser.js';

function events(src: string): readonly ScriptEvent[] {
  return parseScriptOrThrow(src, { file: 't.pkt' }).events;
}
function action(src: string): Action {
  const e = events(src)[0];
  if (e === undefined) throw new Error('no event');
  return e.action;
}
function packet(src: string): PacketSpec {
  const a = action(src);
  if (a.kind !== 'packet') throw new Error(`not a packet: ${a.kind}`);
  return a.packet;
}
function syscall(src: string): SyscallSpec {
  const a = action(src);
  if (a.kind !== 'syscall') throw new Error(`not a syscall: ${a.kind}`);
  return a.call;
}
function errorOf(src: string): string {
  const r = parseScript(src, { file: 't.pkt' });
  if (r.ok) throw new Error('parsed');
  return r.error.message;
}

describe('event times', () => {
  it('parses absolute, relative, wildcard and ranges in microseconds', () => {
    const times = events('0 `a`\n+.1 `b`\n* `c`\n+.004~+.008 `d`\n0.1~0.2 `e`\n+1.5 `f`').map((e) => e.time);
    expect(times).toEqual([
      { kind: 'absolute', usecs: 0 },
      { kind: 'relative', usecs: 100_000 },
      { kind: 'any' },
      { kind: 'range', start: { relative: true, usecs: 4000 }, end: { relative: true, usecs: 8000 } },
      { kind: 'range', start: { relative: false, usecs: 100_000 }, end: { relative: false, usecs: 200_000 } },
      { kind: 'relative', usecs: 1_500_000 },
    ]);
  });

  it('records the source line of each event', () => {
    const ev = events('// c\n\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n   +0 > S 0:0(0) <...>\n');
    expect(ev.map((e) => e.line)).toEqual([3, 4]);
    expect(ev[1]?.action).toMatchObject({ kind: 'packet', packet: { line: 4 } });
  });
});

describe('syscalls', () => {
  it('parses arguments, result, errno and note', () => {
    expect(syscall('+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)')).toEqual({
      line: 1,
      name: 'connect',
      args: [{ kind: 'int', value: 3, hex: false }, { kind: 'ellipsis' }, { kind: 'ellipsis' }],
      endUsecs: null,
      result: { kind: 'int', value: -1, hex: false },
      errno: 'EINPROGRESS',
      note: 'Operation now in progress',
    });
  });

  it('parses a note glued to the errno and a note without errno', () => {
    expect(syscall('+0 write(4, ..., 100) = -1 ECONNRESET(Connection reset by peer)')).toMatchObject({ errno: 'ECONNRESET', note: 'Connection reset by peer' });
    expect(syscall('+0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)')).toMatchObject({ result: { kind: 'int', value: 2, hex: true }, errno: null, note: 'flags O_RDWR' });
  });

  it('parses a blocking call end time, with or without spaces', () => {
    expect(syscall('+.1...0.200 connect(3, ..., ...) = 0').endUsecs).toBe(200_000);
    expect(syscall('+.002 ... 0.004 connect(4, ..., ...) = 0').endUsecs).toBe(4000);
  });

  it('parses flag expressions, buffers, NULL and strings', () => {
    expect(syscall('+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0').args[2]).toEqual({
      kind: 'or',
      operands: [
        { kind: 'word', name: 'O_RDWR' },
        { kind: 'word', name: 'O_NONBLOCK' },
      ],
    });
    expect(syscall('+0 getsockopt(3, SOL_TCP, TCP_MAXSEG, [1100], [4]) = 0').args.slice(3)).toEqual([
      { kind: 'array', elements: [{ kind: 'int', value: 1100, hex: false }] },
      { kind: 'array', elements: [{ kind: 'int', value: 4, hex: false }] },
    ]);
    expect(syscall('+0 write(4, NULL, 1000) = -1 EFAULT (Bad address)').args[1]).toEqual({ kind: 'word', name: 'NULL' });
    expect(syscall('+0 open("/tmp/f", O_RDONLY) = 5').args[0]).toEqual({ kind: 'string', value: '/tmp/f', ellipsis: false });
    expect(syscall('+0 write(3, "abc"..., 3) = 3').args[1]).toEqual({ kind: 'string', value: 'abc', ellipsis: true });
    expect(syscall('+0 pipe([5, 6]) = 0').args[0]).toMatchObject({ kind: 'array', elements: [{ value: 5 }, { value: 6 }] });
    expect(syscall('+0 f() = 0').args).toEqual([]);
  });

  it('parses a multi-line msghdr with iovecs', () => {
    const call = syscall(`+0 sendmsg(4, {msg_name(...)=...,
                  msg_iov(3)=[{..., 100}, {..., 200}, {..., 195}],
                  msg_flags=0}, MSG_MORE) = 495`);
    const msg = call.args[1];
    expect(msg?.kind).toBe('struct');
    if (msg?.kind !== 'struct') return;
    expect(msg.fields[0]).toEqual({ kind: 'assign', target: { kind: 'call', name: 'msg_name', args: [{ kind: 'ellipsis' }] }, value: { kind: 'ellipsis' } });
    expect(msg.fields[1]).toMatchObject({ kind: 'assign', target: { kind: 'call', name: 'msg_iov', args: [{ value: 3 }] }, value: { kind: 'array' } });
    expect(msg.fields[2]).toEqual({ kind: 'assign', target: { kind: 'word', name: 'msg_flags' }, value: { kind: 'int', value: 0, hex: false } });
    expect(call.result).toEqual({ kind: 'int', value: 495, hex: false });
  });

  it('parses pollfd, linger, sockaddr and nested cmsg structs', () => {
    expect(parseExpression('[{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}]')).toMatchObject({
      kind: 'array',
      elements: [{ kind: 'struct', fields: [{ target: { name: 'fd' } }, { value: { kind: 'or' } }, { target: { name: 'revents' } }] }],
    });
    expect(parseExpression('{onoff=1, linger=0}')).toMatchObject({ kind: 'struct', fields: [{ target: { name: 'onoff' } }, { target: { name: 'linger' } }] });
    expect(parseExpression('{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}')).toMatchObject({
      fields: [{}, { value: { kind: 'call', name: 'htons', args: [{ value: 8080 }] } }, { value: { kind: 'call', name: 'inet_addr', args: [{ kind: 'string', value: '192.0.2.1' }] } }],
    });
    expect(parseExpression('{tv_sec=0, tv_usec=100000}')).toMatchObject({ kind: 'struct' });
    expect(parseExpression('[{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data={ee_errno=0}}]')).toMatchObject({
      elements: [{ fields: [{}, {}, { value: { kind: 'struct' } }] }],
    });
    expect(parseExpression('[SOF_A | SOF_B |\n SOF_C]')).toMatchObject({ elements: [{ kind: 'or', operands: [{}, {}, {}] }] });
  });
});

describe('TCP packets', () => {
  it('parses flags, seq, ack, win and options', () => {
    expect(packet('+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,nop,wscale 2,nop,nop,sackOK>')).toEqual({
      kind: 'tcp',
      line: 1,
      direction: '<',
      ip: null,
      ports: null,
      flags: 'S',
      ackFlag: true,
      seq: { start: 0, end: 0, length: 0 },
      ack: 1,
      window: 5792,
      urgent: null,
      options: [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'wscale', value: 2 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'sackOK' }],
    });
  });

  it('parses the flag forms: bare ACK, none, combined', () => {
    expect(packet('+0 > . 1:1(0) ack 1')).toMatchObject({ flags: '', ackFlag: true });
    expect(packet('+0 < - 1:1001(1000) win 20000')).toMatchObject({ flags: '', ackFlag: false, ack: null });
    expect(packet('+0 > SEW 0:0(0) <...>')).toMatchObject({ flags: 'SEW', ackFlag: false, options: 'any' });
    expect(packet('+0 < FP. 1001:2001(1000) ack 1 win 257')).toMatchObject({ flags: 'FP', ackFlag: true });
    expect(packet('+0 < U. 1:101(100) ack 1 win 257 urg 100')).toMatchObject({ flags: 'U', urgent: 100 });
  });

  it('parses timestamps (with wildcards), sack blocks, eol, md5 and fast open', () => {
    expect(packet('+0 > . 1:1(0) ack 1 <nop,nop,TS val 100 ecr *>')).toMatchObject({
      options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', val: 100, ecr: '*' }],
    });
    expect(packet('+0 < . 1:1(0) ack 1 win 257 <sack 1:2 3:4,nop,nop,eol>')).toMatchObject({
      options: [{ kind: 'sack', blocks: [[1, 2], [3, 4]] }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'eol' }],
    });
    expect(packet('+0 < . 1:1(0) ack 1 win 514 <md5 000102030405060708090a0b0c0d0e0f,nop,nop>')).toMatchObject({
      options: [{ kind: 'md5', digest: '000102030405060708090a0b0c0d0e0f' }, {}, {}],
    });
    expect(packet('+0 > S 0:0(0) <mss 1460,FO,nop, FO 3021b9d889017eeb,FOEXP TFO_COOKIE,FO 00000000,FOEXP>')).toMatchObject({
      options: [
        {},
        { kind: 'fastOpen', experimental: false, cookie: null },
        {},
        { kind: 'fastOpen', experimental: false, cookie: '3021b9d889017eeb' },
        { kind: 'fastOpen', experimental: true, cookie: 'TFO_COOKIE' },
        { kind: 'fastOpen', experimental: false, cookie: '00000000' },
        { kind: 'fastOpen', experimental: true, cookie: null },
      ],
    });
  });

  it('keeps 32-bit sequence numbers exact', () => {
    expect(packet('+0 < S 4294967295:4294967295(0) win 1')).toMatchObject({ seq: { start: 4294967295, end: 4294967295, length: 0 } });
  });

  it('parses IP annotations and explicit ports', () => {
    expect(packet('+0 > [ect0] P. 1:1001(1000) ack 1').ip).toEqual({ ecn: 'ect0' });
    expect(packet('+0 < [noecn] E. 1:1(0) ack 1001 win 320').ip).toEqual({ ecn: 'noecn' });
    expect(packet('+0 < (tos 0x2, ttl 64, id 7) S 0:0(0) win 1').ip).toEqual({ tos: 2, ttl: 64, id: 7 });
    expect(packet('+0 < 8080>1234 S 0:0(0) win 1').ports).toEqual({ src: 8080, dst: 1234 });
  });
});

describe('UDP and ICMP packets', () => {
  it('parses udp lines', () => {
    expect(packet('+0 < udp (100)')).toMatchObject({ kind: 'udp', length: 100, ports: null });
    expect(packet('+0 > udp 53>1024 (12)')).toMatchObject({ kind: 'udp', length: 12, ports: { src: 53, dst: 1024 } });
  });

  it('parses icmp lines with code, mtu and the echoed packet', () => {
    expect(packet('+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]')).toEqual({
      kind: 'icmp',
      line: 1,
      direction: '<',
      ip: null,
      ports: null,
      type: 'unreachable',
      code: 'frag_needed',
      mtu: 1200,
      echoId: null,
      echoed: { kind: 'tcp', seq: { start: 1, end: 1461, length: 1460 } },
    });
    expect(packet('+0 < icmp packet_too_big mtu 1400')).toMatchObject({ type: 'packet_too_big', code: null, mtu: 1400 });
    expect(packet('+0 < icmp echo_reply id 5 [udp (10)]')).toMatchObject({ echoId: 5, echoed: { kind: 'udp', length: 10 } });
    expect(packet('+0 < icmp unreachable port_unreachable [raw (8)]')).toMatchObject({ code: 'port_unreachable', echoed: { kind: 'raw', length: 8 } });
  });
});

describe('script structure', () => {
  it('collects header options, untimed init/cleanup commands and python blocks', () => {
    const s = parseScriptOrThrow(`--tolerance_usecs=10000
--local_ip=192.168.0.1 --strict_segments // a comment
\`../common/defaults.sh
sysctl -q net.ipv4.tcp_ecn=1  # on
\`
0 %{ assert tcpi_rtt > 0 }%
+0 \`echo hi\`
\`/tmp/sysctl_restore_\${PPID}.sh\`
`);
    expect(s.options).toEqual([
      { line: 1, name: 'tolerance_usecs', value: '10000' },
      { line: 2, name: 'local_ip', value: '192.168.0.1' },
      { line: 2, name: 'strict_segments', value: null },
    ]);
    expect(s.events.map((e) => [e.line, e.time?.kind ?? null, e.action.kind])).toEqual([
      [3, null, 'command'],
      [6, 'absolute', 'code'],
      [7, 'relative', 'command'],
      [8, null, 'command'],
    ]);
    expect(s.events[0]?.action).toMatchObject({ command: '../common/defaults.sh\nsysctl -q net.ipv4.tcp_ecn=1  # on\n' });
    expect(s.events[1]?.action).toMatchObject({ code: ' assert tcpi_rtt > 0 ' });
  });

  it('parses an empty script', () => {
    expect(parseScriptOrThrow('// nothing\n')).toEqual({ options: [], events: [] });
  });
});

describe('syntax errors', () => {
  it('reports file:line:col with a readable message', () => {
    expect(errorOf('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0 <...>')).toBe("t.pkt:2:12: expected '(' in 'start:end(length)', got '<'");
    expect(errorOf('+0 < X 0:0(0) win 1')).toBe("t.pkt:1:6: bad TCP flags 'X': 'X' is not one of FSRPUEW or '.'");
    expect(errorOf('+0 > S 0:0(0) <mss 1460,bogus 3>')).toBe("t.pkt:1:25: unknown TCP option 'bogus'");
    expect(errorOf('+0 connect(3, ...) 0')).toBe("t.pkt:1:20: expected '=' and the expected result after connect(...), got '0'");
    expect(errorOf('socket() = 3')).toBe("t.pkt:1:1: expected an event time (such as 0, +0.1 or *), got 'socket'");
    expect(errorOf('+0 < S 99999999999:0(0) win 1')).toBe('t.pkt:1:8: sequence number 99999999999 is out of range 0..4294967295');
    expect(errorOf('0 `x`\n--late=1')).toBe('t.pkt:2:1: option --late must come before the first event');
    expect(errorOf('+0 f(3')).toBe("t.pkt:1:7: expected ')' to close the arguments of f(), got end of script");
    expect(errorOf('+0 ?')).toBe('t.pkt:1:4: unexpected character "?"');
    expect(errorOf('+0 < icmp unreachable [udp 5]')).toBe("t.pkt:1:28: expected '(', got '5'");
  });

  it('never throws from parseScript', () => {
    for (const src of ['+', '<', '+0 <', '+0 > S', '+0 f(', '%{', '`', '+0 f() = ', '{', '"', '+0 > S 0:0(0) <']) {
      expect(parseScript(src).ok).toBe(false);
    }
  });

  it('parseScriptOrThrow throws the located error', () => {
    expect(() => parseScriptOrThrow('+0 ?', { file: 'a.pkt' })).toThrow('a.pkt:1:4: unexpected character "?"');
  });
});
