/**
 * Receive offload (GRO) for TCP, as Linux does it in software
 * (net/core/gro.c dev_gro_receive, net/ipv4/tcp_offload.c tcp_gro_receive,
 * af_inet.c inet_gro_receive): within one run of frames delivered to a
 * stack (Link.setBatchEnd, Linux's NAPI poll), consecutive in-order data
 * segments of one flow are merged into one segment before TCP input, which
 * then does its per-segment work (acceptability, ACK processing, the
 * receive-buffer write, the reader's wake-up, the ACK decision) once per
 * merged segment (issue 9). The merged payload is the list of the frames'
 * payload views, no copy: the frames stay valid until the run's end, when
 * whatever is held is flushed (napi_complete / gro_normal_list).
 *
 * The rules, tcp_gro_receive's:
 * - a train starts with a segment carrying payload and none of URG, PSH,
 *   RST, SYN, FIN (any of those, or no payload, goes up at once);
 * - a segment of the same flow joins it when its flags (but PSH and FIN)
 *   are the train's, CWR is clear, the ACK number, window, header length
 *   and option bytes (TSval included) are identical, its payload is not
 *   empty nor larger than the first's (gso_size), it starts where the train
 *   ends, and the whole stays under 64 KiB (gro_max_size); as
 *   inet_gro_receive, TTL, TOS and DF must match too;
 * - a segment that joins with PSH or FIN, or shorter than the first, ends
 *   the train (flushed at once); one that cannot join ends it before it,
 *   and may start the next.
 *
 * Differences from Linux, none visible on the wire: one train at a time
 * per stack (Linux keeps up to MAX_GRO_SKBS flows per NAPI), so a segment
 * of another flow flushes the train first and arrival order is kept; and
 * only segments of an ESTABLISHED connection are held (the other states'
 * input takes a segment as one view), which a bulk transfer is; a segment
 * too large for anything to join it (64 KiB MTU) is not held at all.
 *
 * Counted, as ethtool's rx-gro-packets: tcp.gro-packets (merged segments,
 * each of two wire segments or more, handed to TCP input) and
 * tcp.gro-merged (the wire segments in them).
 */
import type { Ipv4Repr } from '../wire/ipv4.js';
import { TcpFlag, TcpReprScratch } from '../wire/tcp.js';
import type { TcpGroPayload } from '../wire/tcp.js';
import { seqAdd } from './seq.js';

/** Linux GRO_LEGACY_MAX_SIZE / gro_max_size: a merged IP packet stays below 64 KiB. */
const GRO_MAX_SIZE = 65536;
const IP_HEADER_LEN = 20;
/** A segment with any of these goes up at once (the out_check_final flags). */
const FLUSH_FLAGS = TcpFlag.URG | TcpFlag.PSH | TcpFlag.RST | TcpFlag.SYN | TcpFlag.FIN;

/** What tryMerge did with a segment. */
export const GroMerge = {
  /** Not merged: the train (if any) must be flushed before the segment is processed. */
  No: 0,
  /** Merged; the train goes on. */
  Merged: 1,
  /** Merged, and the train ends with it: flush now. */
  MergedLast: 2,
} as const;
export type GroMerge = (typeof GroMerge)[keyof typeof GroMerge];

/** The payload list of the train, handed to TCP with the merged segment (TcpRepr.gro). */
class GroPayload implements TcpGroPayload {
  readonly chunks: Uint8Array[] = [];
  segs = 0;
  length = 0;
  gsoSize = 0;
}

/**
 * One train of segments being merged. `E` is what the owner demultiplexed
 * the first segment to (its connection), handed back at the flush.
 */
export class TcpGro<E> {
  /** The first segment's record, taken over from the caller (see hold). */
  #rec: TcpReprScratch = new TcpReprScratch();
  #entry: E | undefined = undefined;
  readonly #payload = new GroPayload();
  // The first segment's IP fields that must match (inet_gro_receive).
  #src = 0;
  #dst = 0;
  #ttl = 0;
  #tos = 0;
  #df = false;
  /** The first segment's frame and where its TCP header starts in it, for the option bytes. */
  #bytes: Uint8Array = EMPTY;
  #at = 0;
  #headerLen = 0;

  /**
   * May `seg` (IP header `ip`, TCP header of `headerLen` bytes) start a
   * train? tcp_gro_receive's out_check_final for a segment of no held flow:
   * payload, and no flag that flushes. ACK is required here too: in
   * ESTABLISHED a segment without it is dropped anyway. A segment that
   * leaves no room under gro_max_size (at a 64 KiB MTU) is not held: nothing
   * could join it, and holding it would only put it off.
   */
  static canStart(ip: Ipv4Repr, seg: TcpReprScratch, headerLen: number): boolean {
    // The length without a view: most segments are not held (issue 9).
    const len = seg.payloadLength;
    return (
      len > 0 &&
      IP_HEADER_LEN + headerLen + len + 1 < GRO_MAX_SIZE &&
      (seg.flags & (FLUSH_FLAGS | TcpFlag.ACK)) === TcpFlag.ACK &&
      plainDatagram(ip)
    );
  }

