/**
 * The Transmission Control Block (RFC 9293 3.3.1): every variable of one
 * connection, plus the small helpers that the receive side (input.ts) and
 * the send side (output.ts) share. TcpConnection (connection.ts) is the
 * public face; this class is internal, its fields are deliberately public so
 * that the split files can work on it without getters on the hot path.
 */
import type { Ipv4Address } from '../wire/address.js';
import { maxSackBlocks } from '../wire/tcp-options.js';
import type { SackBlock } from '../wire/tcp-options.js';
import type { TcpHeaderRepr } from '../wire/tcp.js';
import { Assembler } from '../storage/assembler.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import type { RingBufferOptions } from '../storage/ring-buffer.js';
import { sharedBufferPool } from '../storage/buffer-pool.js';
import { durationMul } from '../time/duration.js';
import type { Duration } from '../time/duration.js';
import { Instant, instantAdd } from '../time/instant.js';
import { seqAdd, seqSub } from './seq.js';
import { announcedMss, windowScaleFor } from './config.js';
import { createCongestionController } from './congestion/create.js';
import type { CongestionControlName, CongestionController } from './congestion/congestion-controller.js';
import { RttEstimator } from './rtt.js';
import { SEND_RING_SLACK, SKB_OVERHEAD, chargeFor } from './send-memory.js';
import { SackScoreboard } from './sack-scoreboard.js';
import type { TcpConfig } from './config.js';
import { TcpState } from './state.js';
import type { TcpError } from './state.js';
import { internConfig } from './shared-config.js';
import type { MutableOptions } from './shared-config.js';
import { NO_OPTIONS, OUT_HEADER, OUT_OPTIONS, SEGMENT_OUT, fillHeader, synHeader, tsMillis } from './segment-header.js';
import type { MutableSegmentOut } from './segment-header.js';
import { NOT_ARMED } from './not-armed.js';

export { NOT_ARMED };

export interface TcpEndpoint {
  readonly addr: Ipv4Address;
  readonly port: number;
}

/** RFC 9293 3.7.1 / MUST-15: the send MSS when the peer announces none (IPv4). */
export const DEFAULT_SEND_MSS = 536;

/** Linux net.ipv4.tcp_pingpong_thresh (default 1): replies needed to enter pingpong mode. */
export const PINGPONG_THRESH = 1;

export class Tcb {
  /** Replaced, never mutated, when SO_SNDBUF changes a live connection (setSendBufferSize). */
  config: TcpConfig;
  readonly local: TcpEndpoint;
  readonly remote: TcpEndpoint;
  state: TcpState = TcpState.CLOSED;
  /** Passive opens return to LISTEN on RST in SYN-RECEIVED (RFC 9293 3.10.7.4); we simply close. */
  passive = false;

  // ---- send sequence space (RFC 9293 3.3.1, Figure 3) ----
  readonly iss: number;
  sndUna: number;
  /** The next sequence number to send; lowered to SND.UNA on RTO (go-back-N). */
  sndNxt: number;
  /** The highest sequence number ever sent (Linux's snd_nxt when ours was rewound). */
  sndMax: number;
  /** The peer's window in bytes, already scaled (RFC 7323 2.3). */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** The largest window the peer ever offered (RFC 5961 5.2 MAX.SND.WND, sender SWS 3.8.6.2.1). */
  maxSndWnd = 0;
  readonly sndBuf: RingBuffer;
  /** Sequence number of sndBuf's first byte. */
  sndBufSeq: number;
  /**
   * sk_sndbuf: the bound on the send queue's truesize (send-memory.ts
   * sendCharge), not on its payload; the ring holds SEND_RING_SLACK more.
   */
  sndbuf: number;
  /** Where the unsent tail "skb" starts, as an offset from ISS: the writer fills it to size_goal (send-memory.ts). */
  sndTailOff = 1;
  /** Linux pushed_seq, as an offset from ISS: the end of the queue when a push was last marked (send-memory.ts forced_push). */
  sndPushedOff = 1;
  /** The user closed the sending direction: a FIN follows the buffered data. */
  finQueued = false;
  /** Sequence number of our FIN once queued. */
  finSeq = 0;
  /** SYN (or SYN-ACK) still to be (re)transmitted. */
  synDue = false;
  /** RFC 5681 3.2 fast retransmit / RFC 6582 partial ACK: resend the segment at SND.UNA. */
  retransmitDue = false;
  /** RFC 9293 MUST-30: send urgent pointer (SND.UP), valid when sndUrgent. */
  sndUp = 0;
  sndUrgent = false;

