/**
 * Where the IP layer's outgoing frames come from: small frames carved from
 * shared slabs, large ones from per-size pools that links hand frames back
 * to once the receiver is done (Link.setRecycler). Kept apart from the IP
 * layer because it is memory policy, not IP.
 */
/**
 * Outgoing frames up to FRAME_SLAB_MAX bytes are carved from shared slabs.
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

export class FrameSlab {
  #buf = new ArrayBuffer(0);
  #at = 0;
  /** Free buffers by size class: index log2(capacity). */
  readonly #pool: ArrayBuffer[][] = [];
  /** Buffers alloc() made for the pool: only these are taken back (not, say, one shared by several fragments). */
  readonly #ours = new WeakSet<ArrayBufferLike>();

  /** A frame of ours that nobody references any more (Link.setRecycler): its buffer serves a later alloc. */
  recycle(frame: Uint8Array): void {
    const buffer = frame.buffer;
    if (!this.#ours.has(buffer)) return;
    const k = Math.log2(buffer.byteLength);
    const free = (this.#pool[k] ??= []);
    if (free.length >= POOL_PER_CLASS || free.includes(buffer as ArrayBuffer)) return;
    if (poisonRecycled) new Uint8Array(buffer).fill(0xa5);
    recycledCount++;
    free.push(buffer as ArrayBuffer);
  }

  alloc(len: number): Uint8Array {
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
}
