/**
 * The loopback device (Linux `lo`): what a stack sends comes back to its own
 * receiver. Frames are bare IP packets (no link header) and the medium is
 * memory, so it is trusted: the stack may skip checksums, as Linux does.
 *
 * Delivery goes through the clock (a timer at `now`), never synchronously
 * inside send(): otherwise the stack would re-enter itself from its own
 * transmit path.
 */
import { Counters } from '../stats/counters.js';
import type { Clock } from '../time/clock.js';
import type { FrameHandler, Link } from './link.js';
import { LinkType } from './link.js';

/** Linux's loopback MTU since 3.6. */
export const LOOPBACK_MTU = 65_536;

export interface LoopbackLinkOptions {
  readonly clock: Clock;
  /** Default 65536, like Linux `lo`. */
  readonly mtu?: number;
}

export class LoopbackLink implements Link {
  readonly linkType = LinkType.RawIp;
  readonly mtu: number;
  readonly trusted = true;
  /** sent, delivered, oversize, dropped-closed, dropped-no-receiver. */
  readonly counters = new Counters();
  readonly #clock: Clock;
  #receiver: FrameHandler | undefined;
  #closed = false;

  constructor(options: LoopbackLinkOptions) {
    const mtu = options.mtu ?? LOOPBACK_MTU;
    if (!Number.isInteger(mtu) || mtu < 68) throw new RangeError(`LoopbackLink: mtu must be a whole number >= 68: ${mtu}`);
    this.mtu = mtu;
    this.#clock = options.clock;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(frame: Uint8Array): void {
    if (this.#closed) {
      this.counters.increment('dropped-closed');
      return;
    }
    this.counters.increment('sent');
    if (frame.length > this.mtu) {
      this.counters.increment('oversize');
      return;
    }
    // The frame is ours now (link.ts ownership) and goes to exactly one
    // receiver, so it needs no copy.
    this.#clock.setTimer(this.#clock.now(), () => {
      // Closing drops what is still in flight, like taking `lo` down.
      if (this.#closed) {
        this.counters.increment('dropped-closed');
        return;
      }
      const receiver = this.#receiver;
      if (receiver === undefined) {
        this.counters.increment('dropped-no-receiver');
        return;
      }
      this.counters.increment('delivered');
      receiver(frame);
    });
  }

  setReceiver(handler: FrameHandler | undefined): void {
    this.#receiver = handler;
  }

  close(): void {
    this.#closed = true;
    this.#receiver = undefined;
  }
}