  // ---- receive sequence space ----
  irs = 0;
  rcvNxt = 0;
  /** Right edge of the window last advertised: it never moves left (RFC 9293 3.8.6, SHLD-14). */
  rcvAdv = 0;
  readonly rcvBuf: RingBuffer;
  readonly assembler: Assembler;
  /** A FIN seen beyond RCV.NXT (out of order), to be processed when the gap fills. */
  finRecvSeq: number | undefined = undefined;
  finReceived = false;
  /** RFC 9293 3.8.5 / MUST-30..33: the receive urgent pointer, valid when rcvUrgent. */
  rcvUp = 0;
  rcvUrgent = false;
  /**
   * The out-of-band byte, Linux style (tcp_check_urg / tcp_urg): the last
   * urgent octet (RCV.UP - 1) is taken out of the stream unless oobInline
   * (SO_OOBINLINE). 'notyet': the pointer arrived, the byte not yet;
   * 'valid': urgByte holds it, unread; 'read': recv(MSG_OOB) took it. Back
   * to 'none' once ordinary reads pass urgSeq.
   */
  urgState: 'none' | 'notyet' | 'valid' | 'read' = 'none';
  urgSeq = 0;
  urgByte = 0;
  oobInline = false;

  // ---- options (negotiated on the handshake) ----
  /** Effective send MSS (MUST-16), without options. */
  mss = DEFAULT_SEND_MSS;
  readonly ourMss: number;
  /** Shift applied to windows we receive / we send (RFC 7323 2.2); 0 unless both sides sent wscale. */
  sndWscale = 0;
  rcvWscale = 0;
  readonly ourWscale: number;
  tsOk = false;
  tsRecent = 0;
  /** Instant tsRecent was set, for the RFC 7323 5.5 24-day rule. */
  tsRecentAt: Instant = Instant.ZERO;
  readonly tsOffset: number;
  sackOk = false;
  lastAckSent = 0;

  // ---- RTT and RTO (RFC 6298) ----
  readonly rtt: RttEstimator;
  /** The SYN (or SYN-ACK) timed out at least once (RFC 6298 5.7). */
  synRetransmitted = false;
  /** Karn's algorithm (MUST-18): the one segment being timed when timestamps are off. */
  rttSeq: number | undefined = undefined;
  rttSentAt: Instant = Instant.ZERO;
  /** Consecutive retransmission timeouts (R2 counter, MUST-20). */
  retries = 0;
  /** When the retransmission timer last fired. */
  lastTimeoutAt: Instant = Instant.ZERO;
  /** When the oldest unacknowledged data was first sent (TCP_USER_TIMEOUT). */
  unackedSince: Instant = NOT_ARMED;

  // ---- congestion control (RFC 5681, RFC 6582, RFC 3042) ----
  /** cwnd and ssthresh (src/tcp/congestion); recovery itself is ours (input.ts). */
  cc: CongestionController;
  /**
   * RFC 6582 3.2 / RFC 5681 3.2 window inflation during fast recovery, on top
   * of the controller's cwnd: +3 MSS on entry, +1 MSS per further duplicate,
   * minus what partial ACKs acknowledge.
   */
  recoveryInflation = 0;
  dupAcks = 0;
  inRecovery = false;
  recover: number;

  // ---- SACK (RFC 2018) sender side: what the peer reported, for RFC 6675 recovery ----
  readonly sb: SackScoreboard;

