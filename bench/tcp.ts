/**
 * Cases "tcp-bulk-64k", "tcp-bulk-1500", "tcp-rr", "tcp-connect": sockstack
 * TCP between two Stacks in this process, on a MemoryNetwork, against Node's
 * `net` module over 127.0.0.1 (the kernel's loopback TCP), doing the same
 * work: the same bytes, the same write and read sizes, the same number of
 * transactions or connections.
 *
 * Why real time (SystemClock) and not a VirtualClock: a program using
 * sockstack for real I/O runs on a SystemClock, where every frame delivery
 * and every TCP timer is a real platform timer, so that is the figure a user
 * gets. A VirtualClock would let virtual time jump over waits (delayed ACKs,
 * RTOs) that cost a real program real time, flattering the stack. The wire
 * has zero latency and no impairments, so its links are trusted (checksums
 * skipped, as Linux skips them on loopback) unless the case asks for
 * `checksums: 'verified'`: then the wire is declared untrusted, like a NIC
 * without checksum offload, and both stacks compute every checksum they send
 * and verify every checksum they receive.
 *
 * `SOCKSTACK_BENCH_CLOCK=virtual` runs the stacks on a VirtualClock instead,
 * for investigation only: it separates CPU cost from waiting on timers.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { MemoryNetwork } from '../src/link/memory.js';
import { Stack } from '../src/stack/stack.js';
import { constants as C } from '../src/syscall/constants.js';
import type { Syscalls } from '../src/syscall/syscalls.js';
import type { Clock } from '../src/time/clock.js';
import { SystemClock } from '../src/time/system-clock.js';
import { VirtualClock } from '../src/sim/virtual-clock.js';
import type { BenchCase, CaseContext, Measurement } from './lib/harness.js';

/** Two stacks, 10.0.0.1 (client) and 10.0.0.2 (server), on one zero-latency virtual wire. */
export interface Pair {
  readonly clock: Clock;
  readonly client: Syscalls;
  readonly server: Syscalls;
  readonly serverAddress: string;
  close(): void;
}

export interface PairOptions {
  readonly mtu: number;
  /** 'trusted' (default): none computed or verified; 'verified': all computed and verified (an untrusted wire). */
  readonly checksums?: 'trusted' | 'verified';
  /** Seeds the network and both stacks: same seed, same ISNs, ports and MACs. */
  readonly seed?: number;
}

export function stackPair(options: PairOptions): Pair {
  const seed = options.seed ?? 1;
  // keepAlive: the benchmark awaits promises that only these timers settle.
  const clock: Clock = process.env['SOCKSTACK_BENCH_CLOCK'] === 'virtual' ? new VirtualClock() : new SystemClock({ keepAlive: true });
  const network = new MemoryNetwork({ clock, seed, mtu: options.mtu, trusted: options.checksums !== 'verified' });
  const stacks = [1, 2].map((i) => {
    const stack = new Stack({ clock, seed: seed * 1000 + i });
    stack.addInterface(network.attach({ name: `h${i}` }), { address: `10.0.0.${i}/24` });
    return stack;
  });
  const [a, b] = stacks as [Stack, Stack];
  return {
    clock,
    client: a.sys,
    server: b.sys,
    serverAddress: '10.0.0.2',
    close: () => {
      a.close();
      b.close();
    },
  };
}

