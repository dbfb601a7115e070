/**
 * The BSD socket calls over file descriptors, with Linux semantics and errno.
 *
 * This layer owns what is the same for every protocol: the descriptor table,
 * argument checking, turning a handle's WOULD_BLOCK into waiting (or EAGAIN
 * for O_NONBLOCK / MSG_DONTWAIT / an expired SO_RCVTIMEO or SO_SNDTIMEO),
 * poll(), fcntl(), the options that live on the file rather than the
 * protocol (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_RCVTIMEO,
 * SO_SNDTIMEO), and the SocketError a failing call rejects with. Protocols
 * plug in as factories of SocketHandles (see socket-handle.ts).
 *
 * Waiting never polls: a blocked call registers on its open file and sleeps
 * until the handle's waker fires, the descriptor is closed (EBADF) or a
 * timer armed on the stack's Clock expires, so in a simulation on a
 * ManualClock timeouts happen in virtual time.
 *
 * Calls that can block (accept, connect, read, write, send, recv, sendto,
 * recvfrom, sendmsg, recvmsg, poll) return Promises and report errno by
 * rejecting; the others return at once and throw. Wrong argument TYPES
 * (a string where a Uint8Array belongs) are programmer errors and throw
 * TypeError/RangeError synchronously from every call, like Node's APIs.
 *
 * The general waiting loop is blocking.ts, the general paths of the data
 * calls (recvfrom, recvmsg, sendto, sendmsg, and read/write/recv/send when
 * their synchronous attempt cannot answer) transfer-calls.ts, poll()'s
 * scanning and waiting poll.ts, argument checks call-args.ts, the calls' records
 * call-records.ts and the state kept on the open file (fcntl flags,
 * SO_RCVTIMEO, ...) file-options.ts.
 */
import { SocketError } from '../errno/socket-error.js';
import type { SocketErrorDetails } from '../errno/socket-error.js';
import type { Clock } from '../time/clock.js';
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { blocking, deadlineAfter, lingerWait } from './blocking.js';
import { checkBuffer, checkInt, checkIov } from './call-args.js';
import type { AcceptResult, MsgHdr, RecvFromResult, RecvMsgResult } from './call-records.js';
import { constants as C } from './constants.js';
import { FdTable } from './fd-table.js';
import { fileFcntl, fileSockopt, setFileTimeout } from './file-options.js';
import { pollLoop } from './poll.js';
import type { PollFd, PollResult } from './poll.js';
import { describeSockAddr, formatEndpoint, isUnspec, parseSockAddrIn } from './sockaddr.js';
import { ClosureCall, OpenFile, RecvCall, RetryQueue, failCall, toError } from './open-file.js';
import type { WorkEnd } from './open-file.js';
import { IN_PROGRESS, WOULD_BLOCK, raise, recvCount } from './socket-handle.js';
import type { Endpoint, SockAddr, SockAddrIn, SocketHandle, WouldBlock } from './socket-handle.js';
import { normaliseOptValue } from './sockopt.js';
import type { SockOptKind, SockOptValue, Timeval } from './sockopt.js';
import { FLAGS_RECV, FLAGS_SEND, asyncCall, fileOf, recvBytesBlocking, recvCommon, sendCommon } from './transfer-calls.js';

/** Makes sockets of one (family, type, protocol). Register with `Syscalls.registerProtocol`. */
export interface ProtocolFactory {
  readonly family: number;
  readonly type: number;
  /** The real protocol number (IPPROTO_UDP). The first factory registered for a type is its default (protocol 0). */
  readonly protocol: number;
  /** Other protocol numbers that select this factory (Linux accepts IPPROTO_IP = 0 implicitly). */
  readonly aliases?: readonly number[];
  create(): SocketHandle;
  /** The kind of each protocol option value, for argument checking; undefined: unknown to this protocol. */
  optionKind?(level: number, name: number): SockOptKind | undefined;
}

