/**
 * A drop-in for Node's `net` module over a sockstack Stack: `createNet(stack)`
 * returns `{ createServer, connect, createConnection, Socket, Server, isIP,
 * isIPv4, isIPv6 }` whose sockets are real `stream.Duplex`es, so code written
 * for `net` (Node's own `http`, database clients) runs over the virtual stack.
 *
 * Node-only (node:stream, node:events), hence under src/node. Everything goes
 * through `stack.sys`: a socket is a descriptor, a read is `sys.read`, `end()`
 * is `shutdown(SHUT_WR)` (FIN), `destroy()` is `close()` and
 * `resetAndDestroy()` is `close()` with SO_LINGER {1, 0} (RST), as in Node.
 *
 * Backpressure both ways comes from the streams machinery: a read is only
 * issued while the readable side wants data (`push()` returned true), and a
 * `_write` completes only when `sys.write` has queued the chunk in the send
 * buffer, so `write()` returns false and `'drain'` follows the send buffer.
 */
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import type { Syscalls } from '../syscall/syscalls.js';
import { constants as C } from '../syscall/constants.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import { SocketError } from '../errno/socket-error.js';
import { parseIpv4Address } from '../wire/address.js';

/** What of a Stack the adapter uses; `Stack` satisfies it. */
export interface NetStack {
  readonly sys: Syscalls;
  readonly clock: Clock;
}

export interface NetSocketOptions {
  readonly allowHalfOpen?: boolean;
  /** Wrap an existing connected descriptor (what a Server does). */
  readonly fd?: number;
  readonly readableHighWaterMark?: number;
  readonly writableHighWaterMark?: number;
}

export interface NetConnectOptions {
  readonly port: number;
  readonly host?: string;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly noDelay?: boolean;
  readonly keepAlive?: boolean;
  readonly keepAliveInitialDelay?: number;
  readonly timeout?: number;
  readonly allowHalfOpen?: boolean;
}

export interface NetAddressInfo {
  address: string;
  family: 'IPv4';
  port: number;
}

const READ_SIZE = 64 * 1024;

export function isIPv4(input: string): boolean {
  return typeof input === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(input) && parseIpv4Address(input) !== undefined;
}

export function isIPv6(input: string): boolean {
  if (typeof input !== 'string' || !input.includes(':')) return false;
  const [addr = '', zone] = input.split('%');
  if (zone !== undefined && zone.length === 0) return false;
  let head = addr;
  let groupsAllowed = 8;
  // A trailing dotted quad counts as two groups (::ffff:1.2.3.4).
  const lastColon = addr.lastIndexOf(':');
  if (addr.slice(lastColon + 1).includes('.')) {
    if (!isIPv4(addr.slice(lastColon + 1))) return false;
    head = addr.slice(0, lastColon + 1) + '0';
    groupsAllowed = 7;
  }
  const hex = /^[0-9a-fA-F]{1,4}$/;
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const parts = halves.map((h) => (h === '' ? [] : h.split(':')));
  if (!parts.every((p) => p.every((g) => hex.test(g)))) return false;
  const n = parts.reduce((a, p) => a + p.length, 0);
  return halves.length === 2 ? n < groupsAllowed : n === groupsAllowed;
}

/** 4, 6 or 0, as Node's net.isIP. */
export function isIP(input: string): 0 | 4 | 6 {
  if (isIPv4(input)) return 4;
  if (isIPv6(input)) return 6;
  return 0;
}

function resolveHost(host: string | undefined): string {
  if (host === undefined || host === '' || host === 'localhost') return '127.0.0.1';
  return host;
}

function normaliseConnectArgs(args: unknown[]): { opts: NetConnectOptions; cb: (() => void) | undefined } {
  const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
  const [a, b] = args;
  if (typeof a === 'object' && a !== null) return { opts: a as NetConnectOptions, cb };
  const port = typeof a === 'string' ? Number(a) : a;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`Port should be >= 0 and < 65536. Received ${String(a)}.`);
  }
  return { opts: typeof b === 'string' ? { port, host: b } : { port }, cb };
}

