/**
 * One port of the in-memory switch (memory-switch.ts): the state behind a
 * MemoryLink (its NIC filter, counters, effective impairments, transmitter,
 * partitions) and of each (sender, receiver) path, plus the counter names
 * both report. Separate from the switch's forwarding and delivery logic so
 * each file holds one concern; nothing here schedules or draws anything.
 */
import type { SeededRng } from '../random/rng.js';
import { Counters } from '../stats/counters.js';
import type { Instant } from '../time/instant.js';
import type { MacAddress } from '../wire/address.js';
import { isMacMulticast } from '../wire/address.js';
import type { FrameHandler } from './link.js';
import type { MemoryImpairments } from './memory-impairments.js';
import { DEFAULT_IMPAIRMENTS, ImpairmentCounter, TransmitQueue } from './memory-impairments.js';

/**
 * Counter names, in `network.counters` (whole network) and in each link's
 * `counters` (sending-side events on the sender, receiving-side events on
 * the receiver).
 */
export const MemoryCounter = {
  /**
   * The impairment events, as impairLink's: Sent, send() calls on an open
   * link; Delivered, frames handed to a receiver (each copy of a duplicated
   * or broadcast frame counts); DroppedQueue, tail drop at a
   * bandwidth-limited port's full queue; DroppedClosed, sent on or in flight
   * to a closed link; DroppedNoReceiver, arrived while the link had no
   * receiver; DroppedLoss, Duplicated, Corrupted, Reordered.
   */
  ...ImpairmentCounter,
  DroppedPartition: 'dropped-partition',
  /** Sent on or addressed to a disabled (unplugged) link. */
  DroppedDisabled: 'dropped-disabled',
  /** Shorter than an Ethernet header: the switch cannot read its addresses. */
  DroppedRunt: 'dropped-runt',
  /** No port would take the frame (e.g. unicast to the sender's own port). */
  DroppedNoDestination: 'dropped-no-destination',
  /** Longer than mtu + 14: dropped. */
  Oversize: 'oversize',
  /** Unicast to a MAC the switch has not learned, sent to every port. */
  Flooded: 'flooded',
} as const;

/** Per-(sender, receiver) state: its own random stream and the FIFO bound for jitter. */
export interface Path {
  readonly rng: SeededRng;
  lastArrival: Instant;
  /**
   * Frames sent on this path while the sender had no random impairment
   * (see Port.quiet), whose draws were not made yet: they are made, in the
   * same order, before the next draw that matters, so the stream each
   * frame sees is the one it would have seen had every frame drawn.
   */
  owedDraws: number;
  /**
   * Frames of this path that keep FIFO order (all but the ones reordered on
   * purpose) and wait for their delivery timers, oldest first from
   * `waitingHead`; undefined until the first. A real-time clock's timers
   * may fire out of order or late (a busy event loop, due-now timers
   * overtaking platform ones, the due-now batch below), so each timer
   * delivers everything queued before its frame first: a cable is a FIFO.
   */
  waiting: (WaitingFrame | undefined)[] | undefined;
  waitingHead: number;
}

/** A frame waiting for its delivery timer on a Path. */
export interface WaitingFrame {
  readonly from: Port;
  readonly to: Port;
  readonly frame: Uint8Array;
  delivered: boolean;
}


/** A switch port: the state behind one MemoryLink. */
export class Port {
  readonly index: number;
  readonly mac: MacAddress;
  readonly name: string;
  readonly promiscuous: boolean;
  readonly counters = new Counters();
  /** The per-frame counters as cells (no name lookup per frame, issue 9). */
  readonly sent = this.counters.cell(MemoryCounter.Sent);
  readonly delivered = this.counters.cell(MemoryCounter.Delivered);
  overrides: Partial<MemoryImpairments>;
  /** The network's impairments with the overrides applied; recomputed on change, read per frame. */
  effective: MemoryImpairments;
  /** No loss, duplication, reordering, jitter or corruption: no random draw can change what happens to a frame. */
  quiet = true;
  receiver: FrameHandler | undefined;
  /** Where frames this port sent go back once their receiver is done with them (Link.setRecycler). */
  recycler: ((frame: Uint8Array) => void) | undefined;
  /** Told when a run of frames delivered to this port ends (Link.setBatchEnd). */
  batchEnd: (() => void) | undefined;
  /**
   * The source address of the last frame this port sent, learnt at fdb
   * version learnedVersion (Switch.send), as its high and low 24 bits: small
   * integers, compared against the frame's bytes without building a 48-bit
   * number (a heap-allocated double).
   */
  learnedHi = -1;
  learnedLo = -1;
  learnedVersion = -1;
  /** The unicast destination of the last frame routed from this port (24-bit halves, see learnedHi), where it went, and the fdb version then. */
  routedHi = -1;
  routedLo = -1;
  routedTo: Port | undefined;
  routedVersion = -1;
  /** Got a frame in the due-now batch being delivered: its batchEnd is owed at the batch's end. */
  inBatch = false;
  enabled = true;
  closed = false;
  /** The port's transmitter (bandwidth limit and queue). */
  readonly tx = new TransmitQueue();
  readonly paths = new Map<Port, Path>();
  /** The entry of `paths` looked up last (Switch #path), kept for the next frame to the same port. */
  lastPathTo: Port | undefined;
  lastPath: Path | undefined;
  /** Ports this one cannot reach (partitions), both directions recorded. */
  readonly blocked = new Set<Port>();

  constructor(index: number, mac: MacAddress, name: string, promiscuous: boolean, overrides: Partial<MemoryImpairments>) {
    this.index = index;
    this.mac = mac;
    this.name = name;
    this.promiscuous = promiscuous;
    this.overrides = overrides;
    this.effective = DEFAULT_IMPAIRMENTS;
  }

  /** Whether this port's NIC takes a frame addressed to `dst`. */
  accepts(dst: MacAddress): boolean {
    return this.promiscuous || isMacMulticast(dst) || dst === this.mac;
  }
}
