/** A queued packet and the caller's metadata (source address, arrival time, ...). */
export interface QueuedPacket<M> {
  readonly data: Uint8Array;
  readonly meta: M;
}

export interface PacketQueueLimits {
  /** Most packets held at once (a positive integer). */
  readonly maxPackets: number;
  /** Most payload bytes held at once, summed over `data.byteLength` (a non-negative integer). */
  readonly maxBytes: number;
}

/**
 * A bounded FIFO of packets: UDP receive queues (SO_RCVBUF) and link
 * transmit queues. Both a packet count and a byte budget bound it, because
 * a flood of tiny datagrams exhausts per-packet overhead long before bytes,
 * and a few jumbo ones exhaust bytes.
 *
 * A packet that does not fit is refused (tail drop) and counted in
 * `dropped`, the way a full socket buffer drops a datagram: the sender is
 * not told, so the counter is the only evidence. Both limits are hard: a
 * packet larger than `maxBytes` is never accepted.
 *
 * The queue stores the caller's Uint8Array, it does not copy it: whoever
 * pushes hands the bytes over and must not reuse them.
 *
 * Storage is a ring of slots, so push and shift are O(1) (amortised for
 * push while the ring grows). The ring starts empty and doubles up to
 * `maxPackets`, so an idle socket with a large limit costs a few words.
 */
export class PacketQueue<M = undefined> {
  readonly maxPackets: number;
  readonly maxBytes: number;
  #slots: (QueuedPacket<M> | undefined)[] = [];
  #head = 0;
  #length = 0;
  #bytes = 0;
  #dropped = 0;

  constructor(limits: PacketQueueLimits) {
    const { maxPackets, maxBytes } = limits;
    if (!Number.isSafeInteger(maxPackets) || maxPackets < 1) {
      throw new RangeError(`PacketQueue: maxPackets must be a positive integer, got ${maxPackets}`);
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`PacketQueue: maxBytes must be a non-negative integer, got ${maxBytes}`);
    }
    this.maxPackets = maxPackets;
    this.maxBytes = maxBytes;
  }

  /** Packets queued. */
  get length(): number {
    return this.#length;
  }

  /** Payload bytes queued. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Packets refused because a limit was reached, since construction. */
  get dropped(): number {
    return this.#dropped;
  }

  get isEmpty(): boolean {
    return this.#length === 0;
  }

  /** Whether a packet of `byteLength` bytes would be accepted now (poll's POLLOUT for link queues). */
  canAccept(byteLength: number): boolean {
    return this.#length < this.maxPackets && this.#bytes + byteLength <= this.maxBytes;
  }

  /** Appends a packet; returns false and counts a drop if either limit would be exceeded. */
  push(data: Uint8Array, meta: M): boolean {
    if (!this.canAccept(data.byteLength)) {
      this.#dropped++;
      return false;
    }
    let slots = this.#slots;
    if (this.#length === slots.length) slots = this.#grow();
    let tail = this.#head + this.#length;
    if (tail >= slots.length) tail -= slots.length;
    slots[tail] = { data, meta };
    this.#length++;
    this.#bytes += data.byteLength;
    return true;
  }

  /** The oldest packet, left in the queue. */
  peek(): QueuedPacket<M> | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head];
  }

  /** Removes and returns the oldest packet. */
  shift(): QueuedPacket<M> | undefined {
    if (this.#length === 0) return undefined;
    const slots = this.#slots;
    const packet = slots[this.#head]!;
    // Let the bytes be collected as soon as the consumer is done with them.
    slots[this.#head] = undefined;
    this.#head = this.#head + 1 === slots.length ? 0 : this.#head + 1;
    this.#length--;
    this.#bytes -= packet.data.byteLength;
    if (this.#length === 0) this.#head = 0;
    return packet;
  }

  /** Discards every queued packet (not counted as drops: the owner chose to); returns how many. */
  clear(): number {
    const n = this.#length;
    this.#slots = [];
    this.#head = 0;
    this.#length = 0;
    this.#bytes = 0;
    return n;
  }

  /** Oldest first, without removing. */
  *[Symbol.iterator](): IterableIterator<QueuedPacket<M>> {
    const slots = this.#slots;
    for (let k = 0; k < this.#length; k++) {
      let at = this.#head + k;
      if (at >= slots.length) at -= slots.length;
      yield slots[at]!;
    }
  }

  #grow(): (QueuedPacket<M> | undefined)[] {
    const old = this.#slots;
    const size = Math.min(this.maxPackets, Math.max(4, old.length * 2));
    const next = new Array<QueuedPacket<M> | undefined>(size).fill(undefined);
    for (let k = 0; k < this.#length; k++) {
      let at = this.#head + k;
      if (at >= old.length) at -= old.length;
      next[k] = old[at];
    }
    this.#slots = next;
    this.#head = 0;
    return next;
  }
}
