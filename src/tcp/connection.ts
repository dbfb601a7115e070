/**
 * One TCP connection: the public face over the TCB (tcb.ts), the receive
 * side (input.ts) and the send side (output.ts).
 *
 * Pure, per ARCHITECTURE: the owner (the stack) passes `now` in, feeds
 * segments with `input()`, drains segments with `poll()`/`output()` after
 * every input, user call or deadline, and asks `pollAt()` when to come back.
 * No I/O, timers or randomness in here: the ISS comes from the caller.
 */
import { TcpFlag, tcpPayloadLength } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import { summarizeTcpOptions } from '../wire/tcp-options-summary.js';
import { instantDiff } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { seqAdd, seqGt, seqLt, seqSub } from './seq.js';
import type { TcpConfig } from './config.js';
import { negotiate, segmentArrives } from './input.js';
import { NO_STORE, nextDeadline, nextSegment, windowUpdateThreshold } from './output.js';
import type { TcpSegmentOut } from './output.js';
import { NOT_ARMED, Tcb } from './tcb.js';
import type { TcpEndpoint } from './tcb.js';
import type { MutableOptions } from './shared-config.js';
import { captureUrgentByte, readWindow } from './urgent.js';
import type { CongestionControlName } from './congestion/congestion-controller.js';
import { closeTail, sendCharge, sendQueue, streamWriteable } from './send-memory.js';
import { TcpState, acceptsSend } from './state.js';
import { fillTimeWait } from './time-wait-state.js';
import { timeWaitAcceptsSyn } from './time-wait-rules.js';
import type { TimeWaitFields } from './time-wait-state.js';
import type { TcpError } from './state.js';
import { connectionInfo } from './connection-info.js';
import type { TcpInfo } from './connection-info.js';

export type { TcpEndpoint } from './tcb.js';
export type { MutableOptions } from './shared-config.js';
export type { TcpSegmentOut } from './output.js';
export type { TcpInfo } from './connection-info.js';

export interface RecvOptions {
  /** MSG_PEEK: copy without consuming. */
  readonly peek?: boolean;
}

/** recv()'s default options, shared: a `= {}` default was an object per read (issue 9). */
const CONSUME: RecvOptions = Object.freeze({});

export class TcpConnection {
  readonly #t: Tcb;

  private constructor(t: Tcb) {
    this.#t = t;
  }

  /** Active OPEN (RFC 9293 3.10.1): SYN-SENT, with the SYN due at the next poll. */
  static connect(
    now: Instant,
    config: TcpConfig,
    local: TcpEndpoint,
    remote: TcpEndpoint,
    iss: number,
    tsOffset?: number,
  ): TcpConnection {
    const t = new Tcb(now, config, local, remote, iss, tsOffset);
    t.state = TcpState.SYN_SENT;
    t.synDue = true;
    return new TcpConnection(t);
  }

  /**
   * Passive open from a listener's SYN (RFC 9293 3.10.7.2): SYN-RECEIVED,
   * the SYN-ACK due at the next poll. The caller has checked that `syn`
   * carries SYN and neither RST nor ACK.
   */
  static accept(
    now: Instant,
    config: TcpConfig,
    local: TcpEndpoint,
    remote: TcpEndpoint,
    syn: TcpRepr,
    iss: number,
    tsOffset?: number,
  ): TcpConnection {
    const t = new Tcb(now, config, local, remote, iss, tsOffset);
    t.passive = true;
    t.state = TcpState.SYN_RECEIVED;
    t.irs = syn.seq;
    t.rcvNxt = seqAdd(syn.seq, 1);
    t.rcvAdv = t.rcvNxt;
    negotiate(t, summarizeTcpOptions(syn.options), now);
    // RFC 7323 2.2: the SYN's window is unscaled.
    t.sndWnd = syn.window;
    t.maxSndWnd = syn.window;
    t.sndWl1 = syn.seq;
    t.synDue = true;
    // Text or FIN on a SYN would be queued by RFC 9293 3.10.7.2; Linux drops it, and so do we.
    return new TcpConnection(t);
  }

  // ---------------------------------------------------------------- stack side

