/**
 * The sender's SACK scoreboard (RFC 6675 "conservative SACK-based loss
 * recovery", with RFC 2018 SACK and RFC 2883 D-SACK).
 *
 * It remembers which bytes above SND.UNA the peer has SACKed, as merged
 * [left, right) ranges in sequence space, and answers RFC 6675 section 4's
 * questions: IsLost, SetPipe (`pipe`) and NextSeg. The connection owns the
 * recovery state machine (RFC 6675 5: when to enter and leave recovery,
 * cwnd/ssthresh through the congestion controller) and calls:
 *
 *   const sb = new SackScoreboard({ mss, dupThresh?, maxRanges? });
 *   sb.update(sndUna, sndNxt, blocks)  // every ACK (blocks may be []): RFC 6675 Update()
 *       -> { newlySacked: bytes, dsack: block | undefined }
 *   sb.isSacked(seq, len)    sb.isLost(seq)   sb.highestSacked   sb.sackedBytes
 *   sb.startRecovery(sndUna, sndNxt)          // RFC 6675 5 step (4): RecoveryPoint = HighData
 *   sb.onFastRetransmit(seq, len)             // RFC 6675 5 step (4.3)
 *   sb.pipe(sndUna, sndNxt)                   // RFC 6675 4 SetPipe, in bytes
 *   sb.nextSeg(sndUna, sndNxt, canSendNew)    // RFC 6675 4 NextSeg rules (1)-(4)
 *   sb.onRetransmit(seg)                      // after sending a segment nextSeg returned
 *   sb.endRecovery()                          // RecoveryPoint cumulatively acknowledged
 *   sb.clear()                                // e.g. after an RTO (RFC 2018 8) or on close
 *
 * Sequence numbers are uint32 and all their arithmetic goes through seq.ts.
 * Stored ranges always lie within [SND.UNA, SND.NXT], which RFC 7323 2.3
 * keeps well under 2^31 wide, so modular comparisons between them are exact.
 *
 * Conventions: `HighRxt` is kept as an exclusive end (`highRxt` = one past
 * the last octet retransmitted in this recovery), so RFC 6675's "S > HighRxt"
 * reads `seqGe(S, highRxt)`. `RecoveryPoint` is HighData as an exclusive
 * end, i.e. SND.NXT when recovery began.
 *
 * Bounded memory: at most `maxRanges` ranges (default 64). When a new block
 * would exceed it, the smallest range is forgotten. Forgetting SACK
 * information is always safe (RFC 2018 8: SACKs are advisory; the data stays
 * in the send buffer until cumulatively acknowledged): at worst those bytes
 * are retransmitted needlessly. Merging ranges would be unsafe: it would
 * claim unreceived bytes were SACKed and they would never be retransmitted.
 */
import type { SackBlock } from '../wire/tcp-options.js';
import type { RackState } from './rack.js';
import type { SeqNumber } from './seq.js';
import { seqAdd, seqGe, seqGt, seqLe, seqLt, seqMax, seqMin, seqSub } from './seq.js';

export interface SackScoreboardOptions {
  /** Sender MSS (SMSS), bytes: the unit of IsLost's byte rule and NextSeg's segments. */
  readonly mss: number;
  /** RFC 6675 2 DupThresh (default 3). */
  readonly dupThresh?: number;
  /** The most ranges remembered (default 64). */
  readonly maxRanges?: number;
}

export interface SackUpdateResult {
  /** Bytes newly marked as SACKed by this ACK (0 if none): RFC 6675 5 "new SACK information". */
  readonly newlySacked: number;
  /** The first block, when RFC 2883 says it reports a duplicate (D-SACK); not added to the scoreboard. */
  readonly dsack: SackBlock | undefined;
}

/** A segment NextSeg says to retransmit: [seq, seq + len), with the RFC 6675 4 rule that chose it. */
export interface RetransmitSegment {
  readonly kind: 'retransmit';
  readonly seq: SeqNumber;
  readonly len: number;
  /** 1: lost; 3: not yet deemed lost but nothing better to send; 4: the rescue retransmission. */
  readonly rule: 1 | 3 | 4;
}

/** NextSeg rule (2): send one segment of new data (the caller checked it has data and window). */
export interface NewDataSegment {
  readonly kind: 'new';
}

export type NextSegment = RetransmitSegment | NewDataSegment;

const NEW_DATA: NewDataSegment = Object.freeze({ kind: 'new' });

/** RFC 6675 2: DupThresh. */
export const DEFAULT_DUP_THRESH = 3;
/** The default bound on remembered ranges. */
export const DEFAULT_MAX_SACK_RANGES = 64;

