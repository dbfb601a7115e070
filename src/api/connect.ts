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
 *
 * The sockets themselves: stream-socket.ts (plain) and secure-socket.ts (TLS).
 */
import { SecureSocket } from './secure-socket.js';
import { parseSocketAddress, socketApiError } from './socket-types.js';
import type { HasSyscalls, Socket, SocketAddress, SocketOptions } from './socket-types.js';
import { StreamSocket } from './stream-socket.js';

export { parseSocketAddress, socketApiError } from './socket-types.js';
export type { HasSyscalls, Socket, SocketAddress, SocketInfo, SocketOptions } from './socket-types.js';

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
