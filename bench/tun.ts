/**
 * Case "tun": bulk TCP between a sockstack Stack on a Linux TUN device and
 * the Linux kernel, both directions, against the kernel talking to itself
 * over a veth pair, measured in the same run (issue 6, "Performance figure").
 *
 *   sockstack -> kernel   this process writes; a python3 sink in the namespace reads
 *   kernel -> sockstack   a python3 source in the namespace writes; this process reads
 *   reference             the same python3 source and sink, one in each of two
 *                         namespaces joined by a veth pair (kernel <-> kernel)
 *
 * Every transfer moves the same bytes in writes of the same size, and is
 * timed at its receiver from accept() to end of file, so the figure includes
 * the receiver's wake-ups and the FIN but not process start-up. Both links
 * keep their default MTU of 1500; the veth pair keeps its offloads (TSO/GRO),
 * as a real kernel <-> kernel path has them: the ratio is the cost of a
 * userspace stack behind a TUN device, not of the MTU.
 *
 * Each run creates its own namespaces (one holding the TUN device's Linux
 * end, two for the veth pair), with private addresses and no route out, and
 * removes them before it returns, also when it fails. Skipped, with the
 * reason, where root, `ip netns`, /dev/net/tun or python3 are missing.
 *
 * `SOCKSTACK_BENCH_TUN_MIB` sets the bytes per transfer for one run.
 */
import type { ChildProcess } from 'node:child_process';
import { openTun } from '../src/link/tun/index.js';
import { Stack } from '../src/stack/stack.js';
import { constants as C } from '../src/syscall/constants.js';
import type { Syscalls } from '../src/syscall/syscalls.js';
import { SystemClock } from '../src/time/system-clock.js';
import { canUseNetns, createNetns, uniqueTunName } from '../test/helpers/netns-core.js';
import type { Netns } from '../test/helpers/netns-core.js';
import { fill } from './tcp.js';
import type { BenchCase, CaseContext, Measurement } from './lib/harness.js';

const MIB = 1 << 20;
const CHUNK = 64 * 1024;
/** Quick mode: a figure in well under a second per transfer. */
const QUICK_BYTES = 4 * MIB;
/**
 * Full mode: large enough that connection set-up and slow start are a small
 * part of the figure, small enough that the case (14 runs of 4 transfers)
 * stays under about two minutes at the sockstack rate measured when it was
 * written (~1 Gbit/s over TUN on a 2-core VM).
 */
const FULL_BYTES = Number(process.env['SOCKSTACK_BENCH_TUN_MIB'] ?? 64) * MIB;
const PORT = 5201;

/**
 * The Linux-side program, in python3 so that it is the same program on both
 * sides of the reference: `sink HOST PORT CHUNK` listens, prints
 * "listening", accepts one connection, reads to end of file and prints
 * "BYTES SECONDS"; `source HOST PORT CHUNK TOTAL` connects, sends TOTAL bytes
 * in CHUNK-byte writes and closes.
 */
const PROGRAM = `
import socket, sys, time
mode, host, port, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if mode == 'sink':
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(1)
    print('listening', flush=True)
    c, _ = s.accept()
    t0 = time.perf_counter()
    buf = bytearray(chunk)
    n = 0
    while True:
        k = c.recv_into(buf)
        if k == 0:
            break
        n += k
    t = time.perf_counter() - t0
    c.close()
    print(n, t, flush=True)
else:
    total = int(sys.argv[5])
    data = bytes((i * 131 + 7) & 0xff for i in range(chunk))
    c = socket.create_connection((host, port))
    sent = 0
    while sent < total:
        piece = data if total - sent >= chunk else data[: total - sent]
        c.sendall(piece)
        sent += len(piece)
    c.close()
`;

