/**
 * `connect()` of the WinterTC Sockets API draft (the shape Cloudflare
 * Workers ship), over a stack's BSD calls. Runtime-agnostic: it needs only
 * the WHATWG streams that every modern runtime has on globalThis.
 *
 * How the draft maps onto the syscalls:
 * - `readable` is a byte stream whose pull is one `sys.read()`: nothing is
 *   read from the receive buffer until the consumer asks, so a slow reader
 *   closes the TCP window (backpressure by not reading).
 * - `writable` resolves a write only once `sys.write()` has queued all of it
 *   in the send buffer, which a blocking stream write does only when there
 *   is room; with a high-water mark of one chunk, `ready`/`desiredSize` wait
 *   exactly while the send buffer is full. A pipe of any length therefore
 *   holds at most one chunk plus the socket buffers in memory.
 * - `opened` is the connect; `closed` settles once both directions are done
 *   and the descriptor is closed.
 *
 * It sits above the syscall layer and never touches TCP internals, so it
 * works for any SOCK_STREAM protocol `sys` offers.
 *
 * TLS ("on", "starttls") comes from a TlsProvider (tls-provider.ts), given
 * to the Stack (`new Stack({ tls })`, as a runtime supplies TLS to the
 * draft's connect()) or to one call (`options.tls`). A SecureSocket then
 * stands in front of the plain socket, feeding its streams through the
 * provider's session.
 */
import { SocketError as SysSocketError } from '../errno/socket-error.js';
import { constants as C } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';
import type { TlsProvider, TlsSession } from './tls-provider.js';

/** `{ hostname, port }`, the draft's SocketAddress. */
export interface SocketAddress {
  readonly hostname: string;
  readonly port: number;
}

export interface SocketOptions {
  /** "off" (default), "on" (TLS from the start) or "starttls" (plain until `startTls()`). */
  readonly secureTransport?: 'off' | 'on' | 'starttls';
  /** Default false: the peer's FIN also ends our writing half. */
  readonly allowHalfOpen?: boolean;
  /**
   * Not in the draft: the TLS provider for this one connection, overriding
   * the stack's (`new Stack({ tls })`), e.g. to trust another CA.
   */
  readonly tls?: TlsProvider;
}

/** What `opened` resolves to: "host:port" strings. */
export interface SocketInfo {
  readonly remoteAddress: string;
  readonly localAddress: string;
}

/** Anything with BSD calls (and optionally a TLS provider); a Stack qualifies. */
export interface HasSyscalls {
  readonly sys: Syscalls;
  /** Secures `secureTransport` "on"/"starttls" connections; none means they are refused. */
  readonly tls?: TlsProvider | undefined;
}

/** The socket `connect()` returns. */
export interface Socket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<SocketInfo>;
  readonly closed: Promise<void>;
  /** True once `startTls()` has replaced this socket. */
  readonly upgraded: boolean;
  /** Closes both directions; returns `closed`. */
  close(reason?: unknown): Promise<void>;
  startTls(): Socket;
}

/**
 * The draft's SocketError: a TypeError whose message starts with
 * "SocketError: ". Thrown synchronously, only for what the caller got wrong
 * (a malformed address, an unsupported option).
 */
export function socketApiError(message: string): TypeError {
  return new TypeError(`SocketError: ${message}`);
}

/** Parses "host:port", "[v6]:port" or `{ hostname, port }`; throws the draft's SocketError if malformed. */
export function parseSocketAddress(address: string | SocketAddress): SocketAddress {
  let hostname: unknown;
  let port: unknown;
  if (typeof address === 'string') {
    const colon = address.lastIndexOf(':');
    if (colon < 0) throw socketApiError(`address "${address}" has no port (expected "host:port")`);
    hostname = address.slice(0, colon);
    const p = address.slice(colon + 1);
    port = /^[0-9]{1,5}$/.test(p) ? Number(p) : NaN;
    if (typeof hostname === 'string' && hostname.startsWith('[') && hostname.endsWith(']')) {
      hostname = hostname.slice(1, -1);
    }
  } else if (typeof address === 'object' && address !== null) {
    hostname = address.hostname;
    port = address.port;
  } else {
    throw socketApiError('address must be "host:port" or { hostname, port }');
  }
  if (typeof hostname !== 'string' || hostname.length === 0 || /\s/.test(hostname)) {
    throw socketApiError('address has an empty or invalid hostname');
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 0xffff) {
    throw socketApiError(`address has an invalid port (1..65535)`);
  }
  return { hostname, port };
}

