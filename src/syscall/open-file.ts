/**
 * An open socket file and the calls blocked on it: what the syscall layer
 * (syscalls.ts) keeps per descriptor, and the two ways a call waits for the
 * handle's readiness to change.
 *
 * - BlockedCall: one wait of syscalls.ts's general retry loop (#blocking),
 *   with an optional deadline (SO_RCVTIMEO / SO_SNDTIMEO).
 * - RetryCall: a call with no deadline that retries its own attempt when
 *   woken and settles the caller's Promise directly (issue 9). The general
 *   loop costs an async frame per layer and three or four microtask hops
 *   between the wake-up and the caller; a request/response round trip
 *   blocks twice, so that was a large part of it.
 *
 * Wake-ups arrive synchronously inside the handle's work (a segment being
 * processed), so neither kind touches the handle there: a woken call runs
 * its next attempt once the handle's work is done, at the end of the
 * stack's work or from a microtask (RetryQueue).
 */
import { SocketError } from '../errno/socket-error.js';
import type { SocketErrorDetails } from '../errno/socket-error.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Duration } from '../time/duration.js';
import { HandleError, WOULD_BLOCK, recvCount } from './socket-handle.js';
import type { SocketHandle, WouldBlock } from './socket-handle.js';
import type { Timeval } from './sockopt.js';

/** Someone waiting on an open file. */
export interface Waiter {
  wake(): void;
  closed(): void;
}

/** A HandleError as the SocketError of `syscall`; anything else (TypeError, SocketError) unchanged. */
export function toError(e: unknown, syscall: string, details: SocketErrorDetails): unknown {
  if (e instanceof HandleError) return new SocketError(e.code, syscall, details);
  return e;
}

/**
 * How a call that returns a Promise fails at once: a wrong argument type
 * (TypeError, RangeError: a programmer error, our EFAULT) is thrown
 * synchronously, as from every other call and as Node's APIs do; an errno
 * (EBADF, EINVAL, ...) rejects the Promise.
 */
export function failCall(e: unknown, syscall: string, details: SocketErrorDetails): Promise<never> {
  if (e instanceof TypeError || e instanceof RangeError) throw e;
  // Handles throw HandleErrors (made SocketErrors here): always an Error.
  const err = toError(e, syscall, details) as Error;
  return Promise.reject(err);
}

/**
 * A call blocked in #wait. A class rather than closures: every blocking
 * read, write, send and recv makes one, so methods on the prototype save
 * three closures per call (issue 9).
 */
export class BlockedCall implements Waiter {
  timer: TimerHandle | undefined = undefined;
  readonly #file: OpenFile;
  readonly #clock: Clock;
  readonly #resolve: (woken: boolean) => void;
  readonly #reject: (e: unknown) => void;

  constructor(file: OpenFile, clock: Clock, resolve: (woken: boolean) => void, reject: (e: unknown) => void) {
    this.#file = file;
    this.#clock = clock;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  wake(): void {
    this.#done();
    this.#resolve(true);
  }

  closed(): void {
    this.#done();
    this.#reject(new HandleError('EBADF'));
  }

  /** The deadline passed. */
  expire(): void {
    this.#done();
    this.#resolve(false);
  }

  #done(): void {
    this.#file.removeWaiter(this);
    this.#clock.clearTimer(this.timer);
  }
}

/** SO_RCVTIMEO/SO_SNDTIMEO unset; shared by every file, so frozen. */
export const ZERO_TIMEVAL: Timeval = Object.freeze({ sec: 0, usec: 0 });

