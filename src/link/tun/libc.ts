/**
 * The few libc calls the TUN link needs, through koffi (an FFI with prebuilt
 * binaries inside its npm packages, so nothing is compiled or downloaded at
 * install). Loaded lazily, on the first openTun(), so that importing
 * `sockstack/node` costs nothing and works where koffi or Linux is missing.
 *
 * Every wrapper returns the raw result; on -1 the caller reads `errno()`
 * (koffi saves errno right after each call, per thread).
 */
import { TunError } from './tun-error.js';

export interface Libc {
  /** ioctl(fd, request, buf): buf is an in/out struct (e.g. struct ifreq). */
  ioctl(fd: number, request: number, buf: Uint8Array): number;
  read(fd: number, buf: Uint8Array, len: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  socket(domain: number, type: number, protocol: number): number;
  eventfd(initval: number, flags: number): number;
  /** poll() on a worker thread; `fds` is an array of struct pollfd and must stay untouched until the callback. */
  pollAsync(fds: Uint8Array, nfds: number, timeoutMs: number, done: (err: unknown, result: number) => void): void;
  errno(): number;
}

type Fn = (...args: unknown[]) => unknown;
interface KoffiFn extends Fn {
  async: (...args: unknown[]) => void;
}
interface KoffiLib {
  func(definition: string): KoffiFn;
}
interface KoffiModule {
  load(path: string | null): KoffiLib;
  errno(): number;
}

let cached: Promise<Libc> | undefined;

/** The bindings, loaded once. Rejects with a TunError (code ENOSYS) when they cannot be had here. */
export function loadLibc(device: string): Promise<Libc> {
  cached ??= bind();
  return cached.catch((e: unknown) => {
    // Let a later call try again (e.g. after the user installed koffi), and
    // name the device this caller asked for.
    cached = undefined;
    if (e instanceof TunError) throw new TunError(e.code, e.errno, e.syscall, e.message, { device, cause: e.cause });
    throw e;
  });
}

async function bind(): Promise<Libc> {
  const unavailable = (why: string, cause?: unknown): TunError =>
    new TunError('ENOSYS', -38, 'load', `TUN links are unavailable here: ${why}`, {
      device: '',
      ...(cause === undefined ? {} : { cause }),
    });
  if (typeof process === 'undefined' || process.platform !== 'linux') {
    throw unavailable(`they need Linux (this is ${typeof process === 'undefined' ? 'not Node.js' : process.platform})`);
  }
  let koffi: KoffiModule;
  try {
    // A variable specifier: TypeScript keeps koffi's (loose, `any`-typed)
    // declarations out, and our interfaces above say exactly what we use.
    const specifier = 'koffi';
    const mod = (await import(specifier)) as { default?: KoffiModule } & KoffiModule;
    koffi = mod.default ?? mod;
  } catch (e) {
    throw unavailable(`the koffi package could not be loaded (install it: \`npm install koffi\`): ${String(e)}`, e);
  }
  let lib: KoffiLib;
  try {
    // The running program's own symbols include libc's (glibc or musl) without naming its file.
    lib = koffi.load(null);
  } catch {
    try {
      lib = koffi.load('libc.so.6');
    } catch (e) {
      throw unavailable(`libc could not be loaded through koffi: ${String(e)}`, e);
    }
  }
  try {
    // ssize_t and size_t are long and unsigned long on Linux (ILP32 and LP64 alike).
    // ioctl is variadic in libc; koffi passes the extra argument with an explicit type.
    const ioctl = lib.func('int ioctl(int fd, unsigned long request, ...)');
    const read = lib.func('long read(int fd, void *buf, unsigned long count)');
    const write = lib.func('long write(int fd, const void *buf, unsigned long count)');
    const close = lib.func('int close(int fd)');
    const socket = lib.func('int socket(int domain, int type, int protocol)');
    const eventfd = lib.func('int eventfd(unsigned int initval, int flags)');
    const poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)');
    return {
      ioctl: (fd, request, buf) => ioctl(fd, request, 'void *', buf) as number,
      read: (fd, buf, len) => Number(read(fd, buf, len)),
      write: (fd, buf, len) => Number(write(fd, buf, len)),
      close: (fd) => close(fd) as number,
      socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
      eventfd: (initval, flags) => eventfd(initval, flags) as number,
      pollAsync: (fds, nfds, timeoutMs, done) => {
        poll.async(fds, nfds, timeoutMs, (err: unknown, result: unknown) => done(err, Number(result)));
      },
      errno: () => koffi.errno(),
    };
  } catch (e) {
    throw unavailable(`a libc function could not be bound through koffi: ${String(e)}`, e);
  }
}
