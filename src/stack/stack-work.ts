/**
 * The Stack's units of work (stack.ts): a lone frame, a run of frames from
 * a link that reports its batch ends (one clock reading, GRO, one re-arming
 * of the timer), a timer's poll. Never nested: a frame that
 * arrives while the stack is working is queued and handled right after.
 * At the end of each unit the onWorkEnd functions run (issue 9). Kept apart
 * from the Stack's configuration and deadline sweeps; the Stack hands it its
 * IP layer, its protocols and its #schedule.
 */
import type { Interface } from '../iface/interface.js';
import type { Clock } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import type { IpLayer } from './ip-layer.js';
import type { TransportProtocol } from './transport.js';

export class StackWork {
  readonly #clock: Clock;
  readonly #ip: IpLayer;
  /** The Stack's lazyTimers: a real-time clock. */
  readonly #lazy: boolean;
  /** The Stack's #schedule: re-arms the timer for the deadlines as of `now`. */
  readonly #schedule: (now?: Instant) => void;
  /** The Stack's protocols in registration order (the Stack replaces the list on a change). */
  protocols: readonly TransportProtocol[] = [];
  /** Set by Stack.close: frames are ignored from then on. */
  closed = false;
  readonly #inbox: { iface: Interface; frame: Uint8Array }[] = [];
  /** Processing a frame or a poll: a frame arriving now is queued (see onFrame); the Stack re-arms at the end. */
  busy = false;

  constructor(clock: Clock, ip: IpLayer, lazy: boolean, schedule: (now?: Instant) => void) {
    this.#clock = clock;
    this.#ip = ip;
    this.#lazy = lazy;
    this.#schedule = schedule;
  }

  /**
   * True when the frame was processed before returning (not queued behind a
   * running batch): the IP layer and the transports copy whatever they keep
   * (TCP into its receive buffer, UDP and ping into their queues, reassembly
   * into its own buffers), so the link may reuse the bytes (FrameHandler).
   */
  onFrame(iface: Interface, frame: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.busy) {
      this.#inbox.push({ iface, frame });
      return false;
    }
    // Not queued first: the usual frame needs no inbox record (issue 9).
    this.run(undefined, iface, frame);
    return true;
  }

  /**
   * onFrame for a link that reports the end of each run of frames
   * (Link.setBatchEnd): the frames of one run share one clock reading and
   * one re-arming of the timer, in endBatch (issue 9: both showed per
   * frame in bulk profiles). A run is delivered in one synchronous loop, so
   * nothing else sees the stack before its end.
   */
  onBatchFrame(iface: Interface, frame: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.busy) {
      this.#inbox.push({ iface, frame });
      return false;
    }
    let now: Instant;
    if (this.batchOpen) now = this.#batchAt;
    else {
      now = this.#batchAt = this.#clock.now();
      this.batchOpen = true;
      this.#groBegin();
    }
    // #receive without its work and its inbox walk (empty here: not busy; a
    // frame the IP layer's work queues is walked after): issue 9, a run of
    // one frame per request/response half.
    this.busy = true;
    try {
      this.#ip.receive(now, iface, frame);
      if (this.#inbox.length !== 0) this.#receiveQueued(now);
    } finally {
      this.busy = false;
    }
    return true;
  }

  /** The clock reading of the run of frames being received (onBatchFrame), until its end. */
  batchOpen = false;
  /**
   * Meaningful while batchOpen. A field that only ever holds a number: V8
   * keeps its value in place, where storing a reading into a field that
   * also held undefined allocated a heap number per run (issue 9: epoch
   * microseconds are beyond small integers).
   */
  #batchAt = 0 as Instant;

  readonly endBatch = (): void => {
    if (!this.batchOpen) return;
    const now = this.#batchAt;
    this.batchOpen = false;
    try {
      // GRO's held packets first: readers they wake are retried at the work end below.
      if (this.#groOpen && this.#groEnd()) this.#receive(now, this.#groFlush);
      this.#schedule(now);
    } finally {
      this.#workEnded();
    }
  };

  /**
   * GRO (issue 9; Linux napi_gro_receive, flushed by napi_complete): on a
   * real-time clock, whose memory wires deliver whole due-now runs, the
   * protocols may hold a run's packets back and merge them, and process
   * them at its end. Simulated clocks deliver frame by frame: no GRO, so
   * seeded runs and packetdrill replays stay as they were.
   */
  #groBegin(): void {
    if (!this.#lazy) return;
    this.#groOpen = true;
    const list = this.protocols;
    for (let i = 0; i < list.length; i++) list[i]!.batchBegin?.();
  }

  #groOpen = false;

  /** Closes the run; true when a protocol holds packets to flush (a run of one request costs no more). */
  #groEnd(): boolean {
    this.#groOpen = false;
    let held = false;
    const list = this.protocols;
    for (let i = 0; i < list.length; i++) if (list[i]!.batchEnd?.() === true) held = true;
    return held;
  }

  readonly #groFlush = (now: Instant): void => {
    const list = this.protocols;
    for (let i = 0; i < list.length; i++) list[i]!.batchFlush?.(now, this.#ip);
  };

  /** Runs `work` (if any), then `frame` (if any), then every queued frame, then re-arms the timer. Never nested. */
  run(work: ((now: Instant) => void) | undefined, iface?: Interface, frame?: Uint8Array): void {
    // One clock read per batch, not per frame (performance.now() showed in
    // bulk profiles): the frames of one batch arrive at one instant, and the
    // timer is re-armed against the same reading.
    const now = this.#clock.now();
    try {
      this.#receive(now, work, iface, frame);
      this.#schedule(now);
    } finally {
      this.#workEnded();
    }
  }

  // ---------------------------------------------------------------- work end (issue 9)

  /** See onWorkEnd; read by Stack.retryAtWorkEnd, replaced (never changed in place) here. */
  workEnd: readonly (() => void)[] = [];

  /**
   * Issue 9: `fn` runs at the end of every unit of this stack's work (a run
   * of frames from a link with batch ends, a lone frame, a timer's poll),
   * once the frames are processed and the timer re-armed. The syscall layer
   * retries there the blocked calls that the work woke (a read woken by
   * the segment that brought its data), instead of from a microtask of
   * their own: Linux's woken reader likewise runs once the softirq that
   * woke it is done, not inside it. Only while `retryAtWorkEnd` (Stack) said so.
   */
  onWorkEnd(fn: () => void): void {
    this.workEnd = [...this.workEnd, fn];
  }

  #workEnded(): void {
    const fns = this.workEnd;
    for (let i = 0; i < fns.length; i++) fns[i]!();
  }

  /** run without the re-arming: `work`, `frame`, then every queued frame, all at `now`, busy meanwhile. */
  #receive(now: Instant, work: ((now: Instant) => void) | undefined, iface?: Interface, frame?: Uint8Array): void {
    this.busy = true;
    try {
      if (work !== undefined) work(now);
      if (frame !== undefined) this.#ip.receive(now, iface!, frame);
      this.#receiveQueued(now);
    } finally {
      this.busy = false;
    }
  }

  /** The frames queued while busy, in arrival order, and any they make queue; busy already. */
  #receiveQueued(now: Instant): void {
    for (let item = this.#inbox.shift(); item !== undefined; item = this.#inbox.shift()) {
      this.#ip.receive(now, item.iface, item.frame);
    }
  }
}
