/**
 * The types of the Sockets API's connect() (connect.ts) and the two checks
 * on what a caller passes: apart so that the plain and the TLS socket
 * classes can share them without importing each other's modules.
 */
import type { Syscalls } from '../syscall/syscalls.js';
import type { TlsProvider } from './tls-provider.js';

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

