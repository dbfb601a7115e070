/**
 * A fixed-capacity byte ring for TCP send and receive buffers.
 *
 * Layout. The contents are `length` bytes starting at the read pointer
 * (`head`) and may wrap past the end of the backing array. Beyond the
 * contents, the receive path may park out-of-order bytes with `writeAt()`
 * (offsets relative to the end of the contents, matching the Assembler's
 * offsets relative to RCV.NXT) and later make them part of the contents with
 * `commit()`. `extent` is how far from the read pointer bytes of either kind
 * reach; it is what `resize()` must preserve.
 *
 * Memory. The backing Uint8Array is allocated on the first write that stores
 * a byte, and `release()` drops it again once nothing is stored, because most
 * connections sit idle most of the time and an idle connection should cost a
 * few hundred bytes, not two windows' worth. With a BufferPool, released
 * stores go to the pool and the next allocation takes from it, so a bulk
 * transfer that drains the ring on every read reuses one array instead of
 * allocating and zero-filling a new one each time. With `minStore`, the
 * store starts that small and doubles as the contents need (up to the
 * capacity), so a connection with a few bytes queued holds a few KiB, not
 * a whole window; a ring that once grew asks for its old size again after
 * a release, so bulk transfers do not grow it anew each time.
 *
 * Programmer errors (negative or fractional counts, consuming more than is
 * stored, shrinking below what is stored) throw RangeError. Short writes are
 * not errors: `write()` and `writeAt()` copy what fits and say how much.
 */
import type { BufferPool } from './buffer-pool.js';

export interface RingBufferOptions {
  /** Where backing stores come from and go back to on release(); default: none (plain allocation). */
  readonly pool?: BufferPool;
  /**
   * Grow the store on demand, starting at this many bytes and doubling up to
   * the capacity. Default 0: the store is always the full capacity.
   */
  readonly minStore?: number;
}

/** What slices() answers for an empty range. */
const NO_VIEWS: readonly Uint8Array[] = Object.freeze([]);
const NO_BYTES = new Uint8Array(0);
/**
 * Copies of at most this many bytes go byte by byte: below it a loop is
 * cheaper than a subarray view plus set() (a view allocates; set is a call
 * into the runtime). Measured on tcp-rr's 1-byte exchanges (issue 9).
 */
const SMALL_COPY = 32;

export class RingBuffer {
  #storage: Uint8Array | undefined = undefined;
  /** Where stores come from and go back to; undefined: plain allocation, the garbage collector frees. */
  readonly #pool: BufferPool | undefined;
  /** Smallest store when growing on demand; 0: the store is always the full capacity. */
  readonly #minStore: number;
  /** Size of the last store released: where the next one starts (see minStore). */
  #hint = 0;
  #capacity: number;
  /** Index in #storage of the first byte of the contents. */
  #head = 0;
  #length = 0;
  /** Bytes from the read pointer holding data: committed, or parked by writeAt. Always >= #length. */
  #extent = 0;
  /**
   * Reused results of slices() (one view, two views), created on first use,
   * so the send path allocates no array per segment; fixed lengths, as
   * emptying an array by pops and growing it by pushes reallocates it (issue 9).
   */
  #oneView: Uint8Array[] | undefined = undefined;
  #twoViews: Uint8Array[] | undefined = undefined;

  constructor(capacity: number, options: RingBufferOptions = {}) {
    checkCount('capacity', capacity);
    const minStore = options.minStore ?? 0;
    checkCount('minStore', minStore);
    this.#capacity = capacity;
    this.#pool = options.pool;
    this.#minStore = minStore;
  }

