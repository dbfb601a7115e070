/**
 * Readiness for TUN file descriptors without blocking the event loop, and
 * without a thread per device.
 *
 * Node cannot watch an arbitrary character-device fd (net.Socket refuses it,
 * and an fs.read() that blocks in the libuv thread pool cannot be cancelled:
 * close() would hang on it and the process would never exit). So the fds are
 * non-blocking, one poll(2) over ALL open TUN fds runs on a koffi worker
 * thread, and the event loop reads the ready ones with plain non-blocking
 * read(2) calls. One extra eventfd in the set wakes that poll whenever the
 * set changes (a device opened or closed), so close() never waits for
 * traffic or a timeout, and with no device left no poll is pending: nothing
 * keeps the process alive.
 *
 * A file descriptor is closed only while no poll is in flight (see
 * `remove`): poll(2) holds a reference to each file it waits on, and a fd
 * number closed under it could be reused by an unrelated open().
 */
import type { Libc } from './libc.js';

const POLLIN = 0x1;
const POLLFD_SIZE = 8; // struct pollfd { int fd; short events; short revents; }
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

/** Host byte order: struct pollfd and eventfd counters are native integers, not network bytes. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface PollClient {
  readonly fd: number;
  /** Called on the event loop when poll(2) reported the fd ready (or in error: the read will tell). */
  onReady(revents: number): void;
}

export class Poller {
  readonly #libc: Libc;
  readonly #clients = new Set<PollClient>();
  /** Work to run once no poll references the fds being closed. */
  #afterPoll: (() => void)[] = [];
  #wakeFd = -1;
  #inFlight = false;
  #fds: Uint8Array = new Uint8Array(0);
  #order: PollClient[] = [];
  readonly #one = new Uint8Array(8);
  readonly #drain = new Uint8Array(8);
  #errors = 0;

  constructor(libc: Libc) {
    this.#libc = libc;
    new DataView(this.#one.buffer).setBigUint64(0, 1n, LITTLE_ENDIAN);
  }

  /** Number of fds watched (for tests: 0 means no worker thread is busy for us). */
  get size(): number {
    return this.#clients.size;
  }

  /** True while a poll(2) call is pending on a worker thread. */
  get polling(): boolean {
    return this.#inFlight;
  }

  add(client: PollClient): void {
    if (this.#wakeFd < 0) {
      const fd = this.#libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (fd < 0) throw new Error(`eventfd failed (errno ${this.#libc.errno()})`);
      this.#wakeFd = fd;
    }
    this.#clients.add(client);
    if (this.#inFlight) this.#wake();
    else this.#start();
  }

  /**
   * Stops watching `client`; `release` (which closes its fd) runs once no
   * poll(2) references the fd: at once when none is in flight, else as soon
   * as the woken poll returns, within a turn of the event loop.
   */
  remove(client: PollClient, release: () => void): void {
    this.#clients.delete(client);
    if (!this.#inFlight) {
      release();
      this.#maybeShutDown();
      return;
    }
    this.#afterPoll.push(release);
    this.#wake();
  }

  #wake(): void {
    // An eventfd counter only grows: a failed write (counter full) still leaves it readable.
    if (this.#wakeFd >= 0) this.#libc.write(this.#wakeFd, this.#one, 8);
  }

  #start(): void {
    if (this.#inFlight || this.#clients.size === 0) return;
    const n = this.#clients.size + 1;
    if (this.#fds.length < n * POLLFD_SIZE) this.#fds = new Uint8Array(n * POLLFD_SIZE * 2);
    const dv = new DataView(this.#fds.buffer, this.#fds.byteOffset, this.#fds.byteLength);
    this.#order = [...this.#clients];
    const entry = (i: number, fd: number): void => {
      dv.setInt32(i * POLLFD_SIZE, fd, LITTLE_ENDIAN);
      dv.setInt16(i * POLLFD_SIZE + 4, POLLIN, LITTLE_ENDIAN);
      dv.setInt16(i * POLLFD_SIZE + 6, 0, LITTLE_ENDIAN);
    };
    entry(0, this.#wakeFd);
    this.#order.forEach((c, i) => entry(i + 1, c.fd));
    this.#inFlight = true;
    // No timeout: the eventfd is the only way out besides traffic.
    this.#libc.pollAsync(this.#fds, n, -1, (err, result) => this.#done(err, result, dv));
  }

  #done(err: unknown, result: number, dv: DataView): void {
    this.#inFlight = false;
    const releases = this.#afterPoll;
    this.#afterPoll = [];
    for (const release of releases) release();
    if (err !== null && err !== undefined) {
      // koffi could not run the call (e.g. its async queue is full): retry
      // soon, but never spin.
      this.#errors++;
      setTimeout(() => this.#start(), Math.min(1000, 10 * this.#errors)).unref();
      this.#maybeShutDown();
      return;
    }
    this.#errors = 0;
    if (result > 0) {
      if (dv.getInt16(6, LITTLE_ENDIAN) !== 0) this.#libc.read(this.#wakeFd, this.#drain, 8);
      const order = this.#order;
      for (let i = 0; i < order.length; i++) {
        const revents = dv.getInt16((i + 1) * POLLFD_SIZE + 6, LITTLE_ENDIAN);
        const client = order[i]!;
        // A client removed meanwhile (by an earlier client's receiver, say) is skipped.
        if (revents !== 0 && this.#clients.has(client)) client.onReady(revents);
      }
    }
    // result < 0 is EINTR (a signal hit the worker thread): just poll again.
    if (!this.#maybeShutDown()) this.#start();
  }

  /** With nothing to watch, gives back the eventfd. Returns true when shut down. */
  #maybeShutDown(): boolean {
    if (this.#clients.size > 0 || this.#inFlight) return false;
    if (this.#wakeFd >= 0) {
      this.#libc.close(this.#wakeFd);
      this.#wakeFd = -1;
    }
    return true;
  }
}
