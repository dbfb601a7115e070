/**
 * Where the IP layer's outgoing frames come from: small frames carved from
 * shared slabs, large ones from per-size pools that links hand frames back
 * to once the receiver is done (Link.setRecycler). Kept apart from the IP
 * layer because it is memory policy, not IP.
 */
/**
 * Outgoing frames up to FRAME_SLAB_MAX bytes are carved from shared slabs
 * (except those SMALL_POOL_MIN explains).
 * Why: `new Uint8Array(n)` above V8's on-heap limit (64 bytes) mallocs and
 * zeroes its own backing store and registers it with the GC; in a bulk
 * transfer at MTU 1500 that was the largest single cost of the send path
 * (profiled: ~9% of the CPU). A view over a slab costs one small object.
 * Slabs are never reused (bump allocation only), so a frame starts zeroed
 * like a fresh array and a receiver keeping a view (a queued datagram) only
 * keeps its slab alive; slabs are small enough that this stays cheap.
 */
const FRAME_SLAB_SIZE = 64 * 1024;
const FRAME_SLAB_MAX = 4096;

/**
 * Frames above FRAME_SLAB_MAX (links with a large MTU) get their own buffer,
 * of a power-of-two size, which a link may hand back once the receiver is
 * done with it (Link.setRecycler): reused, it costs no malloc, zero fill or
 * GC-tracked backing store per frame (issue 9 profile at MTU 65535: ~9% of
 * the CPU). A reused buffer is not zeroed: every sender writes each byte of
 * its frame (link, IP and transport headers, payload), and a test poisons
 * reused buffers to prove it (see poisonRecycledFrames).
 */
const POOL_MIN_CAP = 8192;
const POOL_MAX_CAP = 1 << 17;

/**
 * Frames of SMALL_POOL_MIN to CELL_SIZE bytes (a full segment at MTU 1500 is
 * 1514) go out in fixed cells of pool slabs when their link gives frames
 * back (`recyclable`: a memory wire between two stacks), and a cell that
 * comes back serves the next such frame. A bump slab costs a fresh 64 KiB
 * ArrayBuffer every 43 such frames (issue 9 profile at MTU 1500: 2-3% of
 * the CPU, and GC); a reused cell costs nothing, not even a view when the
 * length repeats. Cells are carved from 64 KiB pool slabs, not buffers of
 * their own, so that frames which do not come back (the receiver was busy
 * and queued them, or they were lost) cost no more than a slab frame. Links
 * that give nothing back keep the plain slab; so do frames between
 * TINY_CELL_SIZE and SMALL_POOL_MIN, which are rare in bulk.
 */
const SMALL_POOL_MIN = 1024;
const CELL_SIZE = 2048;
/**
 * Frames of at most TINY_CELL_SIZE bytes (a pure ACK: 66 bytes with
 * timestamps, 106 with four SACK blocks) go out in cells of their own pool
 * on such links, for the same reason: in a bulk transfer one goes out for
 * every two data segments, and a slab frame costs two views and 1/500 of a
 * slab each. Their slabs have a size no other buffer of ours has, so
 * recycle() knows them by their length.
 */
const TINY_CELL_SIZE = 128;
const TINY_SLAB_SIZE = 96 * TINY_CELL_SIZE;
const TINY_CELLS_KEPT = 512;
/**
 * Free cells kept: a window's worth of in-flight full-size frames at MTU
 * 1500 (2 MiB at most; only cells once allocated are kept). A bulk transfer
 * with an autotuned window has some 700 in flight: at 256, a fifth of all
 * returning cells were dropped at the end of each burst and the next burst
 * cut new slabs (issue 9: 625 slabs for 128 MiB, now 22).
 */
const CELLS_KEPT = 1024;
/** Buffers kept per size class: a window's worth of in-flight frames. */
const POOL_PER_CLASS = 64;

/** Test mode: reused frame buffers are filled with 0xa5 before their next use. */
let poisonRecycled = false;
/** Buffers taken back into a pool, all stacks together (for tests). */
let recycledCount = 0;

/**
 * For tests only: makes every recycled frame buffer hold a poison pattern
 * until reused (catches a receiver that kept a view, or a sender that leaves
 * bytes of a frame unwritten). Returns how many buffers were recycled so far.
 */