/**
 * Name resolution: sockstack has no resolver, so a hostname is an IPv4
 * literal or "localhost". Anything else fails the connect (asynchronously,
 * as a DNS failure would), not the call.
 */
function resolve(hostname: string): string | undefined {
  if (hostname === 'localhost') return '127.0.0.1';
  return /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(hostname) ? hostname : undefined;
}

function formatAddr(a: { address: string; port: number }): string {
  return `${a.address}:${a.port}`;
}

/** Marks a promise as handled (so nobody awaiting it is fine) and returns it unchanged. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

const READ_CHUNK = 64 * 1024;

/** Errors both of a socket's streams with `e`; a stream already closed is left as it is. */
function errorStreams(
  read: ReadableByteStreamController | undefined,
  write: WritableStreamDefaultController | undefined,
  e: unknown,
): void {
  try {
    read?.error(e);
  } catch {
    // Already closed.
  }
  try {
    write?.error(e);
  } catch {
    // Already closed.
  }
}

/** A socket's `closed` promise (marked handled) with its resolve and reject. */
function closedSignal(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = handled(
    new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    }),
  );
  return { promise, resolve, reject };
}

/** A socket's writable: one chunk at a time (highWaterMark 1); close and abort both end the sending half. */
function socketWritable(
  start: (controller: WritableStreamDefaultController) => void,
  write: (chunk: Uint8Array) => Promise<void>,
  closeWrite: () => Promise<void>,
): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>(
    {
      start,
      write,
      close: closeWrite,
      abort: () => closeWrite(),
    },
    { highWaterMark: 1 },
  );
}

/**
 * Opens a TCP connection from `stack` to `address` (`"10.0.0.1:80"` or
 * `{ hostname, port }`). Returns at once; the socket is pending until
 * `opened` settles.
 */
export function connect(stack: HasSyscalls, address: string | SocketAddress, options: SocketOptions = {}): Socket {
  const target = parseSocketAddress(address);
  const secure = options.secureTransport ?? 'off';
  if (secure !== 'off' && secure !== 'on' && secure !== 'starttls') {
    throw socketApiError(`secureTransport must be "off", "on" or "starttls", got ${String(secure)}`);
  }
  const allowHalfOpen = options.allowHalfOpen ?? false;
  const provider = options.tls ?? stack.tls;
  if (secure === 'off') return new StreamSocket(stack.sys, target, allowHalfOpen, undefined);
  if (provider === undefined) {
    // No TLS is built into the core (it carries no cryptography); say so rather than send plaintext.
    throw socketApiError(
      `secureTransport "${secure}" needs a TLS provider (new Stack({ tls: nodeTls() }) from sockstack/node, or options.tls); none was given`,
    );
  }
  if (secure === 'starttls') return new StreamSocket(stack.sys, target, allowHalfOpen, provider);
  // "on": the plain socket stays half-open-capable underneath, so the TLS
  // layer can still send close_notify after the peer's; the caller's
  // allowHalfOpen applies to the cleartext streams.
  return new SecureSocket(new StreamSocket(stack.sys, target, true, undefined), provider, target, allowHalfOpen, false);
}

