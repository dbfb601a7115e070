/**
 * The packetdrill test link: a raw-IP Link whose far end is the script.
 * `inject()` hands a packet to the stack as if it arrived from the wire
 * (the script's `<` lines); everything the stack sends is queued, stamped
 * with the clock time it left, for the runner to match against `>` lines.
 */
import type { FrameHandler, Link } from '../link/link.js';
import { LinkType } from '../link/link.js';
import type { Clock } from '../time/clock.js';

export interface SentPacket {
  /** When the stack sent it (the clock's now() at send). */
  readonly at: number;
  /** A copy of the IP packet. */
  readonly bytes: Uint8Array;
}

export class PacketdrillTestLink implements Link {
  readonly linkType = LinkType.RawIp;
  readonly mtu: number;
  // Untrusted: the stack must compute and verify real checksums, as on a tun device.
  readonly trusted = false;
  readonly #clock: Clock;
  readonly #sent: SentPacket[] = [];
  #receiver: FrameHandler | undefined;
  #closed = false;

  constructor(clock: Clock, mtu = 1500) {
    this.#clock = clock;
    this.mtu = mtu;
  }

  send(frame: Uint8Array): void {
    if (this.#closed) return;
    // Copy: the stack may reuse its transmit buffer.
    this.#sent.push({ at: this.#clock.now(), bytes: frame.slice() });
  }

  setReceiver(handler: FrameHandler | undefined): void {
    this.#receiver = handler;
  }

  close(): void {
    this.#closed = true;
  }

  /** Delivers one IP packet to the stack. */
  inject(packet: Uint8Array): void {
    if (!this.#closed) this.#receiver?.(packet);
  }

  /** Packets sent and not yet taken. */
  get pending(): number {
    return this.#sent.length;
  }

  peek(): SentPacket | undefined {
    return this.#sent[0];
  }

  take(): SentPacket | undefined {
    return this.#sent.shift();
  }
}
