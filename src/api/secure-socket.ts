/**
 * The TLS socket of connect() (connect.ts), for secureTransport "on" and
 * after startTls().
 */
import { closedSignal, errorStreams, handled, socketWritable } from './socket-streams.js';
import { socketApiError } from './socket-types.js';
import type { Socket, SocketAddress, SocketInfo } from './socket-types.js';
import type { TlsProvider, TlsSession } from './tls-provider.js';

/**
 * A Socket whose streams carry cleartext through a TlsProvider's session
 * over a plain socket (a StreamSocket) (for "on" from the first byte; for "starttls"
 * the socket startTls() was called on).
 *
 * It keeps its own streams in front of the session's so it can end or error
 * them itself (close(), a failed handshake) even while the caller holds
 * their locks, and so the draft's allowHalfOpen applies to the cleartext.
 */
export class SecureSocket implements Socket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<SocketInfo>;
  readonly closed: Promise<void>;
  readonly upgraded: boolean;

  readonly #plain: Socket;
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

  constructor(plain: Socket, provider: TlsProvider, target: SocketAddress, allowHalfOpen: boolean, upgraded: boolean) {
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
