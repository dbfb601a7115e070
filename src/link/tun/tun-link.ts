/**
 * Node-only: a Link over a Linux TUN device (IFF_TUN | IFF_NO_PI), so a
 * Stack is a real host that the Linux kernel routes IP packets to.
 *
 *   const link = await openTun('tun0', { mtu: 1500 });
 *   stack.addInterface(link, { address: '10.0.0.2/24' });
 *
 * Frames are bare IPv4/IPv6 packets (LinkType.RawIp): no Ethernet header, no
 * ARP, and no 4-byte packet-information prefix (IFF_NO_PI).
 *
 * I/O never blocks the event loop: the fd is non-blocking, one shared
 * poll(2) on a worker thread says when it is readable (poller.ts), and each
 * wake-up reads a batch of packets with non-blocking read(2) calls. Writes go
 * straight to write(2): a TUN write hands the packet to the kernel's input
 * path and does not wait. close() is synchronous and complete: the poll is
 * woken at once, the fd closed as soon as it returns, and nothing is left to
 * keep the process alive.
 *
 * See linux/Documentation/networking/tuntap.rst for the driver's interface.
 */
import { constants, openSync } from 'node:fs';
import { LinkType } from '../link.js';
import type { FrameHandler, Link } from '../link.js';
import { Counters } from '../../stats/counters.js';
import { loadLibc } from './libc.js';
import type { Libc } from './libc.js';
import { Poller } from './poller.js';
import { checkTunName, errnoCode, TunError, tunSyscallError } from './tun-error.js';

export interface TunOptions {
  /**
   * Sets the device's MTU (68..65535). Default: keep the device's own
   * (1500 for a new TUN device); the link reports whichever is in force.
   */
  readonly mtu?: number;
  /**
   * Most packets read per wake-up before the event loop gets a turn
   * (timers, other I/O). Default 64.
   */
  readonly batch?: number;
  /** The path of the clone device. Default /dev/net/tun. */
  readonly path?: string;
  /**
   * Called when the device fails under the link (e.g. it was deleted, or its
   * network namespace removed): the link has closed itself by then.
   */
  readonly onError?: (error: TunError) => void;
}

// include/uapi/linux/if_tun.h and if.h
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40; // struct ifreq on 64- and 32-bit Linux is at most 40 bytes; 40 is safe for both
// _IOW('T', 202, int): the direction bits are 1 on most architectures, 4 on
// mips, powerpc and sparc (asm-generic/ioctl.h vs their own ioctl.h).
const IOC_WRITE_ALT = new Set(['mips', 'mipsel', 'ppc', 'ppc64', 'sparc', 'sparc64']);
const TUNSETIFF = IOC_WRITE_ALT.has(process.arch) ? 0x800454ca : 0x400454ca;
const SIOCGIFMTU = 0x8921;
const SIOCSIFMTU = 0x8922;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const EINTR = 4;
const EAGAIN = 11;
const ENOBUFS = 105;
const DEFAULT_BATCH = 64;
/** The largest IP packet (RFC 791 total length), so a read never truncates. */
const READ_BUFFER_SIZE = 65_536;

/** Host byte order: struct ifreq holds native integers, not network bytes. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const pollers = new WeakMap<Libc, Poller>();
function pollerFor(libc: Libc): Poller {
  let p = pollers.get(libc);
  if (p === undefined) {
    p = new Poller(libc);
    pollers.set(libc, p);
  }
  return p;
}

function ifreq(name: string): Uint8Array {
  const buf = new Uint8Array(IFREQ_SIZE);
  new TextEncoder().encodeInto(name, buf.subarray(0, IFNAMSIZ - 1));
  return buf;
}

function ifreqName(buf: Uint8Array): string {
  const end = buf.subarray(0, IFNAMSIZ).indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? IFNAMSIZ : end));
}

function errnoOf(e: unknown): number | undefined {
  if (typeof e === 'object' && e !== null && typeof (e as { errno?: unknown }).errno === 'number') {
    return Math.abs((e as { errno: number }).errno);
  }
  return undefined;
}

/**
 * Opens (creating it if absent) the TUN device `name` and returns a link on
 * it. A name with `%d` (or '') lets the kernel pick the number; `link.name`
 * says which. Creating a device needs CAP_NET_ADMIN; attaching to an
 * existing one needs it too unless the device was created for this user
 * (`ip tuntap add dev NAME mode tun user USER`).
 *
 * Rejects with a TunError whose message says what to do: EPERM (no
 * privilege), ENOENT/ENODEV (no /dev/net/tun or no tun module), EBUSY
 * (another process holds the device), EINVAL (a bad name, or a non-TUN
 * interface of that name), ENOSYS (not Linux, or koffi missing). A bad
 * `mtu` or `batch` is a programmer error: RangeError.
 */
