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
 *
 * NetSocket is net-socket.ts, NetServer net-server.ts, isIP and friends
 * net-ip.ts; this file assembles them into the module.
 */
import { isIP, isIPv4, isIPv6 } from './net-ip.js';
import { NetServer } from './net-server.js';
import type { NetServerOptions } from './net-server.js';
import { NetSocket } from './net-socket.js';
import type { NetConnectOptions, NetSocketOptions, NetStack } from './net-socket.js';

export { isIP, isIPv4, isIPv6 } from './net-ip.js';
export { NetServer } from './net-server.js';
export type { NetListenOptions, NetServerOptions } from './net-server.js';
export { NetSocket } from './net-socket.js';
export type { NetAddressInfo, NetConnectOptions, NetSocketOptions, NetStack } from './net-socket.js';

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
