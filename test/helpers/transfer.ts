/**
 * The TCP transfer soak (issue 4, "Done when"): for one seed, a fresh
 * two-host LAN whose impairments are drawn from the seed, a server and a
 * client written only with `stack.sys` BSD calls, 1 MiB each way at the same
 * time, SHA-256 compared on both sides, both sides read to EOF and close,
 * then TIME-WAIT must run out and leave both stacks empty.
 *
 * Everything runs on one VirtualClock, and every random choice (impairments,
 * payload bytes, write and read sizes, ISNs) comes from the seed, so a failing
 * seed replays the same run byte for byte: `runTransfer(seed)` is all a bug
 * report needs.
 *
 * Hangs are caught two ways: a virtual-time deadline per phase (a stall with
 * timers still armed, or with nothing armed at all, lets virtual time race to
 * the deadline for free), and a real-time watchdog for a livelock that spins
 * at one virtual instant. Either way the error names the seed and dumps the
 * state of both hosts.
 */
import { createHash } from 'node:crypto';
import { lan } from '../../examples/tcp-net.js';
import type { Host, Lan } from '../../examples/tcp-net.js';
import type { MemoryImpairments } from '../../src/link/memory.js';
import { SeededRng } from '../../src/random/rng.js';
import { SocketError } from '../../src/errno/socket-error.js';
import { constants as C } from '../../src/syscall/constants.js';
import { TcpState } from '../../src/tcp/state.js';
import { Duration } from '../../src/time/duration.js';
import type { Instant } from '../../src/time/instant.js';
import { formatInstant } from '../../src/time/instant.js';
import { formatIpv4, formatMac } from '../../src/wire/address.js';

export const MiB = 1 << 20;

/** How many test files (test/transfer-suite*.test.ts) share the seeds, so vitest can run them in parallel. */
export const TRANSFER_PARTS = 2;