export function openTun(name: string, options: TunOptions = {}): Promise<TunLink> {
  return TunLink.open(name, options);
}

export class TunLink implements Link {
  readonly linkType = LinkType.RawIp;
  readonly mtu: number;
  /** The device name the kernel gave (differs from the one asked for only with a `%d` template). */
  readonly name: string;
  /**
   * rxPackets, rxBytes, rxBatches, rxDropNoReceiver, txPackets, txBytes,
   * txDropMtu, txDropClosed, txDropFull (kernel queue full), txErrors
   * (rejected by the kernel, e.g. not an IP packet), readErrors/writeErrors
   * (the device failed: see `error`).
   */
  readonly stats = new Counters();
  /** Resolves once the fd is closed and the kernel has let go of the device (a non-persistent one is then deleted). */
  readonly released: Promise<void>;

  readonly #libc: Libc;
  readonly #poller: Poller;
  readonly #fd: number;
  readonly #batch: number;
  readonly #onError: ((error: TunError) => void) | undefined;
  readonly #scratch = new Uint8Array(READ_BUFFER_SIZE);
  readonly #client: { readonly fd: number; onReady(revents: number): void };
  #receiver: FrameHandler | undefined;
  #closed = false;
  #error: TunError | undefined;
  #resolveReleased!: () => void;

  static async open(name: string, options: TunOptions = {}): Promise<TunLink> {
    if (options.mtu !== undefined && (!Number.isInteger(options.mtu) || options.mtu < 68 || options.mtu > 65_535)) {
      throw new RangeError(`openTun: mtu must be a whole number in 68..65535 (RFC 791), not ${options.mtu}`);
    }
    const batch = options.batch ?? DEFAULT_BATCH;
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`openTun: batch must be a whole number >= 1, not ${batch}`);
    const bad = checkTunName(name);
    if (bad !== undefined) throw bad;
    const libc = await loadLibc(name);
    const path = options.path ?? '/dev/net/tun';

    let fd: number;
    try {
      // Node adds O_CLOEXEC itself: child processes do not inherit the device.
      fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    } catch (e) {
      const n = errnoOf(e);
      if (n === undefined) throw e;
      throw tunSyscallError('open', n, { device: name, path, cause: e });
    }
    try {
      const req = ifreq(name);
      new DataView(req.buffer).setUint16(IFNAMSIZ, IFF_TUN | IFF_NO_PI, LITTLE_ENDIAN);
      if (libc.ioctl(fd, TUNSETIFF, req) < 0) throw tunSyscallError('ioctl(TUNSETIFF)', libc.errno(), { device: name });
      const actual = ifreqName(req);
      const mtu = deviceMtu(libc, actual, options.mtu);
      return new TunLink(libc, fd, actual, mtu, batch, options.onError);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
  }

  private constructor(libc: Libc, fd: number, name: string, mtu: number, batch: number, onError: ((error: TunError) => void) | undefined) {
    this.#libc = libc;
    this.#fd = fd;
    this.name = name;
    this.mtu = mtu;
    this.#batch = batch;
    this.#onError = onError;
    this.released = new Promise((resolve) => {
      this.#resolveReleased = resolve;
    });
    this.#client = { fd, onReady: () => this.#readBatch() };
    this.#poller = pollerFor(libc);
    this.#poller.add(this.#client);
  }

