/**
 * netem for any Link: a wrapper that delays, rate-limits, drops, duplicates,
 * reorders and corrupts the frames crossing it, in either direction, with
 * the same seeded model as MemoryNetwork (memory-impairments.ts). It exists
 * for real devices whose kernel cannot impair traffic itself: the TUN
 * interop tests run on a kernel built without netem (no
 * CONFIG_NET_SCH_NETEM, no NFT_QUEUE), so the fixed delay and reordering
 * they need are applied here, on sockstack's side of the wire.
 *
 * Egress impairs frames the stack sends before they reach the inner link;
 * ingress impairs frames the inner link receives before the stack sees
 * them. Each direction has its own random stream (forked from the seed), its
 * own FIFO bound for jitter and its own transmit queue, so traffic one way
 * never shifts the draws of the other.
 *
 * Like MemoryNetwork, a delayed frame is delivered by a clock timer, never
 * synchronously inside send(). A direction with no impairment at all (and
 * nothing in flight) passes frames straight through without drawing.
 */
import { SeededRng } from '../random/rng.js';
import type { Rng } from '../random/rng.js';
import { Counters } from '../stats/counters.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import type { MacAddress } from '../wire/address.js';
import type { FrameHandler, Link, LinkType } from './link.js';
import type { MemoryImpairments } from './memory-impairments.js';
import {
  DEFAULT_IMPAIRMENTS,
  FrameFate,
  ImpairmentCounter,
  TransmitQueue,
  checkImpairments,
  drawFrameFate,
  flipBit,
  isQuiet,
  jitterOf,
  mergeImpairments,
} from './memory-impairments.js';

export interface ImpairLinkOptions {
  /** Drives every delayed delivery; the stack's own clock (a VirtualClock in simulations, a SystemClock on a real device). */
  readonly clock: Clock;
  /** Seeds every random choice: a number, or a stream to fork from. Default 0. */
  readonly seed?: number | Rng;
  /** Impairments of frames the stack sends (toward the inner link); fields left out are MemoryNetwork's defaults (none). */
  readonly egress?: Partial<MemoryImpairments>;
  /** Impairments of frames the inner link receives (toward the stack). */
  readonly ingress?: Partial<MemoryImpairments>;
}

/**
 * Counter names, in each direction's `counters`: MemoryCounter's event names
 * (ImpairmentCounter), so a test reads either kind of link the same way.
 * Sent: frames entering the direction. Delivered: frames passed on (to the
 * inner link, or to the receiver); each copy of a duplicate counts.
 * DroppedQueue: tail drop at a bandwidth-limited direction's full queue.
 * DroppedClosed: in flight when the link was closed, or sent after.
 * DroppedNoReceiver: arrived while the link had no receiver (ingress only).
 */
export const ImpairCounter = ImpairmentCounter;

export type ImpairDirectionName = 'egress' | 'ingress';

/** One direction through the wrapper: its impairments, random stream, FIFO bound and transmit queue. */
export class ImpairDirection {
  readonly name: ImpairDirectionName;
  readonly counters = new Counters();
  #impairments: MemoryImpairments;
  #quiet: boolean;
  readonly #rng: SeededRng;
  readonly #queue = new TransmitQueue();
  readonly #fate = new FrameFate();
  /** Arrival time of the last frame not reordered: later frames never arrive before it (a cable is a FIFO). */
  #lastArrival = 0 as Instant;

  /** Made by ImpairedLink; not for direct use. */
  constructor(name: ImpairDirectionName, rng: SeededRng, impairments: Partial<MemoryImpairments>) {
    checkImpairments(impairments);
    this.name = name;
    this.#rng = rng;
    this.#impairments = { ...DEFAULT_IMPAIRMENTS, ...mergeImpairments({}, impairments) };
    this.#quiet = isQuiet(this.#impairments);
  }

  get impairments(): MemoryImpairments {
    return this.#impairments;
  }

  /** Changes this direction's impairments; fields left out keep their current value. Frames in flight keep their fate. */
  setImpairments(impairments: Partial<MemoryImpairments>): void {
    checkImpairments(impairments);
    this.#impairments = { ...this.#impairments, ...mergeImpairments({}, impairments) };
    this.#quiet = isQuiet(this.#impairments);
  }

  /** No impairment at all: frames may pass straight through. */
  get transparent(): boolean {
    const imp = this.#impairments;
    return this.#quiet && imp.latency === 0 && imp.bandwidth === Infinity;
  }

