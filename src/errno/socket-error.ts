/**
 * The error a failing socket call rejects or throws with.
 *
 * It has the shape of Node's system errors (the ones `net` and `dgram` emit),
 * so code written against Node keeps working when it runs over this stack:
 *
 * - `code`: the errno name, e.g. 'ECONNREFUSED' (always the canonical name:
 *   'EAGAIN', never 'EWOULDBLOCK'; 'EOPNOTSUPP', never 'ENOTSUP').
 * - `errno`: the NEGATED Linux number, e.g. -111. Node documents
 *   `error.errno` as "a negative number which corresponds to the error code
 *   defined in libuv", and on Linux libuv's codes are `-errno`; Node itself
 *   gives -111 for a refused connect. So `util.getSystemErrorName(e.errno)`
 *   works on our errors too. The positive C value is `-e.errno`, or
 *   `Errno[e.code]`.
 * - `syscall`: the BSD call that failed, e.g. 'connect'.
 * - `address`, `port`: present only when given (as in Node, a zero port is
 *   left out).
 *
 * The message follows Node's format for socket errors,
 * `<syscall> <CODE>[ <address>[:<port>]]`, e.g. `connect ECONNREFUSED
 * 10.0.0.2:80`, so it contains the code for grepping and matches what Node
 * prints for the same failure (IPv6 addresses unbracketed, like Node). The
 * human text is `strerror(e.code)`: "Connection refused".
 *
 * The own enumerable properties are exactly Node's (errno, code, syscall,
 * address?, port?) in Node's order, so `{ ...err }` and deep-equality
 * assertions compare the same way.
 */
import { Errno, errnoName, errnoNumber, isErrnoName } from './errno.js';
import type { CanonicalErrnoName, ErrnoName } from './errno.js';

/** Where the failing call was aimed, and what caused it. */
export interface SocketErrorDetails {
  /** The remote (connect, sendto) or local (bind, listen) address, already formatted. */
  readonly address?: string;
  readonly port?: number;
  /** An underlying error, kept as the standard `Error.cause`. */
  readonly cause?: unknown;
}

// A registered symbol, not only `instanceof`, so that an error from a second
// copy of this package (two versions in one node_modules) is still recognised.
const BRAND = Symbol.for('sockstack.SocketError');

function canonicalName(code: ErrnoName | number): CanonicalErrnoName {
  if (typeof code === 'number') {
    const name = errnoName(code);
    if (name === undefined) throw new RangeError(`SocketError: unknown errno ${code}`);
    return name;
  }
  // Unknown names only reach here from untyped callers: a programmer error.
  if (!isErrnoName(code)) throw new RangeError(`SocketError: unknown errno name ${String(code)}`);
  return errnoName(Errno[code])!;
}

function formatMessage(syscall: string, code: string, address: string | undefined, port: number | undefined): string {
  let where = '';
  if (address !== undefined && address !== '') where = port !== undefined && port > 0 ? ` ${address}:${port}` : ` ${address}`;
  else if (port !== undefined && port > 0) where = ` :${port}`;
  return `${syscall} ${code}${where}`;
}

export class SocketError extends Error {
  // `declare` so the class does not define these as own properties set to
  // undefined before the constructor runs: absent optional fields must be
  // absent (as in Node), and the key order must be Node's.
  declare readonly errno: number;
  declare readonly code: CanonicalErrnoName;
  declare readonly syscall: string;
  declare readonly address?: string;
  declare readonly port?: number;

  static {
    // On the prototype, not as an instance field, to keep the own enumerable
    // keys identical to Node's system errors.
    Object.defineProperty(this.prototype, 'name', { value: 'SocketError', writable: true, configurable: true });
    Object.defineProperty(this.prototype, BRAND, { value: true });
  }

  /**
   * @param code an errno name ('ECONNREFUSED', aliases accepted) or number (111 or -111).
   * @param syscall the BSD call that failed ('connect').
   * @throws RangeError if `code` is not a known errno (a programmer error).
   */
  constructor(code: ErrnoName | number, syscall: string, details: SocketErrorDetails = {}) {
    const name = canonicalName(code);
    const message = formatMessage(syscall, name, details.address, details.port);
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.errno = -Errno[name];
    this.code = name;
    this.syscall = syscall;
    if (details.address !== undefined) this.address = details.address;
    if (details.port !== undefined && details.port > 0) this.port = details.port;
  }
}

/** `new SocketError(code, syscall, details)`, for use in expressions such as `Promise.reject(socketError(...))`. */
export function socketError(code: ErrnoName | number, syscall: string, details?: SocketErrorDetails): SocketError {
  return new SocketError(code, syscall, details);
}

/**
 * True if `e` is a SocketError (from any copy of this package), and, when
 * `code` is given, one with that errno. Codes compare by number, so
 * 'EWOULDBLOCK' matches an EAGAIN error and 'ENOTSUP' an EOPNOTSUPP one.
 */
export function isSocketError(e: unknown, code?: ErrnoName): e is SocketError {
  if (typeof e !== 'object' || e === null) return false;
  if (!(e instanceof SocketError) && (e as { [BRAND]?: unknown })[BRAND] !== true) return false;
  if (code === undefined) return true;
  // Through the Map-backed lookup: an untyped caller's 'toString' must not
  // find Object.prototype.toString on the Errno table.
  const wanted = errnoNumber(code);
  return wanted !== undefined && (e as SocketError).errno === -wanted;
}