class StreamSocket implements Socket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<SocketInfo>;
  readonly closed: Promise<void>;
  readonly upgraded = false;

  readonly #sys: Syscalls;
  #allowHalfOpen: boolean;
  readonly #target: SocketAddress;
  /** Set for secureTransport "starttls": what startTls() secures with. */
  readonly #tls: TlsProvider | undefined;
  #startedTls = false;
  #fd = -1;
  #fdClosed = false;
  #readDone = false;
  #writeDone = false;
  /** Set once the socket has failed or been closed: pending and later operations fail with it. */
  #error: unknown = undefined;
  #failed = false;
  #resolveClosed: () => void;
  #rejectClosed: (e: unknown) => void;
  #readController: ReadableByteStreamController | undefined;
  #writeController: WritableStreamDefaultController | undefined;
  /** The write in progress, so a FIN is not sent under it. */
  #writing: Promise<unknown> = Promise.resolve();

  constructor(sys: Syscalls, target: SocketAddress, allowHalfOpen: boolean, tls: TlsProvider | undefined) {
    this.#sys = sys;
    this.#allowHalfOpen = allowHalfOpen;
    this.#target = target;
    this.#tls = tls;
    const closed = closedSignal();
    this.closed = closed.promise;
    this.#resolveClosed = closed.resolve;
    this.#rejectClosed = closed.reject;
    this.opened = handled(this.#open(target));
    this.opened.catch((e: unknown) => {
      this.#fail(e);
    });

    this.readable = new ReadableStream({
      type: 'bytes',
      autoAllocateChunkSize: READ_CHUNK,
      start: (controller) => {
        this.#readController = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: () => {
        this.#readDone = true;
        if (!this.#fdClosed && this.#fd >= 0) this.#shutdown(C.SHUT_RD);
        this.#maybeFinish();
      },
    });
    this.writable = socketWritable(
      (controller) => {
        this.#writeController = controller;
      },
      (chunk) => this.#write(chunk),
      () => this.#closeWrite(),
    );
  }

  async #open(target: SocketAddress): Promise<SocketInfo> {
    // Deferred one tick so the socket is returned before anything can fail.
    await Promise.resolve();
    const ip = resolve(target.hostname);
    if (ip === undefined) {
      throw new SysSocketError('EHOSTUNREACH', 'connect', { address: target.hostname, port: target.port });
    }
    this.#fd = this.#sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await this.#sys.connect(this.#fd, { address: ip, port: target.port });
    return {
      remoteAddress: formatAddr(this.#sys.getpeername(this.#fd)),
      localAddress: formatAddr(this.#sys.getsockname(this.#fd)),
    };
  }

  async #pull(controller: ReadableByteStreamController): Promise<void> {
    await this.opened;
    const req = controller.byobRequest;
    const view = req?.view ?? null;
    const buf =
      view !== null ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : new Uint8Array(READ_CHUNK);
    let n: number;
    try {
      n = await this.#sys.read(this.#fd, buf);
    } catch (e) {
      // A close() of ours while the read was pending closes the fd (EBADF): not an error of the stream.
      if (this.#failed || this.#readDone) return;
      this.#fail(e);
      return;
    }
    if (n === 0) {
      this.#readDone = true;
      controller.close();
      req?.respond(0);
      // allowHalfOpen false (the draft's default): end our half too once the peer has ended theirs.
      if (!this.#allowHalfOpen && !this.#writeDone) {
        this.#writeDone = true;
        await this.#writing.catch(() => undefined);
        this.#shutdown(C.SHUT_WR);
        this.#writeController?.error(socketApiError('the peer closed the connection'));
      }
      this.#maybeFinish();
      return;
    }
    if (req !== undefined && req !== null) req.respond(n);
    else controller.enqueue(buf.subarray(0, n));
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('writable accepts Uint8Array chunks only');
    await this.opened;
    if (this.#writeDone) throw socketApiError('the socket is closed for writing');
    const p = this.#sys.write(this.#fd, chunk);
    this.#writing = p;
    try {
      await p;
    } catch (e) {
      if (!this.#failed) this.#fail(e);
      throw e;
    }
  }

  async #closeWrite(): Promise<void> {
    if (this.#writeDone) return;
    await this.opened.catch(() => undefined);
    if (this.#writeDone) return;
    this.#writeDone = true;
    if (!this.#fdClosed && this.#fd >= 0) this.#shutdown(C.SHUT_WR);
    this.#maybeFinish();
  }

  #shutdown(how: number): void {
    try {
      this.#sys.shutdown(this.#fd, how);
    } catch {
      // ENOTCONN after a reset: the direction is over either way.
    }
  }

  #closeFd(): void {
    if (this.#fdClosed) return;
    this.#fdClosed = true;
    if (this.#fd >= 0) {
      try {
        this.#sys.close(this.#fd);
      } catch {
        // Already gone.
      }
    }
  }

  #maybeFinish(): void {
    if (this.#failed || !this.#readDone || !this.#writeDone) return;
    this.#closeFd();
    this.#resolveClosed();
  }

  /** Connect failure, reset, or any other error: everything fails with `e`. */
  #fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = e;
    this.#readDone = true;
    this.#writeDone = true;
    errorStreams(this.#readController, this.#writeController, e);
    this.#closeFd();
    this.#rejectClosed(e);
  }

  close(reason?: unknown): Promise<void> {
    if (this.#failed || this.#fdClosed) return this.closed;
    const wasOpen = !this.#readDone || !this.#writeDone;
    this.#readDone = true;
    this.#writeDone = true;
    const err = reason ?? socketApiError('the socket was closed');
    errorStreams(this.#readController, this.#writeController, err);
    // Before the connect finished: the connect fails; after: a normal close (FIN).
    this.opened.then(
      () => {
        this.#closeFd();
        this.#resolveClosed();
      },
      () => undefined,
    );
    if (!wasOpen) this.#closeFd();
    return this.closed;
  }

  /**
   * WinterTC draft: upgrades a secureTransport "starttls" socket, returning a
   * NEW Socket (with `upgraded` true) whose streams carry cleartext over TLS
   * on the same connection. This socket's streams pass to the TLS provider:
   * they stay locked, so nothing can read or write around the encryption.
   */
  startTls(): Socket {
    if (this.#tls === undefined) {
      throw socketApiError('startTls() needs a socket opened with secureTransport "starttls" and a TLS provider');
    }
    if (this.#startedTls) throw socketApiError('startTls() was already called on this socket');
    if (this.#failed || this.#readDone || this.#writeDone) throw socketApiError('startTls() on a closed socket');
    if (this.readable.locked || this.writable.locked) {
      // Data a reader has not consumed would otherwise be lost to one side or the other.
      throw socketApiError('startTls() needs the readable and writable unlocked (call releaseLock() on their reader/writer first)');
    }
    this.#startedTls = true;
    // From now on the TLS layer applies allowHalfOpen to the cleartext; the
    // plain half must stay open after the peer's FIN, or a late close_notify
    // would fail to go out and error the session.
    const allowHalfOpen = this.#allowHalfOpen;
    this.#allowHalfOpen = true;
    return new SecureSocket(this, this.#tls, this.#target, allowHalfOpen, true);
  }

  /** The error the socket failed with, for debugging. */
  get error(): unknown {
    return this.#error;
  }
}

/**
 * A Socket whose streams carry cleartext through a TlsProvider's session
 * over a plain StreamSocket (for "on" from the first byte; for "starttls"
 * the socket startTls() was called on).
 *
 * It keeps its own streams in front of the session's so it can end or error
 * them itself (close(), a failed handshake) even while the caller holds
 * their locks, and so the draft's allowHalfOpen applies to the cleartext.
 */
class SecureSocket implements Socket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<SocketInfo>;
  readonly closed: Promise<void>;
  readonly upgraded: boolean;

  readonly #plain: StreamSocket;
  readonly #session: TlsSession;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #allowHalfOpen: boolean;
  #readDone = false;
  #writeDone = false;
  #failed = false;
  #closing = false;
  #resolveClosed: () => void;
  #rejectClosed: (e: unknown) => void;
  #readController: ReadableByteStreamController | undefined;
  #writeController: WritableStreamDefaultController | undefined;

  constructor(plain: StreamSocket, provider: TlsProvider, target: SocketAddress, allowHalfOpen: boolean, upgraded: boolean) {
    this.#plain = plain;
    this.#allowHalfOpen = allowHalfOpen;
    this.upgraded = upgraded;
    const closed = closedSignal();
    this.closed = closed.promise;
    this.#resolveClosed = closed.resolve;
    this.#rejectClosed = closed.reject;
    // The plain streams are usable before the connect completes (their reads
    // and writes wait for it), so the provider may start at once.
    this.#session = provider.start(
      { readable: plain.readable, writable: plain.writable },
      { hostname: target.hostname, port: target.port },
    );
    void handled(this.#session.handshake);
    this.#reader = this.#session.readable.getReader();
    this.#writer = this.#session.writable.getWriter();
    void handled(this.#reader.closed);
    void handled(this.#writer.closed);
    // A connect failure wins over the handshake failure it causes: the caller sees ECONNREFUSED, not a TLS error.
    this.opened = handled(plain.opened.then(async (info) => {
      await this.#session.handshake;
      return info;
    }));
    this.opened.catch((e: unknown) => {
      this.#fail(e);
    });

    this.readable = new ReadableStream({
      type: 'bytes',
      start: (controller) => {
        this.#readController = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: (reason) => {
        this.#readDone = true;
        this.#reader.cancel(reason).catch(() => undefined);
        this.#maybeFinish();
      },
    });
    this.writable = socketWritable(
      (controller) => {
        this.#writeController = controller;
      },
      (chunk) => this.#write(chunk),
      () => this.#closeWrite(),
    );
  }

  async #pull(controller: ReadableByteStreamController): Promise<void> {
    try {
      await this.opened;
    } catch {
      return; // #fail has errored the stream.
    }
    let r: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
    try {
      r = await this.#reader.read();
    } catch (e) {
      if (!this.#failed && !this.#readDone) this.#fail(e);
      return;
    }
    if (this.#readDone) return;
    if (r.done) {
      this.#readDone = true;
      controller.close();
      controller.byobRequest?.respond(0);
      if (!this.#allowHalfOpen && !this.#writeDone) {
        this.#writeDone = true;
        this.#writeController?.error(socketApiError('the peer closed the connection'));
        await this.#writer.close().catch(() => undefined);
      }
      this.#maybeFinish();
      return;
    }
    // A copy: enqueue() on a byte stream detaches the chunk's buffer, which a
    // provider may share between chunks (Node's Buffer pool does).
    controller.enqueue(new Uint8Array(r.value));
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('writable accepts Uint8Array chunks only');
    await this.opened;
    if (this.#writeDone) throw socketApiError('the socket is closed for writing');
    try {
      await this.#writer.write(chunk);
    } catch (e) {
      if (!this.#failed) this.#fail(e);
      throw e;
    }
  }

  async #closeWrite(): Promise<void> {
    if (this.#writeDone) return;
    await this.opened.catch(() => undefined);
    if (this.#writeDone) return;
    this.#writeDone = true;
    // Ends the TLS session's sending half: close_notify, then FIN underneath.
    await this.#writer.close().catch(() => undefined);
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#failed || this.#closing || !this.#readDone || !this.#writeDone) return;
    this.#closing = true;
    const done = (): void => {
      this.#resolveClosed();
    };
    this.#plain.close().then(done, done);
  }

  #fail(e: unknown): void {
    if (this.#failed || this.#closing) return;
    this.#failed = true;
    this.#readDone = true;
    this.#writeDone = true;
    errorStreams(this.#readController, this.#writeController, e);
    this.#reader.cancel(e).catch(() => undefined);
    this.#writer.abort(e).catch(() => undefined);
    this.#plain.close().catch(() => undefined);
    this.#rejectClosed(e);
  }

  close(reason?: unknown): Promise<void> {
    if (this.#failed || this.#closing) return this.closed;
    this.#closing = true;
    this.#readDone = true;
    this.#writeDone = true;
    const err = reason ?? socketApiError('the socket was closed');
    errorStreams(this.#readController, this.#writeController, err);
    // Try to say goodbye in TLS (close_notify) if the session is up, then close the connection.
    this.#writer.close().catch(() => undefined);
    this.#reader.cancel(err).catch(() => undefined);
    const done = (): void => {
      this.#resolveClosed();
    };
    this.#plain.close().then(done, done);
    return this.closed;
  }

  startTls(): Socket {
    throw socketApiError(this.upgraded ? 'startTls() was already called; this socket is the upgraded one' : 'startTls() needs secureTransport "starttls", not "on"');
  }
}