  /**
   * Starts a train with `seg` (which canStart allowed), for `entry`. The
   * record now belongs to the train; returns a spare record for the
   * caller's next segment. `bytes[at..]` is the segment, kept until the
   * flush (the link keeps the frame valid until the run ends).
   */
  hold(entry: E, ip: Ipv4Repr, bytes: Uint8Array, at: number, seg: TcpReprScratch): TcpReprScratch {
    const spare = this.#rec;
    this.#rec = seg;
    this.#entry = entry;
    this.#src = ip.src;
    this.#dst = ip.dst;
    this.#ttl = ip.ttl;
    this.#tos = (ip.dscp << 2) | ip.ecn;
    this.#df = ip.dontFragment;
    this.#bytes = bytes;
    this.#at = at;
    this.#headerLen = (bytes[at + 12]! >>> 4) * 4;
    const p = this.#payload;
    p.chunks[0] = seg.payload;
    p.segs = 1;
    p.length = p.gsoSize = seg.payload.length;
    return spare;
  }

  /** Same 4-tuple as the train (tcp_gro_lookup and inet_gro_receive's same_flow). */
  sameFlow(ip: Ipv4Repr, seg: TcpReprScratch): boolean {
    const r = this.#rec;
    return this.#entry !== undefined && ip.src === this.#src && ip.dst === this.#dst && seg.srcPort === r.srcPort && seg.dstPort === r.dstPort;
  }

  /** tcp_gro_receive for a segment of the train's flow (sameFlow): appends it when the rules allow. */
  tryMerge(ip: Ipv4Repr, bytes: Uint8Array, at: number, seg: TcpReprScratch): GroMerge {
    const r = this.#rec;
    const p = this.#payload;
    const len = seg.payloadLength;
    if (
      // tcp_flag_word: flags (but PSH and FIN), reserved bits, header length and window; no CWR.
      ((seg.flags ^ r.flags) & ~(TcpFlag.PSH | TcpFlag.FIN)) !== 0 ||
      (seg.flags & TcpFlag.CWR) !== 0 ||
      seg.reserved !== r.reserved ||
      seg.window !== r.window ||
      seg.ack !== r.ack ||
      (bytes[at + 12]! >>> 4) * 4 !== this.#headerLen ||
      // (len - 1) >= mss: empty, or larger than the first.
      len === 0 ||
      len > p.gsoSize ||
      seg.seq !== seqAdd(r.seq, p.length) ||
      IP_HEADER_LEN + this.#headerLen + p.length + len >= GRO_MAX_SIZE ||
      ip.ttl !== this.#ttl ||
      ((ip.dscp << 2) | ip.ecn) !== this.#tos ||
      ip.dontFragment !== this.#df ||
      !plainDatagram(ip) ||
      !sameOptions(this.#bytes, this.#at, bytes, at, this.#headerLen)
    ) {
      return GroMerge.No;
    }
    p.chunks[p.segs++] = seg.payload;
    p.length += len;
    r.flags |= seg.flags & (TcpFlag.PSH | TcpFlag.FIN);
    return len < p.gsoSize || (seg.flags & FLUSH_FLAGS) !== 0 ? GroMerge.MergedLast : GroMerge.Merged;
  }

  /** What the train's first segment was demultiplexed to (undefined: no train). */
  get entry(): E | undefined {
    return this.#entry;
  }

  /**
   * Ends the train: its merged segment (TcpRepr.gro set when two segments
   * or more were merged), for the caller to process and then call done().
   * A record under TcpReprScratch's contract: nothing may keep it.
   */
  take(): TcpReprScratch {
    const p = this.#payload;
    this.#entry = undefined;
    this.#merged = p.segs;
    if (p.segs > 1) this.#rec.gro = p;
    return this.#rec;
  }

  /** Wire segments in the segment take() gave last. */
  get merged(): number {
    return this.#merged;
  }

  #merged = 0;

  /** After take(): forgets the train (no frame stays referenced past the run). */
  done(): void {
    this.#entry = undefined;
    const p = this.#payload;
    for (let k = 0; k < p.segs; k++) p.chunks[k] = EMPTY;
    p.segs = p.length = p.gsoSize = 0;
    this.#bytes = EMPTY;
    this.#rec.release();
  }
}

const EMPTY = new Uint8Array(0);

/** inet_gro_receive's datagram: a 20-byte header (no IP options), not a fragment. */
function plainDatagram(ip: Ipv4Repr): boolean {
  return ip.options.length === 0 && !ip.moreFragments && ip.fragmentOffset === 0;
}

/** The option bytes of two TCP headers of `headerLen` bytes, at a[ai..] and b[bi..], are identical. */
function sameOptions(a: Uint8Array, ai: number, b: Uint8Array, bi: number, headerLen: number): boolean {
  for (let k = 20; k < headerLen; k++) if (a[ai + k] !== b[bi + k]) return false;
  return true;
}