/** Seeded filler (xorshift32): the same bytes every run, and not all zero. */
export function fill(b: Uint8Array, seed: number): Uint8Array {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** A listening sockstack socket on the server side. */
function listenOn(sys: Syscalls, port: number): number {
  const lfd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sys.setsockopt(lfd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  sys.bind(lfd, { address: C.INADDR_ANY, port });
  sys.listen(lfd, 128);
  return lfd;
}

async function writeAll(sys: Syscalls, fd: number, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await sys.write(fd, off === 0 ? buf : buf.subarray(off));
}

/** Node `net` server on 127.0.0.1, any port. */
async function nodeListen(onConnection: (s: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer({ noDelay: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function nodeConnect(port: number, noDelay: boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

// ---------------------------------------------------------------- bulk

/**
 * Sends `total` bytes client -> server in writes of `chunk` bytes, the
 * server reading into a `chunk`-byte buffer until end of file. Returns
 * seconds from just before connect() to the receiver's end of file, so the
 * handshake and FIN exchange are in the figure on both sides alike.
 */
async function sockstackBulk(pair: Pair, total: number, chunk: number, port: number): Promise<number> {
  const { client, server } = pair;
  const lfd = listenOn(server, port);
  const data = fill(new Uint8Array(chunk), 0xb0b);
  const start = performance.now();
  const receiver = (async () => {
    const { fd } = await server.accept(lfd);
    const buf = new Uint8Array(chunk);
    let got = 0;
    for (;;) {
      const n = await server.read(fd, buf);
      if (n === 0) break;
      got += n;
    }
    server.close(fd);
    return got;
  })();
  const fd = client.socket(C.AF_INET, C.SOCK_STREAM, 0);
  await client.connect(fd, { address: pair.serverAddress, port });
  for (let sent = 0; sent < total; sent += chunk) await writeAll(client, fd, chunk <= total - sent ? data : data.subarray(0, total - sent));
  client.close(fd);
  const got = await receiver;
  const secs = (performance.now() - start) / 1000;
  server.close(lfd);
  if (got !== total) throw new Error(`tcp bulk: received ${got} of ${total} bytes`);
  return secs;
}

/** The same transfer over Node `net` on 127.0.0.1: 'data' events stand in for read(), write() with backpressure for write(). */
async function nodeBulk(total: number, chunk: number): Promise<number> {
  const data = Buffer.from(fill(new Uint8Array(chunk), 0xb0b));
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const { server, port } = await nodeListen((s) => {
    s.on('data', (b: Buffer) => {
      got += b.length;
    });
    s.on('end', () => {
      s.end();
      done();
    });
  });
  const start = performance.now();
  const s = await nodeConnect(port, false);
  for (let sent = 0; sent < total; sent += chunk) {
    const piece = chunk <= total - sent ? data : data.subarray(0, total - sent);
    if (!s.write(piece)) await new Promise((resolve) => s.once('drain', resolve));
  }
  s.end();
  await finished;
  const secs = (performance.now() - start) / 1000;
  s.destroy();
  await closeServer(server);
  if (got !== total) throw new Error(`node bulk: received ${got} of ${total} bytes`);
  return secs;
}

const MIB = 1 << 20;
const CHUNK = 64 * 1024;
/**
 * Bytes per run in full mode: 1 GiB, the workload of issue 9. At the rates
 * measured when this was raised (about 1 Gbit/s at MTU 1500 with checksums,
 * 10 Gbit/s at MTU 65535, on a loaded 2-core machine) a run takes under 10 s
 * and the 14 runs of both bulk cases about 3 minutes.
 * `SOCKSTACK_BENCH_BULK_MIB` overrides it for one run.
 */
const FULL_BULK_BYTES = Number(process.env['SOCKSTACK_BENCH_BULK_MIB'] ?? 1024) * MIB;
/** Quick mode: a figure for CI in about a second per run. */
const QUICK_BULK_BYTES = 1 * MIB;

function bulkCase(name: string, mtu: number, checksums: 'trusted' | 'verified'): BenchCase {
  return {
    name,
    description: `${FULL_BULK_BYTES / MIB} MiB (full) one way in ${CHUNK / 1024} KiB writes between two stacks over MemoryNetwork MTU ${mtu}${checksums === 'verified' ? ', checksums computed and verified' : ' (trusted link, no checksums)'}, SystemClock`,
    reference: 'Node net over 127.0.0.1, same bytes and write size',
    async run(ctx: CaseContext): Promise<Measurement[]> {
      const total = ctx.quick ? QUICK_BULK_BYTES : FULL_BULK_BYTES;
      const pair = stackPair({ mtu, checksums, seed: 1 + ctx.iteration });
      let ours: number;
      let ref: number;
      try {
        // Alternate which side goes first, so neither always meets a cold cache or a GC left by the other.
        if (ctx.iteration % 2 === 0) {
          ours = await sockstackBulk(pair, total, CHUNK, 5001);
          ref = await nodeBulk(total, CHUNK);
        } else {
          ref = await nodeBulk(total, CHUNK);
          ours = await sockstackBulk(pair, total, CHUNK, 5001);
        }
      } finally {
        pair.close();
      }
      const gbit = (secs: number): number => (total * 8) / secs / 1e9;
      return [{ metric: `${CHUNK / 1024} KiB writes`, unit: 'Gbit/s', better: 'higher', sockstack: gbit(ours), reference: gbit(ref) }];
    },
  };
}

export const tcpBulk64kCase = bulkCase('tcp-bulk-64k', 65_535, 'trusted');
export const tcpBulk1500Case = bulkCase('tcp-bulk-1500', 1500, 'verified');

// ---------------------------------------------------------------- request/response

/** `count` 1-byte requests, each answered by a 1-byte response, on one TCP_NODELAY connection. Returns seconds for the exchanges only. */
async function sockstackRr(pair: Pair, count: number, port: number): Promise<number> {
  const { client, server } = pair;
  const lfd = listenOn(server, port);
  const serving = (async () => {
    const { fd } = await server.accept(lfd);
    server.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
    const b = new Uint8Array(1);
    for (;;) {
      const n = await server.read(fd, b);
      if (n === 0) break;
      await server.write(fd, b);
    }
    server.close(fd);
  })();
  const fd = client.socket(C.AF_INET, C.SOCK_STREAM, 0);
  client.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
  await client.connect(fd, { address: pair.serverAddress, port });
  const req = new Uint8Array([0x2a]);
  const resp = new Uint8Array(1);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    await client.write(fd, req);
    if ((await client.read(fd, resp)) !== 1) throw new Error('tcp rr: early end of file');
  }
  const secs = (performance.now() - start) / 1000;
  client.close(fd);
  await serving;
  server.close(lfd);
  return secs;
}

async function nodeRr(count: number): Promise<number> {
  const { server, port } = await nodeListen((s) => {
    s.on('data', (b: Buffer) => s.write(b));
    s.on('end', () => s.end());
  });
  const s = await nodeConnect(port, true);
  const req = Buffer.from([0x2a]);
  let left = count;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const start = performance.now();
  // One byte in flight at a time, so each 'data' event is exactly one response.
  s.on('data', (b: Buffer) => {
    left -= b.length;
    if (left > 0) s.write(req);
    else done();
  });
  s.write(req);
  await finished;
  const secs = (performance.now() - start) / 1000;
  s.destroy();
  await closeServer(server);
  return secs;
}

export const tcpRrCase: BenchCase = {
  name: 'tcp-rr',
  description: '1-byte request, 1-byte response, sequential on one TCP_NODELAY connection between two stacks over MemoryNetwork, SystemClock',
  reference: 'Node net over 127.0.0.1 (noDelay), same exchanges',
  async run(ctx: CaseContext): Promise<Measurement[]> {
    // Full: enough exchanges for a run of about a second at kernel speed; 2000 took 60 ms, mostly JIT warm-up and noise.
    const count = ctx.quick ? 100 : 20_000;
    const pair = stackPair({ mtu: 1500, seed: 1 + ctx.iteration });
    let ours: number;
    let ref: number;
    try {
      if (ctx.iteration % 2 === 0) {
        ours = await sockstackRr(pair, count, 5002);
        ref = await nodeRr(count);
      } else {
        ref = await nodeRr(count);
        ours = await sockstackRr(pair, count, 5002);
      }
    } finally {
      pair.close();
    }
    return [{ metric: '1 B', unit: 'trans/s', better: 'higher', sockstack: count / ours, reference: count / ref }];
  },
};

// ---------------------------------------------------------------- connect

/**
 * `count` sequential connections: connect, accept, then both sides close.
 * The next connect starts once the client's connect() and the server's
 * accept() have both returned and both closed; ephemeral ports and TIME-WAIT
 * are left to the stack, as for the kernel.
 */
async function sockstackConnect(pair: Pair, count: number, port: number): Promise<number> {
  const { client, server } = pair;
  const lfd = listenOn(server, port);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const fd = client.socket(C.AF_INET, C.SOCK_STREAM, 0);
    const accepted = server.accept(lfd);
    await client.connect(fd, { address: pair.serverAddress, port });
    const { fd: sfd } = await accepted;
    client.close(fd);
    server.close(sfd);
  }
  const secs = (performance.now() - start) / 1000;
  server.close(lfd);
  return secs;
}

async function nodeConnectLoop(count: number): Promise<number> {
  const accepted: ((s: net.Socket) => void)[] = [];
  const { server, port } = await nodeListen((s) => {
    const waiter = accepted.shift();
    if (waiter === undefined) throw new Error('node connect: unexpected connection');
    waiter(s);
  });
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const acc = new Promise<net.Socket>((resolve) => accepted.push(resolve));
    const c = await nodeConnect(port, false);
    const s = await acc;
    c.destroy();
    s.destroy();
  }
  const secs = (performance.now() - start) / 1000;
  await closeServer(server);
  return secs;
}

/**
 * Hands each accepted connection to the client that made it, by the
 * client's port: the accept loop and the clients meet here in either order.
 */
class Rendezvous<T> {
  readonly #arrived = new Map<number, T>();
  readonly #waiting = new Map<number, (v: T) => void>();

  /** The accept loop got `v` from the client on `port`. */
  put(port: number, v: T): void {
    const w = this.#waiting.get(port);
    if (w === undefined) {
      this.#arrived.set(port, v);
      return;
    }
    this.#waiting.delete(port);
    w(v);
  }

  /** What the accept loop got from the client on `port`, once it has. */
  take(port: number): Promise<T> {
    const v = this.#arrived.get(port);
    if (v !== undefined) {
      this.#arrived.delete(port);
      return Promise.resolve(v);
    }
    return new Promise((resolve) => this.#waiting.set(port, resolve));
  }
}

/**
 * `count` connections, `parallel` in flight at a time: that many clients
 * each connect, wait until the server's accept loop has accepted their
 * connection, and close both sides (client first, as in the sequential
 * loop), again and again. A connection counts as in flight until both
 * sides closed it; a client that started its next connect as soon as its
 * own connect returned would let the server's accept queue grow without
 * bound (the kernel then drops SYNs: listen overflows, 1 s retransmits).
 */
async function sockstackConnectParallel(pair: Pair, count: number, parallel: number, port: number): Promise<number> {
  const { client, server } = pair;
  const lfd = listenOn(server, port);
  const accepted = new Rendezvous<number>();
  const start = performance.now();
  const acceptor = (async () => {
    for (let i = 0; i < count; i++) {
      const { fd, address } = await server.accept(lfd);
      accepted.put(address.port, fd);
    }
  })();
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      const fd = client.socket(C.AF_INET, C.SOCK_STREAM, 0);
      await client.connect(fd, { address: pair.serverAddress, port });
      const sfd = await accepted.take(client.getsockname(fd).port);
      client.close(fd);
      server.close(sfd);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  await acceptor;
  const secs = (performance.now() - start) / 1000;
  server.close(lfd);
  return secs;
}

async function nodeConnectParallel(count: number, parallel: number): Promise<number> {
  const accepted = new Rendezvous<net.Socket>();
  const { server, port } = await nodeListen((s) => {
    accepted.put(s.remotePort!, s);
  });
  const start = performance.now();
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      const c = await nodeConnect(port, false);
      const s = await accepted.take(c.localPort!);
      c.destroy();
      s.destroy();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const secs = (performance.now() - start) / 1000;
  await closeServer(server);
  return secs;
}

/** Connections in flight at once in the second tcp-connect row (issue 9: "sequential and 64 at once"). */
const CONNECT_PARALLEL = 64;

export const tcpConnectCase: BenchCase = {
  name: 'tcp-connect',
  description: `connect + accept + close on both sides between two stacks over MemoryNetwork, SystemClock: sequential, and ${CONNECT_PARALLEL} connections in flight at a time (one accept loop)`,
  reference: 'Node net over 127.0.0.1: net.connect + server connection + destroy on both sides, the same way',
  async run(ctx: CaseContext): Promise<Measurement[]> {
    // Full: each row well under the ephemeral range (28232 ports), since TIME-WAIT holds each for 60 s.
    const count = ctx.quick ? 50 : 1000;
    const parallelCount = ctx.quick ? 2 * CONNECT_PARALLEL : 1000;
    const pair = stackPair({ mtu: 1500, seed: 1 + ctx.iteration });
    let ours: number;
    let ref: number;
    let oursParallel: number;
    let refParallel: number;
    try {
      if (ctx.iteration % 2 === 0) {
        ours = await sockstackConnect(pair, count, 5003);
        ref = await nodeConnectLoop(count);
        oursParallel = await sockstackConnectParallel(pair, parallelCount, CONNECT_PARALLEL, 5004);
        refParallel = await nodeConnectParallel(parallelCount, CONNECT_PARALLEL);
      } else {
        ref = await nodeConnectLoop(count);
        ours = await sockstackConnect(pair, count, 5003);
        refParallel = await nodeConnectParallel(parallelCount, CONNECT_PARALLEL);
        oursParallel = await sockstackConnectParallel(pair, parallelCount, CONNECT_PARALLEL, 5004);
      }
    } finally {
      pair.close();
    }
    return [
      { metric: 'connect+close', unit: 'conn/s', better: 'higher', sockstack: count / ours, reference: count / ref },
      {
        metric: `connect+close x${CONNECT_PARALLEL}`,
        unit: 'conn/s',
        better: 'higher',
        sockstack: parallelCount / oursParallel,
        reference: parallelCount / refParallel,
      },
    ];
  },
};