export function poisonRecycledFrames(on: boolean): number {
  poisonRecycled = on;
  return recycledCount;
}

function poolCapacity(len: number): number {
  let cap = POOL_MIN_CAP;
  while (cap < len) cap *= 2;
  return cap;
}

/** A cell of a pool slab: the frame view last handed out over it, and the payload view last made of that. */
interface Cell {
  frame: Uint8Array;
  payload: Uint8Array | undefined;
}

/** Fixed-size cells cut from pool slabs, handed out, taken back and handed out again (see SMALL_POOL_MIN). */
class CellPool {
  readonly #cellSize: number;
  readonly #slabSize: number;
  readonly #kept: number;
  /** The pool slab cells are cut from. */
  #slab = new ArrayBuffer(0);
  #at = 0;
  /** Pool slabs, each with its cells by position: frames over their cells are taken back. */
  readonly #slabs = new WeakMap<ArrayBufferLike, Cell[]>();
  /** The current pool slab's cells. */
  #list: Cell[] = [];
  /** Free cells. */
  readonly #free: Cell[] = [];

  constructor(cellSize: number, slabSize: number, kept: number) {
    this.#cellSize = cellSize;
    this.#slabSize = slabSize;
    this.#kept = kept;
  }

  /**
   * The pool slab a frame last came back to, and its cells: frames come back
   * in the order they went out, mostly several in a row from one slab, which
   * then costs no WeakMap lookup per frame (issue 9: two per request/response
   * round trip). The WeakMap stays the authority for every other slab.
   */
  #lastSlab: ArrayBufferLike | undefined;
  #lastCells: Cell[] = [];

