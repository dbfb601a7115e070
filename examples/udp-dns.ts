/**
 * A tiny DNS-like name service over UDP, written with the BSD calls the way a
 * socket-programming course writes it: the server loops on recvfrom/sendto,
 * the client connects its datagram socket to the server, sends a query and
 * waits for the answer with SO_RCVTIMEO, retrying when a datagram is lost.
 *
 * Wire format (big-endian): query = id(2) name(ASCII);
 * answer = id(2) rcode(1: 0 found, 3 NXDOMAIN) address(4).
 *
 * Run it: `npx tsx examples/udp-dns.ts`.
 */
import { isSocketError } from '../src/errno/socket-error.js';
import { constants as C } from '../src/syscall/constants.js';
import type { SockAddrIn } from '../src/syscall/socket-handle.js';
import type { Syscalls } from '../src/syscall/syscalls.js';
import { MemoryNetwork } from '../src/link/memory.js';
import { Stack } from '../src/stack/stack.js';
import { createStackSyscalls } from '../src/syscall/stack-syscalls.js';
import { Duration } from '../src/time/duration.js';
import { Instant } from '../src/time/instant.js';
import { ManualClock } from '../src/time/manual-clock.js';

const RCODE_OK = 0;
const RCODE_NXDOMAIN = 3;

/**
 * Serves `records` on `port` until its socket is closed (the returned
 * `stop()` closes it, which wakes the blocked recvfrom with EBADF).
 */
export function startNameServer(
  sys: Syscalls,
  port: number,
  records: ReadonlyMap<string, string>,
): { stop: () => void; served: Promise<number> } {
  const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
  sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  sys.bind(fd, { address: C.INADDR_ANY, port });
  const served = (async () => {
    const buf = new Uint8Array(512);
    let count = 0;
    for (;;) {
      let query: { bytesRead: number; address: SockAddrIn };
      try {
        query = await sys.recvfrom(fd, buf, 0);
      } catch (e) {
        if (isSocketError(e, 'EBADF')) return count; // stop() closed the socket
        throw e;
      }
      if (query.bytesRead < 2) continue; // not a query: ignore, as DNS servers do
      const name = new TextDecoder().decode(buf.subarray(2, query.bytesRead));
      const address = records.get(name);
      const answer = new Uint8Array(7);
      answer.set(buf.subarray(0, 2)); // echo the id
      answer[2] = address === undefined ? RCODE_NXDOMAIN : RCODE_OK;
      if (address !== undefined) answer.set(address.split('.').map(Number), 3);
      await sys.sendto(fd, answer, 0, query.address);
      count++;
    }
  })();
  return {
    stop: () => {
      sys.close(fd);
    },
    served,
  };
}

export interface ResolveOptions {
  /** Per-attempt wait for the answer. Default 1000 ms. */
  readonly timeoutMs?: number;
  /** Attempts in all. Default 3. */
  readonly attempts?: number;
}

/**
 * Asks `server` for `name`. Resolves to the address, or undefined for
 * NXDOMAIN; rejects with ETIMEDOUT-like EAGAIN after the last attempt, or
 * with ECONNREFUSED when nobody listens on the server's port.
 */
export async function resolve(
  sys: Syscalls,
  server: SockAddrIn,
  name: string,
  opts: ResolveOptions = {},
): Promise<string | undefined> {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const attempts = opts.attempts ?? 3;
  const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
  try {
    // connect() on UDP: send() goes to the server, and only its answers are received.
    await sys.connect(fd, server);
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: Math.floor(timeoutMs / 1000), usec: (timeoutMs % 1000) * 1000 });
    const nameBytes = new TextEncoder().encode(name);
    const answer = new Uint8Array(512);
    for (let attempt = 1; ; attempt++) {
      const id = (0x1000 + attempt) & 0xffff;
      const query = new Uint8Array(2 + nameBytes.length);
      query[0] = id >>> 8;
      query[1] = id & 0xff;
      query.set(nameBytes, 2);
      await sys.send(fd, query, 0);
      try {
        for (;;) {
          const n = await sys.recv(fd, answer, 0);
          // An answer to an earlier attempt that arrived late: skip it.
          if (n < 7 || answer[0] !== id >>> 8 || answer[1] !== (id & 0xff)) continue;
          if (answer[2] === RCODE_NXDOMAIN) return undefined;
          return `${answer[3]}.${answer[4]}.${answer[5]}.${answer[6]}`;
        }
      } catch (e) {
        // SO_RCVTIMEO expired: EAGAIN, as on Linux. Try again, up to the limit.
        if (!isSocketError(e, 'EAGAIN') || attempt >= attempts) throw e;
      }
    }
  } finally {
    sys.close(fd);
  }
}

/**
 * Two Stacks on a virtual LAN: a server and a client that looks names up,
 * with the server's cable unplugged for the first 500 ms so the first query
 * is lost and the client retries. Returns the transcript.
 */
export async function demo(): Promise<string[]> {
  const clock = new ManualClock();
  const lan = new MemoryNetwork({ clock, seed: 7, latency: Duration.fromMillis(1) });
  const serverStack = new Stack({ clock, seed: 1 });
  const serverLink = lan.attach({ name: 'server' });
  serverStack.addInterface(serverLink, { address: '10.0.0.53/24' });
  const clientStack = new Stack({ clock, seed: 2 });
  clientStack.addInterface(lan.attach({ name: 'client' }), { address: '10.0.0.2/24' });
  // Until Stack grows its own `sys` getter, wire the BSD calls in explicitly.
  const serverSys = createStackSyscalls(serverStack).sys;
  const clientSys = createStackSyscalls(clientStack).sys;

  const log: string[] = [];
  const server = startNameServer(
    serverSys,
    53,
    new Map([
      ['example.test', '192.0.2.1'],
      ['sockstack.test', '198.51.100.7'],
    ]),
  );
  serverLink.setEnabled(false);
  clock.setTimer(Instant.fromMillis(500), () => {
    serverLink.setEnabled(true);
  });
  let done = false;
  const client = (async () => {
    for (const name of ['example.test', 'sockstack.test', 'nowhere.test']) {
      const address = await resolve(clientSys, { address: '10.0.0.53', port: 53 }, name);
      log.push(`${name} -> ${address ?? 'NXDOMAIN'} (t=${Instant.toMillis(clock.now())} ms)`);
    }
    try {
      await resolve(clientSys, { address: '10.0.0.53', port: 54 }, 'example.test');
    } catch (e) {
      log.push(`port 54 -> ${isSocketError(e) ? e.code : String(e)}`);
    }
  })().finally(() => {
    done = true;
  });
  // Drive virtual time a millisecond at a time, letting the programs run in between.
  for (let ms = 0; ms < 60_000 && !done; ms++) {
    clock.advance(Duration.fromMillis(1));
    await new Promise<void>((r) => setTimeout(r, 0));
  }
  await client;
  server.stop();
  log.push(`server answered ${await server.served} queries`);
  serverStack.close();
  clientStack.close();
  return log;
}

// Run directly with tsx: print the transcript.
const entry = (globalThis as { process?: { argv?: string[] } }).process?.argv?.[1];
if (entry !== undefined && import.meta.url.endsWith(entry.replace(/\\/g, '/').split('/').pop() ?? '\0')) {
  for (const line of await demo()) console.log(line);
}