/** Seeds to run and bytes per direction, from TRANSFER_SEEDS / TRANSFER_BYTES (for a soak on demand). */
export function transferEnv(defaultSeeds = 200, defaultBytes = MiB): { seeds: number; bytes: number } {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const num = (name: string, dflt: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt;
    const v = Number(raw);
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative whole number: ${raw}`);
    return v;
  };
  return { seeds: num('TRANSFER_SEEDS', defaultSeeds), bytes: num('TRANSFER_BYTES', defaultBytes) };
}

/**
 * The seeds that test file `part` (0-based) of `parts` runs: seeds 1..count
 * dealt round-robin, so every file gets a similar mix of easy and hard seeds.
 */
export function seedsFor(part: number, parts: number, count: number): number[] {
  const out: number[] = [];
  for (let s = 1 + part; s <= count; s += parts) out.push(s);
  return out;
}

/** What a seed's network does to frames, in both directions. */
export function impairmentsFor(seed: number): Partial<MemoryImpairments> {
  const rng = new SeededRng(seed).fork('impairments');
  const p = (): number => Math.round(rng.nextFloat() * 0.1 * 1e4) / 1e4; // 0 - 10 %, 4 digits
  // Every tenth seed is a worst case: 10 % of everything at once.
  const worst = seed % 10 === 0;
  const imp: {
    -readonly [K in keyof MemoryImpairments]?: MemoryImpairments[K];
  } = {
    loss: worst ? 0.1 : p(),
    duplicate: worst ? 0.1 : p(),
    reorder: worst ? 0.1 : p(),
    corrupt: worst ? 0.1 : p(),
    latency: Duration.fromMicros(200 + rng.nextInt(5_000)),
    jitter: Duration.fromMicros(rng.nextInt(3_000)),
    reorderDelay: Duration.fromMicros(500 + rng.nextInt(10_000)),
  };
  // A quarter of the seeds go through a slow port with a finite queue, so
  // congestion (tail drop) adds to the random loss.
  if (rng.nextInt(4) === 0) {
    imp.bandwidth = [2e6, 10e6, 50e6, 100e6][rng.nextInt(4)]!;
    imp.queueLimit = 16 + rng.nextInt(200);
  }
  return imp;
}

/** Deterministic bytes (a 32-bit LCG), different per seed and direction. */
export function payload(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = (seed * 0x9e3779b1) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export interface TransferOptions {
  /** Bytes each way. Default 1 MiB. */
  readonly bytes?: number;
  /** Virtual time the data exchange (connect to both EOFs) may take. Default 30 min. */
  readonly transferLimit?: Duration;
  /** Real time before the watchdog calls it a livelock. Default 100 s. */
  readonly watchdogMs?: number;
}

export interface TransferResult {
  readonly seed: number;
  readonly impairments: Partial<MemoryImpairments>;
  /** Virtual time when both sides had read EOF and closed. */
  readonly doneAt: Instant;
  readonly retransmits: number;
  /** Connects that failed with EHOSTUNREACH (ARP gave up) and were tried again. */
  readonly connectRetries: number;
  /** The network's counters (frames sent, lost, duplicated, ...). */
  readonly net: Record<string, number>;
  /** Each stack's counters, server first. */
  readonly hosts: Record<string, number>[];
}

/** Progress of one side, for the state dump. */
interface Side {
  name: string;
  written: number;
  read: number;
  phase: string;
}

export class TransferFailure extends Error {
  constructor(seed: number, what: string, dump: string) {
    super(`transfer seed ${seed}: ${what}\n  replay: runTransfer(${seed}) in test/helpers/transfer.ts\n${dump}`);
    this.name = 'TransferFailure';
  }
}

function dumpState(bytes: number, retries: number, net: Lan, sides: readonly Side[], imp: Partial<MemoryImpairments>): string {
  const lines: string[] = [];
  lines.push(`  t=${formatInstant(net.clock.now())} bytes each way=${bytes} impairments=${JSON.stringify(imp)}`);
  lines.push(`  connect retries after EHOSTUNREACH: ${retries}`);
  for (const s of sides) lines.push(`  ${s.name}: phase=${s.phase} written=${s.written} read=${s.read}`);
  net.hosts.forEach((h, i) => {
    lines.push(`  host ${i + 1} (${h.address}) connections: [${h.tcp.connectionStates().join(', ')}] open fds: [${h.sys.openFds().join(', ')}]`);
    // ARP carries no checksum: a corrupted reply can cache a wrong MAC, so show what each host believes.
    const arp = h.stack.interfaces
      .flatMap((i) => i.neighbours?.entries() ?? [])
      .map((e) => `${formatIpv4(e.ip)}=${e.mac === undefined ? '?' : formatMac(e.mac)} ${e.state}`);
    lines.push(`    mac ${formatMac(h.link.mac)}; neighbours: [${arp.join(', ')}]`);
    const tcp = Object.entries(h.stack.stats.snapshot())
      .filter(([k, v]) => v !== 0 && (k.startsWith('tcp.') || k.startsWith('ip.drop')))
      .map(([k, v]) => `${k}=${v}`);
    lines.push(`    ${tcp.join(' ')}`);
  });
  lines.push(`  network: ${JSON.stringify(net.net.counters.snapshot())}`);
  return lines.join('\n');
}

/**
 * One side's application: write `data` in seeded uneven chunks then
 * shutdown(SHUT_WR), while reading in seeded uneven sizes until EOF; then
 * close. Returns what it read.
 */
async function converse(h: Host, fd: number, data: Uint8Array, rng: SeededRng, side: Side): Promise<Uint8Array> {
  const writer = (async () => {
    while (side.written < data.length) {
      // From a byte to 64 KiB: tiny writes exercise coalescing, big ones a full send buffer.
      const step = rng.nextInt(4) === 0 ? 1 + rng.nextInt(100) : 1 + rng.nextInt(65_536);
      side.written += await h.sys.write(fd, data.subarray(side.written, Math.min(data.length, side.written + step)));
    }
    h.sys.shutdown(fd, C.SHUT_WR);
    side.phase = 'shut-wr, reading';
  })();
  // If reading fails first, the writer's own failure (EPIPE after a reset)
  // must not surface as an unhandled rejection: the read error is the report.
  writer.catch(() => undefined);
  const out = new Uint8Array(data.length);
  const buf = new Uint8Array(65_536);
  for (;;) {
    const want = 1 + rng.nextInt(buf.length);
    const n = await h.sys.read(fd, buf.subarray(0, want));
    if (n === 0) break;
    if (side.read + n > out.length) throw new Error(`${side.name} read more than the ${out.length} bytes sent`);
    out.set(buf.subarray(0, n), side.read);
    side.read += n;
  }
  side.phase = 'eof, writing';
  await writer;
  h.sys.close(fd);
  side.phase = 'closed';
  return out;
}

/** Resolves when `p` does, or rejects at virtual time `at` / after `watchdogMs` of real time. */
function deadline<T>(net: Lan, p: Promise<T>, at: Instant, watchdogMs: number, fail: (what: string) => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = net.clock.setTimer(at, () => {
      if (!settled) {
        settled = true;
        clearTimeout(watchdog);
        reject(fail(`still running at the virtual-time limit ${formatInstant(at)}`));
      }
    });
    // Real time only catches a livelock at one virtual instant (virtual time stops moving).
    const watchdog = setTimeout(() => {
      if (!settled) {
        settled = true;
        net.clock.clearTimer(timer);
        reject(fail(`livelock: no progress in ${watchdogMs} ms of real time`));
      }
    }, watchdogMs);
    p.then(
      (v) => {
        if (settled) return;
        settled = true;
        net.clock.clearTimer(timer);
        clearTimeout(watchdog);
        resolve(v);
      },
      (e: unknown) => {
        if (settled) return;
        settled = true;
        net.clock.clearTimer(timer);
        clearTimeout(watchdog);
        reject(fail(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
      },
    );
  });
}

const PORT = 5001;

/** Runs one seed; throws TransferFailure (seed, reason, state dump) on anything wrong. */
export async function runTransfer(seed: number, opts: TransferOptions = {}): Promise<TransferResult> {
  const bytes = opts.bytes ?? MiB;
  const watchdogMs = opts.watchdogMs ?? 100_000;
  const imp = impairmentsFor(seed);
  const net = lan({ seed, impairments: imp, maxTime: Duration.fromSecs(86_400) as number as Instant });
  const [srv, cli] = [net.hosts[0]!, net.hosts[1]!];
  const sides: Side[] = [
    { name: 'server', written: 0, read: 0, phase: 'accepting' },
    { name: 'client', written: 0, read: 0, phase: 'connecting' },
  ];
  let connectRetries = 0;
  const fail = (what: string): TransferFailure => new TransferFailure(seed, what, dumpState(bytes, connectRetries, net, sides, imp));
  try {
    const down = payload(bytes, seed * 2);
    const up = payload(bytes, seed * 2 + 1);
    const app = new SeededRng(seed).fork('app');
    const lfd = srv.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    srv.sys.bind(lfd, { address: C.INADDR_ANY, port: PORT });
    srv.sys.listen(lfd, 1);
    const server = (async () => {
      const { fd } = await srv.sys.accept(lfd);
      srv.sys.close(lfd);
      sides[0]!.phase = 'transferring';
      return converse(srv, fd, down, app.fork('server'), sides[0]!);
    })();
    const client = (async () => {
      let fd: number;
      for (;;) {
        fd = cli.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
        try {
          await cli.sys.connect(fd, { address: srv.address, port: PORT });
          break;
        } catch (e) {
          // Three ARP requests (or replies) lost in a row: like Linux, the stack
          // fails the connect with EHOSTUNREACH after ~3 s (tcp_v4_err in
          // SYN-SENT). A real client tries again, and so does this one.
          if (!(e instanceof SocketError) || e.code !== 'EHOSTUNREACH' || connectRetries >= 5) throw e;
          cli.sys.close(fd);
          connectRetries++;
        }
      }
      sides[1]!.phase = 'transferring';
      return converse(cli, fd, up, app.fork('client'), sides[1]!);
    })();
    const limit = (net.clock.now() + (opts.transferLimit ?? Duration.fromSecs(1800))) as Instant;
    const [atServer, atClient] = await deadline(net, Promise.all([server, client]), limit, watchdogMs, fail);
    const doneAt = net.clock.now();

    if (atServer.length !== bytes || sha256(atServer) !== sha256(up)) throw fail(`server received corrupt data (sha256 mismatch)`);
    if (atClient.length !== bytes || sha256(atClient) !== sha256(down)) throw fail(`client received corrupt data (sha256 mismatch)`);

    // Closing: both FINs are sent and received, but the last ACK may still be
    // in flight or lost (CLOSING / LAST-ACK retransmit their FIN). Wait, in
    // virtual time, until only TIME-WAIT is left.
    const closingLimit = (net.clock.now() + Duration.fromSecs(600)) as Instant;
    const onlyTimeWait = (): boolean =>
      net.hosts.every((h) => h.tcp.connectionStates().every((s) => s === TcpState.TIME_WAIT));
    while (!onlyTimeWait()) {
      if (net.clock.now() >= closingLimit) throw fail('connections did not reach TIME-WAIT within 600 s of closing');
      await deadline(net, net.clock.sleep(Duration.fromMillis(100)), closingLimit, watchdogMs, fail);
    }
    // TIME-WAIT is 2 MSL (60 s by default); it must run out by itself. A
    // retransmitted FIN restarts it, so allow a few.
    const twLimit = (net.clock.now() + Duration.fromSecs(600)) as Instant;
    while (srv.tcp.connectionCount + cli.tcp.connectionCount > 0) {
      if (net.clock.now() >= twLimit) throw fail('TIME-WAIT did not expire within 600 s');
      await deadline(net, net.clock.sleep(Duration.fromSecs(1)), twLimit, watchdogMs, fail);
    }

    const stat = (k: string): number => srv.stack.stats.get(k) + cli.stack.stats.get(k);
    // Clean: nobody reset or gave up, no socket left open.
    if (stat('tcp.estab-resets') !== 0) throw fail('a connection was reset');
    if (stat('tcp.attempt-fails') !== connectRetries) throw fail('a connection attempt failed (other than an ARP failure retried)');
    if (srv.sys.openFds().length + cli.sys.openFds().length !== 0) throw fail('file descriptors left open');
    if (stat('tcp.poll-spins') !== 0) throw fail('the deadline heap woke a connection with nothing to do');
    return {
      seed,
      impairments: imp,
      doneAt,
      retransmits: stat('tcp.retrans-segs'),
      connectRetries,
      net: net.net.counters.snapshot(),
      hosts: net.hosts.map((h) => h.stack.stats.snapshot()),
    };
  } finally {
    net.close();
  }
}

/**
 * Totals over a file's seeds, to show the impairments really happened and
 * TCP repaired them (a suite that never lost a frame would prove nothing).
 */
export function suiteTotals(results: readonly TransferResult[]): Record<string, number> {
  const t: Record<string, number> = {};
  const add = (k: string, v: number | undefined): void => {
    t[k] = (t[k] ?? 0) + (v ?? 0);
  };
  for (const r of results) {
    for (const k of ['dropped-loss', 'dropped-queue', 'duplicated', 'reordered', 'corrupted']) add(k, r.net[k]);
    for (const h of r.hosts) {
      add('checksum-drops', (h['tcp.in-csum-errors'] ?? 0) + (h['ip.drop.bad-checksum'] ?? 0));
      add('retransmits', h['tcp.retrans-segs']);
    }
    add('connect-retries', r.connectRetries);
  }
  return t;
}
