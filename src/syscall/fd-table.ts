/**
 * The descriptor table of one stack's "process": small integers naming open
 * files. Like Linux, a new descriptor is the LOWEST free number, and
 * descriptors at or above RLIMIT_NOFILE are never handed out (EMFILE).
 *
 * Numbering starts at 3 by default: 0, 1 and 2 belong to stdin, stdout and
 * stderr in every Unix process, and socket programs (and course material)
 * expect their first socket to be 3. Pass `firstFd: 0` to use them too.
 */
import { raise } from './socket-handle.js';

export interface FdTableOptions {
  /** The soft RLIMIT_NOFILE: descriptors are < this. Default 1024, Linux's default soft limit. */
  readonly limit?: number;
  /** The lowest descriptor handed out. Default 3. */
  readonly firstFd?: number;
}

export class FdTable<T> {
  readonly #slots: (T | undefined)[] = [];
  #limit: number;
  readonly #first: number;
  /** Every free number below this is known to be taken: where the search for the lowest free one starts. */
  #lowestMaybeFree: number;
  #count = 0;

  constructor(opts: FdTableOptions = {}) {
    const limit = opts.limit ?? 1024;
    const first = opts.firstFd ?? 3;
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`FdTable: bad limit ${limit}`);
    if (!Number.isInteger(first) || first < 0) throw new RangeError(`FdTable: bad firstFd ${first}`);
    this.#limit = limit;
    this.#first = first;
    this.#lowestMaybeFree = first;
  }

  /** The soft RLIMIT_NOFILE. Lowering it does not close descriptors already above it (as setrlimit). */
  get limit(): number {
    return this.#limit;
  }

  set limit(v: number) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`FdTable: bad limit ${v}`);
    this.#limit = v;
  }

  /** Open descriptors. */
  get size(): number {
    return this.#count;
  }

  /** Stores `value` under the lowest free descriptor and returns it; raises EMFILE at the limit. */
  allocate(value: T): number {
    let fd = this.#lowestMaybeFree;
    while (fd < this.#slots.length && this.#slots[fd] !== undefined) fd++;
    if (fd >= this.#limit) raise('EMFILE');
    this.#slots[fd] = value;
    this.#lowestMaybeFree = fd + 1;
    this.#count++;
    return fd;
  }

  /** The descriptor `allocate` would return now, or undefined at the limit (nothing is reserved). */
  peekFree(): number | undefined {
    let fd = this.#lowestMaybeFree;
    while (fd < this.#slots.length && this.#slots[fd] !== undefined) fd++;
    return fd < this.#limit ? fd : undefined;
  }

  /** The value under `fd`, or undefined (EBADF to the caller) for any number that is not open. */
  get(fd: number): T | undefined {
    if (!Number.isInteger(fd) || fd < 0) return undefined;
    return this.#slots[fd];
  }

  /** Frees `fd`; returns what it held (undefined if it was not open). */
  remove(fd: number): T | undefined {
    const v = this.get(fd);
    if (v === undefined) return undefined;
    this.#slots[fd] = undefined;
    this.#count--;
    if (fd < this.#lowestMaybeFree) this.#lowestMaybeFree = Math.max(fd, this.#first);
    while (this.#slots.length > 0 && this.#slots[this.#slots.length - 1] === undefined) this.#slots.pop();
    return v;
  }

  /** Open descriptors in ascending order with their values. */
  *entries(): IterableIterator<[number, T]> {
    for (let fd = 0; fd < this.#slots.length; fd++) {
      const v = this.#slots[fd];
      if (v !== undefined) yield [fd, v];
    }
  }
}
