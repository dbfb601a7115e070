/**
 * Formats AST nodes back into packetdrill syntax: single packets for the
 * runner's "expected ... got ..." reports, and whole scripts (a
 * pretty-printer whose output parses back to an equal AST).
 */
import type {
  Action,
  EventTime,
  Expression,
  IcmpEchoed,
  IpInfo,
  MaybeWild,
  PacketSpec,
  Script,
  ScriptEvent,
  ScriptOption,
  SeqSpec,
  SyscallSpec,
  TcpOptionSpec,
  TimePoint,
} from './ast.js';

/** Integer microseconds as decimal seconds with no trailing zeros: 100000 -> `0.1`, 0 -> `0`. */
export function formatSeconds(usecs: number): string {
  const sign = usecs < 0 ? '-' : '';
  const abs = Math.abs(usecs);
  const whole = Math.floor(abs / 1_000_000);
  const frac = String(abs % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return frac === '' ? `${sign}${whole}` : `${sign}${whole}.${frac}`;
}

function formatTimePoint(p: TimePoint): string {
  return `${p.relative ? '+' : ''}${formatSeconds(p.usecs)}`;
}

export function formatEventTime(t: EventTime): string {
  switch (t.kind) {
    case 'absolute':
      return formatSeconds(t.usecs);
    case 'relative':
      return `+${formatSeconds(t.usecs)}`;
    case 'any':
      return '*';
    case 'range':
      return `${formatTimePoint(t.start)}~${formatTimePoint(t.end)}`;
  }
}

function formatString(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\0') out += '\\0';
    else out += ch;
  }
  return `${out}"`;
}

export function formatExpression(e: Expression): string {
  switch (e.kind) {
    case 'ellipsis':
      return '...';
    case 'int':
      if (!e.hex) return String(e.value);
      return e.value < 0 ? `-0x${(-e.value).toString(16)}` : `0x${e.value.toString(16)}`;
    case 'word':
      return e.name;
    case 'string':
      return formatString(e.value) + (e.ellipsis ? '...' : '');
    case 'or':
      return e.operands.map(formatExpression).join('|');
    case 'array':
      return `[${e.elements.map(formatExpression).join(', ')}]`;
    case 'struct':
      return `{${e.fields.map(formatExpression).join(', ')}}`;
    case 'call':
      return `${e.name}(${e.args.map(formatExpression).join(', ')})`;
    case 'assign':
      return `${formatExpression(e.target)}=${formatExpression(e.value)}`;
  }
}

function formatWild(v: MaybeWild): string {
  return v === '*' ? '*' : String(v);
}

export function formatTcpOption(o: TcpOptionSpec): string {
  switch (o.kind) {
    case 'nop':
    case 'eol':
    case 'sackOK':
      return o.kind;
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.value}`;
    case 'sack':
      return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(' ')}`;
    case 'timestamp':
      return `TS val ${formatWild(o.val)} ecr ${formatWild(o.ecr)}`;
    case 'md5':
      return `md5 ${o.digest}`;
    case 'fastOpen': {
      const name = o.experimental ? 'FOEXP' : 'FO';
      return o.cookie === null ? name : `${name} ${o.cookie}`;
    }
  }
}

/** `<mss 1460,sackOK,...>`, `<...>`, or '' when there is no option list. */
export function formatTcpOptions(options: readonly TcpOptionSpec[] | 'any' | null): string {
  if (options === null) return '';
  if (options === 'any') return '<...>';
  return `<${options.map(formatTcpOption).join(',')}>`;
}

export function formatIpInfo(ip: IpInfo): string {
  const parts: string[] = [];
  if (ip.ecn !== undefined) parts.push(ip.ecn);
  if (ip.tos !== undefined) parts.push(`tos 0x${ip.tos.toString(16)}`);
  if (ip.ttl !== undefined) parts.push(`ttl ${ip.ttl}`);
  if (ip.id !== undefined) parts.push(`id ${ip.id}`);
  if (ip.flowLabel !== undefined) parts.push(`flowlabel 0x${ip.flowLabel.toString(16)}`);
  return `[${parts.join(', ')}]`;
}

export function formatSeq(s: SeqSpec): string {
  return `${s.start}:${s.end}(${s.length})`;
}

