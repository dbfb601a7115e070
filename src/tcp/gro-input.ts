/**
 * The GRO stage of TCP input as a stack runs it (Linux dev_gro_receive per
 * packet, napi_gro_flush at the end of the NAPI poll), with gro.ts's merge
 * rules: between the stack's batchBegin and batchEnd, each parsed segment
 * either joins the held train, or flushes it and is processed, or starts a
 * new train. Kept apart from tcp-protocol.ts, which owns the connection
 * table and the input of one segment, so that each stays readable.
 */
import type { CounterCell } from '../stats/counters.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import type { TcpReprScratch } from '../wire/tcp.js';
import { GroMerge, TcpGro } from './gro.js';

/** What GroInput needs of TCP (TcpProtocol). */
export interface GroInputHost<E> {
  /** The ESTABLISHED connection of `seg` (from ip.src to ip.dst), or undefined: then it is not held. */
  established(ip: Ipv4Repr, seg: TcpReprScratch): E | undefined;
  /** TCP input of a segment (a merged one, TcpRepr.gro) for `entry`, at `now`. */
  deliver(now: Instant, entry: E, seg: TcpReprScratch): void;
}

export class GroInput<E> {
  readonly #host: GroInputHost<E>;
  readonly #gro = new TcpGro<E>();
  /** Counted as ethtool's rx-gro-packets: merged segments handed to TCP, and the wire segments in them. */
  readonly #packets: CounterCell;
  readonly #merged: CounterCell;
  #batching = false;

  constructor(host: GroInputHost<E>, packets: CounterCell, merged: CounterCell) {
    this.#host = host;
    this.#packets = packets;
    this.#merged = merged;
  }

  /** Inside a run of frames (begin .. end): segments may be held and merged. */
  get batching(): boolean {
    return this.#batching;
  }

  begin(): void {
    this.#batching = true;
  }

  /** The run is over: true when a train is held, which flush() must now process. */
  end(): boolean {
    this.#batching = false;
    return this.#gro.entry !== undefined;
  }

  /**
   * dev_gro_receive for a parsed segment (its TCP header at bytes[at..]).
   * Undefined: the caller processes `seg` now (any train was flushed
   * first). Otherwise the train took it (merged, or the start of a train)
   * and this is the record the caller parses its next segment into: `seg`
   * itself once its payload view has joined the train, or a spare when
   * `seg` starts one and goes with it.
   */
  input(now: Instant, ip: Ipv4Repr, bytes: Uint8Array, at: number, seg: TcpReprScratch): TcpReprScratch | undefined {
    const gro = this.#gro;
    if (gro.entry !== undefined) {
      if (gro.sameFlow(ip, seg)) {
        const m = gro.tryMerge(ip, bytes, at, seg);
        if (m !== GroMerge.No) {
          // The train keeps the payload view, not the record.
          seg.release();
          if (m === GroMerge.MergedLast) this.flush(now);
          return seg;
        }
      }
      this.flush(now);
    }
    if (!TcpGro.canStart(ip, seg, (bytes[at + 12]! >>> 4) * 4)) return undefined;
    const entry = this.#host.established(ip, seg);
    if (entry === undefined) return undefined;
    return gro.hold(entry, ip, bytes, at, seg);
  }

  /** Processes the held train, if any, as one segment (napi_gro_flush / gro_normal_list). */
  flush(now: Instant): void {
    const gro = this.#gro;
    const entry = gro.entry;
    if (entry === undefined) return;
    const seg = gro.take();
    if (gro.merged > 1) {
      this.#packets.n++;
      this.#merged.n += gro.merged;
    }
    try {
      this.#host.deliver(now, entry, seg);
    } finally {
      gro.done();
    }
  }
}