  /** Takes `frame` back if it is the view last handed out over one of our cells; whether the buffer was ours. */
  recycle(frame: Uint8Array): boolean {
    const buffer = frame.buffer;
    let cells: Cell[] | undefined;
    if (buffer === this.#lastSlab) cells = this.#lastCells;
    else {
      cells = this.#slabs.get(buffer);
      if (cells === undefined) return false;
      this.#lastSlab = buffer;
      this.#lastCells = cells;
    }
    const free = this.#free;
    if (free.length >= this.#kept) return true;
    const cell = cells[Math.floor(frame.byteOffset / this.#cellSize)];
    // Only the view handed out comes back (a link returns the sender's own frame).
    if (cell === undefined || cell.frame !== frame) return true;
    if (poisonRecycled) {
      // A frame comes back once (Link.setRecycler). Checked in test mode only:
      // even a Set of the free cells cost 2.5% of the CPU per frame (issue 9).
      if (free.includes(cell)) throw new Error('FrameSlab: a frame came back twice (Link.setRecycler)');
      new Uint8Array(frame.buffer, frame.byteOffset, this.#cellSize).fill(0xa5);
    }
    recycledCount++;
    free.push(cell);
    return true;
  }

  /** A cell known to be ours and out (FrameSlab's fast path): free again, if kept. */
  giveBack(cell: Cell): void {
    const free = this.#free;
    if (free.length >= this.#kept) return;
    recycledCount++;
    free.push(cell);
  }

  alloc(len: number): Cell {
    let cell = this.#free.pop();
    if (cell !== undefined) {
      const f = cell.frame;
      if (f.length !== len) {
        cell.frame = new Uint8Array(f.buffer, f.byteOffset, len);
        cell.payload = undefined;
      }
      return cell;
    }
    if (this.#at + this.#cellSize > this.#slab.byteLength) {
      this.#slab = new ArrayBuffer(this.#slabSize);
      this.#list = [];
      this.#slabs.set(this.#slab, this.#list);
      this.#at = 0;
    }
    cell = { frame: new Uint8Array(this.#slab, this.#at, len), payload: undefined };
    this.#list.push(cell);
    this.#at += this.#cellSize;
    return cell;
  }
}

export class FrameSlab {
  #buf = new ArrayBuffer(0);
  #at = 0;
  /** Free buffers by size class: index log2(capacity). */
  readonly #pool: ArrayBuffer[][] = [];
  /** Buffers alloc() made for the pool: only these are taken back (not, say, one shared by several fragments). */
  readonly #ours = new WeakSet<ArrayBufferLike>();
  /** Full-size frames (see SMALL_POOL_MIN) and pure ACKs (see TINY_CELL_SIZE) on recycling links. */
  readonly #cells = new CellPool(CELL_SIZE, FRAME_SLAB_SIZE, CELLS_KEPT);
  readonly #tinyCells = new CellPool(TINY_CELL_SIZE, TINY_SLAB_SIZE, TINY_CELLS_KEPT);
  /** The cell the last alloc() handed out, if it was one (see payloadView and recycle), and its pool. */
  #lastCell: Cell | undefined;
  #lastPool: CellPool | undefined;

  /**
   * A frame of ours that nobody references any more (Link.setRecycler): its
   * buffer serves a later alloc. A bound function, which the Stack gives its
   * links as their recycler as it is: a frame came back through a closure and
   * two forwarding methods (Stack, IpLayer, IpOutput) before (issue 9).
   */
  readonly recycle = (frame: Uint8Array): void => {
    const last = this.#lastCell;
    if (last !== undefined && last.frame === frame && !poisonRecycled) {
      // The frame the last alloc() handed out: in a request/response exchange
      // each frame comes back before the next is sent, so its cell is known
      // without the buffer, slab and offset lookups below (issue 9).
      // Forgotten here, so that frame coming back twice takes the full path
      // as before; payloadView only serves the frame alloc() just made.
      this.#lastCell = undefined;
      this.#lastPool!.giveBack(last);
      return;
    }
    const buffer = frame.buffer;
    if ((buffer.byteLength === TINY_SLAB_SIZE ? this.#tinyCells : this.#cells).recycle(frame)) return;
    if (!this.#ours.has(buffer)) return;
    const k = Math.log2(buffer.byteLength);
    const free = (this.#pool[k] ??= []);
    if (free.length >= POOL_PER_CLASS || free.includes(buffer as ArrayBuffer)) return;
    if (poisonRecycled) new Uint8Array(buffer).fill(0xa5);
    recycledCount++;
    free.push(buffer as ArrayBuffer);
  };

  /**
   * A frame of `len` bytes: zeroed, or (reused) to be written in full by the
   * sender. `recyclable`: the link it goes out on gives frames back
   * (Link.setRecycler), so it may be a cell (see SMALL_POOL_MIN).
   */
  alloc(len: number, recyclable = false): Uint8Array {
    this.#lastCell = undefined;
    if (recyclable) {
      let pool: CellPool | undefined;
      if (len >= SMALL_POOL_MIN && len <= CELL_SIZE) pool = this.#cells;
      else if (len <= TINY_CELL_SIZE) pool = this.#tinyCells;
      if (pool !== undefined) {
        const cell = pool.alloc(len);
        this.#lastCell = cell;
        this.#lastPool = pool;
        return cell.frame;
      }
    }
    if (len > FRAME_SLAB_MAX) {
      if (len > POOL_MAX_CAP) return new Uint8Array(len);
      const cap = poolCapacity(len);
      let buffer = this.#pool[Math.log2(cap)]?.pop();
      if (buffer === undefined) {
        buffer = new ArrayBuffer(cap);
        this.#ours.add(buffer);
      }
      return new Uint8Array(buffer, 0, len);
    }
    if (this.#at + len > this.#buf.byteLength) {
      this.#buf = new ArrayBuffer(FRAME_SLAB_SIZE);
      this.#at = 0;
    }
    const b = new Uint8Array(this.#buf, this.#at, len);
    // 8-byte steps: every frame starts aligned, as a fresh array would.
    this.#at += (len + 7) & ~7;
    return b;
  }

  /**
   * `frame.subarray(at)` for the frame alloc() just returned: where its
   * sender writes the packet after the headers. For a reused cell the view
   * made the last time serves again (issue 9: a view per frame sent was a
   * tenth of a bulk transfer's garbage).
   */
  payloadView(frame: Uint8Array, at: number): Uint8Array {
    const cell = this.#lastCell;
    if (cell === undefined || cell.frame !== frame) return frame.subarray(at);
    let v = cell.payload;
    if (v === undefined || v.byteOffset !== frame.byteOffset + at) {
      v = frame.subarray(at);
      cell.payload = v;
    }
    return v;
  }
}
