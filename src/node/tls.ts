/**
 * `nodeTls()`: a TlsProvider for the web `connect()` built on node:tls.
 *
 * The plain connection's web streams become a Node Duplex
 * (`Duplex.fromWeb`), `tls.connect({ socket })` runs OpenSSL over it exactly
 * as over a kernel socket, and the TLSSocket goes back to web streams
 * (`Duplex.toWeb`). Certificate checks are Node's own: the options are
 * node:tls's (`ca`, `servername`, `rejectUnauthorized`, `ALPNProtocols`, ...).
 */
import { isIP } from 'node:net';
import { Duplex, finished } from 'node:stream';
import * as tls from 'node:tls';
import type { ByteStreams, TlsProvider, TlsSession, TlsStartOptions } from '../api/tls-provider.js';

/**
 * node:tls client options, minus what the connection decides (`socket`,
 * `host`, `port`, `path`). `servername` overrides the name sent as SNI and
 * checked against the certificate (default: the address's hostname, unless
 * it is an IP literal, which RFC 6066 3 forbids in SNI).
 */
export type NodeTlsOptions = Omit<tls.ConnectionOptions, 'socket' | 'host' | 'port' | 'path'>;

/** The error `opened` rejects with when the handshake fails; `code` is OpenSSL's/Node's (e.g. 'DEPTH_ZERO_SELF_SIGNED_CERT'). */
export class TlsHandshakeError extends Error {
  readonly code: string | undefined;
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'TlsHandshakeError';
    const code = (cause as { code?: unknown } | null)?.code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/** A TLS provider over node:tls, for `new Stack({ tls: nodeTls(options) })` or `connect(addr, { tls })`. */
export function nodeTls(options: NodeTlsOptions = {}): TlsProvider {
  return {
    start(plain: ByteStreams, where: TlsStartOptions): TlsSession {
      const servername = options.servername ?? (isIP(where.hostname) === 0 ? where.hostname : undefined);
      const name = servername ?? where.hostname;
      const socket = tls.connect({
        ...options,
        // A TLSSocket over a stream takes that stream's allowHalfOpen. The
        // connect() socket on top applies the caller's; here the peer's
        // close_notify must only end the readable.
        socket: Duplex.fromWeb(plain, { allowHalfOpen: true }),
        // `host` is what checkServerIdentity compares against when no servername is set.
        host: where.hostname,
        port: where.port,
        ...(servername === undefined ? {} : { servername }),
      });
      let secured = false;
      const handshake = new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', () => {
          secured = true;
          resolve();
        });
        // A permanent listener: a TLS error after the handshake (a reset, a
        // bad record) reaches the caller through the streams, and must not
        // become an uncaught 'error' event.
        socket.on('error', (e: Error) => {
          if (!secured) reject(new TlsHandshakeError(`TLS handshake with ${name}:${where.port} failed: ${e.message}`, e));
        });
        socket.once('close', () => {
          if (!secured) reject(new TlsHandshakeError(`TLS handshake with ${name}:${where.port} failed: connection closed`, undefined));
        });
      });
      return { readable: readableOf(socket), writable: writableOf(socket), handshake };
    },
  };
}

/**
 * The TLSSocket's cleartext as a ReadableStream. Not `Readable.toWeb()`: in
 * Node 20 its stream ends only once the socket's writable side has finished
 * too, which would hold a half-open connection's readable open.
 */
function readableOf(socket: tls.TLSSocket): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        socket.on('data', (d: Buffer) => {
          c.enqueue(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
          // Backpressure: stop decrypting (and so reading the connection) until the consumer pulls.
          if ((c.desiredSize ?? 0) <= 0) socket.pause();
        });
        const settle = (f: () => void): void => {
          try {
            f();
          } catch {
            // Already closed or errored: a later event has nothing to add.
          }
        };
        socket.on('end', () => {
          settle(() => {
            c.close();
          });
        });
        socket.on('error', (e: Error) => {
          settle(() => {
            c.error(e);
          });
        });
        socket.on('close', () => {
          settle(() => {
            c.error(new Error('the TLS connection closed before its end'));
          });
        });
      },
      pull() {
        socket.resume();
      },
      cancel() {
        socket.destroy();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/**
 * The TLSSocket's sending side as a WritableStream. A write resolves once
 * TLS has taken the chunk (the callback), so the caller may reuse its buffer
 * and at most one chunk waits here; close() resolves when the writable side
 * has finished (close_notify sent), not when the peer has closed too.
 */
function writableOf(socket: tls.TLSSocket): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        socket.write(chunk, (e) => {
          if (e) reject(e);
          else resolve();
        });
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        finished(socket, { readable: false }, (e) => {
          if (e) reject(e);
          else resolve();
        });
        socket.end();
      }),
    abort: () => {
      socket.destroy();
    },
  });
}
