/**
 * The seventh step of SEGMENT ARRIVES (RFC 9293 3.10.7.4), text: storing
 * in-window payload into the receive buffer (or parking it for the
 * Assembler) and deciding when to ACK it (delayed ACK, quick ACKs). Shared
 * by the general walk (input.ts) and header prediction (header-prediction.ts),
 * so both leave the TCB the same way.
 */
import { TcpFlag, TcpReprScratch, hasFlag, tcpPayloadLength } from '../wire/tcp.js';
import type { TcpGroPayload, TcpRepr } from '../wire/tcp.js';
import type { Duration } from '../time/duration.js';
import { instantAdd } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { seqAdd, seqSub } from './seq.js';
import { NOT_ARMED } from './tcb.js';
import type { Tcb } from './tcb.js';
import { roundUpToJiffies } from './jiffies.js';

/** One more immediate ACK, counted so that a burst handed over before the next poll gets one each. */
export function queueAck(t: Tcb): void {
  if (t.ackNow && t.extraAcks < 8) t.extraAcks++;
  t.ackNow = true;
}


/**
 * Seventh step: copy the in-window part of the text into the receive
 * buffer, in order or parked for the Assembler (RFC 9293 3.10.7.4 "segments
 * with higher beginning sequence numbers may be held"). A GRO-merged
 * segment (tcp/gro.ts) is taken in one go, as Linux's tcp_data_queue takes
 * a GRO skb: one buffer commit, one reader wake-up, one ACK decision.
 */
export function receiveText(t: Tcb, now: Instant, seg: TcpRepr): void {
  // The text is [skip, skip + len) of the payload, stored at `offset` from RCV.NXT.
  let skip = 0;
  let len = tcpPayloadLength(seg);
  let offset = seqSub(seg.seq, t.rcvNxt);
  if (offset < 0) {
    skip = -offset;
    len -= skip;
    offset = 0;
  }
  const room = t.rcvSpace() - offset;
  if (room <= 0) {
    t.ackNow = true;
    return;
  }
  if (len > room) len = room;
  if (len <= 0) {
    t.ackNow = true;
    return;
  }
  const hadHoles = !t.assembler.isEmpty;
  if (offset === 0 && !hadHoles) {
    receiveInOrder(t, now, seg, skip, len);
    return;
  }
  if (!t.assembler.add(offset, len)) {
    // Too many islands: drop, the peer will retransmit.
    t.ackNow = true;
    return;
  }
  storeText(t, seg, skip, offset, len);
  const n = t.assembler.removeFront();
  if (n > 0) {
    t.rcvBuf.commit(n);
    t.rcvNxt = seqAdd(t.rcvNxt, n);
    t.notify();
  }
  // RFC 5681 4.2: out-of-order segments and segments that fill a hole are
  // ACKed at once (the SACK information goes with it), one ACK each, even
  // when the stack hands us a burst before polling: the sender counts
  // these duplicates for fast retransmit (RFC 5681 3.2).
  if (offset > 0) queueAck(t);
  else t.ackNow = true;
}

/**
 * The common case of receiveText, and header prediction's: payload bytes
 * [skip, skip + len) of `seg` are the next in order, they fit, and nothing
 * is parked. Straight into the buffer: the Assembler would record the range
 * and hand it straight back (and, released on drain, allocate its table
 * again each time).
 */
export function receiveInOrder(t: Tcb, now: Instant, seg: TcpRepr, skip: number, len: number): void {
  storeText(t, seg, skip, 0, len);
  t.rcvBuf.commit(len);
  t.rcvNxt = seqAdd(t.rcvNxt, len);
  t.notify();
  t.lastDataAt = now;
  scheduleAck(t, now, len, seg.gro);
  if (!t.ackNow && hasFlag(seg, TcpFlag.PSH)) {
    if (t.pushedWhileDelayed) t.pushedTwice = true;
    t.pushedWhileDelayed = true;
  }
}

