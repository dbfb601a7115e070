/**
 * Delivery on the memory switch (memory-switch.ts): a frame whose fate the
 * switch has drawn reaches its receiving port here, on the caller's Clock:
 * one timer per frame (in FIFO order per path), or in due-now batches on a
 * real-time clock, with the receivers' batch ends (Link.setBatchEnd) and
 * the senders' recycling (Link.setRecycler). Kept apart from the switch's
 * forwarding and impairments: what happens to a frame once it is sent is
 * decided there, when and how it arrives here.
 */
import type { CounterCell, Counters } from '../stats/counters.js';
import type { Clock } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import type { Path, Port, WaitingFrame } from './memory-port.js';
import { MemoryCounter } from './memory-port.js';

/**
 * Real-time clocks: due-now frames delivered in microtask batches between
 * two timer batches (see schedule). Counted in frames, not batches, so the
 * longest run without an event loop turn is about the same for a bulk
 * transfer (dozens of frames a batch) as for a request/response exchange
 * (one frame a batch). Derived from the benchmarks' rates on the 2-vCPU
 * machine of the README table: about 0.8 ms of tcp-bulk-1500 (1.5 us a
 * frame) and 1.2 ms of tcp-rr (2.4 us a frame).
 */
const MICROTASK_FRAMES = 512;
/** What due-now batches are chained on to run as microtasks. */
const SETTLED: Promise<void> = Promise.resolve();

/** The delivering half of the switch (Switch.send hands it each frame with its arrival time). */
export class MemoryDelivery {
  readonly #clock: Clock;
  readonly #counters: Counters;
  readonly #delivered: CounterCell;
  /**
   * Real-time clocks only: frames due at once (no latency) are queued here
   * and delivered by one timer per batch, not one timer and closure per
   * frame (issue 9). Simulated clocks keep one timer per frame, so the
   * order of deliveries among other timers of the same instant, which
   * seeded tests and packetdrill replay, does not change.
   */
  readonly #batchDue: boolean;
  #dueArmed = false;
  #microFrames = MICROTASK_FRAMES;
  /**
   * The batch: the first #dueCount slots of these arrays (and the spares the
   * next batch fills while one is delivered). Counted, never truncated:
   * setting an array's length is a runtime call, three per batch (issue 9).
   */
  #dueFrom: Port[] = [];
  #dueTo: Port[] = [];
  #dueFrames: (Uint8Array | undefined)[] = [];
  #dueCount = 0;
  #spareFrom: Port[] = [];
  #spareTo: Port[] = [];
  #spareFrames: (Uint8Array | undefined)[] = [];

  constructor(clock: Clock, counters: Counters, delivered: CounterCell, batchDue: boolean) {
    this.#clock = clock;
    this.#counters = counters;
    this.#delivered = delivered;
    this.#batchDue = batchDue;
  }