  /**
   * Processes one segment for this connection (checksum already verified).
   * `seg` may be a reused record (TcpReprScratch): nothing here keeps it, its
   * options or its payload view past the call; what is kept is copied.
   * True when the segment took the header-prediction fast path (counted as
   * tcp.fast-path).
   */
  input(now: Instant, seg: TcpRepr): boolean {
    const t = this.#t;
    // A segment arriving between a poll and drainDone (a link that delivered
    // inside send, which none does) could owe output: the drain goes on.
    t.sentAll = false;
    const fast = segmentArrives(t, now, seg);
    if (t.state === TcpState.ESTABLISHED || t.state === TcpState.CLOSE_WAIT) t.expandSendBuffer();
    // A bare ACK (nothing here to read or answer): the connection may have
    // gone quiet, so empty stores go back to the pool (reclaimStores says
    // why not on every segment). A segment with data arms the delayed-ACK
    // timer or asks for an ACK, and the timer or the drain of what it
    // brought reclaims them instead.
    if (tcpPayloadLength(seg) === 0) t.reclaimStores();
    return fast;
  }

  /** The next segment due now, or undefined. Call until undefined. Payload views are valid until the next call. */
  poll(now: Instant): TcpSegmentOut | undefined {
    return nextSegment(this.#t, now);
  }

  /**
   * Right after poll() returned a segment (and it was sent, nothing else
   * done to the connection): true when poll() at the same instant would
   * answer undefined, so the drain may end here; the segment record then
   * lets go of the send store as that call would have. Issue 9: saves the
   * drain's last poll (a timer pass and a planning pass) on each segment
   * that empties the queue, as Linux's tcp_write_xmit stops at the queue's
   * end. False when unsure: then poll on. pollAt(true) holds either way.
   */
  drainDone(): boolean {
    const t = this.#t;
    if (!t.sentAll) return false;
    t.sentAll = false;
    t.segmentOut.payloadStore = NO_STORE;
    return true;
  }

  /** Calls `emit` for every segment due now; returns how many. */
  output(now: Instant, emit: (seg: TcpSegmentOut) => void): number {
    let n = 0;
    for (let seg = this.poll(now); seg !== undefined; seg = this.poll(now)) {
      emit(seg);
      n++;
      if (this.drainDone()) break;
    }
    return n;
  }

  /**
   * When the owner must call poll/output next (possibly the current instant),
   * or undefined. `drained`: poll() has just answered undefined and nothing
   * else was done to the connection since (saves a planning pass).
   */
  pollAt(drained = false): Instant | undefined {
    return nextDeadline(this.#t, drained);
  }

  get local(): TcpEndpoint {
    return this.#t.local;
  }
  get remote(): TcpEndpoint {
    return this.#t.remote;
  }

  /**
   * RFC 1122 4.2.2.13 / RFC 6191: may a new SYN for this 4-tuple reopen the
   * connection while it sits in TIME-WAIT? Yes when it passes PAWS and its
   * sequence number is beyond the old connection's or its TSval is newer,
   * as Linux does (tcp_timewait_state_process, time-wait-rules.ts). The
   * stack then frees this connection and gives the SYN to the listener.
   */
  acceptsNewSyn(seg: TcpRepr, now: Instant = this.#t.lastNow): boolean {
    const t = this.#t;
    return t.state === TcpState.TIME_WAIT && timeWaitAcceptsSyn(t, now, seg);
  }

  /** Fills a compact TIME-WAIT record (time-wait-state.ts); false while the full TCB is still needed. */
  fillTimeWait(into: TimeWaitFields): boolean {
    return fillTimeWait(this.#t, into);
  }

  /**
   * The compact record filled by fillTimeWait took the connection over
   * (Linux tcp_time_wait, then tcp_done): this TCB goes to CLOSED, keeping
   * unread data for a socket that still holds it.
   */
  handedToTimeWait(): void {
    this.#t.enterClosed();
  }

  // ---------------------------------------------------------------- status

  /**
   * Bytes of buffer memory held now (send and receive stores, the
   * reassembly table), like the memory figures of Linux `ss -m`: 0 for an
   * idle connection, whose drained buffers went back to the pool.
   */
  get bufferBytes(): number {
    const t = this.#t;
    return t.sndBuf.allocatedBytes + t.rcvBuf.allocatedBytes + t.assembler.allocatedBytes;
  }

  /** SND.UNA, cheaply (the stack compares it around input() to see forward progress). */
  get sndUna(): number {
    return this.#t.sndUna;
  }
  /** Consecutive retransmission timeouts so far (0 unless the RTO or SYN timer has fired). */
  get timeouts(): number {
    return this.#t.retries;
  }

  get state(): TcpState {
    return this.#t.state;
  }
  /** A new value whenever something the owner may care about changed. */
  get version(): number {
    return this.#t.version;
  }
  /** Called synchronously whenever `version` changes. */
  set onEvent(fn: (() => void) | undefined) {
    this.#t.onEvent = fn;
  }
  get error(): TcpError | undefined {
    return this.#t.error;
  }
  /** Closed and nothing left to send: the owner may free it. */
  get isClosed(): boolean {
    return this.#t.state === TcpState.CLOSED && this.#t.rstDue === undefined;
  }
  /** An ACK is owed at once (a window update after a read, a delayed ACK cut short). */
  get ackDue(): boolean {
    return this.#t.ackNow;
  }
  /** Handshake done (or past it). */
  get isEstablished(): boolean {
    const s = this.#t.state;
    return s !== TcpState.SYN_SENT && s !== TcpState.SYN_RECEIVED && s !== TcpState.CLOSED && s !== TcpState.LISTEN;
  }
  /** Bytes ready for recv(). */
  get recvAvailable(): number {
    return this.#t.rcvBuf.length;
  }
  /** The peer sent FIN and every byte before it has been read. */
  get eof(): boolean {
    return this.#t.finReceived && this.#t.rcvBuf.length === 0;
  }
  /** recv() would not block: data, EOF, or an error. */
  get readable(): boolean {
    return this.#t.rcvBuf.length > 0 || this.#t.finReceived || this.#t.error !== undefined || this.#t.state === TcpState.CLOSED;
  }
  /** SO_SNDBUF less the send queue's truesize (sk_stream_wspace); 0 when the direction is closed. */
  get sendFree(): number {
    return this.canSend ? Math.max(0, this.#t.sndbuf - sendCharge(this.#t)) : 0;
  }

  /** TCP_NOTSENT_LOWAT on a live connection (the socket's value, or the sysctl's when it sets 0). */
  setNotsentLowat(bytes: number): void {
    this.#t.notsentLowat = bytes;
    this.#t.notify();
  }
  /** sk_sndbuf: the send queue's truesize bound now (auto-tuned unless SO_SNDBUF fixed it). */
  get sendBufferSize(): number {
    return this.#t.sndbuf;
  }
  /** sk_rcvbuf: the receive buffer's size now (auto-tuned unless SO_RCVBUF fixed it). */
  get recvBufferSize(): number {
    return this.#t.rcvBuf.capacity;
  }
  /** Bytes queued and not yet acknowledged (SIOCOUTQ). */
  get sendQueued(): number {
    return this.#t.sndBuf.length;
  }
  /** poll's POLLOUT: an open send direction that sk_stream_is_writeable (send-memory.ts streamWriteable). */
  get writable(): boolean {
    return this.canSend && streamWriteable(this.#t);
  }
  private get canSend(): boolean {
    return acceptsSend(this.#t.state) && !this.#t.finQueued;
  }

  /** Bytes an ordinary recv() can return now: recvAvailable less an out-of-band byte at the head (Linux tcp_poll's target++). */
  get recvReadable(): number {
    // No urgent data (the usual case): no window record (issue 9, a read's garbage).
    if (this.#t.urgState === 'none') return this.#t.rcvBuf.length;
    const w = readWindow(this.#t);
    return this.#t.rcvBuf.length - w.skip;
  }

  /** The urgent byte has arrived and is unread (Linux TCP_URG_VALID: POLLPRI). */
  get urgentByteReady(): boolean {
    captureUrgentByte(this.#t);
    return this.#t.urgState === 'valid';
  }

  /**
   * recv(MSG_OOB), Linux tcp_recv_urg: the out-of-band byte; 'none' when
   * there is none to read (inline, never sent, already read or read past:
   * EINVAL); 'notyet' when the pointer arrived but the byte has not (EAGAIN).
   */
  recvUrgent(peek = false): number | 'none' | 'notyet' {
    const t = this.#t;
    captureUrgentByte(t);
    if (t.oobInline || t.urgState === 'none' || t.urgState === 'read') return 'none';
    if (t.urgState === 'notyet') return 'notyet';
    if (!peek) {
      t.urgState = 'read';
      t.notify();
    }
    return t.urgByte;
  }

  /** SO_OOBINLINE: leave the urgent byte in the stream (on) or take it out of band (off, the default). */
  setOobInline(on: boolean): void {
    this.#t.oobInline = on;
  }

  /** MUST-33: how much urgent data is pending (bytes up to the urgent pointer not yet read), 0 if none. */
  get urgentPending(): number {
    const t = this.#t;
    if (!t.rcvUrgent) return 0;
    const readUpTo = seqAdd(t.rcvNxt, -t.rcvBuf.length);
    const n = seqSub(t.rcvUp, readUpTo);
    return n > 0 ? n : 0;
  }

  /** Negotiated parameters and counters, for getsockopt(TCP_INFO)-like queries and tests. */
  get info(): TcpInfo {
    return connectionInfo(this.#t);
  }

  // ---------------------------------------------------------------- user calls

  /**
   * SEND (RFC 9293 3.10.2): copies as much of `data` as Linux's send-buffer
   * accounting takes now (send-memory.ts: skbs against SO_SNDBUF) and returns the count (0 when full or the direction is closed;
   * the socket layer maps that to EAGAIN/EPIPE using `error`/`state`).
   * Data queued in SYN-SENT/SYN-RECEIVED goes out once established.
   */
  send(data: Uint8Array, options: { readonly urgent?: boolean } = {}): number {
    const t = this.#t;
    // canSend, without its getter call (issue 9: every write).
    if (!acceptsSend(t.state) || t.finQueued) return 0;
    const n = sendQueue(t, data);
    if (n > 0 && options.urgent === true) {
      // MUST-30: SND.UP points just past the last urgent byte.
      t.sndUp = seqAdd(t.sndBufSeq, t.sndBuf.length);
      t.sndUrgent = true;
    }
    return n;
  }

  /**
   * RECEIVE (RFC 9293 3.10.3): copies up to dst.length bytes, consuming them
   * unless `peek`. Returns 0 at EOF or when nothing is there (check `eof`).
   */
  recv(dst: Uint8Array, options: RecvOptions = CONSUME): number {
    const t = this.#t;
    // readWindow (urgent.ts) without its record when there is no urgent data (issue 9).
    let skip = 0;
    let limit = t.rcvBuf.length;
    if (t.urgState !== 'none') ({ skip, limit } = readWindow(t));
    const len = Math.min(dst.length, limit - skip);
    if (options.peek === true) return len > 0 ? t.rcvBuf.peek(dst.subarray(0, len), skip) : 0;
    const before = t.rcvWnd();
    // Linux tcp_recvmsg: the out-of-band byte at the read position is stepped over.
    if (skip > 0) t.rcvBuf.consume(skip);
    // No view when the whole buffer is taken (the usual read): a view is ~100 bytes of garbage.
    const n = len > 0 ? t.rcvBuf.read(len === dst.length ? dst : dst.subarray(0, len)) : 0;
    // Reading past the urgent byte ends it: recv(MSG_OOB) now fails with EINVAL.
    if (t.urgState !== 'none' && seqGt(t.readSeq(), t.urgSeq)) t.urgState = 'none';
    if (n === 0 && skip === 0) return 0;
    this.#autotune(n);
    // RFC 9293 3.8.6.2.2: announce the opened window once it is worth it
    // (always when we had closed it to zero, or the peer would wait for a probe).
    const inc = t.windowIncrease();
    if (inc > 0 && (before === 0 || inc >= windowUpdateThreshold(t))) t.ackNow = true;
    // Linux tcp_cleanup_rbuf: the read drained what a pushed segment brought while
    // its ACK waits on the delayed-ACK timer: the sender is waiting on us, ACK now.
    // Not in pingpong mode, where the ACK waits for our reply (unless a second
    // pushed segment came: ICSK_ACK_PUSHED2).
    if (
      t.pushedWhileDelayed &&
      (t.pushedTwice || !t.inPingpong) &&
      t.rcvBuf.length === 0 &&
      t.delackAt !== NOT_ARMED
    ) {
      t.ackNow = true;
    }
    // Drained, and nothing parked out of order: the stores go back to the
    // shared pool, so an idle connection holds no buffer memory, unless an
    // ACK stays on the delayed-ACK timer: then a reply is likely (a
    // request/response exchange keeps its stores, issue 9), and the timer
    // reclaims them if none comes (runTimers). An ACK due now clears the
    // timer, so nothing later would: reclaim here. A bulk transfer drains
    // on nearly every read and takes the same array back from the pool on
    // the next segment, with no allocation or zero-fill.
    if (t.rcvBuf.extent === 0 && (t.delackAt === NOT_ARMED || t.ackNow)) t.reclaimStores();
    // No notify(): a read only takes readiness away (POLLIN, POLLPRI past the mark),
    // never gives any, so it has no one to wake (Linux's tcp_recvmsg wakes no one).
    // Issue 9: the wake-up chain (onEvent, socket, open file) of every read woke nobody.
    return n;
  }

  /**
   * Receive buffer auto-tuning, simply: when the application reads more than
   * half the buffer within one smoothed RTT, the window is what limits the
   * transfer, so double the buffer (up to recvBufferMax), like Linux DRS.
   */
  #autotune(n: number): void {
    const t = this.#t;
    t.autotuneBytes += n;
    const rtt = t.rtt.srtt ?? t.config.rtoInitial;
    if (instantDiff(t.lastNow, t.autotuneAt) > rtt) {
      t.autotuneAt = t.lastNow;
      t.autotuneBytes = n;
    }
    const cap = t.rcvBuf.capacity;
    if (t.autotuneBytes > cap / 2 && cap < t.config.recvBufferMax) {
      t.rcvBuf.resize(Math.min(t.config.recvBufferMax, cap * 2));
      t.autotuneBytes = 0;
      t.autotuneAt = t.lastNow;
    }
  }

  /**
   * shutdown(SHUT_WR) / half of CLOSE (RFC 9293 3.10.4): a FIN follows the
   * queued data. In SYN-SENT nothing has been sent, so the connection just
   * goes away.
   */
  shutdownWrite(): void {
    const t = this.#t;
    if (t.finQueued) return;
    switch (t.state) {
      case TcpState.SYN_SENT:
        t.enterClosed();
        return;
      case TcpState.SYN_RECEIVED:
        // Queued until ESTABLISHED (input.ts afterEstablished).
        this.#queueFin();
        return;
      case TcpState.ESTABLISHED:
        this.#queueFin();
        t.setState(TcpState.FIN_WAIT_1);
        return;
      case TcpState.CLOSE_WAIT:
        this.#queueFin();
        t.setState(TcpState.LAST_ACK);
        return;
      default:
        return;
    }
  }

  #queueFin(): void {
    const t = this.#t;
    t.finQueued = true;
    t.finSeq = seqAdd(t.sndBufSeq, t.sndBuf.length);
    t.notify();
  }

  /**
   * close(): no more sending or receiving. Like Linux, unread received data
   * turns this into an abort (RST, RFC 2525 2.17); otherwise a graceful FIN.
   */
  close(): void {
    const t = this.#t;
    if (t.rcvBuf.length > 0 && t.state !== TcpState.CLOSED && t.state !== TcpState.SYN_SENT) {
      this.abort();
      return;
    }
    t.userClosed = true;
    this.shutdownWrite();
  }

  /** ABORT (RFC 9293 3.10.5): RST in synchronized states and SYN-RECEIVED, then CLOSED. */
  abort(): void {
    const t = this.#t;
    switch (t.state) {
      case TcpState.SYN_RECEIVED:
      case TcpState.ESTABLISHED:
      case TcpState.FIN_WAIT_1:
      case TcpState.FIN_WAIT_2:
      case TcpState.CLOSE_WAIT: {
        const h = t.header(t.lastNow, t.sndMax, TcpFlag.RST | TcpFlag.ACK);
        t.rcvBuf.clear();
        t.sndBuf.clear();
        t.assembler.clear();
        t.enterClosed();
        t.rstDue = h;
        return;
      }
      default:
        t.enterClosed();
    }
  }

  // ---------------------------------------------------------------- socket options

  /** TCP_NODELAY (MUST-17). */
  /** TCP_CONGESTION on a live connection: the controller changes at once, keeping the window (Linux). */
  setCongestionControl(name: CongestionControlName): void {
    this.#t.setCongestionControl(name);
  }
  /** SO_SNDBUF on a live connection: the send buffer takes the size at once, no longer auto-tuned (Linux). */
  setSendBufferSize(bytes: number): void {
    this.#t.setSendBufferSize(bytes);
  }
  setNoDelay(on: boolean): void {
    this.#t.noDelay = on;
    // Linux (TCP_NAGLE_PUSH): turning TCP_NODELAY on pushes what is queued
    // at once, even past TCP_CORK or MSG_MORE.
    if (on) this.#t.forceSend = true;
  }
  /**
   * MSG_MORE on the write just queued (Linux tcp_sendmsg + tcp_push): its
   * partial tail waits for more (until an ACK, the persist timer or a write
   * without the flag) and carries no PSH.
   */
  setMsgMore(more: boolean): void {
    this.#t.msgMore = more;
    this.#t.moreHold = more;
  }
  /**
   * MSG_EOR: the data queued so far ends a record. No segment crosses the
   * boundary (Linux: the skb's eor bit stops coalescing), and the segment
   * that ends there carries PSH.
   */
  markEor(): void {
    const t = this.#t;
    if (t.sndBuf.length === 0) return;
    const end = seqAdd(t.sndBufSeq, t.sndBuf.length);
    // Created on first use: most connections never see MSG_EOR.
    const q = (t.eorSeqs ??= []);
    if (q[q.length - 1] !== end) q.push(end);
    // Linux tcp_skb_can_collapse_to: nothing joins an skb marked EOR; the next write starts one.
    closeTail(t);
  }
  /**
   * SO_KEEPALIVE and TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT (MUST-24,
   * MUST-27) and TCP_USER_TIMEOUT (MUST-21) on a live connection; omitted
   * fields keep their value.
   */
  setOptions(options: Partial<Readonly<MutableOptions>>): void {
    // A copy of its own: the old object may be shared with other connections (shared-config.ts internConfig).
    const o: MutableOptions = { ...this.#t.opts };
    if (options.keepAlive !== undefined) o.keepAlive = options.keepAlive;
    if (options.keepIdle !== undefined) o.keepIdle = options.keepIdle;
    if (options.keepInterval !== undefined) o.keepInterval = options.keepInterval;
    if (options.keepCount !== undefined) o.keepCount = options.keepCount;
    if (options.userTimeout !== undefined) o.userTimeout = options.userTimeout;
    this.#t.opts = o;
  }

  /**
   * RFC 1191 / RFC 1122 4.2.2.6 (MUST-16): the path MTU dropped (ICMP
   * "fragmentation needed"). Lowers the send MSS to fit and, like Linux's
   * tcp_simple_retransmit, resends the oldest unacknowledged data at once
   * (it was lost for being too big). A larger MTU than the current one is
   * ignored. Returns the new MSS.
   */
  setPathMtu(mtu: number): number {
    const t = this.#t;
    const mss = Math.max(64, Math.min(t.mss, mtu - 40));
    if (mss < t.mss) {
      t.mss = mss;
      t.cc.setMss(mss);
      t.sb.setMss(mss);
      if (seqLt(t.sndUna, t.sndMax) && this.isEstablished) {
        t.sndNxt = t.sndUna;
        t.rttSeq = undefined;
      }
      t.notify();
    }
    return t.mss;
  }

  /** TCP_CORK: uncorking lets held partial segments go. */
  setCork(on: boolean): void {
    this.#t.cork = on;
  }
  /** Marks that the next segment should be sent at once (TCP_QUICKACK-ish: ACK now). */
  ackNow(): void {
    this.#t.ackNow = true;
  }
  /** True when the peer's urgent pointer is ahead of what has been read. */
  get hasUrgent(): boolean {
    return this.urgentPending > 0;
  }
}
