/**
 * A line-based chat: the server accepts any number of clients, takes the
 * first line of each as its nickname, and relays every later line to all the
 * other clients ("<alice> hi"), announcing joins and leaves. Clients are
 * plain socket programs: connect, write lines, read lines until the server
 * closes. Everything runs on `stack.sys` of hosts on a virtual LAN.
 *
 * Run it: `npx tsx examples/tcp-chat.ts`.
 */
import { isSocketError } from '../src/errno/socket-error.js';
import { constants as C } from '../src/syscall/constants.js';
import type { Syscalls } from '../src/syscall/syscalls.js';
import { Duration } from '../src/time/duration.js';
import { lan } from './tcp-net.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Splits a byte stream into lines: TCP keeps no message boundaries, so the program must. */
export class LineReader {
  readonly #sys: Syscalls;
  readonly #fd: number;
  readonly #buf = new Uint8Array(512);
  #pending = '';

  constructor(sys: Syscalls, fd: number) {
    this.#sys = sys;
    this.#fd = fd;
  }

  /** The next line without its newline, or undefined at end of file. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const nl = this.#pending.indexOf('\n');
      if (nl >= 0) {
        const line = this.#pending.slice(0, nl);
        this.#pending = this.#pending.slice(nl + 1);
        return line;
      }
      const n = await this.#sys.read(this.#fd, this.#buf);
      if (n === 0) return undefined;
      this.#pending += dec.decode(this.#buf.subarray(0, n), { stream: true });
    }
  }
}

/** Writes all of `text` (a blocking write on a stream may be split; sys.write loops until done). */
async function writeLine(sys: Syscalls, fd: number, text: string): Promise<void> {
  await sys.write(fd, enc.encode(`${text}\n`));
}

export function startChatServer(sys: Syscalls, port: number): { stop: () => void; done: Promise<void> } {
  const lfd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sys.setsockopt(lfd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  sys.bind(lfd, { address: C.INADDR_ANY, port });
  sys.listen(lfd, 8);
  const members = new Map<number, string>();
  const broadcast = async (from: number, text: string): Promise<void> => {
    await Promise.all([...members.keys()].filter((fd) => fd !== from).map((fd) => writeLine(sys, fd, text).catch(() => undefined)));
  };
  const serve = async (fd: number): Promise<void> => {
    const lines = new LineReader(sys, fd);
    const nick = await lines.next();
    if (nick === undefined) {
      sys.close(fd);
      return;
    }
    members.set(fd, nick);
    await broadcast(fd, `* ${nick} joined`);
    for (let line = await lines.next(); line !== undefined; line = await lines.next()) {
      await broadcast(fd, `<${nick}> ${line}`);
    }
    members.delete(fd);
    await broadcast(fd, `* ${nick} left`);
    sys.shutdown(fd, C.SHUT_WR);
    sys.close(fd);
  };
  const done = (async () => {
    const sessions: Promise<void>[] = [];
    for (;;) {
      try {
        sessions.push(serve((await sys.accept(lfd)).fd));
      } catch (e) {
        if (isSocketError(e, 'EBADF')) break;
        throw e;
      }
    }
    await Promise.all(sessions);
  })();
  return { stop: () => sys.close(lfd), done };
}

/** A scripted client: says its lines `gapMs` apart, then leaves, and returns everything it heard. */
export async function chatClient(
  sys: Syscalls,
  sleep: (ms: number) => Promise<void>,
  server: { address: string; port: number },
  nick: string,
  says: readonly string[],
  startMs: number,
  gapMs: number,
): Promise<string[]> {
  await sleep(startMs);
  const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  await sys.connect(fd, server);
  const heard: string[] = [];
  const reader = (async () => {
    const lines = new LineReader(sys, fd);
    for (let line = await lines.next(); line !== undefined; line = await lines.next()) heard.push(line);
  })();
  await writeLine(sys, fd, nick);
  for (const s of says) {
    await sleep(gapMs);
    await writeLine(sys, fd, s);
  }
  await sleep(500);
  // Half-close: "I am done talking"; keep reading until the server closes too.
  sys.shutdown(fd, C.SHUT_WR);
  await reader;
  sys.close(fd);
  return heard;
}

export async function demo(): Promise<string[]> {
  const net = lan({ hosts: 4 });
  const [srv, ...clients] = net.hosts;
  const server = startChatServer(srv!.sys, 6667);
  const at = { address: srv!.address, port: 6667 };
  const sleep = (ms: number): Promise<void> => net.clock.sleep(Duration.fromMillis(ms));
  const [alice, bob, carol] = await Promise.all([
    chatClient(clients[0]!.sys, sleep, at, 'alice', ['hi all', 'how are you?'], 0, 100),
    chatClient(clients[1]!.sys, sleep, at, 'bob', ['hey alice', 'fine, thanks'], 20, 130),
    chatClient(clients[2]!.sys, sleep, at, 'carol', ['late again'], 150, 100),
  ]);
  server.stop();
  await server.done;
  net.close();
  return [...alice.map((l) => `alice heard: ${l}`), ...bob.map((l) => `bob heard: ${l}`), ...carol.map((l) => `carol heard: ${l}`)];
}

const entry = (globalThis as { process?: { argv?: string[] } }).process?.argv?.[1];
if (entry !== undefined && import.meta.url.endsWith(entry.replace(/\\/g, '/').split('/').pop() ?? '\0')) {
  for (const line of await demo()) console.log(line);
}
