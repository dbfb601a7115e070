/**
 * Has Wireshark's tshark read a capture with every checksum check on, and
 * says what in it is damaged: malformed packets, bad checksums, Error-level
 * expert info. For interop tests that record their run through a PcapLink.
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

const FIELDS = [
  'frame.number',
  'frame.len',
  'frame.protocols',
  'ip.src',
  'ip.dst',
  'ip.flags.mf',
  'ip.frag_offset',
  'ip.reassembled_in',
  'ip.reassembled.length',
  'icmp.type',
  'ip.checksum.status',
  'icmp.checksum.status',
  'udp.checksum.status',
  'tcp.checksum.status',
  '_ws.expert.severity',
  '_ws.expert.group',
  '_ws.expert.message',
  '_ws.malformed',
] as const;

const CHECK_CHECKSUMS = ['ip', 'tcp', 'udp'].flatMap((p) => ['-o', `${p}.check_checksum:TRUE`]);

/** tshark prints statuses as numbers (0 bad, 1 good, 2 unverified) or names. */
function isBad(s: string): boolean {
  const v = s.toLowerCase();
  return v === '0' || v.startsWith('bad');
}

const ERROR_SEVERITY = new Set(['8388608', 'error']);
const WARNING_SEVERITY = new Set(['6291456', 'warning']);
const DAMAGE_GROUPS = new Set(['16777216', '117440512', 'checksum', 'malformed']);

/**
 * Reads `file` with tshark; throws when tshark itself fails. `extraArgs`
 * go before the output options, e.g. ['--disable-heuristic', 'thrift_tcp']
 * so random bulk payload is not decoded (and reported) as some protocol.
 */
export function tsharkFrames(tshark: string, file: string, extraArgs: readonly string[] = []): TsharkFrame[] {
  const args = [
    '-r', file, ...CHECK_CHECKSUMS, ...extraArgs,
    '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=|', '-E', 'quote=n',
    ...FIELDS.flatMap((f) => ['-e', f]),
  ];
  const r = spawnSync(tshark, args, { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 256 << 20 });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const col = line.split('\t');
      const get = (f: (typeof FIELDS)[number]): string[] => {
        const v = col[FIELDS.indexOf(f)] ?? '';
        return v === '' ? [] : v.split('|');
      };
      const problems: string[] = [];
      if (get('_ws.malformed').length > 0) problems.push('malformed packet');
      for (const f of ['ip.checksum.status', 'icmp.checksum.status', 'udp.checksum.status', 'tcp.checksum.status'] as const) {
        if (get(f).some(isBad)) problems.push(`bad ${f.split('.')[0]!} checksum`);
      }
      const sev = get('_ws.expert.severity');
      const group = get('_ws.expert.group');
      const message = get('_ws.expert.message');
      sev.forEach((s, i) => {
        const g = (group[i] ?? '').toLowerCase();
        const m = message[i] ?? '';
        const damage = DAMAGE_GROUPS.has(g) || /malformed|checksum/i.test(m);
        if (ERROR_SEVERITY.has(s.toLowerCase()) || (WARNING_SEVERITY.has(s.toLowerCase()) && damage)) problems.push(`expert ${s}: ${m}`);
      });
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
        problems,
      };
    });
}
