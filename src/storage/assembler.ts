/** One run of received bytes, relative to the front (RCV.NXT for TCP). */
export interface AssemblerRange {
  readonly offset: number;
  readonly length: number;
}

/** Default bound on stored ranges; a SACK option carries at most 4 blocks, so 32 leaves room for heavy reordering. */
export const ASSEMBLER_DEFAULT_MAX_RANGES = 32;

/**
 * Tracks which bytes past the front of a stream have arrived out of order:
 * the bookkeeping half of RFC 9293's segment queue (3.10.7.4: segments
 * beyond RCV.NXT are held until the gap before them fills). The bytes
 * themselves live in the RingBuffer (RingBuffer.writeAt); the Assembler only
 * remembers where they are.
 *
 * Representation: disjoint, non-adjacent half-open ranges [start, end)
 * sorted by start, in flat typed arrays. Adjacent or overlapping arrivals are
 * merged on add, so the count is the number of islands of received data.
 *
 * Memory bound: at most `maxRanges` ranges, stored in one Float64Array of
 * 3 * maxRanges entries (start, end, recency stamp) = 24 * maxRanges bytes
 * (768 bytes at the default 32), allocated on the first out-of-order add and
 * never grown. A range that would need a new island when the table is full
 * is rejected, not stored: the peer retransmits it, which costs far less than
 * letting a hostile peer make us keep unbounded state.
 *
 * Offsets are plain non-negative safe integers, not sequence numbers: the
 * caller converts (offset = seq - RCV.NXT, with the seq helpers).
 */
export class Assembler {
  readonly maxRanges: number;
  /** [0, max) starts, [max, 2max) ends, [2max, 3max) stamps. Undefined until first needed. */
  #table: Float64Array | undefined = undefined;
  #count = 0;
  /** Monotonic arrival counter: a larger stamp means the range was touched more recently. */
  #clock = 0;

  constructor(maxRanges: number = ASSEMBLER_DEFAULT_MAX_RANGES) {
    if (!Number.isSafeInteger(maxRanges) || maxRanges < 1) {
      throw new RangeError(`Assembler: maxRanges must be a positive integer, got ${maxRanges}`);
    }
    this.maxRanges = maxRanges;
  }

  get isEmpty(): boolean {
    return this.#count === 0;
  }

  /** Number of disjoint ranges held. */
  get rangeCount(): number {
    return this.#count;
  }

  /** Bytes of backing store held: 0 until the first range is stored. */
  get allocatedBytes(): number {
    return this.#table === undefined ? 0 : this.#table.byteLength;
  }

