/**
 * The seam between `connect()` and a TLS implementation.
 *
 * The core runs in any JavaScript runtime and carries no cryptography, so
 * TLS is supplied from outside: a `TlsProvider` takes the plain byte streams
 * of a TCP connection and gives back the decrypted ones. `sockstack/node`
 * ships `nodeTls()` (over node:tls); a browser or another runtime can plug in
 * any TLS library the same way.
 *
 * The contract is deliberately streams-only (no sockets, no fds): the
 * provider sees exactly what a TLS library needs — ciphertext in and out —
 * and nothing of the stack, so one provider works for `"on"` (TLS from the
 * first byte) and `"starttls"` (TLS after a plain prologue) alike.
 */

/** A pair of byte streams: one connection's two directions. */
export interface ByteStreams {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** What `connect()` tells the provider about the connection it secures. */
export interface TlsStartOptions {
  /**
   * The hostname as the caller wrote it in the address: the name for SNI and
   * for the certificate check, unless the provider was configured otherwise.
   * May be an IP literal (sockstack has no resolver).
   */
  readonly hostname: string;
  readonly port: number;
}

/** A TLS session running over a plain connection. */
export interface TlsSession extends ByteStreams {
  /**
   * Resolves once the handshake has completed (certificate verified);
   * rejects with the reason it failed (untrusted certificate, handshake
   * alert, the connection failing underneath). `connect()`'s `opened`
   * settles with it.
   */
  readonly handshake: Promise<void>;
}

/**
 * Secures connections. `start()` takes ownership of `plain`: it locks both
 * streams, writes TLS records to `plain.writable`, reads them from
 * `plain.readable`, and returns the cleartext streams. Closing the returned
 * writable ends the TLS session (close_notify, then the plain writable is
 * closed); a peer's close_notify or FIN ends the returned readable.
 */
export interface TlsProvider {
  start(plain: ByteStreams, options: TlsStartOptions): TlsSession;
}
