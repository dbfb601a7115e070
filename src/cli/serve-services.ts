/**
 * The services `sockstack serve` runs, written only with the BSD calls of
 * `stack.sys` (no node:net, no node:http): an echo service (RFC 862, over TCP
 * and UDP on one port) and a small HTTP/1.1 file server (RFC 9110/9112: GET
 * and HEAD of regular files under a directory, Content-Length, persistent
 * connections, 400/404/405/505). Node-only because the file server reads
 * files; the socket side would run anywhere.
 *
 * Each service is an accept loop plus one async task per connection; close()
 * stops the listener and every open connection, so a stack can be closed
 * with nothing of ours left pending.
 */
import { open, realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { SocketError } from '../errno/socket-error.js';
import { constants as C } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';

export type Logger = (line: string) => void;

export interface Service {
  /** The port the service listens on (useful after binding port 0). */
  readonly port: number;
  /** Stops accepting and closes every connection of the service. Idempotent. */
  close(): void;
}

export interface EchoOptions {
  readonly port: number;
  /** Local address to bind; default any. */
  readonly address?: string;
  readonly log?: Logger;
}

export interface HttpOptions {
  readonly port: number;
  /** The directory whose files are served; nothing outside it is reachable. */
  readonly root: string;
  readonly address?: string;
  readonly log?: Logger;
  /** Bytes per read of a file and per write to the socket. Default 64 KiB. */
  readonly chunkSize?: number;
}

const noLog: Logger = () => undefined;

function isClosedError(e: unknown): boolean {
  // EBADF: our own close() took the fd away under a pending call.
  return e instanceof SocketError && (e.code === 'EBADF' || e.code === 'ECONNRESET' || e.code === 'EPIPE' || e.code === 'ECONNABORTED');
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function listenTcp(sys: Syscalls, address: string, port: number): number {
  const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  try {
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    sys.bind(fd, { address, port });
    sys.listen(fd, 128);
  } catch (e) {
    sys.close(fd);
    throw e;
  }
  return fd;
}

/** Writes all of `data`; sys.write may take less than asked on a full send buffer. */
export async function writeAll(sys: Syscalls, fd: number, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await sys.write(fd, data.subarray(off));
}

/** Runs `task` per accepted connection until the service closes. */
class TcpService {
  readonly #sys: Syscalls;
  readonly #fd: number;
  readonly #conns = new Set<number>();
  readonly #log: Logger;
  #closed = false;
  readonly port: number;

  constructor(sys: Syscalls, fd: number, log: Logger, name: string, task: (fd: number, peer: string) => Promise<void>) {
    this.#sys = sys;
    this.#fd = fd;
    this.#log = log;
    this.port = sys.getsockname(fd).port;
    void this.#acceptLoop(name, task);
  }

  async #acceptLoop(name: string, task: (fd: number, peer: string) => Promise<void>): Promise<void> {
    while (!this.#closed) {
      let conn: number;
      let peer: string;
      try {
        const r = await this.#sys.accept(this.#fd);
        conn = r.fd;
        peer = `${r.address.address}:${r.address.port}`;
      } catch (e) {
        if (this.#closed) return;
        this.#log(`${name}: accept failed: ${describe(e)}`);
        continue;
      }
      if (this.#closed) {
        this.#sys.close(conn);
        return;
      }
      this.#conns.add(conn);
      void task(conn, peer)
        .catch((e: unknown) => {
          if (!this.#closed && !isClosedError(e)) this.#log(`${name} ${peer}: ${describe(e)}`);
        })
        .finally(() => {
          if (this.#conns.delete(conn)) this.#sys.close(conn);
        });
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sys.close(this.#fd);
    for (const c of this.#conns) this.#sys.close(c);
    this.#conns.clear();
  }
}

/**
 * Echo (RFC 862): over TCP every byte received is sent back until the peer
 * half-closes, then we close; over UDP every datagram goes back to its
 * sender (up to 65507 bytes, so fragmented datagrams are echoed whole).
 */
export function serveEcho(sys: Syscalls, options: EchoOptions): Service {
  const log = options.log ?? noLog;
  const address = options.address ?? '0.0.0.0';
  const tfd = listenTcp(sys, address, options.port);
  const port = sys.getsockname(tfd).port;
  const tcp = new TcpService(sys, tfd, log, 'echo', async (fd, peer) => {
    log(`echo: connection from ${peer}`);
    const buf = new Uint8Array(64 * 1024);
    let total = 0;
    for (;;) {
      const n = await sys.read(fd, buf);
      if (n === 0) break;
      total += n;
      await writeAll(sys, fd, buf.subarray(0, n));
    }
    sys.shutdown(fd, C.SHUT_WR);
    log(`echo: ${peer} closed after ${total} bytes`);
  });
  const ufd = sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
  let closed = false;
  try {
    sys.bind(ufd, { address, port });
  } catch (e) {
    sys.close(ufd);
    tcp.close();
    throw e;
  }
  void (async () => {
    const buf = new Uint8Array(65535);
    while (!closed) {
      try {
        const r = await sys.recvfrom(ufd, buf);
        await sys.sendto(ufd, buf.subarray(0, r.bytesRead), 0, r.address);
      } catch (e) {
        if (closed) return;
        log(`echo/udp: ${describe(e)}`);
      }
    }
  })();
  return {
    port,
    close(): void {
      if (closed) return;
      closed = true;
      sys.close(ufd);
      tcp.close();
    },
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('latin1');
const MAX_HEAD = 16 * 1024;

const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
  505: 'HTTP Version Not Supported',
};

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  css: 'text/css',
  js: 'text/javascript',
  json: 'application/json',
  png: 'image/png',
  jpg: 'image/jpeg',
  svg: 'image/svg+xml',
};

function contentType(path: string): string {
  const dot = path.lastIndexOf('.');
  return (dot < 0 ? undefined : TYPES[path.slice(dot + 1).toLowerCase()]) ?? 'application/octet-stream';
}

export interface HttpRequest {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  /** Header names lower-cased; repeated headers joined with ', ' (RFC 9110 section 5.3). */
  readonly headers: ReadonlyMap<string, string>;
}

/** Parses a request head (without the blank line); undefined when malformed. */
export function parseRequestHead(head: string): HttpRequest | undefined {
  const lines = head.split('\r\n');
  // RFC 9112 section 2.2: a server SHOULD ignore at least one empty line before the request-line.
  while (lines[0] === '') lines.shift();
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/\d\.\d)$/.exec(lines[0] ?? '');
  if (m === null) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    // RFC 9112 section 5.2: obsolete line folding MAY be rejected with 400.
    const h = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (h === null) return undefined;
    const name = h[1]!.toLowerCase();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? h[2]! : `${prev}, ${h[2]!}`);
  }
  return { method: m[1]!, target: m[2]!, version: m[3]!, headers };
}

function indexOfBlankLine(buf: Uint8Array, len: number): number {
  for (let i = 3; i < len; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

/**
 * HTTP/1.1 file server. Persistent connections per RFC 9112 section 9.3:
 * HTTP/1.1 keeps the connection unless "Connection: close", HTTP/1.0 closes
 * unless "Connection: keep-alive". Request bodies are not accepted (a GET/HEAD
 * with a body gets 400 and a close, the simplest safe answer).
 */
export function serveHttp(sys: Syscalls, options: HttpOptions): Service {
  const log = options.log ?? noLog;
  const chunk = options.chunkSize ?? 64 * 1024;
  const root = resolve(options.root);
  const fd = listenTcp(sys, options.address ?? '0.0.0.0', options.port);
  return new TcpService(sys, fd, log, 'http', async (conn, peer) => {
    if (await serveRequests(conn, peer)) await lingeringClose(conn);
  });

  /** Answers requests on `conn` until one ends the connection; true when we should close it, false when the client already has. */
  async function serveRequests(conn: number, peer: string): Promise<boolean> {
    const buf = new Uint8Array(MAX_HEAD);
    let have = 0;
    for (;;) {
      let end = indexOfBlankLine(buf, have);
      while (end < 0) {
        if (have === buf.length) {
          await respond(conn, 431, 'GET', false, peer, '-');
          return true;
        }
        const n = await sys.read(conn, buf.subarray(have));
        if (n === 0) return false; // the client closed between requests
        have += n;
        end = indexOfBlankLine(buf, have);
      }
      const req = parseRequestHead(decoder.decode(buf.subarray(0, end - 4)));
      // Keep what followed the head (a pipelined next request).
      buf.copyWithin(0, end, have);
      have -= end;
      if (req === undefined) {
        await respond(conn, 400, 'GET', false, peer, '-');
        return true;
      }
      const connection = (req.headers.get('connection') ?? '').toLowerCase().split(/\s*,\s*/);
      let keepAlive = req.version === 'HTTP/1.1' ? !connection.includes('close') : connection.includes('keep-alive');
      if (req.version !== 'HTTP/1.1' && req.version !== 'HTTP/1.0') {
        await respond(conn, 505, req.method, false, peer, req.target);
        return true;
      }
      // We read no bodies: after one, the next request's start is unknown.
      if (req.headers.has('content-length') && req.headers.get('content-length') !== '0') keepAlive = false;
      if (req.headers.has('transfer-encoding')) keepAlive = false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        await respond(conn, 405, req.method, keepAlive, peer, req.target, { Allow: 'GET, HEAD' });
      } else {
        await serveFile(conn, req, keepAlive, peer);
      }
      if (!keepAlive) return true;
    }
  }

  /**
   * Half-close, then read (and discard) until the client closes: closing with
   * unread data would send a reset that can destroy the response before the
   * client reads it (RFC 9112 section 9.6). Bounded, so a client that keeps
   * sending cannot hold the connection forever.
   */
  async function lingeringClose(conn: number): Promise<void> {
    sys.shutdown(conn, C.SHUT_WR);
    const sink = new Uint8Array(16 * 1024);
    let drained = 0;
    while (drained < 1 << 20) {
      const n = await sys.read(conn, sink);
      if (n === 0) return;
      drained += n;
    }
  }

  async function respond(
    conn: number,
    status: number,
    method: string,
    keepAlive: boolean,
    peer: string,
    target: string,
    extra: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    const body = encoder.encode(`${status} ${REASONS[status] ?? ''}\n`);
    await writeAll(sys, conn, head(status, body.length, 'text/plain; charset=utf-8', keepAlive, extra));
    if (method !== 'HEAD') await writeAll(sys, conn, body);
    log(`http: ${peer} ${method} ${target} ${status} ${method === 'HEAD' ? 0 : body.length}`);
  }

  async function serveFile(conn: number, req: HttpRequest, keepAlive: boolean, peer: string): Promise<void> {
    const path = await resolveTarget(req.target);
    if (path === undefined) {
      await respond(conn, 404, req.method, keepAlive, peer, req.target);
      return;
    }
    const file = await open(path, 'r').catch(() => undefined);
    if (file === undefined) {
      await respond(conn, 404, req.method, keepAlive, peer, req.target);
      return;
    }
    try {
      const size = (await file.stat()).size;
      await writeAll(sys, conn, head(200, size, contentType(path), keepAlive, {}));
      if (req.method === 'HEAD') {
        log(`http: ${peer} HEAD ${req.target} 200 0`);
        return;
      }
      const data = new Uint8Array(chunk);
      let sent = 0;
      while (sent < size) {
        const { bytesRead } = await file.read(data, 0, Math.min(chunk, size - sent), sent);
        if (bytesRead === 0) break; // truncated under us: the short body makes the client see an error
        await writeAll(sys, conn, data.subarray(0, bytesRead));
        sent += bytesRead;
      }
      log(`http: ${peer} GET ${req.target} 200 ${sent}`);
      if (sent < size) throw new Error(`${path} shrank while being sent`);
    } finally {
      await file.close();
    }
  }

  /** The regular file a request target names, or undefined (missing, a directory, or outside the root). */
  async function resolveTarget(target: string): Promise<string | undefined> {
    if (!target.startsWith('/')) return undefined;
    let path: string;
    try {
      path = decodeURIComponent(target.split(/[?#]/)[0]!);
    } catch {
      return undefined;
    }
    if (path.includes('\0')) return undefined;
    if (path.endsWith('/')) path += 'index.html';
    const full = resolve(root, `.${path}`);
    try {
      // realpath: a symlink inside the root must not lead outside it.
      const real = await realpath(full);
      const realRoot = await realpath(root);
      if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
      return (await stat(real)).isFile() ? real : undefined;
    } catch {
      return undefined;
    }
  }
}

function head(status: number, length: number, type: string, keepAlive: boolean, extra: Readonly<Record<string, string>>): Uint8Array {
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? ''}`,
    'Server: sockstack',
    `Content-Type: ${type}`,
    `Content-Length: ${length}`,
    `Connection: ${keepAlive ? 'keep-alive' : 'close'}`,
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
  ];
  return encoder.encode(`${lines.join('\r\n')}\r\n\r\n`);
}
