/**
 * A sniffer: a Link that wraps another and records every frame crossing it,
 * in both directions, to a pcap stream, then passes it on unchanged. The
 * stack cannot tell it apart from the inner link (same type, MTU, address),
 * so capture is a matter of wrapping a link at construction, the way
 * gVisor's sniffer endpoint wraps a link endpoint.
 */
import type { Clock } from '../time/clock.js';
import type { MacAddress } from '../wire/address.js';
import type { FrameHandler, Link, LinkType } from './link.js';
import type { PcapWriter } from './pcap.js';

export interface PcapLinkOptions {
  /** Where the frames go; its linkType must match the inner link's. */
  readonly writer: PcapWriter;
  /** Timestamps: the stack's own clock, so a simulated run gets simulated times. */
  readonly clock: Clock;
}

export class PcapLink implements Link {
  readonly inner: Link;
  // Copied once: the Link interface makes them readonly.
  readonly linkType: LinkType;
  readonly mtu: number;
  readonly mac?: MacAddress;
  readonly trusted?: boolean;
  /**
   * The inner link's, when it has one (Link.setBatchEnd): a receiver's GRO
   * then merges after capture, and the capture shows the wire's frames.
   */
  readonly setBatchEnd?: (end: (() => void) | undefined) => void;
  readonly #writer: PcapWriter;
  readonly #clock: Clock;
  #closed = false;

  constructor(inner: Link, options: PcapLinkOptions) {
    if (options.writer.linkType !== inner.linkType) {
      // Frames recorded under the wrong LINKTYPE would decode as garbage.
      throw new RangeError(
        `PcapLink: the writer's link type ${options.writer.linkType} differs from the link's ${inner.linkType}`,
      );
    }
    this.inner = inner;
    this.linkType = inner.linkType;
    this.mtu = inner.mtu;
    // Absent stays absent (exactOptionalPropertyTypes): no `mac: undefined` key.
    if (inner.mac !== undefined) this.mac = inner.mac;
    if (inner.trusted !== undefined) this.trusted = inner.trusted;
    this.#writer = options.writer;
    this.#clock = options.clock;
    if (inner.setBatchEnd !== undefined) this.setBatchEnd = (end) => inner.setBatchEnd?.(end);
  }

  send(frame: Uint8Array): void {
    // Record before sending: the frame belongs to the inner link afterwards
    // and a memory link may hand the very same bytes to a peer that changes
    // them. Frames sent after close are dropped by the link, so not recorded.
    if (!this.#closed) this.#writer.writePacket(this.#clock.now(), frame);
    this.inner.send(frame);
  }

  setReceiver(handler: FrameHandler | undefined): void {
    if (handler === undefined) {
      this.inner.setReceiver(undefined);
      return;
    }
    this.inner.setReceiver((frame) => {
      // Record before delivering: the receiver owns the frame and may reuse it.
      this.#writer.writePacket(this.#clock.now(), frame);
      handler(frame);
    });
  }

  close(): void {
    this.#closed = true;
    this.inner.close();
  }
}