export class SackScoreboard {
  #mss: number;
  readonly dupThresh: number;
  readonly maxRanges: number;
  /**
   * Sorted, disjoint, non-adjacent ranges: [#left[i], #right[i]). Both are
   * the shared NO_RANGES until the first SACK block arrives (most
   * connections never see one), and again after clear(): #insert is the
   * only writer that can grow them, and it swaps in arrays of their own first.
   */
  #left: number[] = NO_RANGES;
  #right: number[] = NO_RANGES;
  #sacked = 0;
  /** RFC 6675 HighRxt as an exclusive end; undefined outside recovery. */
  #highRxt: SeqNumber | undefined;
  /** RFC 6675 RescueRxt as an exclusive end; undefined when no rescue was sent. */
  #rescueRxt: SeqNumber | undefined;
  /** RFC 6675 RecoveryPoint (exclusive end); undefined outside recovery. */
  #recoveryPoint: SeqNumber | undefined;
  /**
   * RFC 8985 6 RACK state and per-segment transmit log (rack.ts), created
   * at the first data sent with SACK and RACK on; its LOST marks then replace
   * IsLost() in pipe and NextSeg (the connection asks it instead).
   */
  rack: RackState | undefined = undefined;

  constructor(options: SackScoreboardOptions) {
    this.#mss = checkPositive('mss', options.mss);
    this.dupThresh = checkPositive('dupThresh', options.dupThresh ?? DEFAULT_DUP_THRESH);
    this.maxRanges = checkPositive('maxRanges', options.maxRanges ?? DEFAULT_MAX_SACK_RANGES);
  }

  get mss(): number {
    return this.#mss;
  }

  setMss(mss: number): void {
    this.#mss = checkPositive('mss', mss);
  }

  /** Total bytes currently marked SACKed (all above the last SND.UNA given). */
  get sackedBytes(): number {
    return this.#sacked;
  }

  /** How many disjoint ranges are remembered. */
  get rangeCount(): number {
    return this.#left.length;
  }

  /** One past the highest SACKed octet (the right edge of the top range), or undefined with no SACKs. */
  get highestSacked(): SeqNumber | undefined {
    const n = this.#right.length;
    return n === 0 ? undefined : this.#right[n - 1];
  }

  /** RFC 6675 HighRxt (exclusive end), undefined outside recovery. */
  get highRxt(): SeqNumber | undefined {
    return this.#highRxt;
  }

  /** RFC 6675 RecoveryPoint (exclusive end), undefined outside recovery. */
  get recoveryPoint(): SeqNumber | undefined {
    return this.#recoveryPoint;
  }

  /** True between startRecovery and endRecovery. */
  get inRecovery(): boolean {
    return this.#recoveryPoint !== undefined;
  }

  /** The remembered ranges, lowest first (a copy; for diagnostics, tests and `ss -i`). */
  ranges(): SackBlock[] {
    const out: SackBlock[] = [];
    for (let i = 0; i < this.#left.length; i++) out.push({ left: this.#left[i]!, right: this.#right[i]! });
    return out;
  }

  /** Forgets everything: SACKed ranges and recovery state. */
  clear(): void {
    this.#left = NO_RANGES;
    this.#right = NO_RANGES;
    this.#sacked = 0;
    this.#highRxt = undefined;
    this.#rescueRxt = undefined;
    this.#recoveryPoint = undefined;
  }

  /**
   * RFC 6675 4 Update(): processes one ACK. `sndUna` is the ACK's (new)
   * cumulative acknowledgment, `sndNxt` the highest sequence number sent
   * plus one (HighData). Everything at or below sndUna is dropped. Each block
   * is checked as RFC 2018 and RFC 2883 require:
   *
   * - RFC 2883 4: the first block is a D-SACK when it starts below the
   *   cumulative ACK, or lies within the second block; it is reported, not
   *   recorded.
   * - A block that is empty or inverted, ends at or below sndUna, or ends
   *   beyond sndNxt (it reports data never sent: a broken or malicious peer)
   *   is ignored. A block straddling sndUna is clipped to it.
   */
  update(sndUna: SeqNumber, sndNxt: SeqNumber, blocks: readonly SackBlock[]): SackUpdateResult {
    this.#advance(sndUna);
    let dsack: SackBlock | undefined;
    let newly = 0;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (i === 0 && isDsack(b, sndUna, blocks[1])) {
        dsack = b;
        continue;
      }
      if (!seqLt(b.left, b.right)) continue;
      if (seqLe(b.right, sndUna) || seqGt(b.right, sndNxt)) continue;
      const left = seqMax(b.left, sndUna);
      newly += this.#insert(left, b.right >>> 0);
    }
    return { newlySacked: newly, dsack };
  }

