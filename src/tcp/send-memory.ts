/**
 * Send-buffer accounting as Linux does it: SO_SNDBUF (sk_sndbuf) bounds
 * sk_wmem_queued, the truesize of the queued skbs (payload plus a fixed
 * overhead per skb), not the payload bytes. What follows from it, and what
 * this module models without an object per skb:
 *
 * - tcp_sendmsg_locked appends to the unsent tail skb up to size_goal
 *   (tcp_xmit_size_goal: half the largest window the peer offered, at most
 *   64 KiB, whole MSS) without looking at sk_sndbuf; only starting a new skb
 *   needs sk_stream_memory_free (sk_wmem_queued < sk_sndbuf). So a writer
 *   can queue up to a size_goal past SO_SNDBUF.
 * - When a write fills an skb that is the head of the unsent data, Linux
 *   transmits from it at once (tcp_push_one / forced_push), splitting it
 *   (tso_fragment, one more skb); the unsent remainder is a new tail the
 *   writer fills again.
 * - Transmitted skbs are at most tcp_tso_autosize segments: the pacing rate's
 *   worth of a millisecond, at least tcp_min_tso_segs.
 * - An ACK frees whole skbs (tcp_clean_rtx_queue); a partial ACK trims the
 *   payload only (tcp_trim_head), the skb's overhead stays.
 * - A blocked writer is woken by sk_stream_write_space only once
 *   sk_stream_wspace >= sk_stream_min_wspace: free space of at least half of
 *   sk_wmem_queued.
 *
 * The skbs are counted by arithmetic over the byte stream: the sent part as
 * the tso-sized pieces it spans (aligned to the stream start), the unsent
 * part as the tail skb (from `sndTailOff`, where the writer last started or
 * split one) plus size_goal skbs before it. Exact for bulk writes; a run of
 * small writes sent one by one is counted as fewer skbs than Linux has.
 */
import { seqAdd, seqGt, seqLe, seqLt, seqMax, seqSub } from './seq.js';
import type { TsoState } from './tso.js';
import { GSO_MAX_SIZE, tcpTsoSegs } from './tso.js';

/** What the accounting reads of a connection (Tcb has it; a structural type keeps tcb.ts free to import this module). */
export interface SendMemoryState extends TsoState {
  readonly iss: number;
  readonly mss: number;
  readonly maxSndWnd: number;
  readonly sndUna: number;
  readonly sndMax: number;
  readonly sndWnd: number;
  readonly sndBufSeq: number;
  readonly sndBuf: { readonly length: number; write(src: Uint8Array): number };
  /** sk_sndbuf: the limit on sendCharge. */
  readonly sndbuf: number;
  /**
   * Where the writer last started the tail skb, or split it by a push, as
   * seqSub(seq, iss): offsets stay small integers, which V8 stores inline,
   * where sequence numbers past 2^31 take a heap box per field per connection.
   */
  sndTailOff: number;
  /** Linux tp->pushed_seq (the write sequence when a push was last marked, forced_push), as an offset from ISS. */
  sndPushedOff: number;
  /** TCP_NOTSENT_LOWAT in effect: a new skb needs fewer unsent bytes than this (tcp_stream_memory_free). */
  readonly notsentLowat: number;
  cwnd(): number;
}

/**
 * The truesize of an skb beyond its payload, x86-64: the MAX_TCP_HEADER head
 * (kmalloc-1024, with skb_shared_info) plus struct sk_buff, 1024 + 256
 * (SKB_TRUESIZE), as the kernels blocking-write.pkt was written against
 * compute it ("An ACK of 35001 does not" wake the writer holds only above
 * 1000). Since 6.3 the head comes from a smaller cache: 896 on distribution
 * configs, 832 measured (ss -tm, sk_wmem_queued) on a 6.18 kernel.
 */
export const SKB_OVERHEAD = 1280;


/**
 * Room in the ring beyond SO_SNDBUF: the payload may pass sk_sndbuf by the
 * tail skb's size_goal (see above) and by what a push let go before it.
 */
export const SEND_RING_SLACK = 2 * GSO_MAX_SIZE;

/**
 * The sk_sndbuf that holds `payload` bytes in transmitted skbs, with the
 * head and tail pieces partial (tcp_sndbuf_expand counts per-skb overhead
 * too), so auto-tuning gives the payload room it gave before the overhead
 * was counted.
 */
