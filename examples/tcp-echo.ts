/**
 * The classic TCP echo server and client, written with the BSD calls the way
 * a socket-programming course writes them, against `sys` of two stacks on a
 * virtual LAN (examples/tcp-net.ts): the server loops on accept, serves each
 * client until it closes (read, write back), and the client connects, writes
 * lines and reads each echo back.
 *
 * Run it: `npx tsx examples/tcp-echo.ts`.
 */
import { isSocketError } from '../src/errno/socket-error.js';
import { constants as C } from '../src/syscall/constants.js';
import type { Syscalls } from '../src/syscall/syscalls.js';
import { Instant } from '../src/time/instant.js';
import { lan } from './tcp-net.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Serves one client: everything read is written back, until end of file. */
async function serveClient(sys: Syscalls, fd: number): Promise<number> {
  const buf = new Uint8Array(1024);
  let echoed = 0;
  for (;;) {
    const n = await sys.read(fd, buf);
    if (n === 0) break; // the client closed its side
    let off = 0;
    while (off < n) off += await sys.write(fd, buf.subarray(off, n));
    echoed += n;
  }
  sys.close(fd);
  return echoed;
}

/**
 * An iterative echo server on `port`. Each accepted client is served
 * concurrently (the JavaScript stand-in for fork()). `stop()` closes the
 * listening socket, which makes the pending accept fail with EBADF.
 */
export function startEchoServer(sys: Syscalls, port: number): { stop: () => void; done: Promise<number> } {
  const lfd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sys.setsockopt(lfd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  sys.bind(lfd, { address: C.INADDR_ANY, port });
  sys.listen(lfd, 16);
  const done = (async () => {
    const clients: Promise<number>[] = [];
    for (;;) {
      try {
        const { fd } = await sys.accept(lfd);
        clients.push(serveClient(sys, fd));
      } catch (e) {
        if (isSocketError(e, 'EBADF')) break; // stop() closed the listener
        throw e;
      }
    }
    return (await Promise.all(clients)).length;
  })();
  return { stop: () => sys.close(lfd), done };
}

/** Connects, sends each line and reads its echo back (a stream has no message boundaries: read until it is all there). */
export async function echoClient(sys: Syscalls, server: { address: string; port: number }, lines: readonly string[]): Promise<string[]> {
  const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  await sys.connect(fd, server);
  const replies: string[] = [];
  const buf = new Uint8Array(1024);
  for (const line of lines) {
    const out = enc.encode(line);
    await sys.write(fd, out);
    const n = await sys.recv(fd, buf.subarray(0, out.length), C.MSG_WAITALL);
    replies.push(dec.decode(buf.subarray(0, n)));
  }
  sys.close(fd);
  return replies;
}

export async function demo(): Promise<string[]> {
  const net = lan({ hosts: 3 });
  const [server, alice, bob] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0], (typeof net.hosts)[0]];
  const log: string[] = [];
  const echo = startEchoServer(server.sys, 7);
  const [ra, rb] = await Promise.all([
    echoClient(alice.sys, { address: server.address, port: 7 }, ['hello', 'from alice']),
    echoClient(bob.sys, { address: server.address, port: 7 }, ['bonjour', 'de la part de bob', '!']),
  ]);
  for (const r of ra) log.push(`alice got: ${r}`);
  for (const r of rb) log.push(`bob got: ${r}`);
  try {
    await echoClient(alice.sys, { address: server.address, port: 8 }, ['anyone?']);
  } catch (e) {
    log.push(`port 8: ${isSocketError(e) ? `${e.syscall} ${e.code}` : String(e)}`);
  }
  echo.stop();
  log.push(`server served ${await echo.done} clients by t=${Instant.toMillis(net.clock.now())} ms`);
  net.close();
  return log;
}

// Run directly with tsx: print the transcript.
const entry = (globalThis as { process?: { argv?: string[] } }).process?.argv?.[1];
if (entry !== undefined && import.meta.url.endsWith(entry.replace(/\\/g, '/').split('/').pop() ?? '\0')) {
  for (const line of await demo()) console.log(line);
}
