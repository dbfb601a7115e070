/**
 * Linux errno numbers, their names, and the glibc `strerror` texts.
 *
 * The values are Linux's (asm-generic/errno-base.h and asm-generic/errno.h,
 * which x86_64, arm64 and riscv share), not BSD's or macOS's: a program that
 * compares `getsockopt(SO_ERROR)` against 111 or prints `strerror(errno)` must
 * see what it would see on Linux. The texts are glibc's, because that is what
 * `perror`, Python's `os.strerror` and most tools print on Linux.
 *
 * This module is a leaf: it imports nothing, so every layer may use it.
 */

// One row per distinct number: [name, Linux value, glibc strerror text].
// Aliases (two names for one number) are added separately below so that a
// number always maps back to one canonical name, the one Linux/libuv report.
const TABLE = [
  ['EPERM', 1, 'Operation not permitted'],
  ['ENOENT', 2, 'No such file or directory'],
  ['EINTR', 4, 'Interrupted system call'],
  ['EIO', 5, 'Input/output error'],
  ['ENXIO', 6, 'No such device or address'],
  ['EBADF', 9, 'Bad file descriptor'],
  ['EAGAIN', 11, 'Resource temporarily unavailable'],
  ['ENOMEM', 12, 'Cannot allocate memory'],
  ['EACCES', 13, 'Permission denied'],
  ['EFAULT', 14, 'Bad address'],
  ['EBUSY', 16, 'Device or resource busy'],
  ['EEXIST', 17, 'File exists'],
  ['ENODEV', 19, 'No such device'],
  ['ENOTDIR', 20, 'Not a directory'],
  ['EINVAL', 22, 'Invalid argument'],
  ['ENFILE', 23, 'Too many open files in system'],
  ['EMFILE', 24, 'Too many open files'],
  ['ENOTTY', 25, 'Inappropriate ioctl for device'],
  ['ENOSPC', 28, 'No space left on device'],
  ['ESPIPE', 29, 'Illegal seek'],
  ['EPIPE', 32, 'Broken pipe'],
  ['ERANGE', 34, 'Numerical result out of range'],
  ['ENAMETOOLONG', 36, 'File name too long'],
  ['ENOSYS', 38, 'Function not implemented'],
  ['ELOOP', 40, 'Too many levels of symbolic links'],
  ['EPROTO', 71, 'Protocol error'],
  ['EOVERFLOW', 75, 'Value too large for defined data type'],
  ['ENOTSOCK', 88, 'Socket operation on non-socket'],
  ['EDESTADDRREQ', 89, 'Destination address required'],
  ['EMSGSIZE', 90, 'Message too long'],
  ['EPROTOTYPE', 91, 'Protocol wrong type for socket'],
  ['ENOPROTOOPT', 92, 'Protocol not available'],
  ['EPROTONOSUPPORT', 93, 'Protocol not supported'],
  ['ESOCKTNOSUPPORT', 94, 'Socket type not supported'],
  ['EOPNOTSUPP', 95, 'Operation not supported'],
  ['EPFNOSUPPORT', 96, 'Protocol family not supported'],
  ['EAFNOSUPPORT', 97, 'Address family not supported by protocol'],
  ['EADDRINUSE', 98, 'Address already in use'],
  ['EADDRNOTAVAIL', 99, 'Cannot assign requested address'],
  ['ENETDOWN', 100, 'Network is down'],
  ['ENETUNREACH', 101, 'Network is unreachable'],
  ['ENETRESET', 102, 'Network dropped connection on reset'],
  ['ECONNABORTED', 103, 'Software caused connection abort'],
  ['ECONNRESET', 104, 'Connection reset by peer'],
  ['ENOBUFS', 105, 'No buffer space available'],
  ['EISCONN', 106, 'Transport endpoint is already connected'],
  ['ENOTCONN', 107, 'Transport endpoint is not connected'],
  ['ESHUTDOWN', 108, 'Cannot send after transport endpoint shutdown'],
  ['ETOOMANYREFS', 109, 'Too many references: cannot splice'],
  ['ETIMEDOUT', 110, 'Connection timed out'],
  ['ECONNREFUSED', 111, 'Connection refused'],
  ['EHOSTDOWN', 112, 'Host is down'],
  ['EHOSTUNREACH', 113, 'No route to host'],
  ['EALREADY', 114, 'Operation already in progress'],
  ['EINPROGRESS', 115, 'Operation now in progress'],
  ['ECANCELED', 125, 'Operation canceled'],
] as const;

