/**
 * A drop-in for Node's `dgram` module over a sockstack Stack:
 * `createDgram(stack)` returns `{ createSocket, Socket }` whose sockets are
 * EventEmitters with Node's `dgram.Socket` behaviour (events 'listening',
 * 'message', 'connect', 'error', 'close'), so code written for `dgram` runs
 * over the virtual stack.
 *
 * Node-only (node:events, Buffer), hence under src/node. Everything goes
 * through `stack.sys`: the socket is one SOCK_DGRAM descriptor created at
 * once (as libuv does for a udp4 handle, so options may be set before
 * bind), receiving is a blocking `sys.recvfrom` in a loop from bind until
 * close, and every option is a `setsockopt`.
 *
 * Errors are SocketErrors (src/errno) re-labelled with the syscall name Node
 * uses ('send', 'bind', 'setTTL', ...), so `code`, `errno`, `syscall`,
 * `address` and `port` read as Node's. Argument misuse throws Node's
 * ERR_SOCKET_* errors synchronously, as Node does.
 */
import { EventEmitter } from 'node:events';
import type { Syscalls } from '../syscall/syscalls.js';
import { constants as C } from '../syscall/constants.js';
import { SocketError, isSocketError } from '../errno/socket-error.js';
import { parseIpv4Address } from '../wire/address.js';

/** What of a Stack the adapter uses; `Stack` satisfies it. */
export interface DgramStack {
  readonly sys: Syscalls;
}

export type DgramSocketType = 'udp4';

export interface DgramSocketOptions {
  readonly type: DgramSocketType;
  readonly reuseAddr?: boolean;
  readonly recvBufferSize?: number;
  readonly sendBufferSize?: number;
}

export interface DgramBindOptions {
  readonly port?: number;
  readonly address?: string;
  /** Accepted for compatibility; there is no cluster here, so it changes nothing. */
  readonly exclusive?: boolean;
}

export interface DgramAddressInfo {
  address: string;
  family: 'IPv4';
  port: number;
}

export interface DgramRemoteInfo extends DgramAddressInfo {
  size: number;
}

export type DgramMessage = Uint8Array | string | ReadonlyArray<Uint8Array | string>;
export type DgramSendCallback = (error: Error | null, bytes?: number) => void;
export type DgramMessageListener = (msg: Buffer, rinfo: DgramRemoteInfo) => void;

// Largest UDP payload over IPv4 (65535 - 20 - 8): one buffer fits any datagram.
const RECV_SIZE = 65_507;

/** Node's internal errors: an Error (or subclass) with a `code`, the message and name as Node prints them. */
function nodeError(code: string, message: string, ctor: new (message: string) => Error = Error): Error {
  const e = new ctor(message);
  Object.defineProperty(e, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return e;
}

function resolveAddress(address: string | undefined, fallback: string): string {
  if (address === undefined || address === '') return fallback;
  if (address === 'localhost') return '127.0.0.1';
  return address;
}

function validatePort(port: unknown, allowZero: boolean): number {
  const n = typeof port === 'string' && port.trim() !== '' ? Number(port) : port;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 0xffff) {
    throw nodeError(
      'ERR_SOCKET_BAD_PORT',
      `Port should be ${allowZero ? '>=' : '>'} 0 and < 65536. Received ${String(port)}.`,
      RangeError,
    );
  }
  return n;
}

/** Node's sliceBuffer: `offset`/`length` as uint32, checked against the message. */
function sliceBytes(msg: unknown, offset: unknown, length: unknown): Uint8Array {
  const whole = toBytes(msg);
  const off = Number(offset) >>> 0;
  const len = Number(length) >>> 0;
  if (off > whole.length) {
    throw nodeError('ERR_BUFFER_OUT_OF_BOUNDS', '"offset" is outside of buffer bounds', RangeError);
  }
  if (off + len > whole.length) {
    throw nodeError('ERR_BUFFER_OUT_OF_BOUNDS', '"length" is outside of buffer bounds', RangeError);
  }
  return whole.subarray(off, off + len);
}

function toBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw nodeError(
    'ERR_INVALID_ARG_TYPE',
    'The "buffer" argument must be of type string or an instance of Buffer, TypedArray, or DataView.',
    TypeError,
  );
}

/** Re-labels a socket-layer failure with Node's syscall name and target. */
function relabel(e: unknown, syscall: string, address?: string, port?: number): unknown {
  if (!isSocketError(e)) return e;
  return new SocketError(e.code, syscall, {
    ...(address === undefined ? {} : { address }),
    ...(port === undefined ? {} : { port }),
    cause: e,
  });
}

/** Node's dgram.Socket over one sockstack descriptor. */
export class DgramSocket extends EventEmitter {
  readonly #sys: Syscalls;
  readonly #fd: number;
  readonly #reuseAddr: boolean;
  #bound = false;
  #closed = false;
  #connecting = false;
  #remote: DgramAddressInfo | undefined;
  #receiving = false;

  constructor(stack: DgramStack, options: DgramSocketOptions, listener?: DgramMessageListener) {
    super();
    if (options.type !== 'udp4') {
      throw nodeError(
        'ERR_SOCKET_BAD_TYPE',
        'Bad socket type specified. Valid types are: udp4 (sockstack has no IPv6)',
        TypeError,
      );
    }
    this.#sys = stack.sys;
    this.#reuseAddr = options.reuseAddr === true;
    this.#fd = this.#sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    if (this.#reuseAddr) this.#sys.setsockopt(this.#fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    if (options.recvBufferSize !== undefined) this.setRecvBufferSize(options.recvBufferSize);
    if (options.sendBufferSize !== undefined) this.setSendBufferSize(options.sendBufferSize);
    if (listener !== undefined) this.on('message', listener);
  }

  #healthCheck(): void {
    if (this.#closed) throw nodeError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
  }

  // ------------------------------------------------------------ bind

