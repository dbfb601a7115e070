/**
 * The plain socket of connect() (connect.ts): a TCP descriptor of a
 * stack's BSD calls behind a readable byte stream and a writable stream.
 * See connect.ts for how the draft maps onto the calls.
 */
import { SocketError as SysSocketError } from '../errno/socket-error.js';
import { constants as C } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';
import { SecureSocket } from './secure-socket.js';
import { closedSignal, errorStreams, handled, socketWritable } from './socket-streams.js';
import { socketApiError } from './socket-types.js';
import type { Socket, SocketAddress, SocketInfo } from './socket-types.js';
import type { TlsProvider } from './tls-provider.js';

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

/** The most one pull of the readable asks sys.read() for. */
const READ_CHUNK = 64 * 1024;

export class StreamSocket implements Socket {
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