function formatEchoed(e: IcmpEchoed): string {
  switch (e.kind) {
    case 'tcp':
      return `[${formatSeq(e.seq)}]`;
    case 'udp':
    case 'raw':
      return `[${e.kind} (${e.length})]`;
  }
}

/** One packet, packetdrill style, without the time: `> P. 1:1001(1000) ack 1 <nop,nop,TS val 5 ecr 6>`. */
export function formatPacket(p: PacketSpec): string {
  const parts: string[] = [p.direction];
  // An IP annotation with nothing in it has no syntax; leave it out.
  if (p.ip !== null && Object.keys(p.ip).length > 0) parts.push(formatIpInfo(p.ip));
  const ports = p.ports === null ? null : `${p.ports.src}>${p.ports.dst}`;
  switch (p.kind) {
    case 'tcp': {
      if (ports !== null) parts.push(ports);
      parts.push(p.flags === '' && !p.ackFlag ? '-' : `${p.flags}${p.ackFlag ? '.' : ''}`);
      parts.push(formatSeq(p.seq));
      if (p.ack !== null) parts.push(`ack ${p.ack}`);
      if (p.window !== null) parts.push(`win ${p.window}`);
      if (p.urgent !== null) parts.push(`urg ${p.urgent}`);
      if (p.options !== null) parts.push(formatTcpOptions(p.options));
      break;
    }
    case 'udp':
      parts.push('udp');
      if (ports !== null) parts.push(ports);
      parts.push(`(${p.length})`);
      break;
    case 'icmp':
      if (ports !== null) parts.push(ports);
      parts.push('icmp', p.type);
      if (p.code !== null) parts.push(p.code);
      if (p.mtu !== null) parts.push(`mtu ${p.mtu}`);
      if (p.echoId !== null) parts.push(`id ${p.echoId}`);
      if (p.echoed !== null) parts.push(formatEchoed(p.echoed));
      break;
  }
  return parts.join(' ');
}

/** `connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)`, with `...end ` first for blocking calls. */
export function formatSyscall(c: SyscallSpec): string {
  let s = c.endUsecs === null ? '' : `...${formatSeconds(c.endUsecs)} `;
  s += `${c.name}(${c.args.map(formatExpression).join(', ')}) = ${formatExpression(c.result)}`;
  if (c.errno !== null) s += ` ${c.errno}`;
  if (c.note !== null) s += ` (${c.note})`;
  return s;
}

export function formatAction(a: Action): string {
  switch (a.kind) {
    case 'packet':
      return formatPacket(a.packet);
    case 'syscall':
      return formatSyscall(a.call);
    case 'command':
      return `\`${a.command}\``;
    case 'code':
      return `%{${a.code}}%`;
  }
}

export function formatEvent(e: ScriptEvent): string {
  const action = formatAction(e.action);
  return e.time === null ? action : `${formatEventTime(e.time)} ${action}`;
}

export function formatOption(o: ScriptOption): string {
  if (o.value === null) return `--${o.name}`;
  // Quote values that would not survive as one bare word.
  return /^[^\s"]+$/.test(o.value) ? `--${o.name}=${o.value}` : `--${o.name}=${formatString(o.value)}`;
}

export interface PrintScriptOptions {
  /**
   * Pad with blank lines so every option and event starts on the line it
   * came from (so a reparse gives equal line numbers too). Items that
   * shared a line stay on one line.
   */
  readonly preserveLines?: boolean;
}

/** The whole script, one option or event per line. */
export function printScript(script: Script, options: PrintScriptOptions = {}): string {
  const items: { line: number; text: string }[] = [
    ...script.options.map((o) => ({ line: o.line, text: formatOption(o) })),
    ...script.events.map((e) => ({ line: e.line, text: formatEvent(e) })),
  ];
  if (options.preserveLines !== true) return items.map((i) => `${i.text}\n`).join('');
  let out = '';
  let current = 1; // the line the next character of `out` lands on
  let lineHasText = false;
  for (const item of items) {
    if (item.line > current) {
      out += '\n'.repeat(item.line - current);
      current = item.line;
      lineHasText = false;
    }
    if (lineHasText) out += ' ';
    out += item.text;
    lineHasText = true;
    current += countNewlines(item.text);
  }
  return lineHasText ? `${out}\n` : out;
}

function countNewlines(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === '\n') n++;
  return n;
}
