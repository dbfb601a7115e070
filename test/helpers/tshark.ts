/**
 * Has Wireshark's tshark read a capture with every checksum check on, and
 * says what in it is damaged: malformed packets, bad checksums, Error-level
 * expert info. Used by the pcap writer's own check (test/pcap-tshark.test.ts)
 * and by the interop tests that record their run through a PcapLink.
 */
import { spawnSync } from 'node:child_process';

const TIMEOUT_MS = 120_000;

/** The tshark binary (or $TSHARK), or undefined when it is not installed. */
export function findTshark(): string | undefined {
  const override = process.env.TSHARK;
  const candidates = override !== undefined && override !== '' ? [override] : ['/usr/bin/tshark', 'tshark'];
  for (const candidate of candidates) {
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: TIMEOUT_MS });
    if (r.status === 0 && r.stdout.includes('TShark')) return candidate;
  }
  return undefined;
}

/** Dissector options that turn on checksum verification (Wireshark leaves it off by default). */
export const CHECK_CHECKSUMS: readonly string[] = ['ip', 'tcp', 'udp'].flatMap((p) => ['-o', `${p}.check_checksum:TRUE`]);

/** Runs tshark with `args` and returns its standard output; throws when tshark fails. */
export function runTshark(tshark: string, args: readonly string[]): string {
  const r = spawnSync(tshark, args, { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 256 << 20 });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** One frame's values of each requested field (repeated fields as several values; absent as none). */
export type FieldRow<F extends string> = (field: F) => string[];

/**
 * Reads `file` with checksum checks on and returns, per frame, the values of
 * `fields`. `extraArgs` go before the output options, e.g.
 * ['--disable-heuristic', 'thrift_tcp'] so random bulk payload is not decoded
 * (and reported) as some protocol.
 */
export function tsharkFields<F extends string>(tshark: string, file: string, fields: readonly F[], extraArgs: readonly string[] = []): FieldRow<F>[] {
  const out = runTshark(tshark, [
    '-r', file, ...CHECK_CHECKSUMS, ...extraArgs,
    '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=|', '-E', 'quote=n',
    ...fields.flatMap((f) => ['-e', f]),
  ]);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const col = line.split('\t');
      return (f: F): string[] => {
        const v = col[fields.indexOf(f)] ?? '';
        return v === '' ? [] : v.split('|');
      };
    });
}

/** The checksum status fields, one per protocol we emit. */
export const CHECKSUM_FIELDS = ['ip.checksum.status', 'icmp.checksum.status', 'udp.checksum.status', 'tcp.checksum.status'] as const;
/** The fields `damage()` reads besides the checksum statuses. */
export const DAMAGE_FIELDS = ['_ws.expert.severity', '_ws.expert.group', '_ws.expert.message', '_ws.malformed'] as const;
type DamageField = (typeof CHECKSUM_FIELDS)[number] | (typeof DAMAGE_FIELDS)[number];

/** tshark prints checksum statuses as numbers (0 bad, 1 good, 2 unverified) or names. */
export function checksumStatus(s: string): 'good' | 'bad' | 'unverified' {
  const v = s.toLowerCase();
  if (v === '0' || v.startsWith('bad')) return 'bad';
  if (v === '1' || v.startsWith('good')) return 'good';
  return 'unverified';
}

/** Expert severities as numbers (PI_COMMENT 0x100000 ... PI_ERROR 0x800000) or names. */
function expertSeverity(s: string): string {
  const byValue: Record<string, string> = {
    '1048576': 'comment',
    '2097152': 'chat',
    '4194304': 'note',
    '6291456': 'warning',
    '8388608': 'error',
  };
  return byValue[s] ?? s.toLowerCase();
}

/** Expert groups (epan/proto.h PI_CHECKSUM, PI_MALFORMED) as tshark prints them, and by name. */
const DAMAGE_GROUPS = new Set(['16777216', '117440512', 'checksum', 'malformed']);

/**
 * What says a frame's bytes are wrong: a malformed-packet marker, a bad
 * checksum status, any Error-level expert info (tshark uses Error only for
 * damage, e.g. "IPv4 total length exceeds packet length"), and Warnings in
 * the checksum/malformed groups or naming them. Wireshark's TCP analysis
 * notes (a retransmission, a window update) and Chats like "Connection
 * establish request (SYN)" describe the traffic, not damage, and pass.
 */
export function damage(get: FieldRow<DamageField>): string[] {
  const problems: string[] = [];
  if (get('_ws.malformed').length > 0) problems.push('malformed packet');
  for (const f of CHECKSUM_FIELDS) {
    if (get(f).some((s) => checksumStatus(s) === 'bad')) problems.push(`bad ${f.split('.')[0]!} checksum`);
  }
  const group = get('_ws.expert.group');
  const message = get('_ws.expert.message');
  get('_ws.expert.severity').forEach((s, i) => {
    const severity = expertSeverity(s);
    const m = message[i] ?? '';
    const aboutDamage = DAMAGE_GROUPS.has((group[i] ?? '').toLowerCase()) || /malformed|checksum/i.test(m);
    if (severity === 'error' || (severity === 'warning' && aboutDamage)) problems.push(`expert ${severity}: ${m}`);
  });
  return problems;
}

export interface TsharkFrame {
  readonly number: number;
  readonly len: number;
  /** frame.protocols split: ['raw', 'ip', 'icmp', 'data'] */
  readonly protocols: string[];
  readonly src: string;
  readonly dst: string;
  /** ip.flags.mf set or a non-zero fragment offset. */
  readonly fragment: boolean;
  /** Set on the frame that completed an IPv4 reassembly. */
  readonly reassembled: boolean;
  readonly icmpType: number | undefined;
  readonly problems: string[];
}

const FRAME_FIELDS = [
  'frame.number',
  'frame.len',
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ip.flags.mf',
  'ip.frag_offset',
  'ip.reassembled.length',
  'icmp.type',
  ...CHECKSUM_FIELDS,
  ...DAMAGE_FIELDS,
] as const;

/** Reads `file` with tshark (see tsharkFields for `extraArgs`): the frames, their addresses and what is damaged in each. */
export function tsharkFrames(tshark: string, file: string, extraArgs: readonly string[] = []): TsharkFrame[] {
  return tsharkFields(tshark, file, FRAME_FIELDS, extraArgs).map((get) => {
    const mf = get('ip.flags.mf')[0];
    const off = get('ip.frag_offset')[0];
    const icmp = get('icmp.type');
    return {
      number: Number(get('frame.number')[0]),
      len: Number(get('frame.len')[0]),
      protocols: (get('frame.protocols')[0] ?? '').split(':'),
      src: get('ip.src')[0] ?? '',
      dst: get('ip.dst')[0] ?? '',
      fragment: mf === '1' || mf === 'True' || (off !== undefined && off !== '0'),
      reassembled: get('ip.reassembled.length').length > 0,
      icmpType: icmp.length > 0 ? Number(icmp[0]) : undefined,
      problems: damage(get),
    };
  });
}