export interface SyscallsOptions {
  readonly clock: Clock;
  /** Soft RLIMIT_NOFILE. Default 1024. */
  readonly rlimitNofile?: number;
  /** Lowest descriptor number. Default 3 (0..2 are stdio in a Unix process). */
  readonly firstFd?: number;
  /**
   * The stack whose work wakes this layer's blocked calls, when it calls
   * `retryWoken()` at the end of that work (Stack.onWorkEnd): woken calls
   * are then retried there rather than from a microtask (issue 9).
   */
  readonly workEnd?: WorkEnd;
}

const SOCK_TYPE_MASK = 0xf;
/** Linux: SOCK_MAX = SOCK_PACKET + 1. */
const SOCK_MAX = 11;
const IPPROTO_MAX = 256;

/** What #one holds between calls. */
const NO_BYTES = new Uint8Array(0);

/** The details of a call that names no address; shared, never written. */
const NO_DETAILS: SocketErrorDetails = Object.freeze({});

export class Syscalls {
  readonly #clock: Clock;
  readonly #fds: FdTable<OpenFile>;
  readonly #factories: ProtocolFactory[] = [];
  /** socket()'s factory per (domain, type, protocol) found so far; cleared when a protocol registers. */
  readonly #factoryOf = new Map<number, ProtocolFactory>();
  /** Woken blocked calls of the fast path (RetryCall), retried in one pass per batch (see RetryQueue). */
  readonly #retries: RetryQueue;
  /**
   * `[buf]` for the first, synchronous attempt of read() and write(), in one
   * reused list (issue 9: an array per call): handles use the list only
   * during the call. The caller puts NO_BYTES back so no user buffer is held.
   */
  readonly #one: Uint8Array[] = [NO_BYTES];
  /** See #settled. */
  #settledCount = -1;
  #settledPromise: Promise<number> = Promise.resolve(0);

  constructor(opts: SyscallsOptions) {
    this.#clock = opts.clock;
    this.#retries = new RetryQueue(opts.workEnd);
    const tableOpts: { limit?: number; firstFd?: number } = {};
    if (opts.rlimitNofile !== undefined) tableOpts.limit = opts.rlimitNofile;
    if (opts.firstFd !== undefined) tableOpts.firstFd = opts.firstFd;
    this.#fds = new FdTable<OpenFile>(tableOpts);
  }

  /** Makes socket(family, type, protocol) create sockets with `factory`. */
  registerProtocol(factory: ProtocolFactory): void {
    this.#factories.push(factory);
    this.#factoryOf.clear();
  }

  /** The soft RLIMIT_NOFILE (setrlimit): new descriptors must be below it. */
  get rlimitNofile(): number {
    return this.#fds.limit;
  }

  set rlimitNofile(v: number) {
    this.#fds.limit = v;
  }

  /** Open descriptors, ascending. */
  openFds(): number[] {
    return [...this.#fds.entries()].map(([fd]) => fd);
  }

  /**
   * For the stack (Stack.onWorkEnd), not a BSD call: the end of the work
   * that `workEnd.retryAtWorkEnd` reported; blocked calls it woke retry now.
   * The queue's own flush, so the stack may hold it and call it directly:
   * issue 9, one call level less on every request/response exchange's
   * woken read (rr-calls: stack-syscalls' closure and this method).
   */
  get retryWoken(): () => void {
    return this.#retries.flush;
  }

  /** The handle behind a descriptor (for adapters and the stack; not a BSD call). */
  handleOf(fd: number): SocketHandle | undefined {
    return this.#fds.get(fd)?.handle;
  }

  // ---------------------------------------------------------------- helpers

  #file(fd: unknown, syscall: string): OpenFile {
    // An open descriptor first: the table answers undefined for anything
    // that is not one (a non-integer, a negative or closed number), and
    // fileOf then throws what that is (TypeError, EBADF). Issue 9: two call
    // levels less on every call (checkInt and fileOf; rr-calls).
    const f = this.#fds.get(fd as number);
    return f !== undefined ? f : fileOf(this.#fds, fd, syscall);
  }

  /**
   * A fulfilled Promise of `n` for a data call answered at once: the same
   * object as the last one while the count repeats (issue 9: a
   * request/response loop's writes all return 1, a bulk sender's writes
   * the same size). A fulfilled promise never changes, so sharing it is
   * invisible except to an identity test; `await` and then() on it behave
   * exactly as on a fresh one. Saves a Promise allocation and a runtime
   * call per write: 4-7% of the syscall layer's own cost per exchange,
   * measured with fake handles.
   */
  #settled(n: number): Promise<number> {
    if (n !== this.#settledCount) {
      this.#settledCount = n;
      this.#settledPromise = Promise.resolve(n);
    }
    return this.#settledPromise;
  }

