/**
 * The web `connect()` scenario that test/browser/connect-browser.test.ts runs
 * inside headless Chromium (bundled by page-entry.ts). It imports from the
 * core package source only, never `sockstack/node`: the bundle that carries
 * it into the browser is the proof that the core needs nothing from Node.
 *
 * Two Stacks on a MemoryNetwork with the core's default real-time clock
 * (SystemClock: performance.now() + setTimeout/MessageChannel, which is what a
 * page gets when it passes no clock). The server speaks the BSD calls through
 * `stack.sys`; the client speaks the WinterTC sockets API (`stack.connect()`).
 *
 * It returns plain JSON-able facts and never throws for a failed check: the
 * test in Node asserts on them, so a failure shows which fact was wrong.
 */
import { MemoryNetwork, SeededRng, Stack, VirtualClock, concatBytes as concat, constants as C, fillRandom } from '../../src/index.js';
import type { Clock, Syscalls } from '../../src/index.js';

export interface ScenarioParams {
  /** Seeds the network, both stacks and the payload. */
  readonly seed: number;
  /** Bytes piped through the echo connection. */
  readonly size: number;
  /** The echo server's port. */
  readonly port: number;
  /** 'system' (default: what a page gets with no clock option) or 'virtual' (VirtualClock). */
  readonly clock?: 'system' | 'virtual';
}

export interface ScenarioResult {
  /** Which runtime ran it: 'browser' when a DOM `document` exists. */
  readonly runtime: string;
  readonly clock: string;
  readonly bulk: {
    readonly opened: { readonly remoteAddress: string; readonly localAddress: string };
    readonly sent: number;
    /** Bytes the client read back from `readable`. */
    readonly received: number;
    /** Bytes the server read (and echoed) before EOF. */
    readonly serverEchoed: number;
    /** Received bytes equal the sent ones, byte for byte. */
    readonly equal: boolean;
    /** SHA-256 (crypto.subtle) of the generated payload and of what came back, hex. */
    readonly sentSha256: string;
    readonly receivedSha256: string;
    /** How many chunks the ReadableStream fed into `writable`. */
    readonly chunks: number;
    /** `closed` resolved (not rejected) after both directions ended. */
    readonly closed: string;
    readonly ms: number;
  };
  /** The client ends its writing half (writable.close(): FIN) and still reads the server's reply. */
  readonly halfCloseClient: {
    readonly serverGot: string;
    readonly clientGot: string;
    readonly closed: string;
  };
  /** allowHalfOpen: the server ends first; the client reads EOF and then still writes. */
  readonly halfOpenPeerFirst: {
    readonly clientGot: string;
    readonly serverGotAfterItsFin: string;
    readonly closed: string;
  };
  /** Default allowHalfOpen false: the peer's FIN ends our writable too. */
  readonly peerFinClosesWritable: {
    readonly clientSawEof: boolean;
    readonly writeAfterPeerFin: string;
    readonly closed: string;
  };
  /** close() on an open socket: the server reads EOF, `closed` resolves, `close()` returns `closed`. */
  readonly closeCall: {
    readonly serverSawEof: boolean;
    readonly closeReturnsClosed: boolean;
    readonly closed: string;
    readonly readAfterClose: string;
  };
  /** `{ hostname, port }` form. */
  readonly objectAddress: { readonly remoteAddress: string; readonly echoed: string };
  /** Nobody listens: `opened` and `closed` reject. */
  readonly refused: {
    readonly opened: string;
    readonly openedCode: string;
    readonly openedSyscall: string;
    readonly closed: string;
    readonly readable: string;
    readonly clientFdsLeft: number;
  };
  /** A malformed address throws the draft's SocketError (a TypeError) synchronously. */
  readonly malformed: { readonly threw: boolean; readonly isTypeError: boolean; readonly message: string };
  /** Descriptors still open on each side after everything was closed. */
  readonly fdsLeft: { readonly server: number; readonly client: number };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  // crypto.subtle exists in secure contexts (about:blank, localhost) and in Node.
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}


function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Settles `p` into a word: 'resolved', or 'rejected: <code or message>'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return `rejected: ${describe(e)}`;
  }
}

function describe(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return String(e);
}

/** Reads a whole readable stream (copies: a byte stream may reuse its buffers). */
async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = r.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value.slice());
  }
  reader.releaseLock();
  return concat(parts);
}