/** An open socket file: the handle plus the per-file state Linux keeps on `struct file`/`struct sock`. */
export class OpenFile {
  readonly handle: SocketHandle;
  nonblock: boolean;
  cloexec: boolean;
  /** undefined: wait forever (Linux MAX_SCHEDULE_TIMEOUT). */
  rcvtimeo: Duration | undefined = undefined;
  sndtimeo: Duration | undefined = undefined;
  /** The timevals as set, returned by getsockopt (as copies: these are shared and never written). */
  rcvtimeoValue: Timeval = ZERO_TIMEVAL;
  sndtimeoValue: Timeval = ZERO_TIMEVAL;
  closed = false;
  /**
   * Calls blocked on this file. Only while there are some: an idle socket
   * (100k of them) should not keep a Set of about 150 bytes for nobody. And
   * the usual case, one blocked read or write, is the waiter itself with no
   * Set at all: a bulk transfer blocks and wakes on every few segments, and
   * a Set plus a snapshot array per wake-up was most of its garbage (issue 9).
   */
  waiters: Waiter | Set<Waiter> | undefined = undefined;

  addWaiter(w: Waiter): void {
    const waiters = this.waiters;
    if (waiters === undefined) this.waiters = w;
    else if (waiters instanceof Set) waiters.add(w);
    else if (waiters !== w) this.waiters = new Set([waiters, w]);
  }

  removeWaiter(w: Waiter): void {
    const waiters = this.waiters;
    if (waiters === w) {
      this.waiters = undefined;
    } else if (waiters instanceof Set) {
      waiters.delete(w);
      if (waiters.size === 0) this.waiters = undefined;
    }
  }

  constructor(handle: SocketHandle, nonblock: boolean, cloexec: boolean) {
    this.handle = handle;
    this.nonblock = nonblock;
    this.cloexec = cloexec;
    handle.setWaker(this.wake);
  }

  /**
   * The handle's waker itself (an arrow, one per file like the closure it
   * replaces): issue 9, a call less per wake-up, two per side of every
   * request/response exchange (rr-calls).
   */
  readonly wake = (): void => {
    const waiters = this.waiters;
    if (waiters === undefined) return;
    if (!(waiters instanceof Set)) {
      waiters.wake();
      return;
    }
    // Snapshot: a woken waiter removes itself, and a retrying caller may add a new one.
    for (const w of [...waiters]) w.wake();
  };

  close(): void {
    this.closed = true;
    this.handle.setWaker(undefined);
    const waiters = this.waiters;
    if (waiters === undefined) return;
    if (waiters instanceof Set) {
      for (const w of [...waiters]) w.closed();
      waiters.clear();
    } else {
      waiters.closed();
    }
    this.waiters = undefined;
  }
}

/** What woken RetryCalls are chained on to run as a microtask. */
const SETTLED: Promise<void> = Promise.resolve();

/** No user buffer: what a RecvCall's list holds while it is spare. */
const NO_BYTES = new Uint8Array(0);

/**
 * The stack under a syscall layer, as its RetryQueue sees it (issue 9):
 * whether a call woken now may be retried at the end of the stack's
 * current work (Stack.retryAtWorkEnd, Stack.onWorkEnd) rather than from a
 * microtask.
 */
export interface WorkEnd {
  /** True only when the work under way ends with a call of the queue's flush(). */
  readonly retryAtWorkEnd: boolean;
}

/**
 * Woken RetryCalls of one syscall layer, retried in wake-up order, as a
 * batch (not a Promise per call): a segment that wakes a reader and a
 * writer costs one retry pass.
 *
 * When the wake-up comes from the stack's own processing on a real-time
 * clock (WorkEnd), the pass runs at the end of that work (flush()), where
 * Linux's woken reader would run once the softirq is done: the segment
 * has been processed and the timer re-armed, so the retry never runs
 * inside the handle's work, and a request/response round trip saves the
 * two microtasks (and their promises) of its two blocked reads. Any other
 * wake-up (a user call, a simulated clock) takes one microtask per batch.
 * Each syscall layer's queue is flushed only by its own stack: two stacks
 * in one process never run each other's calls.
 */