function python(ns: Netns, args: readonly (string | number)[]): ChildProcess {
  return ns.spawn('python3', ['-u', '-c', PROGRAM, ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Output of a child process as it arrives; `line(re)` waits for a match, `exit` for the end. */
function watch(child: ChildProcess, what: string): { line(re: RegExp): Promise<RegExpExecArray>; exit: Promise<string> } {
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void }[] = [];
  let exited: Error | undefined;
  const check = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      const m = w.re.exec(out);
      if (m !== null) {
        waiters.splice(i, 1);
        w.resolve(m);
      } else if (exited !== undefined) {
        waiters.splice(i, 1);
        w.reject(exited);
      }
    }
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    check();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else {
        const e = new Error(`${what} exited with ${code ?? signal}: ${err.trim()}`);
        exited = e;
        reject(e);
      }
      exited ??= new Error(`${what} exited before printing the expected line; stdout: ${out.trim()}`);
      check();
    });
  });
  exit.catch(() => undefined); // awaited by the caller; a failure there also rejects line()
  return {
    line: (re) =>
      new Promise((resolve, reject) => {
        waiters.push({ re, resolve, reject });
        check();
      }),
    exit,
  };
}

/** Parses a sink's "BYTES SECONDS" line and checks the byte count; returns Gbit/s. */
function sinkRate(out: string, total: number, what: string): number {
  const m = /^(\d+) ([\d.e+-]+)$/m.exec(out);
  if (m === null) throw new Error(`${what}: no "bytes seconds" line in: ${out.trim()}`);
  const got = Number(m[1]);
  if (got !== total) throw new Error(`${what}: received ${got} of ${total} bytes`);
  return gbits(total, Number(m[2]));
}

function gbits(bytes: number, secs: number): number {
  return (bytes * 8) / secs / 1e9;
}

async function writeAll(sys: Syscalls, fd: number, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await sys.write(fd, off === 0 ? buf : buf.subarray(off));
}

/** sockstack sends `total` bytes to a python3 sink at `host` in `ns`. */
async function sockstackToKernel(sys: Syscalls, ns: Netns, host: string, total: number): Promise<number> {
  const sink = watch(python(ns, ['sink', host, PORT, CHUNK]), 'python3 sink');
  await sink.line(/listening/);
  const data = fill(new Uint8Array(CHUNK), 0x7e1);
  const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  try {
    await sys.connect(fd, { address: host, port: PORT });
    for (let sent = 0; sent < total; sent += CHUNK) await writeAll(sys, fd, CHUNK <= total - sent ? data : data.subarray(0, total - sent));
  } finally {
    sys.close(fd);
  }
  return sinkRate(await sink.exit, total, 'sockstack -> kernel');
}