  /** True when every byte of [seq, seq + len) has been SACKed (len 0: whether `seq` itself is). */
  isSacked(seq: SeqNumber, len: number): boolean {
    const i = this.#find(seq);
    if (i < 0) return false;
    return seqLe(seqAdd(seq, len), this.#right[i]!);
  }

  /**
   * RFC 6675 4 IsLost(SeqNum): true when `seq` is not SACKed and either
   * DupThresh discontiguous SACKed ranges lie above it, or more than
   * (DupThresh - 1) * SMSS SACKed bytes do.
   */
  isLost(seq: SeqNumber): boolean {
    const boundary = this.#lostBoundary();
    if (boundary === undefined || !seqLt(seq, boundary)) return false;
    return this.#find(seq) < 0;
  }

  /**
   * RFC 6675 5 step (4): recovery begins (the caller has seen DupThresh
   * duplicate ACKs, or IsLost(SND.UNA), and reduced cwnd). RecoveryPoint =
   * HighData; HighRxt starts at HighACK; no rescue sent yet.
   */
  startRecovery(sndUna: SeqNumber, sndNxt: SeqNumber): void {
    this.#recoveryPoint = sndNxt >>> 0;
    this.#highRxt = sndUna >>> 0;
    this.#rescueRxt = undefined;
  }

  /**
   * RFC 6675 5 step (4.3): the first segment, [seq, seq + len) with seq =
   * HighACK, was retransmitted; "set both HighRxt and RescueRxt to the
   * highest sequence number in the retransmitted segment".
   */
  onFastRetransmit(seq: SeqNumber, len: number): void {
    const end = seqAdd(seq, len);
    this.#highRxt = this.#highRxt === undefined ? end : seqMax(this.#highRxt, end);
    this.#rescueRxt = end;
  }

  /** Records that a segment NextSeg returned was sent (RFC 6675 4 NextSeg: HighRxt / RescueRxt updates). */
  onRetransmit(seg: RetransmitSegment): void {
    if (seg.rule === 4) {
      // RFC 6675 4 rule (4): "RescueRxt set to RecoveryPoint. HighRxt MUST NOT be updated."
      this.#rescueRxt = this.#recoveryPoint ?? seqAdd(seg.seq, seg.len);
      return;
    }
    const end = seqAdd(seg.seq, seg.len);
    this.#highRxt = this.#highRxt === undefined ? end : seqMax(this.#highRxt, end);
  }

  /** RFC 6675 5: recovery is over (an ACK covered RecoveryPoint). SACK ranges are kept. */
  endRecovery(): void {
    this.#recoveryPoint = undefined;
    this.#highRxt = undefined;
    this.#rescueRxt = undefined;
  }

  /**
   * RFC 6675 4 SetPipe(): the bytes estimated in flight. Over every
   * unSACKed octet in [sndUna, sndNxt): one if it is not lost (the original
   * may still be in the network), plus one if it was retransmitted in this
   * recovery (below HighRxt).
   */
  pipe(sndUna: SeqNumber, sndNxt: SeqNumber): number {
    const span = seqSub(sndNxt, sndUna);
    if (span <= 0) return 0;
    const unsacked = span - this.#sackedBetween(sndUna, sndNxt);
    let lost = 0;
    const boundary = this.#lostBoundary();
    if (boundary !== undefined && seqGt(boundary, sndUna)) {
      const end = seqMin(boundary, sndNxt);
      lost = seqSub(end, sndUna) - this.#sackedBetween(sndUna, end);
    }
    let retransmitted = 0;
    if (this.#highRxt !== undefined && seqGt(this.#highRxt, sndUna)) {
      const end = seqMin(this.#highRxt, sndNxt);
      retransmitted = seqSub(end, sndUna) - this.#sackedBetween(sndUna, end);
    }
    return unsacked - lost + retransmitted;
  }

  /**
   * RFC 6675 4 NextSeg(): what to send next during recovery.
   *
   * (1) the lowest unSACKed, lost octet at or above HighRxt and below the
   *     highest SACKed octet: retransmit up to one MSS from it;
   * (2) otherwise, if `canSendNew` (the caller has unsent data and the
   *     peer's window allows a segment), new data;
   * (3) otherwise the lowest unSACKed octet at or above HighRxt below the
   *     highest SACKed octet, lost or not;
   * (4) otherwise, once per recovery (when HighACK has passed RescueRxt, or
   *     no rescue was sent), a rescue retransmission of the segment ending
   *     at the highest unSACKed outstanding octet.
   *
   * Retransmitted segments never cover SACKed bytes and never cross SND.NXT.
   * Undefined: nothing to send. Pure: call `onRetransmit` once it is sent.
   */
  nextSeg(sndUna: SeqNumber, sndNxt: SeqNumber, canSendNew: boolean): NextSegment | undefined {
    if (!seqLt(sndUna, sndNxt)) return canSendNew ? NEW_DATA : undefined;
    const n = this.#left.length;
    if (n > 0) {
      // The first unSACKed octet at or above max(HighRxt, HighACK).
      let s = this.#highRxt !== undefined ? seqMax(this.#highRxt, sndUna) : sndUna >>> 0;
      const i = this.#find(s);
      if (i >= 0) s = this.#right[i]!;
      const topLeft = this.#left[n - 1]!;
      // (1.b) / (3): below the highest SACKed octet, i.e. below the top range.
      if (seqLt(s, topLeft)) {
        const boundary = this.#lostBoundary();
        const seg = this.#segmentFrom(s, sndNxt);
        // (1.c) IsLost(S2): s is unSACKed, so lost exactly when below the boundary.
        if (boundary !== undefined && seqLt(s, boundary)) return { kind: 'retransmit', seq: s, len: seg, rule: 1 };
        if (canSendNew) return NEW_DATA;
        return { kind: 'retransmit', seq: s, len: seg, rule: 3 };
      }
    }
    if (canSendNew) return NEW_DATA;
    // (4) the rescue retransmission, once per recovery.
    if (this.#recoveryPoint === undefined) return undefined;
    if (this.#rescueRxt !== undefined && !seqGe(sndUna, this.#rescueRxt)) return undefined;
    // The highest unSACKed outstanding octet: just below SND.NXT, or below the
    // top range when that reaches SND.NXT.
    let end = sndNxt >>> 0;
    if (n > 0 && seqGe(this.#right[n - 1]!, end)) end = this.#left[n - 1]!;
    if (!seqGt(end, sndUna)) return undefined;
    let start = seqMax(sndUna, seqAdd(end, -this.#mss));
    // Do not reach back into a SACKed range below `end`.
    const below = this.#rangeBelow(end);
    if (below >= 0) start = seqMax(start, this.#right[below]!);
    return { kind: 'retransmit', seq: start, len: seqSub(end, start), rule: 4 };
  }

  /** The right edge (exclusive) of the SACKed range containing `seq`, or undefined when `seq` is not SACKed. */
  sackedRangeEnd(seq: SeqNumber): SeqNumber | undefined {
    const i = this.#find(seq);
    return i < 0 ? undefined : this.#right[i];
  }

  /** Left edge of range i (0 = lowest; i < rangeCount), for merged walks in sequence order. */
  rangeLeft(i: number): SeqNumber {
    return this.#left[i]!;
  }

  /** Right edge (exclusive) of range i. */
  rangeRight(i: number): SeqNumber {
    return this.#right[i]!;
  }

  /** SACKed bytes within [from, to). */
  sackedWithin(from: SeqNumber, to: SeqNumber): number {
    return this.#left.length === 0 ? 0 : this.#sackedBetween(from, to);
  }

  /** The left edge of the first SACKed range starting above `seq`, or undefined. */
  nextSackedAbove(seq: SeqNumber): SeqNumber | undefined {
    const j = this.#firstAbove(seq);
    return j < 0 ? undefined : this.#left[j];
  }

  /** Up to one MSS from unSACKed `s`, stopping at the next SACKed range or SND.NXT. */
  #segmentFrom(s: SeqNumber, sndNxt: SeqNumber): number {
    let limit = seqMin(seqAdd(s, this.#mss), sndNxt);
    const j = this.#firstAbove(s);
    if (j >= 0) limit = seqMin(limit, this.#left[j]!);
    return seqSub(limit, s);
  }

  /**
   * The lowest octet that is NOT lost: every unSACKed octet below it is lost
   * (IsLost is monotone: a lower octet has at least as much SACKed above it).
   * For an octet in the hole just below range i, the ranges above it are
   * exactly i..n-1, so the boundary is the left edge of the highest range i
   * at which the rule holds. Undefined when no octet is lost.
   */
  #lostBoundary(): SeqNumber | undefined {
    const n = this.#left.length;
    const byteLimit = (this.dupThresh - 1) * this.#mss;
    let bytes = 0;
    for (let i = n - 1; i >= 0; i--) {
      bytes += seqSub(this.#right[i]!, this.#left[i]!);
      if (n - i >= this.dupThresh || bytes > byteLimit) return this.#left[i];
    }
    return undefined;
  }

  /** SACKed bytes within [from, to). */
  #sackedBetween(from: SeqNumber, to: SeqNumber): number {
    let total = 0;
    for (let i = 0; i < this.#left.length; i++) {
      const l = seqMax(this.#left[i]!, from);
      const r = seqMin(this.#right[i]!, to);
      if (seqLt(l, r)) total += seqSub(r, l);
    }
    return total;
  }

  /** Index of the range containing `seq`, or -1. */
  #find(seq: SeqNumber): number {
    for (let i = 0; i < this.#left.length; i++) {
      if (seqLt(seq, this.#left[i]!)) return -1;
      if (seqLt(seq, this.#right[i]!)) return i;
    }
    return -1;
  }

  /** Index of the first range starting above `seq`, or -1. */
  #firstAbove(seq: SeqNumber): number {
    for (let i = 0; i < this.#left.length; i++) if (seqGt(this.#left[i]!, seq)) return i;
    return -1;
  }

  /** Index of the last range ending at or below `seq`, or -1. */
  #rangeBelow(seq: SeqNumber): number {
    for (let i = this.#left.length - 1; i >= 0; i--) if (seqLe(this.#right[i]!, seq)) return i;
    return -1;
  }

  /** Drops everything below the cumulative ACK. */
  #advance(sndUna: SeqNumber): void {
    let drop = 0;
    while (drop < this.#left.length && seqLe(this.#right[drop]!, sndUna)) {
      this.#sacked -= seqSub(this.#right[drop]!, this.#left[drop]!);
      drop++;
    }
    if (drop > 0) {
      this.#left.splice(0, drop);
      this.#right.splice(0, drop);
    }
    if (this.#left.length > 0 && seqLt(this.#left[0]!, sndUna)) {
      this.#sacked -= seqSub(sndUna, this.#left[0]!);
      this.#left[0] = sndUna >>> 0;
    }
    if (this.#highRxt !== undefined && seqLt(this.#highRxt, sndUna)) this.#highRxt = sndUna >>> 0;
  }

  /** Adds [left, right), merging with overlapping or adjacent ranges; returns the bytes newly covered. */
  #insert(left: SeqNumber, right: SeqNumber): number {
    if (this.#left === NO_RANGES) {
      this.#left = [];
      this.#right = [];
    }
    const n = this.#left.length;
    let i = 0;
    while (i < n && seqLt(this.#right[i]!, left)) i++;
    let j = i;
    let l = left;
    let r = right;
    let covered = 0;
    while (j < n && seqLe(this.#left[j]!, r)) {
      covered += seqSub(this.#right[j]!, this.#left[j]!);
      l = seqMin(l, this.#left[j]!);
      r = seqMax(r, this.#right[j]!);
      j++;
    }
    const newly = seqSub(r, l) - covered;
    this.#left.splice(i, j - i, l);
    this.#right.splice(i, j - i, r);
    this.#sacked += newly;
    // Reported as new even if evicted at once: the peer did send new information.
    if (this.#left.length > this.maxRanges) this.#evictSmallest();
    return newly;
  }

  /** Forgets the smallest range (the lowest among equals). */
  #evictSmallest(): void {
    let k = 0;
    let size = seqSub(this.#right[0]!, this.#left[0]!);
    for (let i = 1; i < this.#left.length; i++) {
      const s = seqSub(this.#right[i]!, this.#left[i]!);
      if (s < size) {
        size = s;
        k = i;
      }
    }
    this.#left.splice(k, 1);
    this.#right.splice(k, 1);
    this.#sacked -= size;
  }
}

/** The empty range list every scoreboard without SACKed data shares; never written (see #left). */
const NO_RANGES: number[] = [];

/** RFC 2883 4: is the first SACK block a D-SACK? */
function isDsack(first: SackBlock, cumAck: SeqNumber, second: SackBlock | undefined): boolean {
  if (!seqLt(first.left, first.right)) return false;
  // 4 (1): it reports data at or below the cumulative ACK.
  if (seqLt(first.left, cumAck)) return true;
  // 4 (2): it lies within the second block.
  return second !== undefined && seqGe(first.left, second.left) && seqLe(first.right, second.right);
}

function checkPositive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`SackScoreboard: bad ${name} ${v}`);
  return v;
}