  // ---- timers: instants, NOT_ARMED when off ----
  rtoAt: Instant = NOT_ARMED;
  delackAt: Instant = NOT_ARMED;
  persistAt: Instant = NOT_ARMED;
  persistBackoff = 0;
  keepaliveAt: Instant = NOT_ARMED;
  keepaliveProbes = 0;
  timeWaitAt: Instant = NOT_ARMED;
  finWait2At: Instant = NOT_ARMED;
  lastReceivedAt: Instant;

  // ---- pending output ----
  ackNow = false;
  /** The persist timer fired with a small usable window: send it despite SWS avoidance (RFC 9293 3.8.6.2.1). */
  forceSend = false;
  /** TCP_NODELAY and TCP_CORK, settable at run time. */
  noDelay: boolean;
  cork: boolean;
  /** TCP_NOTSENT_LOWAT in effect (send-memory.ts): the socket's value, else the sysctl's. */
  notsentLowat: number;
  /**
   * The socket options that setsockopt may change after creation. Shared
   * with every connection of the same configuration and never written:
   * TcpConnection.setOptions replaces it with a connection's own copy.
   */
  opts: Readonly<MutableOptions>;
  /** A zero-window or keepalive probe (Linux style: SEG.SEQ = SND.UNA - 1, no data). */
  probeDue = false;
  /** A RST to send, then CLOSED. */
  rstDue: TcpHeaderRepr | undefined = undefined;
  /** Segments of one kind (new data, or retransmissions) sent so far at instant burstAt (PSH placement, output.ts). */
  burstSegs = 0;
  burstAt: Instant = NOT_ARMED;
  burstRetransmit = false;
  // ---- RFC 8985 7 tail loss probe (tlp.ts) ----
  tlpAt: Instant = NOT_ARMED;
  /** The PTO fired: the next output is the probe. */
  tlpDue = false;
  /** A probe is out and its ACK (of tlpHighSeq, TLP.end_seq) not yet seen. */
  tlpActive = false;
  tlpHighSeq = 0;
  tlpRetrans = false;
  /** Start of the highest new-data segment sent (the probe resends it). */
  lastSegSeq = 0;
  /** The last write had MSG_MORE: its tail gets no PSH (Linux tcp_push marks only without it). */
  msgMore = false;
  /** MSG_MORE holds a partial tail back until an ACK, the persist timer or a write without it. */
  moreHold = false;
  /** MSG_EOR record ends not yet sent past, ascending (connection.markEor, output.ts). */
  eorSeqs: number[] | undefined = undefined;
  /** The persist timer is flushing held data (Linux tcp_write_wakeup sets PSH on it). */
  timerFlush = false;
  /**
   * The segment nextSegment just returned sent everything and nothing else
   * is due at its instant (output.ts sentAll): the owner may end the drain
   * without the call that would answer undefined (TcpConnection.drainDone).
   * Reset by every nextSegment call.
   */
  sentAll = false;
  // ---- RFC 6937 proportional rate reduction (prr.ts) ----
  prrDelivered = 0;
  prrOut = 0;
  prrRecoverFs = 1;
  /** The window PRR allows during SACK recovery: pipe + sndcnt as of the last ACK. */
  prrCwnd = 0;
  quickAcksLeft: number;
  /**
   * In-order data with PSH arrived while our ACK is delayed (Linux
   * ICSK_ACK_PUSHED): the sender has nothing more queued, so once the
   * application drains the buffer the ACK goes at once (tcp_cleanup_rbuf)
   * instead of after the delayed-ACK timer.
   */
  pushedWhileDelayed = false;
  /** A second pushed segment arrived with the ACK still delayed (Linux ICSK_ACK_PUSHED2): ACK on drain even in pingpong mode. */
  pushedTwice = false;
  /**
   * Linux icsk_ack.pingpong: replies sent within the delayed-ACK timeout of
   * the data they answer (tcp_event_data_sent). At PINGPONG_THRESH and above
   * the connection is interactive: ACKs wait to ride on the reply instead of
   * going bare when the application drains its receive buffer, and quick
   * ACKs are suspended (tcp_in_quickack_mode). The delayed-ACK timer firing
   * ends it (tcp_delack_timer_handler).
   */
  pingpong = 0;
  /** When in-order data last arrived (Linux icsk_ack.lrcvtime), for the pingpong test. */
  lastDataAt: Instant = NOT_ARMED;
  /** Full-size segments received since our last ACK (RFC 9293 3.8.6.3: ACK every second). */
  unackedSegments = 0;
  /** Estimate of the peer's segment size, for "full-sized" above (Linux rcv_mss). */
  rcvMssEst = DEFAULT_SEND_MSS;
  /** Further immediate ACKs owed for out-of-order arrivals (one per segment, RFC 5681 4.2). */
  extraAcks = 0;
  challengeWindowStart: Instant = Instant.ZERO;
  challengeCount = 0;
  /** Linux tw_last_oow_ack_time, for TIME-WAIT's rate-limited ACKs (time-wait-rules.ts). */
  lastOowAckAt: Instant = Instant.ZERO;

