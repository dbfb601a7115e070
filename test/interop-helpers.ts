/**
 * Shared setup of the interop tests (test/interop-*.test.ts): a sockstack
 * Stack in this process on a TUN device, the device moved into a fresh
 * network namespace where Linux has the other end (10.98.N.1 Linux,
 * 10.98.N.2 sockstack, no route out), optionally everything recorded to a
 * pcap through a PcapLink. Sizes come from INTEROP_MIB so the full issue-6
 * figure (50 MiB) can be run on demand.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { impairLink } from '../src/link/impaired-link.js';
import type { ImpairLinkOptions, ImpairedLink } from '../src/link/impaired-link.js';
import { LinkType } from '../src/link/link.js';
import type { Link } from '../src/link/link.js';
import { PcapLink } from '../src/link/pcap-link.js';
import { openTun } from '../src/link/tun/index.js';
import type { TunLink } from '../src/link/tun/index.js';
import { createPcapFile } from '../src/node/pcap-file.js';
import type { PcapFileHandle } from '../src/node/pcap-file.js';
import { Stack } from '../src/stack/stack.js';
import { SeededRng } from '../src/random/rng.js';
import { SystemClock } from '../src/time/system-clock.js';
import { createNetns, uniqueTunName } from './helpers/netns.js';
import type { Netns } from './helpers/netns.js';
import type { TsharkFrame } from './helpers/tshark.js';

export const MiB = 1 << 20;

/** INTEROP_MIB (whole or fractional MiB) or the default, in bytes. */
export function interopBytes(defaultMiB: number): number {
  const raw = process.env.INTEROP_MIB;
  if (raw === undefined || raw === '') return Math.round(defaultMiB * MiB);
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`INTEROP_MIB must be a positive number: ${raw}`);
  return Math.round(v * MiB);
}

export interface InteropNet {
  readonly ns: Netns;
  readonly tun: TunLink;
  readonly stack: Stack;
  readonly linux: string;
  readonly sock: string;
  readonly pcap: PcapFileHandle | undefined;
  /** The impairing wrapper around the TUN link, when `impair` was given. */
  readonly impaired: ImpairedLink | undefined;
  close(): void;
}

let subnet = 0;

export interface InteropOptions {
  /** The Linux end's MTU on the device (the stack's side keeps the TUN link's). */
  readonly linuxMtu?: number;
  /** Record every packet here. */
  readonly pcapPath?: string;
  readonly seed?: number;
  /**
   * Impair frames on sockstack's side of the wire (netem-like, see
   * src/link/impaired-link.ts): `egress` toward Linux, `ingress` from it.
   * The pcap, if any, records what the stack sends and receives.
   */
  readonly impair?: Omit<ImpairLinkOptions, 'clock'>;
}

export async function createInteropNet(options: InteropOptions = {}): Promise<InteropNet> {
  // A distinct subnet per net in this process, so two files' namespaces never look alike in logs.
  const n = 10 + ((process.pid + subnet++) % 200);
  const linux = `10.98.${n}.1`;
  const sock = `10.98.${n}.2`;
  const ns = createNetns();
  const tun = await openTun(uniqueTunName());
  ns.adoptLink(tun.name, { address: `${linux}/24`, ...(options.linuxMtu === undefined ? {} : { mtu: options.linuxMtu }) });
  const clock = new SystemClock();
  let pcap: PcapFileHandle | undefined;
  let link: Link = tun;
  let impaired: ImpairedLink | undefined;
  if (options.impair !== undefined) {
    impaired = impairLink(tun, { clock, ...options.impair });
    link = impaired;
  }
  if (options.pcapPath !== undefined) {
    pcap = createPcapFile(options.pcapPath, { linkType: LinkType.RawIp });
    link = new PcapLink(link, { writer: pcap.writer, clock });
  }
  const stack = new Stack({ clock, seed: options.seed ?? 6, checksums: 'always' });
  stack.addInterface(link, { address: `${sock}/24` });
  let closed = false;
  return {
    ns,
    tun,
    stack,
    linux,
    sock,
    pcap,
    impaired,
    close(): void {
      if (closed) return;
      closed = true;
      stack.close();
      pcap?.close();
      ns.destroy();
    },
  };
}

/** Deterministic pseudo-random bytes (the project's SeededRng), so a failure replays with the same data. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  const words = new DataView(out.buffer);
  const rng = new SeededRng(seed);
  let i = 0;
  for (; i + 4 <= length; i += 4) words.setUint32(i, rng.nextU32());
  for (; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A python3 program run in the namespace (the Linux kernel's sockets, a program no one here wrote the stack of). */
export function python(ns: Netns, code: string, args: readonly string[] = []): ReturnType<Netns['spawn']> {
  return ns.spawn('python3', ['-u', '-c', code, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with the first stdout line of `child` matching `re` (e.g. a server's "listening"), or rejects when it exits first. */
export function waitForLine(child: ReturnType<Netns['spawn']>, re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(re)}; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = re.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ${String(re)}; stdout:\n${out}\nstderr:\n${err}`));
    });
  });
}

/** Collects a child's whole stdout/stderr and exit code. */
export function collect(child: ReturnType<Netns['spawn']>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/**
 * tshark arguments that keep bulk payload from being decoded as something
 * else: every protocol tshark would guess from TCP/UDP payload (heuristic
 * dissectors; e.g. Thrift "finds" broken messages in random bytes) is
 * turned off, except HTTP, which the tests speak on its own ports.
 */
export function noPayloadGuessing(tshark: string): string[] {
  const r = spawnSync(tshark, ['-G', 'heuristic-decodes'], { encoding: 'utf8' });
  const names = new Set<string>();
  for (const line of (r.stdout ?? '').split('\n')) {
    const [parent, proto, enabled] = line.split('\t');
    if ((parent === 'tcp' || parent === 'udp') && enabled === 'T' && proto !== undefined && proto !== 'http') names.add(proto);
  }
  return [...names].flatMap((p) => ['--disable-protocol', p]);
}

/**
 * The capture's damaged frames, as "#N: problems". One thing is let through,
 * and only from Linux: a TCP/UDP checksum of 0xffff where 0x0000 is
 * computed. Both are zero in one's complement (RFC 1624 section 3) and every
 * receiver accepts either; Linux's checksum completion for a TUN device
 * emits the -0 form now and then (about 1 packet in 65536), which tshark
 * reports. sockstack's own packets get no such allowance.
 */
export function captureDamage(frames: readonly TsharkFrame[], linux: string): { damaged: string[]; linuxNegativeZero: number } {
  let linuxNegativeZero = 0;
  const damaged: string[] = [];
  for (const f of frames) {
    if (f.problems.length === 0) continue;
    const negativeZero = f.problems.every((p) => /^bad (tcp|udp) checksum$/.test(p) || /Checksum 0xffff instead of 0x0000/.test(p));
    if (negativeZero && f.src === linux) {
      linuxNegativeZero++;
      continue;
    }
    damaged.push(`#${f.number} from ${f.src}: ${f.problems.join(', ')}`);
  }
  return { damaged, linuxNegativeZero };
}