/** A python3 source in `ns` sends `total` bytes to sockstack at `host`; timed from accept() to end of file, like the sink. */
async function kernelToSockstack(sys: Syscalls, ns: Netns, host: string, total: number): Promise<number> {
  const lfd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  try {
    sys.setsockopt(lfd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    sys.bind(lfd, { address: host, port: PORT });
    sys.listen(lfd, 1);
    const source = watch(python(ns, ['source', host, PORT, CHUNK, total]), 'python3 source');
    // A source that fails before connecting must fail the run, not leave accept() waiting.
    const { fd } = await Promise.race([sys.accept(lfd), source.exit.then(() => new Promise<never>(() => undefined))]);
    const start = performance.now();
    const buf = new Uint8Array(CHUNK);
    let got = 0;
    try {
      for (;;) {
        const n = await sys.read(fd, buf);
        if (n === 0) break;
        got += n;
      }
    } finally {
      sys.close(fd);
    }
    const secs = (performance.now() - start) / 1000;
    await source.exit;
    if (got !== total) throw new Error(`kernel -> sockstack: received ${got} of ${total} bytes`);
    return gbits(total, secs);
  } finally {
    sys.close(lfd);
  }
}

/** The reference: python3 source in `a` -> python3 sink in `b` at `host`, over the veth pair. */
async function kernelToKernel(a: Netns, b: Netns, host: string, total: number): Promise<number> {
  const sink = watch(python(b, ['sink', host, PORT, CHUNK]), 'python3 sink (veth)');
  await sink.line(/listening/);
  const source = watch(python(a, ['source', host, PORT, CHUNK, total]), 'python3 source (veth)');
  const [out] = await Promise.all([sink.exit, source.exit]);
  return sinkRate(out, total, 'kernel -> kernel');
}

/**
 * A veth pair between two fresh namespaces: `a` at 10.96.0.1, `b` at
 * 10.96.0.2. Each namespace goes into `created` as soon as it exists, so the
 * caller removes it even when a later step fails.
 */
function vethPair(created: Netns[]): { a: Netns; b: Netns } {
  const a = createNetns();
  created.push(a);
  const b = createNetns();
  created.push(b);
  // Created inside `a` with its peer moved to `b` at once: nothing appears in the root namespace.
  a.ip('link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', b.name);
  for (const [ns, dev, address] of [
    [a, 'veth0', '10.96.0.1/24'],
    [b, 'veth1', '10.96.0.2/24'],
  ] as const) {
    ns.execSync('sysctl', ['-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
    ns.ip('addr', 'add', address, 'dev', dev);
    ns.ip('link', 'set', 'dev', dev, 'up');
  }
  return { a, b };
}

async function run(ctx: CaseContext): Promise<readonly Measurement[]> {
  const total = ctx.quick ? QUICK_BYTES : FULL_BYTES;
  if (!Number.isSafeInteger(total) || total <= 0) throw new RangeError(`SOCKSTACK_BENCH_TUN_MIB must give a positive whole number of bytes, got ${total}`);
  const namespaces: Netns[] = [];
  let stack: Stack | undefined;
  try {
    const ns = createNetns();
    namespaces.push(ns);
    const tun = await openTun(uniqueTunName());
    try {
      ns.adoptLink(tun.name, { address: '10.97.0.1/24' });
    } catch (e) {
      tun.close();
      throw e;
    }
    // keepAlive: the case awaits promises that only the stack's timers settle.
    stack = new Stack({ clock: new SystemClock({ keepAlive: true }), seed: 0x7a7 + ctx.iteration });
    stack.addInterface(tun, { address: '10.97.0.2/24' });
    const { a, b } = vethPair(namespaces);

    const sys = stack.sys;
    const sockstackFirst = ctx.iteration % 2 === 0;
    const pair = async (sockstackSide: () => Promise<number>): Promise<[number, number]> => {
      // Alternate which side goes first, so neither always meets a warmer or colder machine.
      if (sockstackFirst) {
        const s = await sockstackSide();
        return [s, await kernelToKernel(a, b, '10.96.0.2', total)];
      }
      const r = await kernelToKernel(a, b, '10.96.0.2', total);
      return [await sockstackSide(), r];
    };
    const [send, sendRef] = await pair(() => sockstackToKernel(sys, ns, '10.97.0.1', total));
    const [recv, recvRef] = await pair(() => kernelToSockstack(sys, ns, '10.97.0.2', total));
    return [
      { metric: 'sockstack -> kernel', unit: 'Gbit/s', better: 'higher', sockstack: send, reference: sendRef },
      { metric: 'kernel -> sockstack', unit: 'Gbit/s', better: 'higher', sockstack: recv, reference: recvRef },
    ];
  } finally {
    stack?.close();
    for (const ns of namespaces) ns.destroy();
  }
}

export const tunCase: BenchCase = {
  name: 'tun',
  description: `${FULL_BYTES / MIB} MiB (full) each way between a Stack on a TUN device and the Linux kernel in a namespace, ${CHUNK / 1024} KiB writes, MTU 1500`,
  reference: 'the same python3 sender and receiver kernel <-> kernel over a veth pair between two namespaces',
  unavailable: () => {
    const gate = canUseNetns(['python3']);
    return gate.ok ? undefined : gate.reason;
  },
  run,
};