  /**
   * Decides what happens to `frame` sent at `now`: calls `schedule` once per
   * copy to deliver (none if dropped) with its arrival time. The frame's
   * first intact copy is the frame itself (the caller gave it away); any
   * other copy is a fresh buffer, as the receiver of one may change it.
   */
  impair(frame: Uint8Array, now: Instant, schedule: (at: Instant, frame: Uint8Array, inOrder: boolean) => void): void {
    const imp = this.#impairments;
    const counters = this.counters;
    counters.increment(ImpairCounter.Sent);
    const departure = this.#queue.admit(now, frame.length, imp);
    if (departure === undefined) {
      counters.increment(ImpairCounter.DroppedQueue);
      return;
    }
    if (this.#quiet) {
      let at = departure + imp.latency;
      if (at < this.#lastArrival) at = this.#lastArrival;
      this.#lastArrival = at as Instant;
      schedule(at as Instant, frame, true);
      return;
    }
    const fate = this.#fate;
    drawFrameFate(this.#rng, imp, fate);
    if (fate.lost) {
      counters.increment(ImpairCounter.DroppedLoss);
      return;
    }
    let at = departure + imp.latency + jitterOf(fate, imp);
    if (fate.reordered) {
      // Held back and not recorded as the FIFO bound: later frames overtake it.
      counters.increment(ImpairCounter.Reordered);
      at += imp.reorderDelay;
    } else {
      // Jitter alone never reorders: a later frame waits for an earlier one.
      if (at < this.#lastArrival) at = this.#lastArrival;
      this.#lastArrival = at as Instant;
    }
    if (fate.duplicated) counters.increment(ImpairCounter.Duplicated);
    const copies = fate.duplicated ? 2 : 1;
    let originalGiven = false;
    for (let k = 0; k < copies; k++) {
      const corrupt = k === 0 ? fate.corrupt1 : fate.corrupt2;
      let buf = frame;
      // Copy before flipping: the other copy may be the original.
      if (originalGiven || corrupt) buf = frame.slice();
      else originalGiven = true;
      if (corrupt) {
        flipBit(buf, k === 0 ? fate.bit1 : fate.bit2);
        counters.increment(ImpairCounter.Corrupted);
      }
      schedule(at as Instant, buf, !fate.reordered);
    }
  }
}

/** A delivery that must not be overtaken by a later in-order one (see ImpairedLink.#pass). */
interface InOrderDelivery {
  readonly buf: Uint8Array;
  handle: TimerHandle | undefined;
  done: boolean;
}

/** A Link wrapping another with netem-like impairments both ways. Build one with `impairLink`. */
export class ImpairedLink implements Link {
  readonly inner: Link;
  readonly linkType: LinkType;
  readonly mtu: number;
  readonly mac?: MacAddress;
  /** Frames the stack sends, on their way to the inner link. */
  readonly egress: ImpairDirection;
  /** Frames the inner link received, on their way to the stack. */
  readonly ingress: ImpairDirection;
  readonly #clock: Clock;
  readonly #pending = new Set<TimerHandle>();
  /**
   * Per direction, the in-order deliveries not yet made, oldest first. Their
   * arrival times never decrease (the FIFO clamp in impair()), but a
   * real-time clock may still fire a later timer first: a frame due now runs
   * from setImmediate while an earlier one waits on a late setTimeout. So
   * each in-order timer delivers everything queued ahead of it first, as a
   * cable would. Frames reordered on purpose are not queued.
   */
  readonly #inOrder = new Map<ImpairDirection, InOrderDelivery[]>();
  #receiver: FrameHandler | undefined;
  #closed = false;

  constructor(inner: Link, options: ImpairLinkOptions) {
    this.inner = inner;
    this.linkType = inner.linkType;
    this.mtu = inner.mtu;
    // Absent stays absent (exactOptionalPropertyTypes): no `mac: undefined` key.
    if (inner.mac !== undefined) this.mac = inner.mac;
    this.#clock = options.clock;
    const root = rootRng(options.seed);
    this.egress = new ImpairDirection('egress', root.fork('egress'), options.egress ?? {});
    this.ingress = new ImpairDirection('ingress', root.fork('ingress'), options.ingress ?? {});
    inner.setReceiver(this.#fromInner);
  }

  /**
   * The inner link's answer, unless either direction may corrupt: then the
   * stack must verify checksums. Live, like MemoryLink's.
   */
  get trusted(): boolean {
    return (this.inner.trusted ?? false) && this.egress.impairments.corrupt === 0 && this.ingress.impairments.corrupt === 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Deliveries armed and not yet made, both directions. */
  get pendingFrames(): number {
    return this.#pending.size;
  }

  send(frame: Uint8Array): void {
    if (this.#closed) {
      this.egress.counters.increment(ImpairCounter.DroppedClosed);
      return;
    }
    this.#pass(this.egress, frame, this.#toInner);
  }

  setReceiver(handler: FrameHandler | undefined): void {
    if (this.#closed) return;
    this.#receiver = handler;
  }

  /** Closes the inner link and cancels every delivery still pending (counted as dropped-closed). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#receiver = undefined;
    for (const h of this.#pending) this.#clock.clearTimer(h);
    const n = this.#pending.size;
    this.#pending.clear();
    this.#inOrder.clear();
    // Which direction each cancelled frame was in is not kept; both see the same count name.
    if (n > 0) this.egress.counters.increment(ImpairCounter.DroppedClosed, n);
    this.inner.setReceiver(undefined);
    this.inner.close();
  }

  readonly #fromInner = (frame: Uint8Array): void => {
    if (this.#closed) return;
    this.#pass(this.ingress, frame, this.#toReceiver);
  };

  readonly #toInner = (frame: Uint8Array): void => {
    this.egress.counters.increment(ImpairCounter.Delivered);
    this.inner.send(frame);
  };

  readonly #toReceiver = (frame: Uint8Array): void => {
    const receiver = this.#receiver;
    if (receiver === undefined) {
      this.ingress.counters.increment(ImpairCounter.DroppedNoReceiver);
      return;
    }
    this.ingress.counters.increment(ImpairCounter.Delivered);
    receiver(frame);
  };

  #pass(dir: ImpairDirection, frame: Uint8Array, deliver: (frame: Uint8Array) => void): void {
    if (this.#pending.size === 0 && dir.transparent) {
      // Nothing to do and nothing a frame could overtake: no timer. The
      // inner link itself never delivers synchronously inside send().
      dir.counters.increment(ImpairCounter.Sent);
      deliver(frame);
      return;
    }
    dir.impair(frame, this.#clock.now(), (at, buf, inOrder) => {
      if (!inOrder) {
        const handle = this.#clock.setTimer(at, () => {
          this.#pending.delete(handle);
          deliver(buf);
        });
        this.#pending.add(handle);
        return;
      }
      let queue = this.#inOrder.get(dir);
      if (queue === undefined) this.#inOrder.set(dir, (queue = []));
      const entry: InOrderDelivery = { buf, handle: undefined, done: false };
      queue.push(entry);
      const q = queue;
      entry.handle = this.#clock.setTimer(at, () => this.#deliverThrough(q, entry, deliver));
      this.#pending.add(entry.handle);
    });
  }

  /** Delivers the in-order frames of `queue` up to and including `last`, oldest first. */
  #deliverThrough(queue: InOrderDelivery[], last: InOrderDelivery, deliver: (frame: Uint8Array) => void): void {
    if (last.done) return;
    let i = 0;
    while (i < queue.length) {
      const e = queue[i++] as InOrderDelivery;
      if (e.done) continue;
      e.done = true;
      if (e.handle !== undefined) {
        this.#clock.clearTimer(e.handle);
        this.#pending.delete(e.handle);
      }
      deliver(e.buf);
      if (e === last || this.#closed) break;
    }
    // Drop what has been delivered (a receiver may have sent and queued more meanwhile).
    let k = 0;
    while (k < queue.length && (queue[k] as InOrderDelivery).done) k++;
    if (k > 0) queue.splice(0, k);
  }
}

function rootRng(seed: number | Rng | undefined): SeededRng {
  if (seed === undefined) return new SeededRng(0);
  if (typeof seed === 'number') return new SeededRng(seed);
  if (seed instanceof SeededRng) return seed;
  // Any other stream: one draw seeds ours, so the wrapper is still replayable from it.
  return new SeededRng(seed.nextU32());
}

/**
 * Wraps `link` so frames crossing it are impaired: `egress` for frames the
 * stack sends, `ingress` for frames it receives. Give the stack the returned
 * link; closing it closes `link`.
 */
export function impairLink(link: Link, options: ImpairLinkOptions): ImpairedLink {
  return new ImpairedLink(link, options);
}
