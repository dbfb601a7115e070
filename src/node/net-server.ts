/**
 * NetServer, the `net.Server` of the `net` module adapter (net.ts): a
 * listening descriptor whose accepted connections become NetSockets, with
 * Node's listen() argument forms, maxConnections and close() semantics.
 */
import { EventEmitter } from 'node:events';
import { constants as C } from '../syscall/constants.js';
import { SocketError } from '../errno/socket-error.js';
import { NetSocket, resolveHost } from './net-socket.js';
import type { NetAddressInfo, NetStack } from './net-socket.js';

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
