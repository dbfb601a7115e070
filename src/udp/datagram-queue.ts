/**
 * The receive queue of a datagram socket (UDP, ping): whole messages charged
 * to SO_RCVBUF, read one per call with MSG_PEEK / MSG_TRUNC semantics.
 */

import { constants as C } from '../syscall/constants.js';
import type { Endpoint, RecvResult } from '../syscall/socket-handle.js';

/**
 * A buffer that queued datagrams share (rx-slab.ts): told when one of them
 * leaves the queue, so it knows how much of it is still in use.
 */
export interface SharedStore {
  /** A datagram of `len` bytes held in this store was read or dropped. */
  released(len: number): void;
}

interface Queued {
  readonly from: Endpoint;
  data: Uint8Array;
  readonly cost: number;
  /** Where `data` lives when it shares a buffer; undefined: its own. */
  store: SharedStore | undefined;
}

export class DatagramQueue {
  #items: (Queued | undefined)[] = [];
  #head = 0;
  #bytes = 0;
  /** The shared store this queue was last given a datagram in (see RxSlab): it lists each queue once. */
  lastStore: SharedStore | undefined = undefined;

  /** Datagrams waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Datagrams waiting whose bytes live in a shared store (the rest have their own copies). */
  get shared(): number {
    let n = 0;
    for (let i = this.#head; i < this.#items.length; i++) if (this.#items[i]?.store !== undefined) n++;
    return n;
  }

  /** Bytes charged to SO_RCVBUF right now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues `data` (kept as given: the caller copies if it must) charged at
   * `cost`. Like Linux (__udp_enqueue_schedule_skb), a datagram is refused
   * only when the queue already holds more than `limit`, so one datagram of
   * any size always fits an empty queue. Returns false when refused.
   */
  push(from: Endpoint, data: Uint8Array, cost: number, limit: number, store?: SharedStore): boolean {
    if (this.#bytes > limit) return false;
    this.#items.push({ from, data, cost, store });
    this.#bytes += cost;
    return true;
  }

  /**
   * Copies the head datagram into `buffers`; undefined when the queue is
   * empty. Without MSG_PEEK the datagram is consumed, and the rest of a
   * truncated one is discarded, as on Linux. MSG_TRUNC reports the real
   * length (Linux udp_recvmsg).
   */
  recv(buffers: readonly Uint8Array[], flags: number): RecvResult | undefined {
    const q = this.#items[this.#head];
    if (q === undefined) return undefined;
    let copied = 0;
    for (const b of buffers) {
      if (copied >= q.data.length) break;
      const n = Math.min(b.length, q.data.length - copied);
      b.set(q.data.subarray(copied, copied + n));
      copied += n;
    }
    if ((flags & C.MSG_PEEK) === 0) {
      this.#items[this.#head] = undefined;
      this.#head++;
      if (this.#head > 64 && this.#head * 2 > this.#items.length) {
        this.#items.splice(0, this.#head);
        this.#head = 0;
      }
      this.#bytes -= q.cost;
      q.store?.released(q.data.length);
    }
    return {
      bytesRead: (flags & C.MSG_TRUNC) !== 0 ? q.data.length : copied,
      from: q.from,
      flags: copied < q.data.length ? C.MSG_TRUNC : 0,
    };
  }

  /**
   * Gives every queued datagram held in `store` its own copy, so the store
   * is no longer pinned by them (RxSlab: a few lingering datagrams must not
   * keep a whole slab alive).
   */
  rehome(store: SharedStore): void {
    const items = this.#items;
    for (let i = this.#head; i < items.length; i++) {
      const q = items[i];
      if (q === undefined || q.store !== store) continue;
      q.data = q.data.slice();
      q.store = undefined;
    }
    if (this.lastStore === store) this.lastStore = undefined;
  }

  clear(): void {
    const items = this.#items;
    for (let i = this.#head; i < items.length; i++) {
      const q = items[i];
      q?.store?.released(q.data.length);
    }
    this.lastStore = undefined;
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