  // ---- user-visible ----
  error: TcpError | undefined = undefined;
  /** The user called close(): data arriving now is answered with RST (RFC 9293 3.10.4, Linux). */
  userClosed = false;
  version = 0;
  onEvent: (() => void) | undefined = undefined;
  /**
   * newAck freed send space during a segment's input: notify() is owed at
   * its end (segmentArrives), unless another notify() of the same segment
   * (data queued, a state change) already told the owner. Linux's tcp_ack
   * defers the write-space wake to tcp_check_space after the segment
   * (issue 9: one wake-up chain per request/response segment, not two).
   */
  notifyDue = false;
  lastNow: Instant;
  /** Receive auto-tuning: bytes the application read since autotuneAt. */
  autotuneBytes = 0;
  autotuneAt: Instant;

  constructor(now: Instant, config: TcpConfig, local: TcpEndpoint, remote: TcpEndpoint, iss: number, tsOffset?: number) {
    const shared = internConfig(config);
    config = shared.config;
    this.config = config;
    this.local = local;
    this.remote = remote;
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.recover = this.iss;
    this.sndBufSeq = seqAdd(this.iss, 1);
    this.sndbuf = config.sendBufferSize;
    // Stores come from a shared pool and go back once drained (connection.ts),
    // so an idle connection holds no buffer memory and bulk transfers reuse
    // them; they start small and grow with the data, so a connection with a
    // short message queued holds a few KiB rather than a whole window.
    this.sndBuf = new RingBuffer(config.sendBufferSize + SEND_RING_SLACK, TCP_RING_OPTIONS);
    this.rcvBuf = new RingBuffer(config.recvBufferSize, TCP_RING_OPTIONS);
    this.assembler = new Assembler(config.maxOutOfOrderRanges);
    this.ourMss = announcedMss(config);
    this.ourWscale = config.windowScaling ? windowScaleFor(Math.max(config.recvBufferMax, config.recvBufferSize)) : 0;
    this.sb = new SackScoreboard({ mss: DEFAULT_SEND_MSS });
    this.rtt = new RttEstimator({
      minRto: config.rtoMin,
      maxRto: config.rtoMax,
      initialRto: config.rtoInitial,
      linuxRto: config.linuxRto,
      hz: config.linuxHz,
    });
    this.cc = createCongestionController(config.congestionControl, {
      mss: DEFAULT_SEND_MSS,
      initialWindow: config.initialWindowSegments,
      // Linux tcp_slow_start: no RFC 3465 cap per ACK.
      ...(config.linuxSlowStart ? { slowStartLimit: Infinity } : {}),
      now,
    });
    this.quickAcksLeft = config.quickAcks;
    this.noDelay = config.noDelay;
    this.cork = config.cork;
    this.notsentLowat = config.notsentLowat;
    this.opts = shared.opts;
    // RFC 7323 5.4 suggests a random timestamp offset. The owner passes one
    // keyed on the address pair (Linux secure_tcp_ts_off), so TSvals on a
    // reused 4-tuple keep increasing and RFC 6191 can reopen a TIME-WAIT.
    // Without one (unit tests), the ISS serves: unpredictable, but per
    // connection, so a reused 4-tuple's TSvals jump about.
    this.tsOffset = tsOffset === undefined ? Math.imul(this.iss, 0x9e3779b1) >>> 0 : tsOffset >>> 0;
    this.lastNow = now;
    this.lastReceivedAt = now;
    this.autotuneAt = now;
  }