/** Writes payload bytes [skip, skip + len) of `seg` into the receive buffer at `offset` from RCV.NXT. */
export function storeText(t: Tcb, seg: TcpRepr, skip: number, offset: number, len: number): void {
  const gro = seg.gro;
  // writeAt copies a range of its source: no view of a payload or chunk (issue 9).
  if (gro === undefined) {
    // A record parsed in place: straight from the frame.
    if (seg instanceof TcpReprScratch) t.rcvBuf.writeAt(offset, seg.payloadBytes, seg.payloadFrom + skip, len);
    else t.rcvBuf.writeAt(offset, seg.payload, skip, len);
    return;
  }
  // The merged segment's chunks, each clipped to the part that is stored.
  const end = skip + len;
  let at = 0;
  for (let k = 0; k < gro.segs && at < end; k++) {
    const c = gro.chunks[k]!;
    const from = Math.max(skip, at);
    const to = Math.min(end, at + c.length);
    if (to > from) t.rcvBuf.writeAt(offset + from - skip, c, from - at, to - from);
    at += c.length;
  }
}

/**
 * Delayed ACK (RFC 9293 3.8.6.3, RFC 1122 4.2.3.2, MUST-40) with Linux-style
 * quick ACKs at the start. A GRO-merged segment is decided on once, as
 * Linux's __tcp_ack_snd_check is for a GRO skb, after counting each of its
 * wire segments: two full-sized ones or more, and it is ACKed at once.
 */
export function scheduleAck(t: Tcb, now: Instant, bytes: number, gro: TcpGroPayload | undefined): void {
  if (!t.config.delayedAck) {
    t.ackNow = true;
    return;
  }
  // Linux tcp_in_quickack_mode: quick ACKs are suspended while interactive.
  if (t.quickAcksLeft > 0 && !t.inPingpong) {
    t.quickAcksLeft--;
    t.ackNow = true;
    return;
  }
  // "Full-sized" as Linux's rcv_mss: the largest segment seen (options eat
  // into the MSS); of a GRO skb, tcp_measure_rcv_mss takes the gso_size.
  const size = gro === undefined ? bytes : gro.gsoSize;
  if (size > t.rcvMssEst) t.rcvMssEst = Math.min(size, t.ourMss);
  if (gro === undefined) t.unackedSegments += bytes >= t.rcvMssEst ? 1 : 0.5;
  else {
    // Every wire segment but the last has the gso_size.
    const last = gro.length - gro.gsoSize * (gro.segs - 1);
    t.unackedSegments += (gro.segs - 1) * (gro.gsoSize >= t.rcvMssEst ? 1 : 0.5) + (last >= t.rcvMssEst ? 1 : 0.5);
    // __tcp_ack_snd_check's own test: more than one rcv_mss received since the last ACK.
    if (seqSub(t.rcvNxt, t.lastAckSent) > t.rcvMssEst) {
      t.ackNow = true;
      return;
    }
  }
  // SHLD-19: an ACK for at least every second full-sized segment.
  if (t.unackedSegments >= 2) {
    t.ackNow = true;
    return;
  }
  // Linux keeps ato in jiffies (tcp_send_delayed_ack): whole ticks.
  if (t.delackAt === NOT_ARMED) t.delackAt = instantAdd(now, delackTimeout(t.config.delayedAckTimeout, t.config.linuxHz));
}

/** roundUpToJiffies of the delayed-ACK timeout, worked out once per configuration rather than per data segment (issue 9). */
function delackTimeout(us: Duration, hz: number): Duration {
  const m = DELACK_MEMO;
  if (us !== m.us || hz !== m.hz) {
    m.us = us;
    m.hz = hz;
    m.timeout = roundUpToJiffies(us, hz);
  }
  return m.timeout;
}

/** delackTimeout's last arguments and answer, shared by every connection (NaN matches no call). */
const DELACK_MEMO = { us: Number.NaN, hz: Number.NaN, timeout: 0 as Duration };