  /** Contiguous bytes complete at offset 0, without removing them (0 if there is a hole at the front). */
  get frontLength(): number {
    const t = this.#table;
    if (this.#count === 0 || t === undefined || t[0] !== 0) return 0;
    return t[this.maxRanges]!;
  }

  /**
   * Records that bytes [offset, offset + length) have arrived. Returns false,
   * changing nothing, when that would need a new range and `maxRanges` are
   * already held; anything that touches an existing range (overlap, adjacency,
   * duplicate, containment) is always accepted since merging never adds a
   * range. A zero-length add is accepted and records nothing.
   */
  add(offset: number, length: number): boolean {
    checkCount('offset', offset);
    checkCount('length', length);
    const end = offset + length;
    if (!Number.isSafeInteger(end)) throw new RangeError(`Assembler: offset + length overflows: ${offset} + ${length}`);
    if (length === 0) return true;

    const max = this.maxRanges;
    const count = this.#count;
    const t = (this.#table ??= new Float64Array(3 * max));

    // First range that ends at or after our start: every earlier range lies
    // strictly before us with a gap, so cannot merge.
    let i = 0;
    while (i < count && t[max + i]! < offset) i++;
    // Ranges i..j-1 start at or before our end: they overlap or touch us.
    let j = i;
    while (j < count && t[j]! <= end) j++;

    if (i === j) {
      if (count === max) return false;
      const stamp = ++this.#clock;
      // Open slot i by shifting the tail right (count <= max, so O(max)).
      t.copyWithin(i + 1, i, count);
      t.copyWithin(max + i + 1, max + i, max + count);
      t.copyWithin(2 * max + i + 1, 2 * max + i, 2 * max + count);
      t[i] = offset;
      t[max + i] = end;
      t[2 * max + i] = stamp;
      this.#count = count + 1;
      return true;
    }

    // Merge i..j-1 and the new bytes into slot i. The merged range contains
    // the newest segment, so it takes the newest stamp (RFC 2018 section 4:
    // the first SACK block reports the block holding the segment that
    // triggered the ACK).
    t[i] = Math.min(t[i]!, offset);
    t[max + i] = Math.max(t[max + j - 1]!, end);
    t[2 * max + i] = ++this.#clock;
    const removed = j - i - 1;
    if (removed > 0) {
      t.copyWithin(i + 1, j, count);
      t.copyWithin(max + i + 1, max + j, max + count);
      t.copyWithin(2 * max + i + 1, 2 * max + j, 2 * max + count);
      this.#count = count - removed;
    }
    return true;
  }

  /**
   * Removes the bytes now contiguous at offset 0 and returns how many there
   * were (0 if the front is still a hole). The remaining ranges shift down
   * by that amount so offsets stay relative to the new front (RCV.NXT += n).
   */
  removeFront(): number {
    const t = this.#table;
    const count = this.#count;
    if (count === 0 || t === undefined || t[0] !== 0) return 0;
    const max = this.maxRanges;
    const n = t[max]!;
    for (let k = 1; k < count; k++) {
      t[k - 1] = t[k]! - n;
      t[max + k - 1] = t[max + k]! - n;
      t[2 * max + k - 1] = t[2 * max + k]!;
    }
    this.#count = count - 1;
    return n;
  }

  /** Forgets everything (connection reset, or reneging under memory pressure, RFC 2018 section 8). Keeps the table. */
  clear(): void {
    this.#count = 0;
  }

  /** Drops the table too, so an idle connection holds nothing; the next add allocates it again. */
  release(): void {
    this.#count = 0;
    this.#table = undefined;
  }

  /**
   * The stored ranges, most recently received first, at most `limit` of them:
   * the order RFC 2018 section 4 asks SACK blocks to be reported in (the
   * block with the triggering segment, then the most recently reported).
   */
  ranges(limit = Infinity): AssemblerRange[] {
    const out: AssemblerRange[] = [];
    const t = this.#table;
    if (t === undefined) return out;
    const max = this.maxRanges;
    const want = Math.min(limit, this.#count);
    // Selection by stamp: count <= maxRanges and SACK wants <= 4, so
    // O(want * count) beats sorting and needs no scratch array.
    let below = Infinity;
    while (out.length < want) {
      let best = -1;
      let bestStamp = -1;
      for (let k = 0; k < this.#count; k++) {
        const s = t[2 * max + k]!;
        if (s < below && s > bestStamp) {
          bestStamp = s;
          best = k;
        }
      }
      if (best < 0) break;
      out.push({ offset: t[best]!, length: t[max + best]! - t[best]! });
      below = bestStamp;
    }
    return out;
  }

  /** The stored ranges in offset order (for diagnostics and tests). */
  rangesByOffset(): AssemblerRange[] {
    const out: AssemblerRange[] = [];
    const t = this.#table;
    if (t === undefined) return out;
    const max = this.maxRanges;
    for (let k = 0; k < this.#count; k++) out.push({ offset: t[k]!, length: t[max + k]! - t[k]! });
    return out;
  }

  /** True if every byte of [offset, offset + length) has arrived. */
  contains(offset: number, length: number): boolean {
    const t = this.#table;
    if (length <= 0) return true;
    if (t === undefined) return false;
    const end = offset + length;
    const max = this.maxRanges;
    for (let k = 0; k < this.#count; k++) {
      if (t[k]! > offset) return false;
      if (t[max + k]! >= end) return true;
    }
    return false;
  }
}

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`Assembler: ${name} must be a non-negative integer, got ${n}`);
  }
}