export function chargeFor(t: SendMemoryState, payload: number): number {
  return payload + (Math.ceil(payload / tsoBytes(t)) + 2) * SKB_OVERHEAD;
}

/** Linux tcp_xmit_size_goal over tcp_bound_to_half_wnd: the payload one skb is filled to. */
export function sizeGoal(t: SendMemoryState): number {
  const mss = t.mss;
  const w = t.maxSndWnd;
  // TCP_MSS_DEFAULT: below it the whole window, not half.
  const cutoff = w > 536 ? w >>> 1 : w;
  const goal = cutoff > 0 && cutoff < GSO_MAX_SIZE ? cutoff : GSO_MAX_SIZE;
  return Math.max(mss, goal - (goal % mss));
}

/**
 * Linux tcp_tso_autosize in bytes: the payload of one transmitted skb
 * (tso.ts: about 1 ms of data at the pacing rate, at least
 * tcp_min_tso_segs segments), within sk_gso_max_size.
 */
export function tsoBytes(t: SendMemoryState): number {
  const mss = t.mss;
  return Math.max(mss, Math.min(tcpTsoSegs(t) * mss, GSO_MAX_SIZE - (GSO_MAX_SIZE % mss)));
}

/** `seq` (SND.MAX, or past it where a push is due) within the queued data [sndBufSeq, end]. */
function clampToQueue(t: SendMemoryState, seq: number, end: number): number {
  if (seqLt(seq, t.sndBufSeq)) return t.sndBufSeq;
  if (seqGt(seq, end)) return end;
  return seq;
}

const tailSeq = (t: SendMemoryState): number => seqAdd(t.iss, t.sndTailOff);
const pushedSeq = (t: SendMemoryState): number => seqAdd(t.iss, t.sndPushedOff);

/** The tail skb ends at the end of the queue: the next write starts a new skb (MSG_EOR, tcp_skb_can_collapse_to). */
export function closeTail(t: SendMemoryState): void {
  t.sndTailOff = seqSub(seqAdd(t.sndBufSeq, t.sndBuf.length), t.iss);
}

/** Where the unsent tail skb starts: at the tail mark unless that was sent (split off) already. */
function tailStart(t: SendMemoryState, unsentStart: number, end: number): number {
  const s = tailSeq(t);
  if (seqLt(s, unsentStart)) return unsentStart;
  if (seqGt(s, end)) return end;
  return s;
}

/** sk_wmem_queued: the payload queued plus SKB_OVERHEAD per skb it is in. */
export function sendCharge(t: SendMemoryState): number {
  return chargeTo(t, t.sndMax);
}

/** sendCharge with data up to `sentTo` counted as sent (in tso-sized skbs). */
function chargeTo(t: SendMemoryState, sentTo: number): number {
  const len = t.sndBuf.length;
  if (len === 0) return 0;
  const end = seqAdd(t.sndBufSeq, len);
  const unsentStart = clampToQueue(t, sentTo, end);
  const sent = seqSub(unsentStart, t.sndBufSeq);
  let skbs = 0;
  if (sent > 0) {
    const piece = tsoBytes(t);
    // Offset in the byte stream (the first data byte is ISS + 1).
    const first = (seqSub(t.sndBufSeq, t.iss) - 1) >>> 0;
    skbs += Math.floor((first + sent - 1) / piece) - Math.floor(first / piece) + 1;
  }
  if (sent < len) {
    const ahead = seqSub(tailStart(t, unsentStart, end), unsentStart);
    skbs += 1 + Math.ceil(ahead / sizeGoal(t));
  }
  return len + skbs * SKB_OVERHEAD;
}

/** sk_stream_memory_free: a new skb may be started. */
export function sendMemoryFree(t: SendMemoryState): boolean {
  return sendCharge(t) < t.sndbuf && unsentBytes(t, t.sndMax) < t.notsentLowat;
}

/** Bytes queued beyond `sentTo` (Linux write_seq - snd_nxt: queued, not yet transmitted). */
export function unsentBytes(t: SendMemoryState, sentTo: number): number {
  const end = seqAdd(t.sndBufSeq, t.sndBuf.length);
  return seqGt(end, sentTo) ? seqSub(end, seqMax(sentTo, t.sndBufSeq)) : 0;
}

/**
 * Linux sk_stream_is_writeable, poll's POLLOUT and a blocked writer's
 * wake-up: free space of at least half of sk_wmem_queued (so a third of
 * SO_SNDBUF), both in truesize, and the unsent bytes below half of
 * TCP_NOTSENT_LOWAT.
 */