  /** Bytes of contents (readable). */
  get length(): number {
    return this.#length;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Bytes that can still be appended with write() (or committed). */
  get free(): number {
    return this.#capacity - this.#length;
  }

  get isEmpty(): boolean {
    return this.#length === 0;
  }

  get isFull(): boolean {
    return this.#length === this.#capacity;
  }

  /**
   * How far from the read pointer stored bytes reach: the contents plus any
   * out-of-order bytes parked with writeAt() and not yet committed.
   */
  get extent(): number {
    return this.#extent;
  }

  /** Size of the backing store currently held: 0 until the first write and after release(). */
  get allocatedBytes(): number {
    return this.#storage === undefined ? 0 : this.#storage.byteLength;
  }

  /** Appends as much of `src` as fits; returns the number of bytes copied. */
  write(src: Uint8Array): number {
    const n = Math.min(src.length, this.#capacity - this.#length);
    if (n === 0) return 0;
    const storage = this.#ensureRoom(this.#length + n);
    this.#copyIn(storage, this.#length, src, n);
    this.#length += n;
    if (this.#extent < this.#length) this.#extent = this.#length;
    return n;
  }

  /** Copies up to `dst.length` bytes out of the front and consumes them; returns the count. */
  read(dst: Uint8Array): number {
    const n = this.peek(dst, 0);
    this.#drop(n);
    return n;
  }

  /**
   * Copies contents starting `offset` bytes past the read pointer into `dst`
   * without consuming them (the TCP sender re-reads unacknowledged data for
   * retransmission). Returns the count: min(dst.length, length - offset).
   */
  peek(dst: Uint8Array, offset = 0): number {
    checkCount('offset', offset);
    if (offset > this.#length) {
      throw new RangeError(`RingBuffer.peek: offset ${offset} is past the contents (${this.#length} bytes)`);
    }
    const n = Math.min(dst.length, this.#length - offset);
    if (n === 0) return 0;
    // n > 0 implies bytes were written, so the storage exists.
    const storage = this.#storage!;
    const cap = storage.length;
    let start = this.#head + offset;
    if (start >= cap) start -= cap;
    const first = Math.min(n, cap - start);
    if (n <= SMALL_COPY) {
      // A short read (a request/response byte, a header) copies in a loop: a
      // subarray view for set() is ~100 bytes of garbage per call (issue 9).
      for (let i = 0; i < first; i++) dst[i] = storage[start + i]!;
      for (let i = first; i < n; i++) dst[i] = storage[i - first]!;
      return n;
    }
    dst.set(storage.subarray(start, start + first), 0);
    if (first < n) dst.set(storage.subarray(0, n - first), first);
    return n;
  }

  /** Discards `n` bytes from the front (acknowledged send data, or data the application read in place). */
  consume(n: number): void {
    checkCount('n', n);
    if (n > this.#length) {
      throw new RangeError(`RingBuffer.consume: ${n} bytes requested, ${this.#length} stored`);
    }
    this.#drop(n);
  }

  /** Empties the buffer, parked bytes included, but keeps the backing store for reuse (see release()). */
  clear(): void {
    this.#head = 0;
    this.#length = 0;
    this.#extent = 0;
  }

  /**
   * Drops the backing store if nothing is stored, so an idle connection holds
   * no buffer memory; the next write allocates again. Returns true if no
   * backing store is held afterwards.
   */
  release(): boolean {
    if (this.#extent !== 0) return false;
    this.#dropStorage();
    this.#head = 0;
    return true;
  }

  /**
   * Changes the capacity (receive-window auto-tuning, SO_RCVBUF/SO_SNDBUF).
   * Everything stored is preserved, parked out-of-order bytes included, so
   * `newCapacity` must be at least `extent`; shrinking below out-of-order
   * data would also shrink an advertised window, which a receiver SHOULD
   * NOT do (RFC 9293 3.8.6, SHLD-14). Call dropUncommitted() first
   * to renege on that data deliberately.
   */
  resize(newCapacity: number): void {
    checkCount('newCapacity', newCapacity);
    if (newCapacity < this.#extent) {
      throw new RangeError(
        `RingBuffer.resize: ${newCapacity} bytes cannot hold the ${this.#extent} bytes stored (${this.#length} committed)`,
      );
    }
    if (newCapacity === this.#capacity) return;
    this.#capacity = newCapacity;
    const old = this.#storage;
    if (old === undefined) return;
    if (this.#extent === 0) {
      // Nothing to carry over: stay lazy instead of allocating a store nobody uses yet.
      this.#dropStorage();
      this.#head = 0;
      return;
    }
    // Growing on demand: a larger capacity needs no larger store until bytes need it.
    if (this.#minStore > 0 && old.length <= newCapacity) return;
    this.#moveTo(this.#allocate(newCapacity));
  }

  /**
   * Zero-copy access to contents [offset, offset + length): at most two
   * views of the backing store (two when the range wraps), `length` clamped
   * to the contents. Returns an empty array when there is nothing to view.
   * (The TCP sender no longer uses it: it copies a range of the store
   * itself, store/storeIndex/copyFromStore, with no view per segment.)
   *
   * The returned array is owned by the ring and reused by the next slices()
   * call, so the hot path allocates no array, closure or iterator; only the
   * views themselves. The views alias the ring's memory: use them before the
   * next write/consume/resize/release.
   */
  slices(offset: number, length: number): readonly Uint8Array[] {
    checkCount('offset', offset);
    checkCount('length', length);
    if (offset > this.#length) {
      throw new RangeError(`RingBuffer.slices: offset ${offset} is past the contents (${this.#length} bytes)`);
    }
    const n = Math.min(length, this.#length - offset);
    if (n === 0) return NO_VIEWS;
    const storage = this.#storage!;
    const cap = storage.length;
    let start = this.#head + offset;
    if (start >= cap) start -= cap;
    const first = Math.min(n, cap - start);
    if (first === n) {
      const one = (this.#oneView ??= [NO_BYTES]);
      one[0] = storage.subarray(start, start + first);
      return one;
    }
    const two = (this.#twoViews ??= [NO_BYTES, NO_BYTES]);
    two[0] = storage.subarray(start, start + first);
    two[1] = storage.subarray(0, n - first);
    return two;
  }

  /**
   * The backing store, for a sender that copies a range of the contents out
   * itself (storeIndex, copyFromStore) instead of through views (issue 9: a
   * subarray per segment was a third of a bulk transfer's garbage). An empty
   * array while none is held. Valid until the next write/consume/resize/release.
   */
  get store(): Uint8Array {
    return this.#storage ?? NO_BYTES;
  }

  /**
   * Where contents byte `offset` lies in `store`: a range of n bytes from
   * there wraps at the store's end (copyFromStore copies it). `offset` may
   * equal `length` (an empty range).
   */
  storeIndex(offset: number): number {
    checkCount('offset', offset);
    if (offset > this.#length) {
      throw new RangeError(`RingBuffer.storeIndex: offset ${offset} is past the contents (${this.#length} bytes)`);
    }
    const storage = this.#storage;
    if (storage === undefined) return 0;
    const start = this.#head + offset;
    return start >= storage.length ? start - storage.length : start;
  }

  /**
   * Parks `src` at `offset` bytes past the end of the contents without
   * making it readable: out-of-order TCP data whose position the Assembler
   * tracks. Copies what fits inside the capacity and returns that count
   * (0 when `offset` is at or past `free`). `from` and `count` pick
   * src[from .. from + count) instead of all of it: TCP receive copies a
   * payload straight from its frame, without a view (issue 9).
   */
  writeAt(offset: number, src: Uint8Array, from = 0, count = src.length - from): number {
    checkCount('offset', offset);
    const room = this.#capacity - this.#length - offset;
    const n = Math.min(count, room);
    if (n <= 0) return 0;
    const storage = this.#ensureRoom(this.#length + offset + n);
    this.#copyIn(storage, this.#length + offset, src, n, from);
    const end = this.#length + offset + n;
    if (end > this.#extent) this.#extent = end;
    return n;
  }

  /**
   * Makes the next `n` bytes past the end part of the contents: the bytes
   * the Assembler reports contiguous after writeAt() filled them. Bytes never
   * written read as whatever the store held.
   */
  commit(n: number): void {
    checkCount('n', n);
    if (n > this.#capacity - this.#length) {
      throw new RangeError(`RingBuffer.commit: ${n} bytes requested, ${this.#capacity - this.#length} free`);
    }
    if (n === 0) return;
    this.#ensureRoom(this.#length + n);
    this.#length += n;
    if (this.#extent < this.#length) this.#extent = this.#length;
  }

  /**
   * Forgets bytes parked past the contents (RFC 2018 section 8 lets a
   * receiver renege on SACKed data under memory pressure); the caller must
   * clear its Assembler too.
   */
  dropUncommitted(): void {
    this.#extent = this.#length;
    if (this.#extent === 0) this.#head = 0;
  }

  #drop(n: number): void {
    if (n === 0) return;
    this.#length -= n;
    this.#extent -= n;
    if (this.#extent === 0) {
      // Rewind when empty so the next write and the next slices() are contiguous.
      this.#head = 0;
    } else {
      const cap = this.#storage!.length;
      this.#head += n;
      if (this.#head >= cap) this.#head -= cap;
    }
  }

  /** The store, allocated or grown so that it holds at least `needed` (<= capacity) bytes from the read pointer. */
  #ensureRoom(needed: number): Uint8Array {
    const old = this.#storage;
    if (old !== undefined && old.length >= needed) return old;
    let size = this.#capacity;
    if (this.#minStore > 0) {
      size = Math.max(this.#minStore, this.#hint, old === undefined ? 0 : old.length * 2);
      while (size < needed) size *= 2;
      size = Math.min(size, this.#capacity);
    }
    const next = this.#allocate(size);
    if (old === undefined) {
      this.#storage = next;
      this.#head = 0;
    } else {
      this.#moveTo(next);
    }
    return next;
  }

  /**
   * Moves everything stored into `next` (at least `extent` bytes long) and
   * gives the old store back. Linearises: the contents then start at index
   * 0, so the next slices() usually returns a single view.
   */
  #moveTo(next: Uint8Array): void {
    const old = this.#storage!;
    const first = Math.min(this.#extent, old.length - this.#head);
    next.set(old.subarray(this.#head, this.#head + first), 0);
    if (first < this.#extent) next.set(old.subarray(0, this.#extent - first), first);
    this.#pool?.giveTaken(old);
    this.#storage = next;
    this.#head = 0;
  }

  #allocate(size: number): Uint8Array {
    return this.#pool !== undefined ? this.#pool.take(size) : new Uint8Array(size);
  }

  /** Gives the store back (to the pool, if any); the views array goes too, as an idle ring needs neither. */
  #dropStorage(): void {
    const old = this.#storage;
    if (old === undefined) return;
    this.#storage = undefined;
    this.#oneView = undefined;
    this.#twoViews = undefined;
    this.#hint = old.length;
    this.#pool?.giveTaken(old);
  }

  /** Copies src[from..from + n) to logical offset `at` from the read pointer, wrapping. n <= capacity - at. */
  #copyIn(storage: Uint8Array, at: number, src: Uint8Array, n: number, from = 0): void {
    const cap = storage.length;
    let start = this.#head + at;
    if (start >= cap) start -= cap;
    const first = Math.min(n, cap - start);
    if (n <= SMALL_COPY) {
      // As in peek: no view for a short write (issue 9).
      for (let i = 0; i < first; i++) storage[start + i] = src[from + i]!;
      for (let i = first; i < n; i++) storage[i - first] = src[from + i]!;
      return;
    }
    storage.set(from === 0 && first === src.length ? src : src.subarray(from, from + first), start);
    if (first < n) storage.set(src.subarray(from + first, from + n), 0);
  }
}

/**
 * Copies `n` bytes of a ring range, store[start..] wrapping at the store's
 * end (RingBuffer.store, storeIndex), to dst[at..]: the send path's one
 * copy, from the send buffer into the frame. Short ranges (a request or
 * response byte) go byte by byte, as in peek (issue 9).
 */
export function copyFromStore(store: Uint8Array, start: number, n: number, dst: Uint8Array, at: number): void {
  const first = Math.min(n, store.length - start);
  if (n <= SMALL_COPY) {
    for (let i = 0; i < first; i++) dst[at + i] = store[start + i]!;
    for (let i = first; i < n; i++) dst[at + i] = store[i - first]!;
    return;
  }
  dst.set(store.subarray(start, start + first), at);
  if (first < n) dst.set(store.subarray(0, n - first), at + first);
}

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`RingBuffer: ${name} must be a non-negative integer, got ${n}`);
  }
}
