/**
 * RACK: time-based loss detection (RFC 8985 section 6), as Linux does it
 * (tcp_recovery.c: tcp_rack_advance, tcp_rack_detect_loss,
 * tcp_rack_reo_wnd, tcp_rack_update_reo_wnd, tcp_rack_reo_timeout).
 *
 * RFC 6675 deems a segment lost once DupThresh segments above it are
 * SACKed. RACK instead asks *when* segments were sent: once a segment sent
 * later than X has been delivered and a reordering window has passed, X is
 * lost. That repairs lost retransmissions (which a sequence-based rule
 * never sees as lost again), tail losses with few segments after them, and
 * tolerates reordering by widening the window when D-SACKs report spurious
 * retransmissions.
 *
 * State per segment sent: [start, end) in sequence space, the transmit time
 * of its latest (re)transmission (RFC 8985 6.1 "Segment.xmit_ts") and a few
 * flag bits. It lives in one growable Float64Array, four numbers per
 * segment, in sequence order: no object per segment, and no allocation on
 * the hot path once the array fits the flight. Connections that never send
 * with SACK never allocate it.
 *
 * What counts as SACKed comes from the scoreboard (sack-scoreboard.ts); RACK
 * adds the LOST marks that replace IsLost() in pipe and NextSeg when it is on.
 */
