/**
 * A Link moves whole frames between a stack and a medium: a virtual wire, a
 * Linux TUN device, a pcap sniffer wrapped around another link.
 *
 * Ownership: `send(frame)` hands the bytes to the link; the caller must not
 * touch them afterwards (a memory link may deliver the very same buffer to
 * the peer without copying). A received frame belongs to the receiver.
 */
import type { MacAddress } from '../wire/address.js';

/** What the frames on a link start with. Values are the pcap LINKTYPE_ numbers. */
export const LinkType = {
  /** Ethernet II frames (LINKTYPE_ETHERNET). */
  Ethernet: 1,
  /** Bare IPv4/IPv6 packets, e.g. a TUN device with IFF_NO_PI (LINKTYPE_RAW). */
  RawIp: 101,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

/**
 * Receives one frame. Returning `true` tells the link the receiver is done
 * with the bytes and kept no reference to them (a Stack that processed the
 * frame synchronously and copied what it keeps); anything else promises
 * nothing. Links may ignore the result; see Link.setRecycler.
 */
export type FrameHandler = (frame: Uint8Array) => unknown;

export interface Link {
  readonly linkType: LinkType;
  /** Largest IP packet the link carries (for Ethernet: the payload size, 1500 by default). */
  readonly mtu: number;
  /** The link's hardware address, for Ethernet links. */
  readonly mac?: MacAddress;
  /**
   * True when the medium cannot corrupt frames (loopback, a memory wire
   * without corruption): the stack may then skip computing and verifying
   * checksums, as Linux does on loopback.
   */
  readonly trusted?: boolean;
  /** Transmits one frame. Frames longer than the link allows are dropped and counted by the link. */
  send(frame: Uint8Array): void;
  /** Sets the one receiver of incoming frames (replacing any earlier one). */
  setReceiver(handler: FrameHandler | undefined): void;
  /** Stops the link; later sends are dropped. Idempotent. */
  close(): void;
  /**
   * Optional (issue 9): a link that hands the sender's own buffer to the
   * receiver (a memory wire) may give a frame sent on it back through
   * `recycle` once it is referenced by nobody: its one receiver returned
   * true from its FrameHandler, and the link made every other copy before.
   * The sending stack then reuses the buffer for a later frame. Each frame
   * comes back at most once; undefined stops it.
   */
  setRecycler?(recycle: ((frame: Uint8Array) => void) | undefined): void;
  /**
   * Optional (issue 9): a link that delivers frames in runs (a memory wire on
   * a real-time clock hands over a whole due-now batch in one loop) calls
   * `end` once after every run of one or more frames it gave the receiver,
   * before anything else can run (no timer, promise or other caller gets in
   * between). Until then the receiver may put off what it needs to do once
   * per run rather than once per frame (a Stack re-arms its timer and reads
   * the clock once per run). A link that has it calls `end` for every frame
   * it delivers, alone or in a run; undefined stops it. A link that has
   * both this and setRecycler gives a frame of a run back only after the
   * run's `end`: until then the receiver may still read a frame it returned
   * true for (a Stack's GRO merges the frames of a run, issue 9).
   */
  setBatchEnd?(end: (() => void) | undefined): void;
}