type Row = (typeof TABLE)[number];

/** The canonical name of each errno (the one `errnoName` returns). */
export type CanonicalErrnoName = Row[0];

// Linux defines these as the same number as another name. Accepting them as
// input matters because POSIX code tests for EWOULDBLOCK and ENOTSUP; they
// are never produced as output (Node's util.getSystemErrorName(-11) is also
// 'EAGAIN', never 'EWOULDBLOCK').
const ALIASES = { EWOULDBLOCK: 11, ENOTSUP: 95 } as const;

/** Every accepted errno name, including the aliases EWOULDBLOCK and ENOTSUP. */
export type ErrnoName = CanonicalErrnoName | keyof typeof ALIASES;

type ErrnoTable = { readonly [R in Row as R[0]]: R[1] } & typeof ALIASES;

/**
 * Errno values by name, e.g. `Errno.ECONNREFUSED === 111`. Positive, as in C;
 * note that `SocketError.errno` is the negated value, as in Node.
 */
export const Errno: ErrnoTable = Object.freeze(
  Object.assign(Object.fromEntries(TABLE.map(([name, value]) => [name, value])), ALIASES) as ErrnoTable,
);

// Maps rather than object lookups so that names like 'toString' or
// '__proto__' are simply unknown instead of hitting Object.prototype.
const NUMBER_BY_NAME = new Map<string, number>([
  ...TABLE.map(([name, value]): [string, number] => [name, value]),
  ...Object.entries(ALIASES),
]);
const NAME_BY_NUMBER = new Map<number, CanonicalErrnoName>(TABLE.map(([name, value]) => [value, name]));
const TEXT_BY_NUMBER = new Map<number, string>(TABLE.map(([, value, text]) => [value, text]));

// Node (libuv) reports errno negated; accepting both signs lets callers pass
// either `Errno.X` or a Node-style `err.errno` without converting.
function positive(n: number): number {
  return n < 0 ? -n : n;
}

/** True when `name` is an errno name this module knows (aliases included). */
export function isErrnoName(name: string): name is ErrnoName {
  return NUMBER_BY_NAME.has(name);
}

/**
 * The canonical name of an errno number, or undefined if unknown. Accepts the
 * Linux value (111) or Node's negated one (-111). Aliased numbers give the
 * canonical name: 11 is 'EAGAIN', 95 is 'EOPNOTSUPP'.
 */
export function errnoName(n: number): CanonicalErrnoName | undefined {
  return NAME_BY_NUMBER.get(positive(n));
}

/** The (positive) Linux number of an errno name, or undefined if unknown. Case-sensitive. */
export function errnoNumber(name: ErrnoName): number;
export function errnoNumber(name: string): number | undefined;
export function errnoNumber(name: string): number | undefined {
  return NUMBER_BY_NAME.get(name);
}

/**
 * glibc's message for an errno, given its number (either sign) or its name.
 * Like glibc, an unknown value gives `Unknown error <value>` rather than
 * throwing, so it is safe on numbers that come from elsewhere.
 */
export function strerror(codeOrNumber: number | string): string {
  const n = typeof codeOrNumber === 'number' ? positive(codeOrNumber) : NUMBER_BY_NAME.get(codeOrNumber);
  const text = n === undefined ? undefined : TEXT_BY_NUMBER.get(n);
  return text ?? `Unknown error ${String(codeOrNumber)}`;
}