  /** Runs a synchronous call body, turning HandleError into SocketError. */
  #sync<T>(syscall: string, details: SocketErrorDetails, body: () => T): T {
    try {
      return body();
    } catch (e) {
      throw toError(e, syscall, details);
    }
  }

  // ---------------------------------------------------------------- socket, bind, listen, accept, connect

  socket(domain: number, type: number, protocol = 0): number {
    checkInt(domain, 'domain');
    checkInt(type, 'type');
    checkInt(protocol, 'protocol');
    // Inline rather than #sync: no closure per socket (issue 9, tcp-connect).
    try {
      const base = type & SOCK_TYPE_MASK;
      if ((type & ~(SOCK_TYPE_MASK | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC)) !== 0) raise('EINVAL');
      if (base <= 0 || base >= SOCK_MAX) raise('EINVAL');
      if (protocol < 0 || protocol >= IPPROTO_MAX) raise('EINVAL');
      const key = (domain * SOCK_MAX + base) * IPPROTO_MAX + protocol;
      let factory = this.#factoryOf.get(key);
      if (factory === undefined) {
        factory = this.#findFactory(domain, base, protocol);
        this.#factoryOf.set(key, factory);
      }
      // Linux takes the descriptor before building the socket; failing here leaves nothing behind.
      if (this.#fds.peekFree() === undefined) raise('EMFILE');
      const handle = factory.create();
      return this.#fds.allocate(new OpenFile(handle, (type & C.SOCK_NONBLOCK) !== 0, (type & C.SOCK_CLOEXEC) !== 0));
    } catch (e) {
      throw toError(e, 'socket', NO_DETAILS);
    }
  }

  /** The factory socket() uses for (domain, type, protocol), or the errno Linux fails with. */
  #findFactory(domain: number, base: number, protocol: number): ProtocolFactory {
    const families = this.#factories.filter((f) => f.family === domain);
    if (families.length === 0) raise('EAFNOSUPPORT');
    const ofType = families.filter((f) => f.type === base);
    // Linux inet_create: no protosw entry for the type at all is ESOCKTNOSUPPORT,
    // entries that do not match the protocol are EPROTONOSUPPORT.
    if (ofType.length === 0) raise('ESOCKTNOSUPPORT');
    const factory =
      protocol === 0 ? ofType[0] : ofType.find((f) => f.protocol === protocol || (f.aliases ?? []).includes(protocol));
    if (factory === undefined) raise('EPROTONOSUPPORT');
    return factory;
  }

  bind(fd: number, addr: SockAddrIn): void {
    const details = describeSockAddr(addr);
    const file = this.#file(fd, 'bind');
    this.#sync('bind', details, () => {
      // Linux inet_bind accepts AF_UNSPEC only for INADDR_ANY (old programs pass zeroed sockaddrs).
      if ((addr as SockAddr).family === C.AF_UNSPEC) {
        const ep = parseSockAddrIn({ ...addr, family: C.AF_INET });
        if (ep.address !== 0) raise('EAFNOSUPPORT');
        file.handle.bind(ep);
        return;
      }
      file.handle.bind(parseSockAddrIn(addr));
    });
  }

  listen(fd: number, backlog: number): void {
    checkInt(backlog, 'backlog');
    const file = this.#file(fd, 'listen');
    // Linux caps the backlog at somaxconn and treats negative values as the cap too.
    const b = backlog < 0 || backlog > C.SOMAXCONN ? C.SOMAXCONN : backlog;
    this.#sync('listen', {}, () => {
      file.handle.listen(b);
    });
  }

  /**
   * Like read(), a synchronous first attempt answered with one settled
   * Promise when a connection is queued, and a RetryCall when it must wait
   * without a timeout (issue 9, tcp-connect); SO_RCVTIMEO takes the general loop.
   */
  accept(fd: number, flags = 0): Promise<AcceptResult> {
    checkInt(flags, 'flags');
    try {
      const file = this.#file(fd, 'accept');
      if ((flags & ~(C.SOCK_NONBLOCK | C.SOCK_CLOEXEC)) !== 0) raise('EINVAL');
      const r = this.#acceptOnce(file, flags);
      if (r !== WOULD_BLOCK) return Promise.resolve(r);
      if (file.nonblock) raise('EAGAIN');
      if (file.rcvtimeo !== undefined) {
        return asyncCall('accept', NO_DETAILS, () => blocking(this.#clock, file, false, file.rcvtimeo, () => this.#acceptOnce(file, flags)));
      }
      return ClosureCall.wait(file, this.#retries, () => this.#acceptOnce(file, flags), 'accept', NO_DETAILS);
    } catch (e) {
      return failCall(e, 'accept', NO_DETAILS);
    }
  }

  /** One try of accept(): the new descriptor, or WOULD_BLOCK while no connection is queued. */
  #acceptOnce(file: OpenFile, flags: number): AcceptResult | WouldBlock {
    // Linux reserves the descriptor first, so at EMFILE the connection stays queued.
    if (this.#fds.peekFree() === undefined) raise('EMFILE');
    const accepted = file.handle.accept();
    if (accepted === WOULD_BLOCK) return WOULD_BLOCK;
    const nfd = this.#fds.allocate(new OpenFile(accepted.handle, (flags & C.SOCK_NONBLOCK) !== 0, (flags & C.SOCK_CLOEXEC) !== 0));
    const address = formatEndpoint(accepted.peer);
    return { fd: nfd, address: { address: address.address, port: address.port } };
  }

  /** Settles without the async frames of the general loop, as accept() (issue 9, tcp-connect). */
  connect(fd: number, addr: SockAddr): Promise<void> {
    const details = describeSockAddr(addr);
    if (typeof addr !== 'object' || addr === null) throw new TypeError('socket address must be an object');
    try {
      const file = this.#file(fd, 'connect');
      const remote = isUnspec(addr) ? undefined : parseSockAddrIn(addr);
      const r = file.handle.connect(remote);
      if (r !== IN_PROGRESS) return Promise.resolve();
      if (file.nonblock) raise('EINPROGRESS');
      if (file.sndtimeo !== undefined) {
        // Linux inet_wait_for_connect: a connect that outlives SO_SNDTIMEO fails with EINPROGRESS.
        return asyncCall('connect', details, async () => {
          await blocking(this.#clock, file, false, file.sndtimeo, () => this.#connected(file, details), 'EINPROGRESS');
        });
      }
      if (this.#connected(file, details) !== WOULD_BLOCK) return Promise.resolve();
      return ClosureCall.wait(file, this.#retries, () => this.#connected(file, details), 'connect', details);
    } catch (e) {
      return failCall(e, 'connect', details);
    }
  }

  /**
   * Whether a connect in progress has finished: WOULD_BLOCK until the socket
   * is writable or has an error or hangup; then it throws the connection's
   * error (SO_ERROR), if any.
   */
  #connected(file: OpenFile, details: SocketErrorDetails): undefined | WouldBlock {
    if ((file.handle.readiness() & (C.POLLOUT | C.POLLERR | C.POLLHUP)) === 0) return WOULD_BLOCK;
    const err = file.handle.takeError();
    if (err !== 0) throw new SocketError(err, 'connect', details);
    return undefined;
  }

  // ---------------------------------------------------------------- sending

  read(fd: number, buf: Uint8Array): Promise<number> {
    checkBuffer(buf);
    return this.#recvBytes('read', fd, buf, 0);
  }

  recv(fd: number, buf: Uint8Array, flags = 0): Promise<number> {
    checkBuffer(buf);
    checkInt(flags, 'flags');
    return this.#recvBytes('recv', fd, buf, flags);
  }

  /**
   * read() and recv() (issue 9): one synchronous attempt first. When it has
   * an answer (data, end of file or an error) that is one settled promise,
   * without the async frames and microtask hops of the blocking path nor the
   * source address recvfrom formats. Otherwise (it would block, MSG_WAITALL)
   * the full path, whose first attempt then sees the same WOULD_BLOCK: a
   * handle's recv has no effect when it would block.
   */
  #recvBytes(syscall: string, fd: number, buf: Uint8Array, flags: number): Promise<number> {
    try {
      const file = this.#file(fd, syscall);
      const h = file.handle;
      const waitAll = (flags & C.MSG_WAITALL) !== 0 && (flags & C.MSG_PEEK) === 0 && h.type === C.SOCK_STREAM;
      if ((flags & ~FLAGS_RECV) === 0 && !file.closed && !waitAll) {
        const nonblock = file.nonblock || (flags & C.MSG_DONTWAIT) !== 0;
        const one = this.#one;
        one[0] = buf;
        const f = nonblock ? flags | C.MSG_DONTWAIT : flags;
        const r = recvCount(h, one, f);
        one[0] = NO_BYTES;
        if (r !== WOULD_BLOCK) return this.#settled(r);
        if (nonblock) raise('EAGAIN');
        // The waiting call's own list: the reused one is only for a synchronous attempt.
        if (file.rcvtimeo !== undefined) return recvBytesBlocking(this.#clock, syscall, file, [buf], flags);
        // No timeout: the woken call retries itself and settles this Promise (open-file.ts).
        return RecvCall.wait(file, this.#retries, buf, flags, syscall, NO_DETAILS);
      }
    } catch (e) {
      this.#one[0] = NO_BYTES;
      return failCall(e, syscall, {});
    }
    return recvCommon(this.#clock, this.#fds, syscall, fd, [buf], flags).then((r) => r.bytesRead);
  }

  recvfrom(fd: number, buf: Uint8Array, flags = 0): Promise<RecvFromResult> {
    checkBuffer(buf);
    checkInt(flags, 'flags');
    return recvCommon(this.#clock, this.#fds, 'recvfrom', fd, [buf], flags).then((r) => ({
      bytesRead: r.bytesRead,
      address: r.address,
    }));
  }

  recvmsg(fd: number, msg: { readonly iov: readonly Uint8Array[] }, flags = 0): Promise<RecvMsgResult> {
    if (typeof msg !== 'object' || msg === null) throw new TypeError('msg must be an object { iov }');
    checkIov(msg.iov);
    checkInt(flags, 'flags');
    return recvCommon(this.#clock, this.#fds, 'recvmsg', fd, msg.iov, flags);
  }

  write(fd: number, buf: Uint8Array): Promise<number> {
    checkBuffer(buf);
    return this.#sendBytes('write', fd, buf, 0);
  }

  send(fd: number, buf: Uint8Array, flags = 0): Promise<number> {
    checkBuffer(buf);
    checkInt(flags, 'flags');
    return this.#sendBytes('send', fd, buf, flags);
  }

  /**
   * write() and send() (issue 9): one synchronous attempt first, answered
   * with one settled promise when the handle takes everything (or fails, or
   * the call does not block); what is left over, or a call that would block,
   * goes the full path. A partial stream send followed by an error reports
   * the partial count, as #sendCommon does.
   */
  #sendBytes(syscall: string, fd: number, buf: Uint8Array, flags: number): Promise<number> {
    let sent: number;
    try {
      const file = this.#file(fd, syscall);
      if ((flags & ~FLAGS_SEND) !== 0 || file.closed) return sendCommon(this.#clock, this.#fds, syscall, fd, [buf], flags, undefined);
      const nonblock = file.nonblock || (flags & C.MSG_DONTWAIT) !== 0;
      const h = file.handle;
      const one = this.#one;
      one[0] = buf;
      const r = h.send(one, undefined, flags);
      one[0] = NO_BYTES;
      if (r === WOULD_BLOCK) {
        if (nonblock) raise('EAGAIN');
        return sendCommon(this.#clock, this.#fds, syscall, fd, [buf], flags, undefined);
      }
      if (r === buf.length || nonblock || h.type !== C.SOCK_STREAM) return this.#settled(r);
      sent = r;
    } catch (e) {
      this.#one[0] = NO_BYTES;
      return failCall(e, syscall, {});
    }
    return sendCommon(this.#clock, this.#fds, syscall, fd, [buf.subarray(sent)], flags, undefined).then(
      (n) => sent + n,
      () => sent,
    );
  }

  sendto(fd: number, buf: Uint8Array, flags: number, addr?: SockAddrIn): Promise<number> {
    checkBuffer(buf);
    checkInt(flags, 'flags');
    if (addr !== undefined && (typeof addr !== 'object' || addr === null)) {
      throw new TypeError('socket address must be an object');
    }
    return sendCommon(this.#clock, this.#fds, 'sendto', fd, [buf], flags, addr);
  }

  sendmsg(fd: number, msg: MsgHdr, flags = 0): Promise<number> {
    if (typeof msg !== 'object' || msg === null) throw new TypeError('msg must be an object { iov, name? }');
    checkIov(msg.iov);
    checkInt(flags, 'flags');
    return sendCommon(this.#clock, this.#fds, 'sendmsg', fd, msg.iov, flags, msg.name);
  }

  // ---------------------------------------------------------------- shutdown, close, names

  shutdown(fd: number, how: number): void {
    checkInt(how, 'how');
    const file = this.#file(fd, 'shutdown');
    this.#sync('shutdown', {}, () => {
      if (how !== C.SHUT_RD && how !== C.SHUT_WR && how !== C.SHUT_RDWR) raise('EINVAL');
      file.handle.shutdown(how);
    });
  }

  /**
   * Frees the descriptor; blocked calls on it reject with EBADF. Never waits:
   * a stream socket's graceful close (FIN, TIME-WAIT) goes on in the stack,
   * also with SO_LINGER {1, N > 0} (see `closeWait` for Linux's blocking
   * close); SO_LINGER {1, 0} resets the connection.
   */
  close(fd: number): void {
    checkInt(fd, 'fd');
    this.#closeFile(fd);
  }

  /**
   * close(2) as a blocking call, for SO_LINGER {onoff: 1, linger: N > 0}
   * (Linux inet_release -> tcp_close -> sk_stream_wait_close): the descriptor
   * is freed at once, as by `close`, and the Promise resolves once our FIN is
   * acknowledged or N seconds have passed, whichever comes first. Like Linux,
   * it resolves (close returns 0) in both cases; an unacknowledged close goes
   * on in the background. Without SO_LINGER, with linger 0, or on an
   * O_NONBLOCK descriptor it resolves at once. EBADF as `close`.
   *
   * (A separate call rather than `close` returning `void | Promise<void>`:
   * every existing `sys.close(fd);` statement would otherwise become a
   * floating promise.)
   */
  closeWait(fd: number): Promise<void> {
    return asyncCall('close', {}, async () => {
      checkInt(fd, 'fd');
      const file = this.#closeFile(fd);
      const h = file.handle;
      if (file.nonblock || h.lingerPending?.() !== true) return;
      const l = h.getsockopt(C.SOL_SOCKET, C.SO_LINGER) as { onoff: number; linger: number };
      const deadline = deadlineAfter(this.#clock, Duration.fromSecs(l.linger))!;
      await lingerWait(this.#clock, h, deadline);
    });
  }

  #closeFile(fd: number): OpenFile {
    const file = this.#fds.remove(fd);
    if (file === undefined) throw new SocketError('EBADF', 'close');
    file.close();
    file.handle.close();
    return file;
  }

  getsockname(fd: number): SockAddrIn {
    const file = this.#file(fd, 'getsockname');
    const a = formatEndpoint(file.handle.localEndpoint());
    return { address: a.address, port: a.port };
  }

  getpeername(fd: number): SockAddrIn {
    const file = this.#file(fd, 'getpeername');
    const remote: Endpoint | undefined = file.handle.remoteEndpoint();
    if (remote === undefined) throw new SocketError('ENOTCONN', 'getpeername');
    const a = formatEndpoint(remote);
    return { address: a.address, port: a.port };
  }

  // ---------------------------------------------------------------- options

  getsockopt(fd: number, level: number, name: number): SockOptValue {
    checkInt(level, 'level');
    checkInt(name, 'optname');
    const file = this.#file(fd, 'getsockopt');
    return this.#sync('getsockopt', {}, () => {
      if (level === C.SOL_SOCKET) {
        const v = fileSockopt(file, name);
        if (v !== undefined) return v;
      }
      return file.handle.getsockopt(level, name);
    });
  }

  setsockopt(fd: number, level: number, name: number, value: SockOptValue | boolean): void {
    checkInt(level, 'level');
    checkInt(name, 'optname');
    const file = this.#file(fd, 'setsockopt');
    if (level === C.SOL_SOCKET && (name === C.SO_RCVTIMEO || name === C.SO_SNDTIMEO)) {
      const tv = normaliseOptValue('timeval', value) as Timeval;
      this.#sync('setsockopt', {}, () => {
        setFileTimeout(file, name, tv);
      });
      return;
    }
    this.#sync('setsockopt', {}, () => {
      if (
        level === C.SOL_SOCKET &&
        (name === C.SO_TYPE || name === C.SO_DOMAIN || name === C.SO_PROTOCOL || name === C.SO_ERROR)
      ) {
        raise('ENOPROTOOPT');
      }
      file.handle.setsockopt(level, name, typeof value === 'boolean' ? (value ? 1 : 0) : value);
    });
  }

  // ---------------------------------------------------------------- fcntl, poll

  /** F_GETFL / F_SETFL (only O_NONBLOCK changes) / F_GETFD / F_SETFD (FD_CLOEXEC). */
  fcntl(fd: number, cmd: number, arg = 0): number {
    checkInt(cmd, 'cmd');
    checkInt(arg, 'arg');
    const file = this.#file(fd, 'fcntl');
    return fileFcntl(file, cmd, arg);
  }

  /**
   * Waits until one of `fds` is ready, or `timeoutMs` passes (-1 or any
   * negative: forever; 0: just look). Resolves to one entry per request, in
   * order, with `revents` filled in as C's poll fills it (POLLERR, POLLHUP and
   * POLLNVAL are reported whether asked for or not; a negative fd is ignored,
   * revents 0). C's return value is the number of entries with non-zero
   * revents: `(await poll(...)).filter((p) => p.revents !== 0).length`; all
   * revents are 0 after a timeout.
   */
  poll(fds: readonly PollFd[], timeoutMs: number): Promise<PollResult[]> {
    if (!Array.isArray(fds)) throw new TypeError('poll: fds must be an array of { fd, events }');
    for (const p of fds as readonly unknown[]) {
      if (typeof p !== 'object' || p === null) throw new TypeError('poll: each entry must be { fd, events }');
      checkInt((p as PollFd).fd, 'fd');
      checkInt((p as PollFd).events, 'events');
    }
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw new TypeError('poll: timeout must be a number');
    if (fds.length > this.#fds.limit) return Promise.reject(new SocketError('EINVAL', 'poll'));
    const deadline =
      timeoutMs < 0 ? undefined : ((this.#clock.now() + Math.ceil(timeoutMs) * 1000) as Instant);
    return pollLoop(this.#fds, this.#clock, fds, deadline);
  }
}