export function streamWriteable(t: SendMemoryState): boolean {
  const charge = sendCharge(t);
  const free = t.sndbuf - charge;
  return free > 0 && free >= charge / 2 && belowNotsentLowat(t);
}

/**
 * The TCP_NOTSENT_LOWAT half of sk_stream_is_writeable (tcp_stream_memory_free
 * with wake = 1): POLLOUT, and a blocked writer's wake-up, need the unsent
 * bytes below half the mark, so a woken writer finds room for a useful write.
 */
export function belowNotsentLowat(t: SendMemoryState): boolean {
  return 2 * unsentBytes(t, t.sndMax) < t.notsentLowat;
}

/** Bytes the unsent tail skb still takes before it reaches size_goal (0: none to join). */
export function tailRoom(t: SendMemoryState): number {
  const len = t.sndBuf.length;
  if (len === 0) return 0;
  const end = seqAdd(t.sndBufSeq, len);
  const unsentStart = clampToQueue(t, t.sndMax, end);
  const start = tailStart(t, unsentStart, end);
  const tail = seqSub(end, start);
  return tail > 0 ? Math.max(0, sizeGoal(t) - tail) : 0;
}

/**
 * Queues what Linux's tcp_sendmsg_locked would take of `data` now: into the
 * tail skb while it is short of size_goal, into new skbs while
 * sk_stream_memory_free. Returns the count (0: the writer must wait).
 */
export function sendQueue(t: SendMemoryState, data: Uint8Array): number {
  let taken = 0;
  // SND.MAX as it stands once the pushes below have gone out.
  let pushed = t.sndMax;
  while (taken < data.length) {
    // An empty queue has no tail skb and no charge (tailRoom, chargeTo and
    // unsentBytes all answer 0): issue 9, a request/response write always
    // finds its previous byte acknowledged.
    const empty = t.sndBuf.length === 0;
    let room = empty ? 0 : tailRoom(t);
    if (room === 0) {
      // sk_stream_memory_free: the truesize under SO_SNDBUF, and the unsent
      // bytes under TCP_NOTSENT_LOWAT (tcp_stream_memory_free, wake = 0).
      if (empty ? t.sndbuf <= 0 || t.notsentLowat <= 0 : chargeTo(t, pushed) >= t.sndbuf || unsentBytes(t, pushed) >= t.notsentLowat) break;
      closeTail(t);
      room = sizeGoal(t);
    }
    const want = Math.min(room, data.length - taken);
    const n = t.sndBuf.write(want === data.length ? data : data.subarray(taken, taken + want));
    taken += n;
    if (n < want) break;
    if (n === room) pushed = pushFullTail(t, pushed);
  }
  // tcp_push at the end of the call (or before sleeping) marks the push: pushed_seq = write_seq.
  if (taken > 0) t.sndPushedOff = seqSub(seqAdd(t.sndBufSeq, t.sndBuf.length), t.iss);
  return taken;
}

/**
 * A write filled the tail skb. Linux sends now (tcp_sendmsg_locked): all
 * that cwnd and the peer's window allow once forced_push (more than half the
 * largest window written since the last push mark), else one tso-sized
 * piece if the tail is the head of the unsent data (tcp_push_one). What is
 * sent is split off; the rest is the new tail. Our output sends after the
 * write returns, so only the split is recorded here. Returns SND.MAX after
 * that send.
 */
function pushFullTail(t: SendMemoryState, pushed: number): number {
  const end = seqAdd(t.sndBufSeq, t.sndBuf.length);
  const mss = t.mss;
  const inFlight = seqSub(pushed, t.sndUna);
  let room = Math.min(t.cwnd() - inFlight, t.sndWnd - inFlight);
  if (seqGt(end, seqAdd(pushedSeq(t), t.maxSndWnd >>> 1))) {
    t.sndPushedOff = seqSub(end, t.iss);
  } else if (seqLe(tailSeq(t), pushed)) {
    room = Math.min(room, tsoBytes(t));
  } else {
    return pushed;
  }
  room -= room % mss;
  if (room <= 0) return pushed;
  const next = clampToQueue(t, seqAdd(pushed, room), end);
  if (seqGt(next, tailSeq(t))) t.sndTailOff = seqSub(next, t.iss);
  return next;
}