  /** As Switch's: the network's and the port's counter. */
  #count(name: string, port: Port): void {
    this.#counters.increment(name);
    port.counters.increment(name);
  }

  /** `fifo`: the path, for a frame that must not overtake earlier ones on it; undefined for a frame reordered on purpose. */
  schedule(at: Instant, now: Instant, from: Port, to: Port, frame: Uint8Array, fifo?: Path): void {
    const waiting = fifo?.waiting;
    // Batched only when no earlier frame of the path still waits for its timer.
    if (this.#batchDue && at <= now && (waiting === undefined || fifo!.waitingHead === waiting.length)) {
      const i = this.#dueCount++;
      this.#dueFrom[i] = from;
      this.#dueTo[i] = to;
      this.#dueFrames[i] = frame;
      this.#microFrames--;
      if (!this.#dueArmed) {
        this.#dueArmed = true;
        // Most batches go as a microtask: a macrotask per hop costs an event
        // loop turn, which dominated a request/response round trip (issue
        // 9). Still never inside send() itself; and once MICROTASK_FRAMES
        // frames went that way, a batch goes as a timer, so two stacks
        // talking cannot starve the event loop (timers, I/O) of a real-time
        // process. (Every 32 batches cost tcp-rr 6-7% of its time idle in
        // those turns.)
        if (this.#microFrames > 0) {
          // A settled promise's then(), not queueMicrotask: the same microtask
          // queue, but Node's queueMicrotask wraps every callback in an
          // AsyncResource, three times the cost of a bare reaction job.
          void SETTLED.then(this.#deliverDue);
        } else {
          this.#microFrames = MICROTASK_FRAMES;
          this.#clock.setTimer(at, this.#deliverDue);
        }
      }
      return;
    }
    if (fifo === undefined) {
      this.#clock.setTimer(at, () => {
        this.#deliver(from, to, frame);
      });
      return;
    }
    const w: WaitingFrame = { from, to, frame, delivered: false };
    (fifo.waiting ??= []).push(w);
    this.#clock.setTimer(at, () => {
      this.#deliverThrough(fifo, w);
    });
  }

  /** Delivers the frames waiting on `path` up to and including `w`, oldest first (see Path.waiting). */
  #deliverThrough(path: Path, w: WaitingFrame): void {
    if (w.delivered) return;
    const q = path.waiting!;
    for (;;) {
      const next = q[path.waitingHead]!;
      q[path.waitingHead++] = undefined;
      if (path.waitingHead === q.length) {
        q.length = 0;
        path.waitingHead = 0;
      } else if (path.waitingHead >= 1024 && path.waitingHead * 2 >= q.length) {
        // A path that never drains (a long bulk transfer) must not grow forever.
        q.splice(0, path.waitingHead);
        path.waitingHead = 0;
      }
      next.delivered = true;
      this.#deliver(next.from, next.to, next.frame);
      if (next === w) return;
    }
  }

  /**
   * Delivers the frames queued when the batch timer fired, in send order.
   * Frames sent meanwhile (replies) go to the next batch: a pair of stacks
   * must not ping-pong inside one macrotask and starve the event loop.
   */
  readonly #deliverDue = (): void => {
    const from = this.#dueFrom;
    const to = this.#dueTo;
    const frames = this.#dueFrames;
    const n = this.#dueCount;
    this.#dueFrom = this.#spareFrom;
    this.#dueTo = this.#spareTo;
    this.#dueFrames = this.#spareFrames;
    this.#dueCount = 0;
    this.#dueArmed = false;
    if (n === 1) {
      // A batch of one frame (each hop of a request/response exchange): its
      // receiver's batch end and the sender's recycling follow the frame at
      // once, as for a frame delivered alone (#deliver outside a batch), in
      // the same order as below, without the lists that defer them to the
      // end of a longer batch (issue 9).
      const frame = frames[0]!;
      frames[0] = undefined;
      this.#spareFrom = from;
      this.#spareTo = to;
      this.#spareFrames = frames;
      this.#deliver(from[0]!, to[0]!, frame);
      return;
    }
    let i = 0;
    this.#inBatch = true;
    try {
      for (; i < n; i++) {
        const frame = frames[i]!;
        // Dropped from the batch before delivery: a receiver keeps what it needs.
        frames[i] = undefined;
        this.#deliver(from[i]!, to[i]!, frame);
      }
    } finally {
      this.#inBatch = false;
      // A receiver threw: the rest of the batch is dropped, as before, and no frame is held.
      for (; i < n; i++) frames[i] = undefined;
      this.#spareFrom = from;
      this.#spareTo = to;
      this.#spareFrames = frames;
      // Link.setBatchEnd: once per receiving port, after the whole batch.
      const ended = this.#batchPorts;
      const m = this.#batchPortCount;
      this.#batchPortCount = 0;
      for (let k = 0; k < m; k++) {
        const port = ended[k]!;
        port.inBatch = false;
        port.batchEnd?.();
      }
      // Link.setRecycler: frames of the batch go back only now, after every
      // receiver's batch end (a Stack's GRO holds frame views until then).
      const recyclers = this.#heldRecyclers;
      const held = this.#heldFrames;
      const h = this.#heldCount;
      this.#heldCount = 0;
      for (let k = 0; k < h; k++) {
        const frame = held[k]!;
        held[k] = undefined;
        recyclers[k]!(frame);
      }
    }
  };

  /** Frames of the batch being delivered whose senders get them back at its end (the first #heldCount slots). */
  readonly #heldRecyclers: ((frame: Uint8Array) => void)[] = [];
  readonly #heldFrames: (Uint8Array | undefined)[] = [];
  #heldCount = 0;

  /** Delivering a due-now batch: receivers' batchEnd calls wait for its end (Link.setBatchEnd). */
  #inBatch = false;
  /** The ports that received frames in the batch being delivered (the first #batchPortCount slots). */
  readonly #batchPorts: Port[] = [];
  #batchPortCount = 0;

  #deliver(from: Port, to: Port, frame: Uint8Array): void {
    if (to.closed) {
      this.#count(MemoryCounter.DroppedClosed, to);
      return;
    }
    if (!to.enabled) {
      this.#count(MemoryCounter.DroppedDisabled, to);
      return;
    }
    // Checked on arrival, so a partition also cuts frames already in flight.
    // (An empty set, the usual case, costs no lookup per frame: issue 9.)
    if (from.blocked.size !== 0 && from.blocked.has(to)) {
      this.#count(MemoryCounter.DroppedPartition, to);
      return;
    }
    const receiver = to.receiver;
    if (receiver === undefined) {
      this.#count(MemoryCounter.DroppedNoReceiver, to);
      return;
    }
    this.#delivered.n++;
    to.delivered.n++;
    // Owed before the receiver runs, so a receiver that throws is still told.
    if (this.#inBatch && !to.inBatch && to.batchEnd !== undefined) {
      to.inBatch = true;
      this.#batchPorts[this.#batchPortCount++] = to;
    }
    let done: unknown;
    if (this.#inBatch || to.batchEnd === undefined) done = receiver(frame);
    else {
      try {
        done = receiver(frame);
      } finally {
        to.batchEnd?.();
      }
    }
    // Give the sender its buffer back when the receiver kept no reference
    // (Link.setRecycler). Every other copy of it was made in send(); a copy
    // handed back is the sender's to reuse as well, since nobody else has it.
    const recycle = from.recycler;
    if (done === true && recycle !== undefined) {
      if (this.#inBatch) {
        const k = this.#heldCount++;
        this.#heldRecyclers[k] = recycle;
        this.#heldFrames[k] = frame;
      } else recycle(frame);
    }
  }
}
