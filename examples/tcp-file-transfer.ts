/**
 * File transfer the classic way: the client connects, writes the whole file,
 * and calls shutdown(SHUT_WR) to say "that was all" (TCP sends a FIN: the
 * server's read returns 0). The server, having read to end of file, answers
 * with the size and SHA-256 of what it received, then closes; the client
 * reads the answer until end of file. Over a network that loses, duplicates
 * and reorders packets, on virtual time.
 *
 * Run it: `npx tsx examples/tcp-file-transfer.ts` (Node: it uses node:crypto).
 */
import { createHash } from 'node:crypto';
import { constants as C } from '../src/syscall/constants.js';
import type { Syscalls } from '../src/syscall/syscalls.js';
import { Duration } from '../src/time/duration.js';
import { Instant } from '../src/time/instant.js';
import { concatBytes } from '../src/wire/bytes.js';
import { lan } from './tcp-net.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Synchronous on purpose: the simulation runs on a VirtualClock, which jumps
 * ahead whenever nothing but real I/O is pending, so awaiting real
 * asynchronous work (crypto.subtle) would let virtual time race on meanwhile.
 */
function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Reads until end of file. */
async function readToEnd(sys: Syscalls, fd: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(16_384);
  for (;;) {
    const n = await sys.read(fd, buf);
    if (n === 0) break;
    parts.push(buf.slice(0, n));
    total += n;
  }
  return concatBytes(parts, total);
}

/** Receives one file on `port` and answers "<size> <sha256>". */
export async function receiveFile(sys: Syscalls, port: number): Promise<Uint8Array> {
  const lfd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sys.setsockopt(lfd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  sys.bind(lfd, { address: C.INADDR_ANY, port });
  sys.listen(lfd, 1);
  const { fd } = await sys.accept(lfd);
  sys.close(lfd);
  const file = await readToEnd(sys, fd); // returns at the sender's shutdown(SHUT_WR)
  await sys.write(fd, enc.encode(`${file.length} ${sha256Hex(file)}`));
  sys.close(fd);
  return file;
}

/** Sends `file` and returns the receiver's answer. */
export async function sendFile(sys: Syscalls, server: { address: string; port: number }, file: Uint8Array): Promise<string> {
  const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  await sys.connect(fd, server);
  // A blocking write returns once everything is in the send buffer.
  await sys.write(fd, file);
  sys.shutdown(fd, C.SHUT_WR);
  const answer = dec.decode(await readToEnd(sys, fd));
  sys.close(fd);
  return answer;
}

export async function demo(size = 512 * 1024, seed = 7): Promise<string[]> {
  const net = lan({
    seed,
    impairments: { latency: Duration.fromMillis(10), loss: 0.01, duplicate: 0.005, reorder: 0.01, reorderDelay: Duration.fromMillis(5) },
  });
  const [rx, tx] = [net.hosts[0]!, net.hosts[1]!];
  const file = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    file[i] = x >>> 24;
  }
  const received = receiveFile(rx.sys, 2121);
  const answer = await sendFile(tx.sys, { address: rx.address, port: 2121 }, file);
  await received;
  const log = [
    `sent ${size} bytes, sha256 ${sha256Hex(file)}`,
    `receiver says: ${answer}`,
    `match: ${answer === `${size} ${sha256Hex(file)}`}`,
    `retransmitted segments: ${tx.stack.stats.get('tcp.retrans-segs')}, frames lost: ${net.net.counters.get('dropped-loss')}`,
    `done at t=${Instant.toMillis(net.clock.now())} ms (virtual)`,
  ];
  net.close();
  return log;
}

const entry = (globalThis as { process?: { argv?: string[] } }).process?.argv?.[1];
if (entry !== undefined && import.meta.url.endsWith(entry.replace(/\\/g, '/').split('/').pop() ?? '\0')) {
  for (const line of await demo()) console.log(line);
}
