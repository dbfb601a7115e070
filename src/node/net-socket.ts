/**
 * NetSocket, the `net.Socket` of the `net` module adapter (net.ts): a
 * `stream.Duplex` over one sockstack descriptor. Reads are issued only while
 * the readable side wants data; a write completes once `sys.write` queued
 * it; `end()` is shutdown(SHUT_WR), `destroy()` close() and
 * `resetAndDestroy()` close() with SO_LINGER {1, 0}, as in Node.
 */
import { Duplex } from 'node:stream';
import type { Syscalls } from '../syscall/syscalls.js';
import { constants as C } from '../syscall/constants.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import { isIPv4 } from './net-ip.js';

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

/** The address a host name given to connect() or listen() stands for: only "localhost" is resolved. */
export function resolveHost(host: string | undefined): string {
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
