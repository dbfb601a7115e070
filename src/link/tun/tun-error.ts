/**
 * The error `openTun` fails with, and the mapping from a failed system call
 * to a message that says what to do about it.
 *
 * Opening a TUN device fails for reasons the user fixes outside the program
 * (privileges, a missing kernel module, another process holding the device),
 * so the message names the fix; an FFI stack trace helps nobody. The shape is
 * that of Node's system errors and our SocketError (`code`, negative `errno`,
 * `syscall`), plus the device name, so callers can branch on `code`.
 *
 * Pure: no FFI, no I/O, so the mapping is unit-tested without root.
 */
import { errnoName, strerror } from '../../errno/errno.js';

/** Linux numbers our errno table does not carry but a TUN fd can report. */
const EXTRA_NAMES: Readonly<Record<number, string>> = {
  77: 'EBADFD', // read/write on a TUN fd whose device was deleted (tun_get(): NULL)
};

/** Where the failure happened: which call, on which device. */
export interface TunErrorDetails {
  /** The device name as asked for (may be a `tun%d` template). */
  readonly device: string;
  /** The path opened, for `open` failures. */
  readonly path?: string;
  readonly cause?: unknown;
}

export class TunError extends Error {
  /** The errno name, e.g. 'EPERM'. */
  readonly code: string;
  /** The negated Linux errno, as in Node's system errors (-1 for EPERM); 0 when the cause is not an errno. */
  readonly errno: number;
  /** What failed: 'open', 'ioctl(TUNSETIFF)', 'ioctl(SIOCSIFMTU)', 'read', 'write', 'load'. */
  readonly syscall: string;
  readonly device: string;

  constructor(code: string, errno: number, syscall: string, message: string, details: TunErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    this.device = details.device;
  }

  static {
    Object.defineProperty(this.prototype, 'name', { value: 'TunError', writable: true, configurable: true });
  }
}

/** The errno name of a positive or negative Linux errno number, `E<n>` when unknown. */
export function errnoCode(n: number): string {
  const abs = Math.abs(n);
  return errnoName(abs) ?? EXTRA_NAMES[abs] ?? `E${abs}`;
}

function text(code: string): string {
  const t = strerror(code);
  return t === '' || t.startsWith('Unknown') ? code : t;
}

const PERMISSION_FIX =
  'run as root or grant CAP_NET_ADMIN (e.g. `sudo setcap cap_net_admin+ep "$(command -v node)"`), ' +
  'or create the device beforehand for your user: `sudo ip tuntap add dev NAME mode tun user "$USER"`';

/**
 * The actionable message for a failed step of opening a TUN device.
 * `errno` is the Linux errno (sign ignored).
 */
export function tunErrorMessage(syscall: string, errno: number, device: string, path = '/dev/net/tun'): string {
  const code = errnoCode(errno);
  const head = `${syscall} ${code} ${syscall === 'open' ? path : device}`;
  const fix = PERMISSION_FIX.replace('NAME', device.includes('%') ? 'tun0' : device);
  if (syscall === 'open') {
    switch (code) {
      case 'ENOENT':
        return `${head}: there is no TUN device node: load the tun module (\`modprobe tun\`) or create the node (\`mkdir -p /dev/net && mknod ${path} c 10 200 && chmod 0666 ${path}\`); in a container, pass it in (\`--device /dev/net/tun --cap-add NET_ADMIN\`)`;
      case 'ENODEV':
      case 'ENXIO':
        return `${head}: the TUN driver is not loaded: load the tun module (\`modprobe tun\`)`;
      case 'EACCES':
      case 'EPERM':
        return `${head}: no permission to open the TUN device node: ${fix}`;
      default:
        return `${head}: ${text(code)}`;
    }
  }
  if (syscall.startsWith('ioctl')) {
    switch (code) {
      case 'EPERM':
      case 'EACCES':
        return `${head}: not permitted to create or attach TUN device "${device}": ${fix}`;
      case 'EBUSY':
        return `${head}: another process holds tun device ${device} (close it there, or use another name)`;
      case 'EINVAL':
        return `${head}: "${device}" cannot be attached as a TUN device: an interface of that name exists but is not a TUN device (a TAP device or another kind: pick another name, or delete it with \`ip link del ${device}\`), or the name is not a valid interface name`;
      case 'ENODEV':
        return `${head}: no such network interface "${device}" (was it deleted or moved to another namespace?)`;
      case 'ENOMEM':
      case 'ENOBUFS':
        return `${head}: the kernel is out of memory for a new device`;
      default:
        return `${head}: ${text(code)}`;
    }
  }
  if (code === 'EBADFD' || code === 'EIO') {
    return `${head}: the TUN device "${device}" is gone (deleted, or its network namespace was removed)`;
  }
  return `${head}: ${text(code)}`;
}

/** A TunError for a failed system call with the given Linux errno (sign ignored). */
export function tunSyscallError(syscall: string, errno: number, details: TunErrorDetails): TunError {
  const abs = Math.abs(errno);
  return new TunError(errnoCode(abs), -abs, syscall, tunErrorMessage(syscall, abs, details.device, details.path), details);
}

/** Interface names: IFNAMSIZ (16) bytes with the NUL, so at most 15 (include/uapi/linux/if.h). */
export const TUN_NAME_MAX = 15;

/**
 * Checks a device name the way the kernel's dev_valid_name() does (at most
 * 15 bytes; not '.' or '..'; no '/', ':' or white space), so a bad name fails
 * with a message that says why instead of a bare EINVAL from the ioctl. An
 * empty name or one with a single `%d` asks the kernel to pick the number.
 * Returns undefined when the name is fine.
 */
export function checkTunName(name: string): TunError | undefined {
  const bytes = new TextEncoder().encode(name).length;
  const bad = (why: string): TunError =>
    new TunError('EINVAL', -22, 'open', `invalid TUN device name ${JSON.stringify(name)}: ${why}`, { device: name });
  if (bytes > TUN_NAME_MAX) return bad(`it is ${bytes} bytes long, and interface names have at most ${TUN_NAME_MAX} (IFNAMSIZ - 1)`);
  if (name === '.' || name === '..') return bad('"." and ".." are not interface names');
  if (/[/:\s]/u.test(name)) return bad('interface names cannot contain "/", ":" or white space');
  if (name.includes('\0')) return bad('interface names cannot contain NUL');
  const percents = name.split('%').length - 1;
  if (percents > 1 || (percents === 1 && !name.includes('%d'))) return bad('the only template allowed is one "%d"');
  return undefined;
}
