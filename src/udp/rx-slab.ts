/**
 * Where received UDP datagrams are copied: small shared slabs rather than
 * each into its own `slice()`. Above 64 bytes a fresh Uint8Array mallocs
 * and zeroes its own backing store, which dominated UDP receive in the
 * udp-pps benchmark (issue 9). Bump allocation only, never reused.
 *
 * A slab lives as long as any datagram in it is queued, so a datagram that
 * lingers in an idle socket's queue would keep the whole 16 KiB alive (with
 * a thousand such sockets, 16 MiB for a few kilobytes of data). So a slab
 * counts the bytes still queued in it, and once it is retired (full) and
 * mostly unused (at most RX_SLAB_LOW bytes live) through one more slab's
 * worth of traffic, its remaining datagrams get their own copies and it is
 * freed. A flowing stream reads its datagrams long before that, so only
 * lingerers are copied: at most a quarter of a slab, once.
 */
import type { DatagramQueue, SharedStore } from './datagram-queue.js';

const RX_SLAB_SIZE = 16 * 1024;
/** Larger datagrams get their own array: a slab would hold only a few. */
export const RX_SLAB_MAX = 2048;
/** A retired slab with at most this many bytes queued is mostly waste. */
const RX_SLAB_LOW = RX_SLAB_SIZE / 4;

class RxSlab implements SharedStore {
  readonly buffer = new ArrayBuffer(RX_SLAB_SIZE);
  at = 0;
  /** Bytes of datagrams still queued. */
  live = 0;
  retired = false;
  /** On the low list (waiting for the next retirement to copy its lingerers out). */
  low = false;
  /** Every queue holding a datagram of this slab, each once (DatagramQueue.lastStore). */
  queues: DatagramQueue[] = [];

  released(len: number): void {
    this.live -= len;
    if (!this.retired) return;
    if (this.live === 0) this.forget();
    else if (!this.low && this.live <= RX_SLAB_LOW) markLow(this);
  }

  /** Copies the lingering datagrams out of the slab; nothing references it afterwards. */
  rehome(): void {
    for (const q of this.queues) q.rehome(this);
    this.queues = [];
    this.live = 0;
  }

  /** Retired and empty: no queue may keep it alive through lastStore. */
  forget(): void {
    for (const q of this.queues) if (q.lastStore === this) q.lastStore = undefined;
    this.queues = [];
  }
}

let current: RxSlab | undefined;
/** Retired, mostly unused slabs since the last retirement. */
let lowSlabs: RxSlab[] = [];

function markLow(s: RxSlab): void {
  s.low = true;
  lowSlabs.push(s);
}

/** A new current slab; slabs that stayed mostly unused for a whole slab of traffic let go of their lingerers. */
function nextSlab(): RxSlab {
  const old = lowSlabs;
  lowSlabs = [];
  for (const s of old) if (s.live > 0) s.rehome();
  const prev = current;
  if (prev !== undefined) {
    prev.retired = true;
    if (prev.live === 0) prev.forget();
    else if (prev.live <= RX_SLAB_LOW) markLow(prev);
  }
  current = new RxSlab();
  return current;
}

/**
 * Queues a copy of `payload` on `queue` (DatagramQueue.push with `cost` and
 * `limit`); false when the queue refused it.
 */
export function queueDatagram(queue: DatagramQueue, from: Parameters<DatagramQueue['push']>[0], payload: Uint8Array, cost: number, limit: number): boolean {
  const len = payload.length;
  if (len > RX_SLAB_MAX) return queue.push(from, payload.slice(), cost, limit);
  let slab = current;
  if (slab === undefined || slab.at + len > RX_SLAB_SIZE) slab = nextSlab();
  const out = new Uint8Array(slab.buffer, slab.at, len);
  out.set(payload);
  if (!queue.push(from, out, cost, limit, slab)) return false;
  // Only now: a refused datagram takes no room (the next one reuses it).
  slab.at += (len + 7) & ~7;
  slab.live += len;
  if (queue.lastStore !== slab) {
    queue.lastStore = slab;
    slab.queues.push(queue);
  }
  return true;
}

