/**
 * A small free list of byte arrays, by exact size, for RingBuffer backing
 * stores.
 *
 * Why: an idle TCP connection should hold no buffer memory, so a ring gives
 * its store back once it is empty and the connection goes quiet (the
 * receive buffer once the reader drained it, the send buffer once everything
 * was acknowledged; Tcb.reclaimStores says when). In a bulk
 * transfer that happens on nearly every read and every ACK, and allocating
 * a fresh zero-filled 128 KiB-6 MiB array each time made transfers several
 * times slower (the reason the stores used to be kept for the connection's
 * life). A free list turns that churn into a push and a pop of the same
 * array, while a connection that goes idle frees its memory for the next
 * one that needs it.
 *
 * The pool is bounded (total bytes, and arrays per size), so it never holds
 * more than a few stores however many connections come and go: memory
 * beyond the bound is left to the garbage collector as before.
 *
 * Arrays handed out by take() may hold bytes of an earlier user. RingBuffer
 * never exposes a byte it did not write (reads, peeks and views stop at its
 * contents), which is what makes reuse without zero-filling safe; any other
 * user must keep to the same rule.
 */
export interface BufferPoolOptions {
  /** Most bytes held in the pool at once. Default 8 MiB. */
  readonly maxBytes?: number;
  /** Most arrays of one size held at once. Default 4. */
  readonly maxPerSize?: number;
}

export class BufferPool {
  readonly maxBytes: number;
  readonly maxPerSize: number;
  /** Free arrays by byteLength; used last-in first-out, so a hot array stays in cache. */
  readonly #free = new Map<number, Uint8Array[]>();
  #bytes = 0;

  constructor(options: BufferPoolOptions = {}) {
    const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    const maxPerSize = options.maxPerSize ?? 4;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`BufferPool: maxBytes must be a non-negative integer, got ${maxBytes}`);
    if (!Number.isSafeInteger(maxPerSize) || maxPerSize < 0) {
      throw new RangeError(`BufferPool: maxPerSize must be a non-negative integer, got ${maxPerSize}`);
    }
    this.maxBytes = maxBytes;
    this.maxPerSize = maxPerSize;
  }

  /** Bytes currently held, free for the next take(). */
  get retainedBytes(): number {
    return this.#bytes;
  }

  /** An array of exactly `size` bytes: a pooled one (contents undefined) or a new, zero-filled one. */
  take(size: number): Uint8Array {
    const list = this.#free.get(size);
    if (list !== undefined) {
      const buf = list.pop();
      if (buf !== undefined) {
        this.#bytes -= size;
        return buf;
      }
    }
    return new Uint8Array(size);
  }

  /**
   * Hands `buf` back; the caller must not touch it afterwards. Kept if the
   * bounds allow, otherwise left to the garbage collector. Only whole
   * arrays are kept: a view into a larger buffer would pin that buffer.
   */
  give(buf: Uint8Array): void {
    const size = buf.byteLength;
    if (buf.byteOffset !== 0 || buf.buffer.byteLength !== size) return;
    this.#keep(buf, size);
  }

  /**
   * give() for an array take() returned (a RingBuffer's store): whole by
   * construction, since take() hands out only new arrays and arrays give()
   * checked, so the check is skipped. Reading `.buffer` is a call into the
   * runtime, about 1% of a request/response exchange, which gives back two
   * stores per side (issue 9).
   */
  giveTaken(buf: Uint8Array): void {
    this.#keep(buf, buf.byteLength);
  }

  #keep(buf: Uint8Array, size: number): void {
    if (size === 0 || this.#bytes + size > this.maxBytes) return;
    let list = this.#free.get(size);
    if (list === undefined) {
      if (this.maxPerSize === 0) return;
      list = [];
      this.#free.set(size, list);
    }
    if (list.length >= this.maxPerSize) return;
    list.push(buf);
    this.#bytes += size;
  }

  /** Drops every pooled array (e.g. when the last stack closes, or under memory pressure). */
  clear(): void {
    this.#free.clear();
    this.#bytes = 0;
  }
}

/**
 * The pool TCP's send and receive buffers share, process-wide: buffers pass
 * between connections of every stack in the process, so a server that
 * serves one busy connection at a time keeps one store of each size warm.
 */
export const sharedBufferPool = new BufferPool();