/** Node's net.Socket over one sockstack descriptor. */
export class NetSocket extends Duplex {
  readonly #stack: NetStack;
  #fd = -1;
  #fdClosed = false;
  #connecting = false;
  #reading = false;
  #hadError = false;
  #connected: Promise<void>;
  #resolveConnected!: () => void;
  #rejectConnected!: (e: unknown) => void;
  #timeoutMs = 0;
  #timer: TimerHandle | undefined;
  #noDelay: boolean | undefined;
  #keepAlive: { enable: boolean; delayMs: number } | undefined;
  #local: { address: string; port: number } | undefined;
  #remote: { address: string; port: number } | undefined;
  bytesRead = 0;
  #bytesWritten = 0;

  constructor(stack: NetStack, options: NetSocketOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      // 'close' is ours to emit (with hadError), a turn of the event loop after
      // 'error', as Node's net emits it from the handle's close callback.
      emitClose: false,
      ...(options.readableHighWaterMark === undefined ? {} : { readableHighWaterMark: options.readableHighWaterMark }),
      ...(options.writableHighWaterMark === undefined ? {} : { writableHighWaterMark: options.writableHighWaterMark }),
    });
    this.#stack = stack;
    this.#connected = new Promise<void>((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    this.#connected.catch(() => undefined);
    if (options.fd !== undefined) {
      this.#fd = options.fd;
      this.#learnAddresses();
      this.#resolveConnected();
    }
  }

  get #sys(): Syscalls {
    return this.#stack.sys;
  }

  // ------------------------------------------------------------ connecting

  connect(options: NetConnectOptions, connectListener?: () => void): this;
  connect(port: number, host?: string, connectListener?: () => void): this;
  connect(port: number, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const { opts, cb } = normaliseConnectArgs(args);
    if (cb !== undefined) this.once('connect', cb);
    if (this.#fd >= 0) throw new Error('Socket is already connected');
    const host = resolveHost(opts.host);
    const port = opts.port;
    this.#connecting = true;
    if (opts.noDelay !== undefined) this.#noDelay = opts.noDelay;
    if (opts.keepAlive === true) this.#keepAlive = { enable: true, delayMs: opts.keepAliveInitialDelay ?? 0 };
    if (opts.timeout !== undefined) this.setTimeout(opts.timeout);
    const sys = this.#sys;
    const attempt = async (): Promise<void> => {
      await Promise.resolve(); // Node reports every connect outcome asynchronously.
      if (!isIPv4(host)) {
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
          code: 'ENOTFOUND',
          syscall: 'getaddrinfo',
          hostname: host,
        });
      }
      this.#fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      this.#applyOptions();
      if (opts.localAddress !== undefined || opts.localPort !== undefined) {
        sys.bind(this.#fd, { address: opts.localAddress ?? '0.0.0.0', port: opts.localPort ?? 0 });
      }
      await sys.connect(this.#fd, { address: host, port });
    };
    attempt().then(
      () => {
        this.#connecting = false;
        if (this.destroyed) return;
        this.#learnAddresses();
        this.#resolveConnected();
        this.#touch();
        this.emit('connect');
        this.emit('ready');
        if (this.#wantsRead) this.#readLoop();
      },
      (e: unknown) => {
        this.#connecting = false;
        this.#rejectConnected(e);
        this.destroy(e instanceof Error ? e : new Error(String(e)));
      },
    );
    return this;
  }

  #learnAddresses(): void {
    try {
      this.#local = this.#sys.getsockname(this.#fd);
      this.#remote = this.#sys.getpeername(this.#fd);
    } catch {
      // Not connected (reset already): leave undefined, as Node does.
    }
  }

  #applyOptions(): void {
    if (this.#fd < 0 || this.#fdClosed) return;
    const sys = this.#sys;
    try {
      if (this.#noDelay !== undefined) sys.setsockopt(this.#fd, C.IPPROTO_TCP, C.TCP_NODELAY, this.#noDelay ? 1 : 0);
      if (this.#keepAlive !== undefined) {
        sys.setsockopt(this.#fd, C.SOL_SOCKET, C.SO_KEEPALIVE, this.#keepAlive.enable ? 1 : 0);
        const secs = Math.floor(this.#keepAlive.delayMs / 1000);
        if (this.#keepAlive.enable && secs > 0) sys.setsockopt(this.#fd, C.IPPROTO_TCP, C.TCP_KEEPIDLE, secs);
      }
    } catch {
      // Options on a socket that is already dead do not matter.
    }
  }

  // ------------------------------------------------------------ reading

  #wantsRead = false;

  override _read(): void {
    this.#wantsRead = true;
    if (!this.#connecting && this.#fd >= 0) this.#readLoop();
  }

  #readLoop(): void {
    if (this.#reading) return;
    this.#reading = true;
    const buf = new Uint8Array(READ_SIZE);
    const step = (): void => {
      if (this.destroyed || this.#fdClosed) {
        this.#reading = false;
        return;
      }
      this.#sys.read(this.#fd, buf).then(
        (n) => {
          if (this.destroyed) {
            this.#reading = false;
            return;
          }
          this.#touch();
          if (n === 0) {
            this.#reading = false;
            this.push(null);
            return;
          }
          this.bytesRead += n;
          if (this.push(Buffer.from(buf.subarray(0, n)))) step();
          else {
            this.#wantsRead = false;
            this.#reading = false;
          }
        },
        (e: unknown) => {
          this.#reading = false;
          if (this.destroyed || this.#fdClosed) return;
          this.destroy(e instanceof Error ? e : new Error(String(e)));
        },
      );
    };
    step();
  }

  // ------------------------------------------------------------ writing

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#connected
      .then(() => this.#sys.write(this.#fd, chunk))
      .then(
        (n) => {
          this.#bytesWritten += n;
          this.#touch();
          callback();
        },
        (e: unknown) => {
          callback(e instanceof Error ? e : new Error(String(e)));
        },
      );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#connected.then(
      () => {
        try {
          if (!this.#fdClosed) this.#sys.shutdown(this.#fd, C.SHUT_WR);
        } catch {
          // ENOTCONN after a reset: the FIN has nowhere to go.
        }
        callback();
      },
      (e: unknown) => {
        callback(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#hadError = error !== null;
    this.#clearTimer();
    this.#closeFd();
    callback(error);
    setImmediate(() => {
      this.emit('close', this.#hadError);
    });
  }

  #closeFd(): void {
    if (this.#fdClosed || this.#fd < 0) return;
    this.#fdClosed = true;
    try {
      this.#sys.close(this.#fd);
    } catch {
      // Already closed.
    }
  }

  /** Closes with RST (SO_LINGER {1, 0}), as Node's resetAndDestroy. */
  resetAndDestroy(): this {
    if (this.#fd >= 0 && !this.#fdClosed) {
      try {
        this.#sys.setsockopt(this.#fd, C.SOL_SOCKET, C.SO_LINGER, { onoff: 1, linger: 0 });
      } catch {
        // Dead already.
      }
    }
    this.destroy();
    return this;
  }

  // ------------------------------------------------------------ options, timeout, info

  setNoDelay(noDelay = true): this {
    this.#noDelay = noDelay;
    this.#applyOptions();
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#keepAlive = { enable, delayMs: initialDelay };
    this.#applyOptions();
    return this;
  }

  /**
   * Idle timeout on the stack's clock (so it runs in virtual time in a
   * simulation): 'timeout' fires after `ms` without reads or writes; like
   * Node, nothing is closed.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (callback !== undefined) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#timeoutMs = ms;
    this.#touch();
    return this;
  }

  get timeout(): number | undefined {
    return this.#timeoutMs === 0 ? undefined : this.#timeoutMs;
  }

  #clearTimer(): void {
    this.#stack.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #touch(): void {
    this.#clearTimer();
    if (this.#timeoutMs <= 0 || this.destroyed) return;
    const clock = this.#stack.clock;
    this.#timer = clock.setTimer((clock.now() + this.#timeoutMs * 1000) as Instant, () => {
      this.#timer = undefined;
      this.emit('timeout');
    });
  }

  address(): NetAddressInfo | Record<string, never> {
    if (this.#local === undefined) return {};
    return { address: this.#local.address, family: 'IPv4', port: this.#local.port };
  }

  get remoteAddress(): string | undefined {
    return this.#remote?.address;
  }
  get remotePort(): number | undefined {
    return this.#remote?.port;
  }
  get remoteFamily(): string | undefined {
    return this.#remote === undefined ? undefined : 'IPv4';
  }
  get localAddress(): string | undefined {
    return this.#local?.address;
  }
  get localPort(): number | undefined {
    return this.#local?.port;
  }
  get localFamily(): string | undefined {
    return this.#local === undefined ? undefined : 'IPv4';
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  get connecting(): boolean {
    return this.#connecting;
  }

  get pending(): boolean {
    return this.#fd < 0 || this.#connecting;
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.#connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

export interface NetServerOptions {
  readonly allowHalfOpen?: boolean;
  readonly pauseOnConnect?: boolean;
  readonly noDelay?: boolean;
  readonly keepAlive?: boolean;
  readonly keepAliveInitialDelay?: number;
}

export interface NetListenOptions {
  readonly port?: number;
  readonly host?: string;
  readonly backlog?: number;
}

/** Node's net.Server over a listening descriptor. */
export class NetServer extends EventEmitter {
  readonly #stack: NetStack;
  readonly #opts: NetServerOptions;
  #fd = -1;
  #closing = false;
  readonly #connections = new Set<NetSocket>();
  #address: NetAddressInfo | undefined;
  /** Node: further connections are closed at once once this many are open. */
  maxConnections: number | undefined = undefined;

  constructor(stack: NetStack, options: NetServerOptions = {}, connectionListener?: (socket: NetSocket) => void) {
    super();
    this.#stack = stack;
    this.#opts = options;
    if (connectionListener !== undefined) this.on('connection', connectionListener);
  }

  get listening(): boolean {
    return this.#fd >= 0 && !this.#closing;
  }

  listen(options: NetListenOptions, callback?: () => void): this;
  listen(port?: number, host?: string, backlog?: number, callback?: () => void): this;
  listen(port?: number, host?: string, callback?: () => void): this;
  listen(port?: number, callback?: () => void): this;
  listen(...args: unknown[]): this {
    const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    let opts: NetListenOptions;
    if (typeof args[0] === 'object' && args[0] !== null) opts = args[0];
    else {
      const o: { port?: number; host?: string; backlog?: number } = {};
      if (args[0] !== undefined && args[0] !== null) o.port = Number(args[0]);
      if (typeof args[1] === 'string') o.host = args[1];
      const backlog = typeof args[1] === 'number' ? args[1] : args[2];
      if (typeof backlog === 'number') o.backlog = backlog;
      opts = o;
    }
    if (cb !== undefined) this.once('listening', cb);
    if (this.#fd >= 0) throw Object.assign(new Error('Listen method has been called more than once'), { code: 'ERR_SERVER_ALREADY_LISTEN' });
    const sys = this.#stack.sys;
    const host = opts.host === undefined || opts.host === '::' ? '0.0.0.0' : resolveHost(opts.host);
    const port = opts.port ?? 0;
    let fd = -1;
    try {
      fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
      sys.bind(fd, { address: host, port });
      sys.listen(fd, opts.backlog ?? 511);
    } catch (e) {
      if (fd >= 0) sys.close(fd);
      if (e instanceof SocketError) {
        // Node reports listen failures as 'error' events, e.g. EADDRINUSE with syscall 'listen'.
        queueMicrotask(() => this.emit('error', e));
        return this;
      }
      throw e;
    }
    this.#fd = fd;
    this.#closing = false;
    const local = sys.getsockname(fd);
    this.#address = { address: local.address, family: 'IPv4', port: local.port };
    queueMicrotask(() => {
      this.emit('listening');
    });
    this.#acceptLoop(fd);
    return this;
  }

  #acceptLoop(fd: number): void {
    const sys = this.#stack.sys;
    sys.accept(fd).then(
      ({ fd: cfd }) => {
        if (this.#closing) {
          sys.close(cfd);
          return;
        }
        if (this.maxConnections !== undefined && this.#connections.size >= this.maxConnections) {
          sys.close(cfd);
          this.emit('drop', {});
        } else {
          const socket = new NetSocket(this.#stack, {
            fd: cfd,
            ...(this.#opts.allowHalfOpen === undefined ? {} : { allowHalfOpen: this.#opts.allowHalfOpen }),
          });
          if (this.#opts.noDelay === true) socket.setNoDelay(true);
          if (this.#opts.keepAlive === true) socket.setKeepAlive(true, this.#opts.keepAliveInitialDelay ?? 0);
          this.#connections.add(socket);
          socket.once('close', () => {
            this.#connections.delete(socket);
            this.#maybeEmitClose();
          });
          if (this.#opts.pauseOnConnect === true) socket.pause();
          this.emit('connection', socket);
        }
        this.#acceptLoop(fd);
      },
      (e: unknown) => {
        // Closing the listener wakes accept with EBADF: the loop just ends.
        if (this.#closing) return;
        this.emit('error', e);
      },
    );
  }

  /** Stops accepting; 'close' (and `callback`) once every connection has ended, as in Node. */
  close(callback?: (err?: Error) => void): this {
    if (this.#fd < 0 || this.#closing) {
      const err = Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' });
      if (callback !== undefined) queueMicrotask(() => callback(err));
      return this;
    }
    if (callback !== undefined) this.once('close', () => callback());
    this.#closing = true;
    this.#stack.sys.close(this.#fd);
    this.#maybeEmitClose();
    return this;
  }

  #maybeEmitClose(): void {
    if (!this.#closing || this.#fd < 0 || this.#connections.size > 0) return;
    this.#fd = -1;
    queueMicrotask(() => this.emit('close'));
  }

  address(): NetAddressInfo | null {
    return this.#fd >= 0 && !this.#closing && this.#address !== undefined ? { ...this.#address } : null;
  }

  getConnections(callback: (err: Error | null, count: number) => void): this {
    const n = this.#connections.size;
    queueMicrotask(() => callback(null, n));
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

export interface Net {
  Socket: new (options?: NetSocketOptions) => NetSocket;
  Server: new (options?: NetServerOptions, connectionListener?: (socket: NetSocket) => void) => NetServer;
  createServer(options?: NetServerOptions | ((socket: NetSocket) => void), connectionListener?: (socket: NetSocket) => void): NetServer;
  connect(options: NetConnectOptions, connectListener?: () => void): NetSocket;
  connect(port: number, host?: string, connectListener?: () => void): NetSocket;
  createConnection(options: NetConnectOptions, connectListener?: () => void): NetSocket;
  createConnection(port: number, host?: string, connectListener?: () => void): NetSocket;
  isIP: typeof isIP;
  isIPv4: typeof isIPv4;
  isIPv6: typeof isIPv6;
}

/** A `net` module whose sockets live on `stack`. */
export function createNet(stack: NetStack): Net {
  class Socket extends NetSocket {
    constructor(options?: NetSocketOptions) {
      super(stack, options);
    }
  }
  class Server extends NetServer {
    constructor(options?: NetServerOptions, connectionListener?: (socket: NetSocket) => void) {
      super(stack, options, connectionListener);
    }
  }
  const connect = (...args: unknown[]): NetSocket => {
    const opts = typeof args[0] === 'object' && args[0] !== null ? (args[0] as NetConnectOptions) : undefined;
    const s = new Socket(opts?.allowHalfOpen === undefined ? {} : { allowHalfOpen: opts.allowHalfOpen });
    return (s.connect as (...a: unknown[]) => NetSocket)(...args);
  };
  return {
    Socket,
    Server,
    createServer: (options, connectionListener) =>
      typeof options === 'function' ? new Server({}, options) : new Server(options ?? {}, connectionListener),
    connect: connect,
    createConnection: connect,
    isIP,
    isIPv4,
    isIPv6,
  };
}