/** Reads from an fd until EOF. */
async function sysReadAll(sys: Syscalls, fd: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await sys.read(fd, buf);
    if (n === 0) break;
    parts.push(buf.slice(0, n));
  }
  return concat(parts);
}

async function sysWriteAll(sys: Syscalls, fd: number, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await sys.write(fd, data.subarray(off));
}

function listen(sys: Syscalls, port: number): number {
  const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  sys.bind(fd, { address: '0.0.0.0', port });
  sys.listen(fd, 16);
  return fd;
}

/** A ReadableStream of `data` in seeded chunk sizes (1 byte .. 48 KiB), so writes straddle segments unevenly. */
function chunkedSource(data: Uint8Array, rng: SeededRng): { stream: ReadableStream<Uint8Array>; chunks: () => number } {
  let off = 0;
  let count = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (off >= data.length) {
        controller.close();
        return;
      }
      const n = Math.min(data.length - off, 1 + rng.nextInt(48 * 1024));
      // A fresh copy per chunk: the writable may hold it while the next is made.
      controller.enqueue(data.slice(off, off + n));
      off += n;
      count++;
    },
  });
  return { stream, chunks: () => count };
}

export async function runConnectScenario(params: ScenarioParams): Promise<ScenarioResult> {
  const clockKind = params.clock ?? 'system';
  const clock: Clock | undefined = clockKind === 'virtual' ? new VirtualClock() : undefined;
  const withClock = clock === undefined ? {} : { clock };
  const lan = new MemoryNetwork({ seed: params.seed, ...withClock });
  const server = new Stack({ seed: params.seed + 1, ...withClock });
  server.addInterface(lan.attach(), { address: '10.0.0.1/24' });
  const client = new Stack({ seed: params.seed + 2, ...withClock });
  client.addInterface(lan.attach(), { address: '10.0.0.2/24' });
  const s = server.sys;
  const now = (): number => (typeof performance === 'undefined' ? Date.now() : performance.now());

  try {
    // --- 1. Bulk echo: a ReadableStream piped into `writable`, echoed back, read from `readable`.
    const data = new Uint8Array(params.size);
    fillRandom(new SeededRng(params.seed), data);
    const lfd = listen(s, params.port);
    const serverDone = (async () => {
      const { fd } = await s.accept(lfd);
      const buf = new Uint8Array(65536);
      let total = 0;
      for (;;) {
        const n = await s.read(fd, buf);
        if (n === 0) break;
        total += n;
        await sysWriteAll(s, fd, buf.subarray(0, n));
      }
      s.shutdown(fd, C.SHUT_WR);
      s.close(fd);
      return total;
    })();
    const t0 = now();
    const sock = client.connect(`10.0.0.1:${params.port}`);
    const opened = await sock.opened;
    const source = chunkedSource(data, new SeededRng(params.seed ^ 0x5eed));
    const [, back, serverEchoed] = await Promise.all([
      source.stream.pipeTo(sock.writable),
      readAll(sock.readable),
      serverDone,
    ]);
    const bulkClosed = await outcome(sock.closed);
    const ms = now() - t0;
    const bulk = {
      opened: { remoteAddress: opened.remoteAddress, localAddress: opened.localAddress },
      sent: data.length,
      received: back.length,
      serverEchoed,
      equal: bytesEqual(data, back),
      sentSha256: await sha256(data),
      receivedSha256: await sha256(back),
      chunks: source.chunks(),
      closed: bulkClosed,
      ms: Math.round(ms),
    };

    // --- 2. Client half-close: FIN from us, the server answers after reading EOF.
    const halfCloseClient = await (async () => {
      const srv = (async () => {
        const { fd } = await s.accept(lfd);
        const got = await sysReadAll(s, fd);
        await sysWriteAll(s, fd, enc.encode(`reply to ${dec.decode(got)}`));
        s.shutdown(fd, C.SHUT_WR);
        s.close(fd);
        return dec.decode(got);
      })();
      const c = client.connect(`10.0.0.1:${params.port}`);
      await c.opened;
      const w = c.writable.getWriter();
      await w.write(enc.encode('question'));
      await w.close();
      const got = await readAll(c.readable);
      const serverGot = await srv;
      return {
        serverGot,
        clientGot: dec.decode(got),
        closed: await outcome(c.closed),
      };
    })();

    // --- 3. allowHalfOpen: the server's FIN leaves our writing half open.
    const halfOpenPeerFirst = await (async () => {
      const srv = (async () => {
        const { fd } = await s.accept(lfd);
        await sysWriteAll(s, fd, enc.encode('server first'));
        s.shutdown(fd, C.SHUT_WR);
        const after = await sysReadAll(s, fd);
        s.close(fd);
        return dec.decode(after);
      })();
      const c = client.connect(`10.0.0.1:${params.port}`, { allowHalfOpen: true });
      await c.opened;
      const got = await readAll(c.readable);
      const w = c.writable.getWriter();
      await w.write(enc.encode('client after server FIN'));
      await w.close();
      return {
        clientGot: dec.decode(got),
        serverGotAfterItsFin: await srv,
        closed: await outcome(c.closed),
      };
    })();

    // --- 4. Default allowHalfOpen false: the peer's FIN ends our writable as well.
    const peerFinClosesWritable = await (async () => {
      const srv = (async () => {
        const { fd } = await s.accept(lfd);
        s.shutdown(fd, C.SHUT_WR);
        const rest = await sysReadAll(s, fd);
        s.close(fd);
        return rest.length;
      })();
      const c = client.connect(`10.0.0.1:${params.port}`);
      await c.opened;
      const got = await readAll(c.readable);
      const w = c.writable.getWriter();
      const writeAfterPeerFin = await outcome(w.write(enc.encode('too late')));
      await srv;
      return {
        clientSawEof: got.length === 0,
        writeAfterPeerFin,
        closed: await outcome(c.closed),
      };
    })();

    // --- 5. close() on an open socket.
    const closeCall = await (async () => {
      const srv = (async () => {
        const { fd } = await s.accept(lfd);
        const got = await sysReadAll(s, fd);
        s.close(fd);
        return got.length === 0;
      })();
      const c = client.connect(`10.0.0.1:${params.port}`);
      await c.opened;
      const reader = c.readable.getReader();
      const closing = c.close();
      const closeReturnsClosed = closing === c.closed;
      const closed = await outcome(closing);
      const readAfterClose = await outcome(reader.read());
      return { serverSawEof: await srv, closeReturnsClosed, closed, readAfterClose };
    })();

    // --- 6. The object address form.
    const objectAddress = await (async () => {
      const srv = (async () => {
        const { fd } = await s.accept(lfd);
        const got = await sysReadAll(s, fd);
        await sysWriteAll(s, fd, got);
        s.close(fd);
      })();
      const c = client.connect({ hostname: '10.0.0.1', port: params.port });
      const info = await c.opened;
      const w = c.writable.getWriter();
      await w.write(enc.encode('object form'));
      await w.close();
      const got = await readAll(c.readable);
      await srv;
      await c.closed;
      return { remoteAddress: info.remoteAddress, echoed: dec.decode(got) };
    })();
    s.close(lfd);

    // --- 7. Refused: nobody listens on port + 1.
    const refused = await (async () => {
      const c = client.connect(`10.0.0.1:${params.port + 1}`);
      let openedCode = '';
      let openedSyscall = '';
      const opened = await c.opened.then(
        () => 'resolved',
        (e: unknown) => {
          const err = e as { code?: unknown; syscall?: unknown };
          openedCode = String(err.code);
          openedSyscall = String(err.syscall);
          return `rejected: ${describe(e)}`;
        },
      );
      return {
        opened,
        openedCode,
        openedSyscall,
        closed: await outcome(c.closed),
        readable: await outcome(c.readable.getReader().read()),
        clientFdsLeft: client.sys.openFds().length,
      };
    })();

    // --- 8. A malformed address throws synchronously.
    const malformed = (() => {
      try {
        client.connect('10.0.0.1');
        return { threw: false, isTypeError: false, message: '' };
      } catch (e) {
        return { threw: true, isTypeError: e instanceof TypeError, message: describe(e) };
      }
    })();

    return {
      runtime: typeof (globalThis as { document?: unknown }).document === 'object' ? 'browser' : 'other',
      clock: clockKind,
      bulk,
      halfCloseClient,
      halfOpenPeerFirst,
      peerFinClosesWritable,
      closeCall,
      objectAddress,
      refused,
      malformed,
      fdsLeft: { server: s.openFds().length, client: client.sys.openFds().length },
    };
  } finally {
    server.close();
    client.close();
  }
}