  /** True after close() (or after the device failed: see `error`). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the link closed itself, if it did. */
  get error(): TunError | undefined {
    return this.#error;
  }

  send(frame: Uint8Array): void {
    if (this.#closed) {
      this.stats.increment('txDropClosed');
      return;
    }
    if (frame.length > this.mtu) {
      this.stats.increment('txDropMtu');
      return;
    }
    // One write(2) is one packet for a TUN device.
    const n = this.#libc.write(this.#fd, frame, frame.length);
    if (n >= 0) {
      this.stats.increment('txPackets');
      this.stats.increment('txBytes', frame.length);
      return;
    }
    const errno = this.#libc.errno();
    if (errno === EAGAIN || errno === ENOBUFS) this.stats.increment('txDropFull');
    else if (errno === 77 || errno === 5) this.#fail('write', errno);
    // EINVAL and the like: the kernel refused this packet (not IPv4/IPv6, too short).
    else this.stats.increment('txErrors');
  }

  setReceiver(handler: FrameHandler | undefined): void {
    this.#receiver = handler;
  }

  /**
   * Stops the link at once: no more deliveries, later sends dropped. The fd
   * is closed as soon as the shared poll(2) has woken (within a turn of the
   * event loop); only then does the kernel let go of the device, so await
   * `released` before opening the same name again or reusing its addresses.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#receiver = undefined;
    this.#poller.remove(this.#client, () => {
      this.#libc.close(this.#fd);
      this.#resolveReleased();
    });
  }

  /** Reads until the kernel queue is empty or the batch is full; the poller polls again afterwards. */
  #readBatch(): void {
    const buf = this.#scratch;
    this.stats.increment('rxBatches');
    for (let i = 0; i < this.#batch && !this.#closed; i++) {
      const n = this.#libc.read(this.#fd, buf, buf.length);
      if (n < 0) {
        const errno = this.#libc.errno();
        if (errno === EINTR) continue;
        if (errno !== EAGAIN) this.#fail('read', errno);
        return;
      }
      if (n === 0) return;
      this.stats.increment('rxPackets');
      this.stats.increment('rxBytes', n);
      const receiver = this.#receiver;
      if (receiver === undefined) {
        this.stats.increment('rxDropNoReceiver');
        continue;
      }
      // A copy of exactly the packet: the receiver owns it, the scratch buffer is reused.
      receiver(buf.slice(0, n));
    }
  }

  #fail(syscall: string, errno: number): void {
    if (this.#closed) return;
    this.stats.increment(`${syscall}Errors`);
    this.#error = tunSyscallError(syscall, errno, { device: this.name });
    this.close();
    this.#onError?.(this.#error);
  }
}

/** Sets (when `wanted` is given) and reads back the device MTU, through an AF_INET socket as ip(8) does. */
function deviceMtu(libc: Libc, name: string, wanted: number | undefined): number {
  const s = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    if (wanted !== undefined) throw tunSyscallError('socket', libc.errno(), { device: name });
    return 1500;
  }
  try {
    const req = ifreq(name);
    const dv = new DataView(req.buffer);
    if (wanted !== undefined) {
      dv.setInt32(IFNAMSIZ, wanted, LITTLE_ENDIAN);
      if (libc.ioctl(s, SIOCSIFMTU, req) < 0) throw tunSyscallError('ioctl(SIOCSIFMTU)', libc.errno(), { device: name });
      return wanted;
    }
    if (libc.ioctl(s, SIOCGIFMTU, req) < 0) {
      throw new TunError(errnoCode(libc.errno()), -libc.errno(), 'ioctl(SIOCGIFMTU)', `cannot read the MTU of ${name}`, { device: name });
    }
    return dv.getInt32(IFNAMSIZ, LITTLE_ENDIAN);
  } finally {
    libc.close(s);
  }
}
