/**
 * Urgent data the Linux way (tcp_check_urg, tcp_urg): which octet a
 * segment's urgent pointer names, and capturing that out-of-band byte once
 * it sits in the receive buffer. The input side records a new pointer,
 * connection.ts's reads capture the byte and stop at the mark (readWindow);
 * separate from the TCB (tcb.ts), which only holds the state (urgState,
 * urgSeq, urgByte, oobInline).
 */
import { seqAdd, seqGt, seqLt, seqSub } from './seq.js';
import type { Tcb } from './tcb.js';

/**
 * Linux tcp_check_urg: a segment's urgent pointer names a new urgent byte
 * (its last urgent octet, RFC 6093) unless it was already read, is behind
 * RCV.NXT (a replay) or is not beyond the one we know.
 */
export function checkUrgentPointer(t: Tcb, seg: { readonly seq: number; readonly urgentPointer: number }): void {
  if (seg.urgentPointer === 0) return;
  const ptr = seqAdd(seg.seq, seg.urgentPointer - 1);
  if (seqLt(ptr, t.rcvNxt)) return;
  if (t.urgState !== 'none' && !seqGt(ptr, t.urgSeq)) return;
  // The reader stopped at the old mark and the old byte is still in the
  // buffer: it stays out of band rather than slipping into the stream.
  if (t.urgState !== 'none' && !t.oobInline && t.urgSeq === t.readSeq() && t.rcvBuf.length > 0) {
    t.rcvBuf.consume(1);
  }
  t.urgState = 'notyet';
  t.urgSeq = ptr;
}

/** Linux tcp_urg, lazily: once the urgent byte is in the receive buffer, remember it. */
export function captureUrgentByte(t: Tcb): void {
  if (t.urgState !== 'notyet') return;
  const off = seqSub(t.urgSeq, t.readSeq());
  if (off < 0 || off >= t.rcvBuf.length) return;
  const one = new Uint8Array(1);
  t.rcvBuf.peek(one, off);
  t.urgByte = one[0]!;
  t.urgState = 'valid';
}

/**
 * What the next ordinary read may take, Linux tcp_recvmsg style: `skip`
 * is 1 when the byte at the read position is the out-of-band byte (taken
 * out of the stream, SO_OOBINLINE off); reads stop at the urgent mark
 * (`limit`), so the application can tell where it is (SIOCATMARK).
 */
export function readWindow(t: Tcb): { skip: number; limit: number } {
  captureUrgentByte(t);
  const len = t.rcvBuf.length;
  if (t.urgState === 'none') return { skip: 0, limit: len };
  const off = seqSub(t.urgSeq, t.readSeq());
  if (off === 0) return { skip: t.oobInline || len === 0 ? 0 : 1, limit: len };
  return { skip: 0, limit: off > 0 && off < len ? off : len };
}