  /**
   * Send-buffer auto-tuning, Linux tcp_sndbuf_expand: room for twice the
   * congestion window (at least the initial window) in full segments, up to
   * sendBufferMax, so a bulk sender is never limited to a segment or two in
   * flight by its own buffer (at MTU 65535 the 64 KiB default holds one).
   */
  expandSendBuffer(): void {
    const cap = this.sndbuf;
    const max = this.config.sendBufferMax;
    if (cap >= max) return;
    // cwnd as far as the peer's window lets it be used: our controllers grow cwnd
    // also when the receiver limits the flow, where Linux's would not
    // (tcp_is_cwnd_limited), and buffering beyond the peer's window buys nothing.
    const usable = Math.min(this.cc.cwnd, Math.max(this.maxSndWnd, this.mss));
    const segs = Math.max(this.config.initialWindowSegments, Math.ceil(usable / this.mss));
    const payload = 2 * segs * this.mss;
    // chargeFor counts at most one skb per segment: when even that fits, the
    // TSO size (a pacing-rate computation) need not be asked (issue 9: this
    // runs for every ACK a bulk sender gets).
    if (payload + (2 * segs + 2) * SKB_OVERHEAD <= cap) return;
    // Counted in truesize, as sk_sndbuf is: the payload plus its skbs' overhead.
    const want = chargeFor(this, payload);
    if (want > cap) {
      // Grow by doubling at least: the ring reallocates and copies on every
      // resize, and cwnd grows a segment at a time.
      this.#setSndbuf(Math.min(max, Math.max(want, cap * 2)));
      this.notify();
    }
  }

  /**
   * TCP_CONGESTION on a live connection (Linux tcp_set_congestion_control ->
   * tcp_reinit_congestion_control): the new controller continues from the
   * current cwnd, ssthresh and recovery state; only its own state is fresh.
   */
  setCongestionControl(name: CongestionControlName): void {
    if (this.cc.name === name) return;
    const old = this.cc;
    this.config = internConfig({ ...this.config, congestionControl: name }).config;
    this.cc = createCongestionController(name, {
      mss: old.mss,
      initialWindow: this.config.initialWindowSegments,
      ...(this.config.linuxSlowStart ? { slowStartLimit: Infinity } : {}),
      continueFrom: { cwnd: old.cwnd, ssthresh: old.ssthresh, inRecovery: old.inRecovery },
    });
    this.notify();
  }

  /**
   * SO_SNDBUF on a live connection: Linux sets sk_sndbuf at once and locks
   * it (SOCK_SNDBUF_LOCK: no more tcp_sndbuf_expand). The ring cannot drop
   * below what is queued, so a smaller size shrinks it only as far as it can.
   */
  setSendBufferSize(bytes: number): void {
    this.config = internConfig({ ...this.config, sendBufferSize: bytes, sendBufferMax: bytes }).config;
    this.#setSndbuf(bytes);
    this.notify();
  }