  bind(port?: number, address?: string, callback?: () => void): this;
  bind(port: number, callback: () => void): this;
  bind(callback: () => void): this;
  bind(options: DgramBindOptions, callback?: () => void): this;
  bind(...args: unknown[]): this {
    this.#healthCheck();
    if (this.#bound) throw nodeError('ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
    const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    let port: unknown = 0;
    let address: string | undefined;
    const [a, b] = args;
    if (typeof a === 'object' && a !== null) {
      const o = a as DgramBindOptions;
      port = o.port ?? 0;
      address = o.address;
    } else {
      if (a !== undefined) port = a;
      if (typeof b === 'string') address = b;
    }
    if (cb !== undefined) this.once('listening', cb);
    const p = validatePort(port, true);
    this.#bindNow(p, resolveAddress(address, '0.0.0.0'));
    return this;
  }

  /** Binds synchronously; success ('listening') and failure ('error') are reported asynchronously, as in Node. */
  #bindNow(port: number, address: string): boolean {
    // Marked bound at once so that a second bind() throws and sends do not rebind.
    this.#bound = true;
    try {
      if (parseIpv4Address(address) === undefined) {
        throw Object.assign(nodeError('ENOTFOUND', `getaddrinfo ENOTFOUND ${address}`), {
          syscall: 'getaddrinfo',
          hostname: address,
        });
      }
      this.#sys.bind(this.#fd, { address, port });
    } catch (e) {
      this.#bound = false;
      const err = relabel(e, 'bind', address, port);
      queueMicrotask(() => this.emit('error', err));
      return false;
    }
    queueMicrotask(() => {
      if (this.#closed) return;
      this.emit('listening');
    });
    this.#startReceiving();
    return true;
  }

  /** Implicit bind (Node binds an unbound socket to 0.0.0.0:0 on the first send or connect). */
  #ensureBound(): boolean {
    if (this.#bound) return true;
    return this.#bindNow(0, '0.0.0.0');
  }

  #startReceiving(): void {
    if (this.#receiving) return;
    this.#receiving = true;
    const buf = new Uint8Array(RECV_SIZE);
    const step = (): void => {
      if (this.#closed) return;
      this.#sys.recvfrom(this.#fd, buf).then(
        ({ bytesRead, address }) => {
          if (this.#closed) return;
          // A copy: the buffer is reused for the next datagram.
          const msg = Buffer.from(buf.subarray(0, bytesRead));
          this.emit('message', msg, { address: address.address, family: 'IPv4', port: address.port, size: bytesRead });
          step();
        },
        (e: unknown) => {
          if (this.#closed) return; // EBADF from our own close()
          // E.g. ECONNREFUSED queued by an ICMP port unreachable on a connected socket; libuv reports it as recvmsg.
          this.emit('error', relabel(e, 'recvmsg'));
          step();
        },
      );
    };
    step();
  }

  // ------------------------------------------------------------ connect

  connect(port: number, address?: string, callback?: () => void): void;
  connect(port: number, callback: () => void): void;
  connect(port: unknown, address?: unknown, callback?: unknown): void {
    const p = validatePort(port, false);
    let addr: string | undefined;
    let cb: unknown = callback;
    if (typeof address === 'function') cb = address;
    else if (typeof address === 'string') addr = address;
    this.#healthCheck();
    if (this.#remote !== undefined || this.#connecting) {
      throw nodeError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    if (typeof cb === 'function') this.once('connect', cb as () => void);
    const host = resolveAddress(addr, '127.0.0.1');
    this.#connecting = true;
    if (!this.#ensureBound()) {
      this.#connecting = false;
      return;
    }
    this.#sys.connect(this.#fd, { address: host, port: p }).then(
      () => {
        this.#connecting = false;
        if (this.#closed) return;
        this.#remote = { address: host, family: 'IPv4', port: p };
        this.emit('connect');
      },
      (e: unknown) => {
        this.#connecting = false;
        if (this.#closed) return;
        this.emit('error', relabel(e, 'connect', host, p));
      },
    );
  }

  disconnect(): void {
    this.#healthCheck();
    if (this.#remote === undefined) throw nodeError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    // connect(AF_UNSPEC) dissolves the association (POSIX / Linux udp_disconnect).
    void this.#sys.connect(this.#fd, { family: C.AF_UNSPEC }).catch(() => undefined);
    this.#remote = undefined;
  }

  remoteAddress(): DgramAddressInfo {
    this.#healthCheck();
    if (this.#remote === undefined) throw nodeError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    return { ...this.#remote };
  }

  address(): DgramAddressInfo {
    this.#healthCheck();
    if (!this.#bound) throw new SocketError('EBADF', 'getsockname');
    const a = this.#sys.getsockname(this.#fd);
    return { address: a.address, family: 'IPv4', port: a.port };
  }

  // ------------------------------------------------------------ send

  send(msg: DgramMessage, port?: number, address?: string, callback?: DgramSendCallback): void;
  send(msg: DgramMessage, port?: number, callback?: DgramSendCallback): void;
  send(msg: DgramMessage, callback?: DgramSendCallback): void;
  send(msg: Uint8Array | string, offset: number, length: number, port?: number, address?: string, callback?: DgramSendCallback): void;
  send(msg: Uint8Array | string, offset: number, length: number, port?: number, callback?: DgramSendCallback): void;
  send(msg: Uint8Array | string, offset: number, length: number, callback?: DgramSendCallback): void;
  send(msg: unknown, ...args: unknown[]): void {
    // Positional, as Node reads them: (msg, offset, length, port, address, callback).
    const [offset, length] = args;
    let [, , port, address, callback] = args;
    const connected = this.#remote !== undefined;
    let sliced: Uint8Array | undefined;
    if (!connected) {
      // The offset/length form when something real sits in the port or address position.
      if (address || (port && typeof port !== 'function')) {
        sliced = sliceBytes(msg, offset, length);
      } else {
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      // Connected: (msg, offset, length[, callback]) or (msg[, callback]).
      if (typeof length === 'number') {
        sliced = sliceBytes(msg, offset, length);
        if (typeof port === 'function') {
          callback = port;
          port = undefined;
        }
      } else {
        callback = offset;
      }
      if (port || address) throw nodeError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    let data: Uint8Array;
    if (sliced !== undefined) data = sliced;
    else if (Array.isArray(msg)) {
      const parts = (msg as unknown[]).map(toBytes);
      data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    } else data = toBytes(msg);
    let dest: { address: string; port: number } | undefined;
    if (!connected) dest = { address: '', port: validatePort(port, false) };
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    } else if (address !== undefined && address !== null && typeof address !== 'string') {
      throw nodeError('ERR_INVALID_ARG_TYPE', 'The "address" argument must be of type string.', TypeError);
    }
    if (dest !== undefined) dest.address = resolveAddress(typeof address === 'string' ? address : undefined, '127.0.0.1');
    const cb = typeof callback === 'function' ? (callback as DgramSendCallback) : undefined;
    this.#healthCheck();
    const report = (err: unknown, bytes?: number): void => {
      // Without a callback a failed send is dropped, not emitted: Node's
      // doSend passes send errors only to a callback ("dgram_legacy.js
      // compatibility"), so code written for Node does not expect an 'error'.
      if (cb === undefined) return;
      if (err === null) cb(null, bytes);
      else cb(err instanceof Error ? err : new Error('send failed', { cause: err }));
    };
    if (!this.#ensureBound()) return; // the bind error is already on its way as 'error'
    const target = dest ?? this.#remote!;
    const sent = dest === undefined ? this.#sys.send(this.#fd, data, 0) : this.#sys.sendto(this.#fd, data, 0, dest);
    sent.then(
      (n) => report(null, n),
      (e: unknown) => report(relabel(e, 'send', target.address, target.port)),
    );
  }

  // ------------------------------------------------------------ options

  #setopt(syscall: string, level: number, name: number, value: Parameters<Syscalls['setsockopt']>[3]): void {
    this.#healthCheck();
    try {
      this.#sys.setsockopt(this.#fd, level, name, value);
    } catch (e) {
      throw relabel(e, syscall);
    }
  }

  setBroadcast(flag: boolean): void {
    this.#setopt('setBroadcast', C.SOL_SOCKET, C.SO_BROADCAST, flag ? 1 : 0);
  }

  setTTL(ttl: number): number {
    if (typeof ttl !== 'number') {
      throw nodeError('ERR_INVALID_ARG_TYPE', 'The "ttl" argument must be of type number.', TypeError);
    }
    // libuv accepts 1..255 and reports anything else as EINVAL.
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new SocketError('EINVAL', 'setTTL');
    this.#setopt('setTTL', C.IPPROTO_IP, C.IP_TTL, ttl);
    return ttl;
  }

  setMulticastTTL(ttl: number): number {
    if (typeof ttl !== 'number') {
      throw nodeError('ERR_INVALID_ARG_TYPE', 'The "ttl" argument must be of type number.', TypeError);
    }
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) throw new SocketError('EINVAL', 'setMulticastTTL');
    this.#setopt('setMulticastTTL', C.IPPROTO_IP, C.IP_MULTICAST_TTL, ttl);
    return ttl;
  }

  setMulticastLoopback(flag: boolean): boolean {
    this.#setopt('setMulticastLoopback', C.IPPROTO_IP, C.IP_MULTICAST_LOOP, flag ? 1 : 0);
    return flag;
  }

  setMulticastInterface(interfaceAddress: string): void {
    this.#setopt('setMulticastInterface', C.IPPROTO_IP, C.IP_MULTICAST_IF, interfaceAddress);
  }

  addMembership(multicastAddress: string, multicastInterface?: string): void {
    this.#membership('addMembership', C.IP_ADD_MEMBERSHIP, multicastAddress, multicastInterface);
  }

  dropMembership(multicastAddress: string, multicastInterface?: string): void {
    this.#membership('dropMembership', C.IP_DROP_MEMBERSHIP, multicastAddress, multicastInterface);
  }

  #membership(syscall: string, name: number, group: unknown, iface: unknown): void {
    this.#healthCheck();
    if (typeof group !== 'string') {
      throw nodeError('ERR_MISSING_ARGS', 'The "multicastAddress" argument must be specified', TypeError);
    }
    // Node (libuv) binds an unbound socket before joining, so the group's datagrams can arrive.
    this.#ensureBound();
    const mreq = typeof iface === 'string' ? { multiaddr: group, interface: iface } : { multiaddr: group };
    this.#setopt(syscall, C.IPPROTO_IP, name, mreq);
  }

  setRecvBufferSize(size: number): void {
    this.#bufferSize('recv', C.SO_RCVBUF, size);
  }

  setSendBufferSize(size: number): void {
    this.#bufferSize('send', C.SO_SNDBUF, size);
  }

  getRecvBufferSize(): number {
    return this.#getBufferSize('recv', C.SO_RCVBUF);
  }

  getSendBufferSize(): number {
    return this.#getBufferSize('send', C.SO_SNDBUF);
  }

  #bufferSize(which: string, name: number, size: number): void {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > 0x7fffffff) {
      throw nodeError('ERR_OUT_OF_RANGE', `The value of "size" is out of range. Received ${String(size)}`, RangeError);
    }
    this.#healthCheck();
    try {
      this.#sys.setsockopt(this.#fd, C.SOL_SOCKET, name, size);
    } catch (e) {
      throw Object.assign(nodeError('ERR_SOCKET_BUFFER_SIZE', `Could not get or set buffer size: ${String(e)}`, Error), { info: e });
    }
    void which;
  }

  #getBufferSize(which: string, name: number): number {
    this.#healthCheck();
    try {
      return this.#sys.getsockopt(this.#fd, C.SOL_SOCKET, name) as number;
    } catch (e) {
      throw Object.assign(nodeError('ERR_SOCKET_BUFFER_SIZE', `Could not get or set buffer size (${which}): ${String(e)}`, Error), { info: e });
    }
  }

  // ------------------------------------------------------------ lifetime

  close(callback?: () => void): this {
    this.#healthCheck();
    if (typeof callback === 'function') this.once('close', callback);
    this.#closed = true;
    this.#remote = undefined;
    try {
      this.#sys.close(this.#fd);
    } catch {
      // Already gone (the stack was shut down): closing is still done.
    }
    queueMicrotask(() => this.emit('close'));
    return this;
  }

  /** Node's dgram.Socket supports `await using`-style disposal through close(). */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.close(resolve));
  }

  /** No-ops: the virtual stack's descriptors do not hold the Node event loop open. */
  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  /** The sockstack descriptor under this socket (for `stack.sys` calls Node has no method for). */
  get fd(): number {
    return this.#fd;
  }
}

export interface Dgram {
  createSocket(type: DgramSocketType | DgramSocketOptions, listener?: DgramMessageListener): DgramSocket;
  readonly Socket: typeof DgramSocket;
}

/** `dgram` over `stack`: `createDgram(stack).createSocket('udp4')`. */
export function createDgram(stack: DgramStack): Dgram {
  return {
    createSocket(type: DgramSocketType | DgramSocketOptions, listener?: DgramMessageListener): DgramSocket {
      const options: DgramSocketOptions = typeof type === 'string' ? { type } : type;
      return new DgramSocket(stack, options, listener);
    },
    Socket: DgramSocket,
  };
}