import type { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import type { SeqNumber } from './seq.js';
import { seqAdd, seqGt, seqLe, seqLt, seqMax, seqMin, seqSub } from './seq.js';
import { jiffiesToUsecs, TCP_TIMEOUT_MIN_JIFFIES, usecsToJiffies } from './jiffies.js';

/** Fields of one entry in the log (stride 4). */
const START = 0;
const END = 1;
const XMIT = 2;
const FLAGS = 3;
const STRIDE = 4;

/** Marked lost by RACK (Linux TCPCB_LOST). */
export const RACK_LOST = 1;
/** A retransmission is in flight (Linux TCPCB_SACKED_RETRANS): counts once more in pipe. */
export const RACK_RXT = 2;
/** Retransmitted at least once (Linux TCPCB_RETRANS): its ACK is ambiguous. */
export const RACK_EVER_RXT = 4;
/** Wholly SACKed. */
export const RACK_SACKED = 8;

/** RFC 8985 6.2 step 4: recoveries a raised reo_wnd multiplier persists for. */
export const RACK_REO_WND_PERSIST = 16;

const EMPTY = new Float64Array(0);
const INITIAL_ENTRIES = 8;
/**
 * Logs of the initial size, free for the next connection that sends: an
 * empty log goes back here when its connection goes quiet (releaseIdle), so
 * an idle connection holds none and a request/response exchange allocates none.
 * Bounded; larger logs are left to the garbage collector when they empty.
 */
const pool: Float64Array[] = [];
const POOL_MAX = 1024;
/**
 * Logs that grew past the initial size, kept when they empty (issue 9):
 * a bulk sender whose every ACK covers all it has in flight (the peer's
 * GRO ACKs a whole burst at once) empties its log once per burst, and
 * regrew it by doubling from 8 entries each time. The next burst, of any
 * connection, starts with one of these instead. Few: they are large.
 */
const largePool: Float64Array[] = [];
const LARGE_POOL_MAX = 16;

/** Inputs to RACK_detect_loss that live on the connection. */
export interface RackContext {
  readonly now: Instant;
  readonly inRecovery: boolean;
  readonly srtt: Duration | undefined;
  readonly minRtt: Duration | undefined;
  /** RFC 6675 DupThresh (Linux tcp_reordering). */
  readonly dupThresh: number;
  /** The kernel tick rate whose timer rounding we reproduce (TcpConfig.linuxHz). */
  readonly hz: number;
}

/**
 * What RACK reads of the SACK scoreboard (sack-scoreboard.ts, which holds
 * the RackState: this keeps the two modules free of an import cycle).
 */
export interface RackSackView {
  readonly sackedBytes: number;
  readonly rangeCount: number;
  rangeLeft(i: number): SeqNumber;
  rangeRight(i: number): SeqNumber;
  sackedRangeEnd(seq: SeqNumber): SeqNumber | undefined;
  nextSackedAbove(seq: SeqNumber): SeqNumber | undefined;
}

/** Our timestamp clock (RFC 7323 TSval at an instant): the Tcb. */
export interface TsClock {
  tsNow(at: Instant): number;
}

export class RackState {
  #log: Float64Array = EMPTY;
  #head = 0;
  #count = 0;
  /** RFC 8985 6.1 RACK.xmit_ts / RACK.end_seq: the most recently sent segment delivered; xmitTs -1 before any. */
  xmitTs = -1;
  endSeq: SeqNumber = 0;
  /** RFC 8985 6.1 RACK.rtt (microseconds). */
  rtt = 0;
  /** RACK.fack: the highest end sequence delivered (selectively or cumulatively). */
  fack: SeqNumber = 0;
  fackValid = false;
  /** RFC 8985 6.1 RACK.reordering_seen. */
  reorderingSeen = false;
  /** RFC 8985 6.2 step 4 RACK.reo_wnd_mult / reo_wnd_persist / dsack_round. */
  reoWndMult = 1;
  reoWndPersist = 0;
  dsackRound: SeqNumber | undefined = undefined;
  /** Linux rack.advanced: an ACK delivered something, so detect_loss has work. */
  advanced = false;
  /** Wholly SACKed entries (RFC 8985 RACK.segs_sacked). */
  sackedSegs = 0;
  /** Entries marked lost whose retransmission is not in flight. */
  lostUnsent = 0;
  /** The reorder timer (RFC 8985 6.3), an instant or -1 when off. */
  timerAt = -1;
  /**
   * Entries ever retransmitted. While there are none, transmit times rise
   * with sequence numbers, so detectLoss may stop at the first entry not
   * sent before RACK.segment (what Linux's time-sorted list gives it).
   */
  #rxtEntries = 0;
  /**
   * While #rxtEntries > 0: at or above the highest end of the entries ever
   * retransmitted. Past it transmit times rise again, so detectLoss stops at
   * the first entry there not sent before RACK.segment.
   */
  #rxtHighEnd: SeqNumber = 0;

  /** Entries logged (segments sent and not yet cumulatively acknowledged). */
  get size(): number {
    return this.#count;
  }

  /** Whether an array is held for the log (false: none, as on an idle connection); for tests and diagnostics. */
  get holdsLog(): boolean {
    return this.#log !== EMPTY;
  }

  /** Entry i (0 = lowest): [start, end), xmit time, flags; for tests and diagnostics. */
  entry(i: number): { start: number; end: number; xmitTs: number; flags: number } | undefined {
    if (i < 0 || i >= this.#count) return undefined;
    const o = (this.#head + i) * STRIDE;
    const l = this.#log;
    return { start: l[o + START]!, end: l[o + END]!, xmitTs: l[o + XMIT]!, flags: l[o + FLAGS]! };
  }

  /** Forgets everything (connection reset, or a test). */
  clear(): void {
    this.#head = 0;
    this.#count = 0;
    this.#rxtEntries = 0;
    this.#releaseLog();
    this.xmitTs = -1;
    this.advanced = false;
    this.sackedSegs = 0;
    this.lostUnsent = 0;
    this.timerAt = -1;
    this.fackValid = false;
  }

  /**
   * RFC 8985 6.1: a segment [start, end) was sent at `now`. New data
   * (start at or past the highest end logged) appends an entry; a
   * retransmission restamps the entries it covers (split at its edges), sets
   * their retransmitted bits and makes their LOST mark "retransmitted".
   */
  onSend(start: SeqNumber, end: SeqNumber, now: Instant): void {
    if (!seqLt(start, end)) return;
    const n = this.#count;
    const top = n === 0 ? undefined : this.#log[(this.#head + n - 1) * STRIDE + END]!;
    if (top === undefined || seqLe(top, start)) {
      this.#append(start, end, now, 0);
      return;
    }
    if (seqLt(top, end)) {
      // Part new, part old (e.g. after an RTO rewound SND.NXT): log the new part first.
      this.#append(top, end, now, 0);
      end = top;
    }
    this.#split(start);
    this.#split(end);
    const l = this.#log;
    const hadRxt = this.#rxtEntries > 0;
    for (let i = 0; i < this.#count; i++) {
      const o = (this.#head + i) * STRIDE;
      if (seqLe(l[o + END]!, start)) continue;
      if (seqLe(end, l[o + START]!)) break;
      const f = l[o + FLAGS]!;
      if ((f & RACK_SACKED) !== 0) continue;
      if ((f & RACK_LOST) !== 0 && (f & RACK_RXT) === 0) this.lostUnsent--;
      if ((f & RACK_EVER_RXT) === 0) this.#rxtEntries++;
      // Every entry marked here ends at or below `end`.
      this.#rxtHighEnd = hadRxt ? seqMax(this.#rxtHighEnd, end) : end;
      l[o + FLAGS] = f | RACK_RXT | RACK_EVER_RXT;
      l[o + XMIT] = now;
    }
  }

  /**
   * RFC 8985 6.2 steps 1-2 for one ACK, after the scoreboard's update:
   * every segment newly delivered (cumulatively below `sndUna`, or wholly
   * SACKed per `sb`) updates RACK.rtt, RACK.xmit_ts/end_seq and
   * reordering_seen. `tsEcr` (-1 if none) is the ACK's timestamp echo and
   * `clock` our TSval at an instant: an echo older than a retransmission
   * acknowledges an earlier copy (Linux tcp_skb_spurious_retrans).
   */
  onAck(
    sb: RackSackView,
    sndUna: SeqNumber,
    now: Instant,
    minRtt: Duration | undefined,
    tsEcr = -1,
    clock?: TsClock,
    newlySacked = true,
  ): void {
    const l = this.#log;
    const fackBefore = this.fackValid ? this.fack : undefined;
    // SACKed first, then cumulatively acknowledged, as Linux's tcp_ack
    // (tcp_sacktag_write_queue, then tcp_clean_rtx_queue): RACK.rtt ends up
    // the cumulative ACK's sample when there is one. Without new SACK
    // information no entry can have become SACKed.
    const ranges = sb.rangeCount;
    if (newlySacked && ranges > 0) {
      // Entries and ranges are both in sequence order: one merged walk.
      let j = 0;
      for (let i = 0; i < this.#count && j < ranges; i++) {
        const o = (this.#head + i) * STRIDE;
        const f = l[o + FLAGS]!;
        if ((f & RACK_SACKED) !== 0) continue;
        const s = l[o + START]!;
        const e = l[o + END]!;
        if (seqLe(e, sndUna)) continue;
        while (j < ranges && seqLe(sb.rangeRight(j), s)) j++;
        if (j === ranges) break;
        if (!(seqLe(sb.rangeLeft(j), s) && seqLe(e, sb.rangeRight(j)))) continue;
        if ((f & RACK_LOST) !== 0 && (f & RACK_RXT) === 0) this.lostUnsent--;
        l[o + FLAGS] = (f & RACK_EVER_RXT) | RACK_SACKED;
        this.sackedSegs++;
        this.#delivered(s, e, l[o + XMIT]!, f, now, minRtt, fackBefore, tsEcr, clock);
      }
    }
    while (this.#count > 0) {
      const o = this.#head * STRIDE;
      const s = l[o + START]!;
      const e = l[o + END]!;
      if (!seqLe(e, sndUna)) {
        // A partial acknowledgment trims the entry (Linux tcp_trim_head).
        if (seqLt(s, sndUna)) l[o + START] = sndUna;
        break;
      }
      const f = l[o + FLAGS]!;
      if ((f & RACK_EVER_RXT) !== 0) this.#rxtEntries--;
      if ((f & RACK_SACKED) !== 0) this.sackedSegs--;
      else {
        if ((f & RACK_LOST) !== 0 && (f & RACK_RXT) === 0) this.lostUnsent--;
        this.#delivered(s, e, l[o + XMIT]!, f, now, minRtt, fackBefore, tsEcr, clock);
      }
      this.#head++;
      this.#count--;
    }
    if (this.#count === 0) {
      // The emptied log stays with the connection until it goes quiet
      // (releaseIdle): a request/response exchange empties it on every ACK
      // and took one from the pool again for the next segment (issue 9).
      this.#head = 0;
      this.timerAt = -1;
    }
  }

  /**
   * The connection looks quiet (Tcb.reclaimStores, with its send and
   * receive stores): an empty log goes back to the pool, so an idle
   * connection holds none, as Linux frees the skbs of its retransmit queue.
   */
  releaseIdle(): void {
    if (this.#count === 0) this.#releaseLog();
  }

  /** RFC 8985 6.2 step 2 (RACK_update) and step 3 (reordering) for one delivered segment. */
  #delivered(
    s: number,
    e: number,
    xmit: number,
    flags: number,
    now: Instant,
    minRtt: Duration | undefined,
    fackBefore: SeqNumber | undefined,
    tsEcr: number,
    clock: TsClock | undefined,
  ): void {
    // Step 3: a never-retransmitted segment below RACK.fack was reordered.
    if ((flags & RACK_EVER_RXT) === 0 && fackBefore !== undefined && seqLt(e, fackBefore)) this.reorderingSeen = true;
    if (!this.fackValid || seqGt(e, this.fack)) {
      this.fack = e;
      this.fackValid = true;
    }
    const rtt = now - xmit;
    if ((flags & RACK_EVER_RXT) !== 0) {
      // Step 2: ambiguous. The ACK may be for the original: trust the sample
      // only if it is not shorter than min_RTT and (with timestamps) echoes
      // this transmission.
      if (minRtt !== undefined && rtt < minRtt) return;
      if (tsEcr >= 0 && clock !== undefined && seqLt(tsEcr, clock.tsNow(xmit as Instant))) return;
    }
    this.advanced = true;
    this.rtt = rtt;
    if (sentAfter(xmit, e, this.xmitTs, this.endSeq)) {
      this.xmitTs = xmit;
      this.endSeq = e;
    }
  }

  /**
   * RFC 8985 6.2 step 4: the D-SACK-driven reordering window multiplier.
   * Call on every ACK (`dsack`: it carried a D-SACK) with SND.UNA and
   * SND.NXT after it; `recoveryEnded` when it ended a fast or RTO recovery.
   */
  updateReoWnd(sndUna: SeqNumber, sndNxt: SeqNumber, dsack: boolean, recoveryEnded: boolean): void {
    // A D-SACK says a retransmission was needless: the original was only
    // late, i.e. reordered (Linux counts it in tcp_sacktag_one -> reord_seen).
    if (dsack) this.reorderingSeen = true;
    if (this.dsackRound !== undefined && !seqLt(sndUna, this.dsackRound)) this.dsackRound = undefined;
    if (this.dsackRound === undefined && dsack) {
      this.dsackRound = sndNxt;
      this.reoWndMult = Math.min(this.reoWndMult + 1, 255);
      this.reoWndPersist = RACK_REO_WND_PERSIST;
    } else if (recoveryEnded) {
      this.reoWndPersist--;
      if (this.reoWndPersist <= 0) {
        this.reoWndPersist = 0;
        this.reoWndMult = 1;
      }
    }
  }

  /** RFC 8985 6.2 step 4 RACK.reo_wnd, microseconds (Linux tcp_rack_reo_wnd). */
  reoWnd(ctx: RackContext): number {
    if (!this.reorderingSeen) {
      // Without observed reordering, be aggressive in recovery, or once
      // DupThresh segments are SACKed (the classic rule says "lost" then too).
      if (ctx.inRecovery) return 0;
      if (this.sackedSegs >= ctx.dupThresh) return 0;
    }
    const minRtt = ctx.minRtt ?? 0;
    const wnd = Math.floor(minRtt / 4) * this.reoWndMult;
    return ctx.srtt === undefined ? wnd : Math.min(wnd, ctx.srtt);
  }

  /**
   * RFC 8985 6.2 step 5 RACK_detect_loss: marks lost every segment sent
   * before RACK.segment whose RACK.rtt + reo_wnd has passed since it was
   * sent; arms the reorder timer for the earliest that has not (RFC 8985
   * 6.3; Linux adds TCP_TIMEOUT_MIN) or disarms it. Returns how many entries
   * were newly marked lost.
   */
  detectLoss(ctx: RackContext): number {
    this.advanced = false;
    this.timerAt = -1;
    // Nothing logged (the ACK covered all in flight, as every one of a
    // request/response exchange does): no reordering window to work out (issue 9).
    if (this.xmitTs < 0 || this.#count === 0) return 0;
    const reo = this.reoWnd(ctx);
    const l = this.#log;
    let marked = 0;
    let wait = 0;
    for (let i = 0; i < this.#count; i++) {
      const o = (this.#head + i) * STRIDE;
      const f = l[o + FLAGS]!;
      if ((f & RACK_SACKED) !== 0) continue;
      // Marked lost and not yet retransmitted: nothing more to learn.
      if ((f & RACK_LOST) !== 0 && (f & RACK_RXT) === 0) continue;
      const xmit = l[o + XMIT]!;
      if (!sentAfter(this.xmitTs, this.endSeq, xmit, l[o + END]!)) {
        // Sent after RACK.segment, so not lost (RFC 8985 6.2 step 5); nor is
        // anything after it, unless a retransmission lies above it.
        if (this.#rxtEntries === 0 || seqLe(this.#rxtHighEnd, l[o + START]!)) break;
        continue;
      }
      const remaining = this.rtt + reo - (ctx.now - xmit);
      if (remaining <= 0) {
        // A lost retransmission is lost again (Linux tcp_mark_skb_lost clears SACKED_RETRANS).
        l[o + FLAGS] = (f | RACK_LOST) & ~RACK_RXT;
        this.lostUnsent++;
        marked++;
      } else if (remaining > wait) wait = remaining;
    }
    if (wait > 0) this.timerAt = ctx.now + rackReoTimeout(wait, ctx.hz);
    return marked;
  }

  /**
   * After an RTO (RFC 8985 6.3 leaves it to RFC 6298 / Linux tcp_enter_loss):
   * every outstanding segment is lost and the SACK information forgotten,
   * so go-back-N retransmits them all.
   */
  onRetransmitTimeout(): void {
    const l = this.#log;
    this.sackedSegs = 0;
    this.lostUnsent = 0;
    for (let i = 0; i < this.#count; i++) {
      const o = (this.#head + i) * STRIDE;
      l[o + FLAGS] = (l[o + FLAGS]! & RACK_EVER_RXT) | RACK_LOST;
      this.lostUnsent++;
    }
    this.timerAt = -1;
  }

  /**
   * SetPipe with RACK's marks (Linux tcp_packets_in_flight, in bytes): each
   * unSACKed byte counts once unless lost, and once more while a
   * retransmission of it is in flight.
   */
  pipe(sb: RackSackView, sndUna: SeqNumber): number {
    const l = this.#log;
    const ranges = sb.rangeCount;
    let j = 0;
    let pipe = 0;
    for (let i = 0; i < this.#count; i++) {
      const o = (this.#head + i) * STRIDE;
      const f = l[o + FLAGS]!;
      if ((f & RACK_SACKED) !== 0) continue;
      const weight = ((f & RACK_LOST) !== 0 ? 0 : 1) + ((f & RACK_RXT) !== 0 ? 1 : 0);
      if (weight === 0) continue;
      let s = l[o + START]!;
      const e = l[o + END]!;
      if (seqLt(s, sndUna)) s = sndUna;
      if (!seqLt(s, e)) continue;
      let len = seqSub(e, s);
      // Partly SACKed entries (blocks not on segment edges): ranges in [s, e), one merged walk.
      while (j < ranges && seqLe(sb.rangeRight(j), s)) j++;
      for (let k = j; k < ranges && seqLt(sb.rangeLeft(k), e); k++) {
        const a = seqLt(sb.rangeLeft(k), s) ? s : sb.rangeLeft(k);
        const b = seqLt(e, sb.rangeRight(k)) ? e : sb.rangeRight(k);
        if (seqLt(a, b)) len -= seqSub(b, a);
      }
      pipe += weight * len;
    }
    return pipe;
  }

  /**
   * NextSeg with RACK's marks (Linux tcp_xmit_retransmit_queue): the lowest
   * segment marked lost whose retransmission is not in flight, from its first
   * unSACKed byte, at most `mss` and never across a SACKed range. Undefined
   * when none.
   */
  nextLost(sb: RackSackView, sndUna: SeqNumber, mss: number): { seq: SeqNumber; len: number } | undefined {
    if (this.lostUnsent <= 0) return undefined;
    const l = this.#log;
    for (let i = 0; i < this.#count; i++) {
      const o = (this.#head + i) * STRIDE;
      const f = l[o + FLAGS]!;
      if ((f & (RACK_LOST | RACK_RXT | RACK_SACKED)) !== RACK_LOST) continue;
      let s = l[o + START]!;
      const e = l[o + END]!;
      if (seqLt(s, sndUna)) s = sndUna;
      // Skip a SACKed prefix.
      const sackedTo = sb.sackedRangeEnd(s);
      if (sackedTo !== undefined) s = sackedTo;
      if (!seqLt(s, e)) continue;
      const stop = sb.nextSackedAbove(s);
      let end = seqMin(e, seqAdd(s, mss));
      if (stop !== undefined) end = seqMin(end, stop);
      return { seq: s, len: seqSub(end, s) };
    }
    return undefined;
  }

  #append(start: number, end: number, now: number, flags: number): void {
    if ((this.#head + this.#count + 1) * STRIDE > this.#log.length) this.#makeRoom();
    const o = (this.#head + this.#count) * STRIDE;
    const l = this.#log;
    l[o + START] = start >>> 0;
    l[o + END] = end >>> 0;
    l[o + XMIT] = now;
    l[o + FLAGS] = flags;
    this.#count++;
  }

  /** The log's array goes back to the pool (initial size) or to the collector. */
  #releaseLog(): void {
    const log = this.#log;
    if (log === EMPTY) return;
    this.#log = EMPTY;
    if (log.length === INITIAL_ENTRIES * STRIDE) {
      if (pool.length < POOL_MAX) pool.push(log);
    } else if (largePool.length < LARGE_POOL_MAX) largePool.push(log);
  }

  /** Compacts to the front, growing (doubling) only when the log is more than half full. */
  #makeRoom(): void {
    const need = (this.#count + 1) * STRIDE;
    let log = this.#log;
    if (log === EMPTY) {
      this.#log = largePool.pop() ?? pool.pop() ?? new Float64Array(INITIAL_ENTRIES * STRIDE);
      this.#head = 0;
      return;
    }
    if (need * 2 > log.length) {
      log = new Float64Array(log.length * 2);
    }
    if (log === this.#log) log.copyWithin(0, this.#head * STRIDE, (this.#head + this.#count) * STRIDE);
    else log.set(this.#log.subarray(this.#head * STRIDE, (this.#head + this.#count) * STRIDE));
    this.#log = log;
    this.#head = 0;
  }

  /** Splits the entry containing `seq` strictly inside it into [start, seq) and [seq, end). */
  #split(seq: number): void {
    const l0 = this.#log;
    for (let i = 0; i < this.#count; i++) {
      const o = (this.#head + i) * STRIDE;
      const s = l0[o + START]!;
      const e = l0[o + END]!;
      if (seqLe(e, seq)) continue;
      if (!seqLt(s, seq)) return;
      // Make room for one more, then shift entries i+1.. up by one.
      if ((this.#head + this.#count + 1) * STRIDE > this.#log.length) this.#makeRoom();
      const l = this.#log;
      const at = (this.#head + i) * STRIDE;
      l.copyWithin(at + STRIDE, at, (this.#head + this.#count) * STRIDE);
      l[at + END] = seq >>> 0;
      l[at + STRIDE + START] = seq >>> 0;
      this.#count++;
      // Both halves keep the flags: keep the counters in step.
      const f = l[at + FLAGS]!;
      if ((f & RACK_EVER_RXT) !== 0) this.#rxtEntries++;
      if ((f & RACK_SACKED) !== 0) this.sackedSegs++;
      else if ((f & RACK_LOST) !== 0 && (f & RACK_RXT) === 0) this.lostUnsent++;
      return;
    }
  }
}

/**
 * RFC 8985 6.3 the reorder timer for `wait` microseconds of remaining
 * reordering window, as Linux arms it (tcp_rack_mark_lost):
 * usecs_to_jiffies(wait) + TCP_TIMEOUT_MIN, in whole ticks at `hz`.
 */
export function rackReoTimeout(wait: number, hz: number): number {
  return jiffiesToUsecs(usecsToJiffies(wait, hz) + TCP_TIMEOUT_MIN_JIFFIES, hz);
}

/** RFC 8985 6.2 RACK_sent_after: was (t1, seq1) sent after (t2, seq2)? Ties go to the higher end sequence. */
export function sentAfter(t1: number, seq1: SeqNumber, t2: number, seq2: SeqNumber): boolean {
  return t1 > t2 || (t1 === t2 && seqGt(seq1, seq2));
}