  #setSndbuf(bytes: number): void {
    this.sndbuf = bytes;
    this.sndBuf.resize(Math.max(bytes + SEND_RING_SLACK, this.sndBuf.extent));
  }

  /** Something the owner may care about changed. */
  notify(): void {
    this.notifyDue = false;
    this.version++;
    this.onEvent?.();
  }

  setState(s: TcpState): void {
    if (this.state === s) return;
    this.state = s;
    this.notify();
  }

  /** Enters CLOSED and drops everything that would keep output or timers alive, except a due RST. */
  enterClosed(error?: TcpError): void {
    if (error !== undefined && this.error === undefined) this.error = error;
    this.rtoAt = NOT_ARMED;
    this.delackAt = NOT_ARMED;
    this.persistAt = NOT_ARMED;
    this.keepaliveAt = NOT_ARMED;
    this.timeWaitAt = NOT_ARMED;
    this.finWait2At = NOT_ARMED;
    this.ackNow = false;
    this.extraAcks = 0;
    this.probeDue = false;
    this.synDue = false;
    this.retransmitDue = false;
    this.state = TcpState.CLOSED;
    this.notify();
  }

  enterTimeWait(now: Instant): void {
    // MUST-13: stay 2 * MSL.
    this.timeWaitAt = instantAdd(now, durationMul(this.config.msl, 2));
    this.rtoAt = NOT_ARMED;
    this.persistAt = NOT_ARMED;
    this.keepaliveAt = NOT_ARMED;
    this.finWait2At = NOT_ARMED;
    this.setState(TcpState.TIME_WAIT);
  }

  /** The TSval clock: milliseconds (RFC 7323 5.4 allows 1 ms to 1 s ticks), offset per connection. */
  tsNow(now: Instant): number {
    return (tsMillis(now) + this.tsOffset) >>> 0;
  }

  /** The sequence number of the next byte recv() returns (Linux copied_seq). */
  readSeq(): number {
    return seqAdd(this.rcvNxt, -(this.rcvBuf.length + (this.finReceived ? 1 : 0)));
  }

  // ---- receive window ----

  /** Free space in the receive buffer: the largest window we could offer now. */
  rcvSpace(): number {
    return this.rcvBuf.capacity - this.rcvBuf.length;
  }

  /** RCV.WND as currently offered: what is left of the last advertisement, never negative. */
  rcvWnd(): number {
    return Math.max(0, seqSub(this.rcvAdv, this.rcvNxt));
  }

  /**
   * The window to put in the next segment, in bytes. Receiver SWS avoidance
   * (RFC 9293 3.8.6.2.2, MUST-39): the right edge only moves right once it can
   * move by min(buffer / 2, MSS), so a slowly reading application does not
   * make us advertise tiny windows.
   */
  windowToAdvertise(): number {
    const cur = this.rcvWnd();
    // Integer ops, not 2 ** w and %, which V8 runs as float maths on every
    // segment: w <= 14 (RFC 7323 2.3), so 0xffff << w stays below 2^31.
    const w = this.rcvWscale;
    const max = 0xffff << w;
    // Round down to what the scaled field can express, so the edge we record is the edge the peer sees.
    let space = Math.min(this.rcvSpace(), max);
    space -= space & ((1 << w) - 1);
    // capacity >>> 1 is floor(capacity / 2) without float maths (a positive int below 2^31).
    const threshold = Math.min(this.rcvBuf.capacity >>> 1, this.ourMss);
    if (space - cur >= threshold || (cur === 0 && space > 0 && space >= this.rcvBuf.capacity)) return space;
    return cur;
  }

  /**
   * Gives the send and receive stores back to the pool where they hold
   * nothing, so an idle connection holds no buffer memory (issue 9's 4 KiB
   * per idle endpoint). Called only where the connection looks quiet (a
   * bare ACK arrived, the delayed-ACK timer fired, a read drained with no
   * ACK waiting on the timer), not every time a store empties: a
   * request/response exchange empties all four stores of a pair on every
   * round trip and took them back from the pool at once (issue 9: about
   * 6% of tcp-rr's TCP time). Linux likewise keeps a busy socket's memory
   * and returns it from tcp_delack_timer_handler (sk_mem_reclaim_partial).
   */
  reclaimStores(): void {
    if (this.sndBuf.length === 0) this.sndBuf.release();
    this.sb.rack?.releaseIdle();
    if (this.rcvBuf.extent === 0) {
      this.rcvBuf.release();
      if (this.assembler.isEmpty) this.assembler.release();
    }
  }

  /** How much an ACK now would open the window: used to decide on window-update ACKs. */
  windowIncrease(): number {
    return this.windowToAdvertise() - this.rcvWnd();
  }

  /** In Linux's interactive (pingpong) ACK mode: see `pingpong`. */
  get inPingpong(): boolean {
    return this.pingpong >= PINGPONG_THRESH;
  }

  /** A segment with data is going out (Linux tcp_event_data_sent): a reply within the ACK timeout counts toward pingpong. */
  noteDataSent(now: Instant): void {
    if (this.lastDataAt !== NOT_ARMED && now - this.lastDataAt < this.config.delayedAckTimeout && this.pingpong < 255) {
      this.pingpong++;
    }
  }

  // ---- segment building ----

  /**
   * Header for a non-SYN segment: ACK of RCV.NXT, the window (scaled,
   * RFC 7323 2.3), and timestamps/SACK options (Linux layout). Records the
   * advertised edge and clears the pending-ACK state, since every segment we
   * send carries the current ACK.
   */
  header(now: Instant, seq: number, flags: number, urgentPointer = 0): TcpHeaderRepr {
    const out = { srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, urgentPointer: 0, options: NO_OPTIONS };
    fillHeader(this, now, seq, flags, urgentPointer, out, undefined);
    return out;
  }

  /**
   * header(), written into one record this connection reuses for every
   * segment it sends (issue 9: a header, an options list and a timestamps
   * option per segment). One record serves every connection in the process
   * (an idle connection holds none: issue 9's memory target), so it is valid
   * until the next outHeader() call of any connection: for a segment
   * that goes out at once (output.ts's nextSegment), never one kept (rstDue).
   */
  outHeader(now: Instant, seq: number, flags: number, urgentPointer = 0): TcpHeaderRepr {
    const out = OUT_HEADER;
    this.outHeaderLength = fillHeader(this, now, seq, flags, urgentPointer, out, OUT_OPTIONS);
    return out;
  }

  /** tcpHeaderLen of the last outHeader() (issue 9: the sender sizes the packet without walking the options again). */
  outHeaderLength = 20;

  /** output.ts's segment record, shared like outHeader's (see TcpSegmentOut). */
  get segmentOut(): MutableSegmentOut {
    return SEGMENT_OUT;
  }

  /** SYN or SYN-ACK header with our options (RFC 9293 3.7.1 MSS, RFC 7323, RFC 2018). */
  synHeader(now: Instant, flags: number): TcpHeaderRepr {
    return synHeader(this, now, flags);
  }

  /** Both sides sent a window-scale option. */
  wsAgreed = false;

  /** RFC 2018 4: the blocks of out-of-order data, most recent first, as many as fit. */
  sackBlocks(): SackBlock[] {
    const ranges = this.assembler.ranges(maxSackBlocks(this.tsOk));
    return ranges.map((r) => ({ left: seqAdd(this.rcvNxt, r.offset), right: seqAdd(this.rcvNxt, r.offset + r.length) }));
  }

  // ---- RTT and congestion window ----

  /** The current RTO, backoff included (RFC 6298). */
  get rto(): Duration {
    return this.rtt.rto;
  }

  armRto(now: Instant): void {
    this.rtoAt = instantAdd(now, this.rtt.rto);
  }

  /** The send window congestion control allows: cwnd plus fast-recovery inflation. */
  cwnd(): number {
    // RFC 6675 recovery counts pipe against the plain cwnd; NewReno inflates it.
    const inflation = this.inRecovery && !this.sackOk ? this.recoveryInflation : 0;
    return Math.max(this.mss, this.cc.cwnd + inflation);
  }

  /** Bytes (and SYN/FIN) sent but not acknowledged. */
  flightSize(): number {
    return seqSub(this.sndMax, this.sndUna);
  }
}

/** Send and receive buffers: pooled stores that start at 4 KiB (a couple of segments) and double as needed. */
const TCP_RING_OPTIONS: RingBufferOptions = { pool: sharedBufferPool, minStore: 4096 };