export class RetryQueue {
  /** The first #count slots; counted, not truncated (setting a length is a runtime call). */
  #queue: (RetryCall<unknown> | undefined)[] = [];
  #count = 0;
  #spare: (RetryCall<unknown> | undefined)[] = [];
  /** The pending pass waits for flush() (the first call of the batch was woken inside the stack's work), not a microtask. */
  #atWorkEnd = false;
  /** A pass is running: calls woken meanwhile go to a microtask's pass. */
  #running = false;
  readonly #workEnd: WorkEnd | undefined;
  /** A settled RecvCall kept for the next blocked read of this layer (see RecvCall). */
  spareRecv: RecvCall | undefined = undefined;

  constructor(workEnd?: WorkEnd) {
    this.#workEnd = workEnd;
  }

  add(call: RetryCall<unknown>): void {
    this.#queue[this.#count++] = call;
    if (this.#count !== 1) return;
    if (!this.#running && this.#workEnd?.retryAtWorkEnd === true) this.#atWorkEnd = true;
    else void SETTLED.then(this.#run);
  }

  /** The end of the stack's work: retries the calls it woke, now (calls waiting for a microtask keep waiting). */
  readonly flush = (): void => {
    if (this.#atWorkEnd && !this.#running) this.#run();
  };

  /** Calls woken while this runs (a retry's output may wake others) go to the next batch, a microtask. */
  readonly #run = (): void => {
    const q = this.#queue;
    const n = this.#count;
    this.#queue = this.#spare;
    this.#count = 0;
    this.#atWorkEnd = false;
    this.#running = true;
    try {
      for (let i = 0; i < n; i++) {
        const call = q[i]!;
        q[i] = undefined;
        // retry() settles the caller's Promise and never throws (it catches the attempt's errors).
        call.retry();
      }
    } finally {
      this.#running = false;
      this.#spare = q;
    }
  };
}

/**
 * The resolving functions of the Promise being made, handed over by one
 * module-level executor: `new Promise(executor)` with a closure per call
 * was one more function and context per blocked call (issue 9).
 */
let capturedResolve: ((v: never) => void) | undefined;
let capturedReject: ((e: unknown) => void) | undefined;
function capture(resolve: (v: never) => void, reject: (e: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * A blocked call with no deadline whose attempt is retried whenever the
 * file is woken, until it answers something other than WOULD_BLOCK: that
 * answer resolves the caller's Promise, a failure rejects it (as the
 * SocketError of `syscall`), and closing the descriptor rejects it with
 * EBADF, as the general loop does. The attempt is a subclass's.
 */
export abstract class RetryCall<T> implements Waiter {
  protected file: OpenFile;
  protected readonly queue: RetryQueue;
  #syscall: string;
  #details: SocketErrorDetails;
  #resolve: ((v: T) => void) | undefined = undefined;
  #reject: ((e: unknown) => void) | undefined = undefined;
  /**
   * A reused call's own executor, made once with the call (RecvCall): its
   * Promise per blocked read is then made without the module-level capture
   * and its four stores and two loads around every `new Promise`. Issue 9:
   * the syscall layer alone (fake handles, in-process interleaved A/B)
   * takes 3-5% less CPU per request/response exchange. A one-off call
   * (accept, connect) keeps `capture`: a closure per call would be
   * garbage per connection.
   */
  readonly #executor: ((resolve: (v: T) => void, reject: (e: unknown) => void) => void) | undefined;

  protected constructor(file: OpenFile, queue: RetryQueue, syscall: string, details: SocketErrorDetails, reused = false) {
    this.file = file;
    this.queue = queue;
    this.#syscall = syscall;
    this.#details = details;
    this.#executor = reused
      ? (resolve, reject) => {
          this.#resolve = resolve;
          this.#reject = reject;
        }
      : undefined;
  }

  /** One try: the answer, or WOULD_BLOCK to wait again. May throw (HandleError, TypeError). */
  protected abstract attempt(): T | WouldBlock;

  /** After the caller's Promise settled (a reusable call lets go of what it held). */
  protected settled(): void {}

  /** Starts waiting on `file` (again, for a reused call) for the Promise returned. */
  protected start(file: OpenFile, syscall: string, details: SocketErrorDetails): Promise<T> {
    this.file = file;
    this.#syscall = syscall;
    this.#details = details;
    const executor = this.#executor;
    let p: Promise<T>;
    if (executor !== undefined) {
      p = new Promise<T>(executor);
    } else {
      p = new Promise<T>(capture);
      this.#resolve = capturedResolve as (v: T) => void;
      this.#reject = capturedReject;
      capturedResolve = undefined;
      capturedReject = undefined;
    }
    file.addWaiter(this);
    return p;
  }

  wake(): void {
    this.file.removeWaiter(this);
    this.queue.add(this as RetryCall<unknown>);
  }

  closed(): void {
    this.file.removeWaiter(this);
    this.#fail(new SocketError('EBADF', this.#syscall, this.#details));
  }

  /** From the RetryQueue's pass. */
  retry(): void {
    // Closed after the wake-up: the general loop's EBADF check before each attempt.
    if (this.file.closed) {
      this.#fail(new SocketError('EBADF', this.#syscall, this.#details));
      return;
    }
    let r: T | WouldBlock;
    try {
      r = this.attempt();
    } catch (e) {
      this.#fail(toError(e, this.#syscall, this.#details));
      return;
    }
    if (r === WOULD_BLOCK) {
      this.file.addWaiter(this);
      return;
    }
    const resolve = this.#resolve!;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.settled();
    resolve(r);
  }

  #fail(e: unknown): void {
    const reject = this.#reject!;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.settled();
    reject(e);
  }
}

/** A RetryCall whose attempt is a closure (accept, connect). */
export class ClosureCall<T> extends RetryCall<T> {
  readonly #attempt: () => T | WouldBlock;

  private constructor(file: OpenFile, queue: RetryQueue, attempt: () => T | WouldBlock, syscall: string, details: SocketErrorDetails) {
    super(file, queue, syscall, details);
    this.#attempt = attempt;
  }

  /** Waits on `file` for `attempt`, whose first try answered WOULD_BLOCK. */
  static wait<T>(file: OpenFile, queue: RetryQueue, attempt: () => T | WouldBlock, syscall: string, details: SocketErrorDetails): Promise<T> {
    return new ClosureCall(file, queue, attempt, syscall, details).start(file, syscall, details);
  }

  protected override attempt(): T | WouldBlock {
    return this.#attempt();
  }
}

/**
 * A blocked read()/recv() into one buffer: the handle's recv, answered with
 * the byte count. Reused: a settled one waits in its RetryQueue for the next
 * blocked read of the same syscall layer, so a request/response loop, which
 * blocks in read() on every exchange, allocates only the Promise (issue 9:
 * the call, its closure, its context and its buffer list were about half a
 * kilobyte per blocked read). It keeps no user buffer once settled.
 * The same handle.recv as a first attempt: file.handle never changes.
 */
export class RecvCall extends RetryCall<number> {
  readonly #bufs: Uint8Array[] = [NO_BYTES];
  #flags = 0;

  private constructor(file: OpenFile, queue: RetryQueue, syscall: string, details: SocketErrorDetails) {
    super(file, queue, syscall, details, true);
  }

  /** Waits on `file` for `handle.recv([buf], flags)`, whose first try answered WOULD_BLOCK. */
  static wait(file: OpenFile, queue: RetryQueue, buf: Uint8Array, flags: number, syscall: string, details: SocketErrorDetails): Promise<number> {
    let call = queue.spareRecv;
    if (call === undefined) call = new RecvCall(file, queue, syscall, details);
    else queue.spareRecv = undefined;
    call.#bufs[0] = buf;
    call.#flags = flags;
    return call.start(file, syscall, details);
  }

  protected override attempt(): number | WouldBlock {
    return recvCount(this.file.handle, this.#bufs, this.#flags);
  }

  protected override settled(): void {
    // The file stays referenced until the next blocked read: one per syscall layer, not per socket.
    this.#bufs[0] = NO_BYTES;
    this.queue.spareRecv = this;
  }
}
