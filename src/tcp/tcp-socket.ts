/**
 * A TCP stream socket as a SocketHandle: what Linux keeps in `struct socket`
 * (SS_UNCONNECTED / SS_CONNECTING / SS_CONNECTED) and `struct sock`
 * (sk_err, sk_shutdown, options) around one TcpConnection, with Linux's
 * errno for every call (net/ipv4/af_inet.c, tcp.c). The bind table,
 * demultiplexing, timers and the wire belong to TcpProtocol.
 *
 * Calls never block: WOULD_BLOCK and IN_PROGRESS go back to the syscall
 * layer, which waits on readiness (see syscall/socket-handle.ts). Signals do
 * not exist in JavaScript, so writing to a closed connection fails with
 * EPIPE as if MSG_NOSIGNAL were always given.
 */
import { Errno } from '../errno/errno.js';
import type { ErrnoName } from '../errno/errno.js';
import { constants as C } from '../syscall/constants.js';
import { IN_PROGRESS, WOULD_BLOCK, raise } from '../syscall/socket-handle.js';
import type { Accepted, Endpoint, InProgress, RecvResult, SocketHandle, WouldBlock } from '../syscall/socket-handle.js';
import {
  SOCK_MIN_RCVBUF,
  SOCK_MIN_SNDBUF,
  SYSCTL_RMEM_MAX,
  SYSCTL_WMEM_MAX,
  SocketLevelOptions,
  asInt,
  linuxBufSize,
  mergeSockOptTables,
  sockOptTable,
  socketLevelTable,
  tableGet,
  tableSet,
  pmtuDiscoverOption,
} from '../syscall/sockopt.js';
import type { SockOptTable, SockOptValue } from '../syscall/sockopt.js';
import { Duration } from '../time/duration.js';
import { tcpConfig } from './config.js';
import type { TcpConfig } from './config.js';
import { TcpState } from './state.js';
import type { ConnEntry, ListenQueue, TcpBinding } from './tcp-entry.js';
import type { Ipv4Address } from '../wire/address.js';

/** conn.send options, shared rather than an object literal per write. */
const URGENT = Object.freeze({ urgent: true });
const NOT_URGENT = Object.freeze({});

/** What a socket needs from its protocol (TcpProtocol implements it). */
export interface TcpSocketOwner {
  readonly defaults: TcpConfig;
  readonly defaultTtl: number;
  bind(address: Ipv4Address, port: number, reuseAddr: boolean, reusePort: boolean): TcpBinding;
  unbind(b: TcpBinding): void;
  listen(sock: TcpSocket, b: TcpBinding, backlog: number): ListenQueue;
  stopListening(b: TcpBinding): void;
  acceptFrom(q: ListenQueue): ConnEntry | undefined;
  connect(sock: TcpSocket, binding: TcpBinding | undefined, remoteAddr: Ipv4Address, remotePort: number): { entry: ConnEntry; binding: TcpBinding };
  kick(entry: ConnEntry): void;
  orphan(entry: ConnEntry): void;
  dropClosed(entry: ConnEntry): void;
}

/** Linux TCP_MSS_DEFAULT: what TCP_MAXSEG reads on a socket with no connection. */
const TCP_MSS_DEFAULT = 536;
/** Linux TCP_MIN_MSS and MAX_TCP_WINDOW bound TCP_MAXSEG. */
const TCP_MIN_MSS = 88;
const TCP_MAX_MSS = 32767;
const MAX_TCP_KEEPIDLE = 32767;
const MAX_TCP_KEEPINTVL = 32767;
const MAX_TCP_KEEPCNT = 127;
const MAX_TCP_SYNCNT = 127;

/** The inputs of one TcpSocket.connectionConfig result, and the frozen config made from them. */
interface ConnectionConfigEntry {
  readonly defaults: TcpConfig;
  readonly mtu: number;
  readonly noDelay: boolean;
  readonly cork: boolean;
  readonly keepAlive: boolean;
  readonly keepIdleSecs: number;
  readonly keepIntvlSecs: number;
  readonly keepCnt: number;
  readonly userTimeoutMs: number;
  readonly notsentLowat: number;
  readonly synCnt: number;
  readonly congestion: TcpCongestionName;
  /** -1 unless SO_RCVBUF / SO_SNDBUF locked the size. */
  readonly rcvbuf: number;
  readonly sndbuf: number;
  readonly config: TcpConfig;
}

/** Newest first; a process has few distinct socket configurations. */
const recentConnectionConfigs: ConnectionConfigEntry[] = [];
const RECENT_CONNECTION_CONFIGS = 8;

/** The congestion controls TCP_CONGESTION accepts (net.ipv4.tcp_available_congestion_control). */
export const TCP_CONGESTION_ALGORITHMS = ['cubic', 'reno'] as const;
export type TcpCongestionName = (typeof TCP_CONGESTION_ALGORITHMS)[number];

/** Linux's numbering of states in tcp_info.tcpi_state (include/net/tcp_states.h). */
export const LinuxTcpState: Readonly<Record<TcpState, number>> = Object.freeze({
  [TcpState.ESTABLISHED]: 1,
  [TcpState.SYN_SENT]: 2,
  [TcpState.SYN_RECEIVED]: 3,
  [TcpState.FIN_WAIT_1]: 4,
  [TcpState.FIN_WAIT_2]: 5,
  [TcpState.TIME_WAIT]: 6,
  [TcpState.CLOSED]: 7,
  [TcpState.CLOSE_WAIT]: 8,
  [TcpState.LAST_ACK]: 9,
  [TcpState.LISTEN]: 10,
  [TcpState.CLOSING]: 11,
});

/** getsockopt(IPPROTO_TCP, TCP_INFO): the fields of Linux's struct tcp_info that sockstack keeps. Times in microseconds. */
export interface TcpInfoValue {
  /** tcpi_state, Linux numbering (1 ESTABLISHED ... 10 LISTEN). */
  readonly state: number;
  /** The state's name ('ESTABLISHED'), for people. */
  readonly stateName: TcpState;
  readonly rto: number;
  readonly rtt: number;
  readonly rttvar: number;
  /** In segments, as Linux reports it. */
  readonly snd_cwnd: number;
  /** In segments; 0x7fffffff (TCP_INFINITE_SSTHRESH) until the first loss. */
  readonly snd_ssthresh: number;
  /** Consecutive retransmission timeouts of the current segment. */
  readonly retransmits: number;
  readonly total_retrans: number;
  readonly snd_mss: number;
  readonly rcv_mss: number;
}

const RCV_SHUTDOWN = 1;
const SEND_SHUTDOWN = 2;

type SocketState = 'unconnected' | 'connecting' | 'connected';

function totalLength(bufs: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of bufs) n += b.length;
  return n;
}

function inRange(v: SockOptValue, lo: number, hi: number): number {
  const n = asInt(v);
  if (n < lo || n > hi) raise('EINVAL');
  return n;
}

/** The peer's FIN has been processed (Linux: RCV_SHUTDOWN from tcp_fin). */
function finReceivedIn(s: TcpState): boolean {
  return s === TcpState.CLOSE_WAIT || s === TcpState.LAST_ACK || s === TcpState.CLOSING || s === TcpState.TIME_WAIT;
}

export class TcpSocket implements SocketHandle {
  readonly family = C.AF_INET;
  readonly type = C.SOCK_STREAM;
  readonly protocol = C.IPPROTO_TCP;

  readonly #owner: TcpSocketOwner;
  #waker: (() => void) | undefined;

  readonly so = new SocketLevelOptions();
  /** SO_RCVBUF / SO_SNDBUF were set: fixed buffers, no auto-tuning (Linux SOCK_RCVBUF_LOCK). */
  rcvbufLocked = false;
  sndbufLocked = false;
  /** undefined: the stack default (IP_TTL -1). */
  ttl: number | undefined = undefined;
  tos = 0;
  /** IP_MTU_DISCOVER mode (undefined: IP_PMTUDISC_WANT). */
  pmtuDisc: number | undefined = undefined;
  noDelay = false;
  cork = false;
  /** TCP_MAXSEG as set (0: not set). */
  maxSeg = 0;
  keepIdleSecs: number;
  keepIntvlSecs: number;
  keepCnt: number;
  userTimeoutMs = 0;
  /** TCP_NOTSENT_LOWAT as set (a C int; the stack reads it as u32); 0: net.ipv4.tcp_notsent_lowat (TcpConfig.notsentLowat) applies. */
  notsentLowat = 0;
  synCnt: number;
  congestion: TcpCongestionName = 'cubic';

  #binding: TcpBinding | undefined = undefined;
  /** bind() chose the port: a failed connect keeps it (Linux SOCK_BINDPORT_LOCK). */
  #portLocked = false;
  #listen: ListenQueue | undefined = undefined;
  #entry: ConnEntry | undefined = undefined;
  #state: SocketState = 'unconnected';
  /** sk_err: reported once, by the next call or SO_ERROR. */
  #error: ErrnoName | undefined = undefined;
  /** sk_shutdown bits set by the user or by the connection's end. */
  #shutdown = 0;
  #closed = false;
  /** MSG_MORE held the last write back (corked until a write without it). */
  /** The connection a lingering close (SO_LINGER {1, N}) waits on. */
  #lingerEntry: ConnEntry | undefined = undefined;

  constructor(owner: TcpSocketOwner) {
    this.#owner = owner;
    const d = owner.defaults;
    this.so.rcvbuf = d.recvBufferSize;
    this.so.sndbuf = d.sendBufferSize;
    this.noDelay = d.noDelay;
    this.congestion = d.congestionControl;
    this.keepIdleSecs = Math.round(Duration.toSecs(d.keepIdle));
    this.keepIntvlSecs = Math.round(Duration.toSecs(d.keepInterval));
    this.keepCnt = d.keepCount;
    this.synCnt = d.synRetries;
  }

  // ------------------------------------------------------------ for TcpProtocol

  wake(): void {
    this.#waker?.();
  }

  /** The MTU a new connection's MSS is derived from: the route's, lowered by TCP_MAXSEG. */
  mtuFor(routeMtu: number): number {
    return this.maxSeg > 0 ? Math.min(routeMtu, this.maxSeg + 40) : routeMtu;
  }

  /** The configuration of a connection this socket opens (or, for a listener, accepts). */
  connectionConfig(defaults: TcpConfig, mtu: number): TcpConfig {
    // Nearly every connection of a process has the same inputs: hand out the
    // same frozen object instead of three spreads of a 40-field record and a
    // field-by-field comparison per connection (issue 9, tcp-connect).
    const rcvbuf = this.rcvbufLocked ? this.so.rcvbuf : -1;
    const sndbuf = this.sndbufLocked ? this.so.sndbuf : -1;
    for (const e of recentConnectionConfigs) {
      if (
        e.defaults === defaults &&
        e.mtu === mtu &&
        e.noDelay === this.noDelay &&
        e.cork === this.cork &&
        e.keepAlive === this.so.keepalive &&
        e.keepIdleSecs === this.keepIdleSecs &&
        e.keepIntvlSecs === this.keepIntvlSecs &&
        e.keepCnt === this.keepCnt &&
        e.userTimeoutMs === this.userTimeoutMs &&
        e.notsentLowat === this.notsentLowat &&
        e.synCnt === this.synCnt &&
        e.congestion === this.congestion &&
        e.rcvbuf === rcvbuf &&
        e.sndbuf === sndbuf
      ) {
        return e.config;
      }
    }
    const config = this.#buildConnectionConfig(defaults, mtu);
    recentConnectionConfigs.unshift({
      defaults,
      mtu,
      noDelay: this.noDelay,
      cork: this.cork,
      keepAlive: this.so.keepalive,
      keepIdleSecs: this.keepIdleSecs,
      keepIntvlSecs: this.keepIntvlSecs,
      keepCnt: this.keepCnt,
      userTimeoutMs: this.userTimeoutMs,
      notsentLowat: this.notsentLowat,
      synCnt: this.synCnt,
      congestion: this.congestion,
      rcvbuf,
      sndbuf,
      config,
    });
    if (recentConnectionConfigs.length > RECENT_CONNECTION_CONFIGS) recentConnectionConfigs.pop();
    return config;
  }

  #buildConnectionConfig(defaults: TcpConfig, mtu: number): TcpConfig {
    return tcpConfig({
      ...defaults,
      mtu,
      noDelay: this.noDelay,
      cork: this.cork,
      keepAlive: this.so.keepalive,
      keepIdle: Duration.fromSecs(this.keepIdleSecs),
      keepInterval: Duration.fromSecs(this.keepIntvlSecs),
      keepCount: this.keepCnt,
      userTimeout: Duration.fromMillis(this.userTimeoutMs),
      ...(this.notsentLowat !== 0 ? { notsentLowat: this.notsentLowat >>> 0 } : {}),
      synRetries: this.synCnt,
      congestionControl: this.congestion,
      ...(this.rcvbufLocked ? { recvBufferSize: this.so.rcvbuf, recvBufferMax: this.so.rcvbuf } : {}),
      ...(this.sndbufLocked ? { sendBufferSize: this.so.sndbuf, sendBufferMax: this.so.sndbuf } : {}),
    });
  }

  /** The connection ended (reset, timeout, refused, or both FINs done). */
  connectionEnded(entry: ConnEntry): void {
    if (entry !== this.#entry) return;
    const e = entry.error;
    if (e !== undefined) this.#error = e;
    this.#shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
    this.wake();
  }

  /** The connection, if any (tests and diagnostics). */
  get connection(): ConnEntry | undefined {
    return this.#entry;
  }

  get isListening(): boolean {
    return this.#listen !== undefined;
  }

  #connState(): TcpState {
    if (this.#listen !== undefined) return TcpState.LISTEN;
    return this.#entry?.conn.state ?? TcpState.CLOSED;
  }

  #takeError(): void {
    const e = this.#error;
    if (e !== undefined) {
      this.#error = undefined;
      raise(e);
    }
  }

  // ------------------------------------------------------------ SocketHandle

  /** Linux tcp_poll. */
  readiness(): number {
    const q = this.#listen;
    if (q !== undefined) return q.acceptQueue.length > 0 ? C.POLLIN | C.POLLRDNORM : 0;
    const st = this.#connState();
    const conn = this.#entry?.conn;
    let shut = this.#shutdown;
    if (finReceivedIn(st) || conn?.eof === true) shut |= RCV_SHUTDOWN;
    let m = 0;
    if (shut === (RCV_SHUTDOWN | SEND_SHUTDOWN) || st === TcpState.CLOSED) m |= C.POLLHUP;
    if ((shut & RCV_SHUTDOWN) !== 0) m |= C.POLLIN | C.POLLRDNORM | C.POLLRDHUP;
    if (st !== TcpState.SYN_SENT && st !== TcpState.SYN_RECEIVED) {
      // Linux tcp_poll: the out-of-band byte does not make a socket readable,
      // and SO_RCVLOWAT counts unless the window is nearly closed.
      if (conn !== undefined) {
        conn.setOobInline(this.so.oobInline);
        const avail = conn.recvReadable;
        if (avail > 0 && (avail >= this.so.rcvlowat || this.#windowNearlyClosed(conn))) m |= C.POLLIN | C.POLLRDNORM;
      }
      if ((shut & SEND_SHUTDOWN) === 0) {
        // sk_stream_is_writeable: free space of at least half what is queued,
        // both in truesize (sk_wmem_queued counts skb overhead, send-memory.ts).
        const free = conn === undefined ? 1 : conn.sendFree;
        const queued = conn?.sendCharge ?? 0;
        // TCP_NOTSENT_LOWAT too: unsent bytes below half the mark (tcp_stream_memory_free, wake = 1).
        if (free > 0 && free >= queued / 2 && conn?.belowNotsentLowat !== false) m |= C.POLLOUT | C.POLLWRNORM;
      } else {
        m |= C.POLLOUT | C.POLLWRNORM;
      }
      // Linux: POLLPRI while the urgent byte has arrived and is unread (TCP_URG_VALID).
      if (conn?.urgentByteReady === true) m |= C.POLLPRI;
    }
    if (this.#error !== undefined) m |= C.POLLERR;
    return m;
  }

  setWaker(waker: (() => void) | undefined): void {
    this.#waker = waker;
  }

  bind(local: Endpoint): void {
    if (this.#binding !== undefined || this.#entry !== undefined) raise('EINVAL');
    this.#binding = this.#owner.bind(local.address, local.port, this.so.reuseAddr, this.so.reusePort);
    this.#portLocked = local.port !== 0;
  }

  listen(backlog: number): void {
    // Linux inet_listen: only an unconnected socket in CLOSE or LISTEN.
    if (this.#state !== 'unconnected') raise('EINVAL');
    if (this.#listen !== undefined) {
      this.#listen.backlog = backlog;
      return;
    }
    if (this.#entry !== undefined) {
      if (!this.#entry.conn.isClosed) raise('EINVAL');
      this.#dropEntry();
    }
    // listen() without bind() takes an ephemeral port (Linux inet_autobind).
    if (this.#binding === undefined) this.#binding = this.#owner.bind(0, 0, this.so.reuseAddr, this.so.reusePort);
    this.#binding.reuseAddr = this.so.reuseAddr;
    this.#binding.reusePort = this.so.reusePort;
    this.#listen = this.#owner.listen(this, this.#binding, backlog);
    this.#shutdown = 0;
    this.#error = undefined;
  }

  accept(): Accepted | WouldBlock {
    const q = this.#listen;
    // Linux inet_csk_accept: EINVAL unless listening (EOPNOTSUPP is for datagram sockets).
    if (q === undefined) raise('EINVAL');
    const entry = this.#owner.acceptFrom(q);
    if (entry === undefined) return WOULD_BLOCK;
    const child = new TcpSocket(this.#owner);
    child.#inheritFrom(this);
    child.#adopt(entry);
    const r = entry.conn.remote;
    return { handle: child, peer: { address: r.addr, port: r.port } };
  }

  /** Options a child inherits from its listener (Linux sk_clone_lock copies the socket). */
  #inheritFrom(p: TcpSocket): void {
    Object.assign(this.so, p.so);
    this.so.linger = { ...p.so.linger };
    this.rcvbufLocked = p.rcvbufLocked;
    this.sndbufLocked = p.sndbufLocked;
    this.ttl = p.ttl;
    this.tos = p.tos;
    this.noDelay = p.noDelay;
    this.cork = p.cork;
    this.maxSeg = p.maxSeg;
    this.keepIdleSecs = p.keepIdleSecs;
    this.keepIntvlSecs = p.keepIntvlSecs;
    this.keepCnt = p.keepCnt;
    this.userTimeoutMs = p.userTimeoutMs;
    this.notsentLowat = p.notsentLowat;
    this.synCnt = p.synCnt;
    this.congestion = p.congestion;
  }

  #adopt(entry: ConnEntry): void {
    this.#entry = entry;
    this.#binding = entry.binding;
    this.#portLocked = true;
    this.#state = 'connected';
    entry.socket = this;
    if (entry.conn.isClosed) this.connectionEnded(entry);
  }

  /** Forgets a finished connection before a new connect()/listen(). */
  #dropEntry(): void {
    const old = this.#entry;
    if (old === undefined) return;
    this.#entry = undefined;
    // The port stays with the socket when bind() chose it; otherwise it goes with the connection.
    if (this.#portLocked) old.binding.entry = undefined;
    else this.#binding = undefined;
    this.#owner.dropClosed(old);
  }

  /** Linux __inet_stream_connect. */
  connect(remote: Endpoint | undefined): void | InProgress {
    if (remote === undefined) {
      // AF_UNSPEC: tcp_disconnect aborts whatever there is and leaves the socket unconnected.
      this.#disconnect();
      return;
    }
    if (this.#state === 'connected') raise('EISCONN');
    if (this.#state === 'connecting') {
      const conn = this.#entry?.conn;
      if (conn !== undefined && (conn.state === TcpState.SYN_SENT || conn.state === TcpState.SYN_RECEIVED)) raise('EALREADY');
      if (conn === undefined || conn.isClosed) {
        this.#state = 'unconnected';
        const e = this.#error ?? 'ECONNABORTED';
        this.#error = undefined;
        raise(e);
      }
      this.#state = 'connected';
      return;
    }
    if (this.#listen !== undefined) raise('EISCONN');
    if (this.#entry !== undefined) this.#dropEntry();
    this.#error = undefined;
    this.#shutdown = 0;
    const { entry, binding } = this.#owner.connect(this, this.#binding, remote.address, remote.port);
    this.#binding = binding;
    this.#entry = entry;
    this.#state = 'connecting';
    if (entry.conn.isClosed) this.connectionEnded(entry);
    return IN_PROGRESS;
  }

  #disconnect(): void {
    if (this.#listen !== undefined) {
      this.#owner.stopListening(this.#binding!);
      this.#listen = undefined;
    }
    const e = this.#entry;
    if (e !== undefined && !e.conn.isClosed) {
      e.conn.abort();
      this.#owner.kick(e);
    }
    if (this.#entry !== undefined) this.#dropEntry();
    this.#state = 'unconnected';
    this.#shutdown = 0;
    this.wake();
  }

  send(data: readonly Uint8Array[], _to: Endpoint | undefined, flags: number): number | WouldBlock {
    // Linux tcp_sendmsg ignores a destination on a connected stream.
    this.#takeError();
    if ((this.#shutdown & SEND_SHUTDOWN) !== 0) raise('EPIPE');
    const entry = this.#entry;
    // sk_stream_wait_connect: a socket that is not connecting or connected is a broken pipe.
    if (entry === undefined || this.#listen !== undefined) raise('EPIPE');
    const conn = entry.conn;
    const st = conn.state;
    if (st === TcpState.SYN_SENT || st === TcpState.SYN_RECEIVED) return WOULD_BLOCK;
    if (st !== TcpState.ESTABLISHED && st !== TcpState.CLOSE_WAIT) raise('EPIPE');
    const want = totalLength(data);
    if (want === 0) return 0;
    const urgent = (flags & C.MSG_OOB) !== 0;
    let sent = 0;
    for (let i = 0; i < data.length; i++) {
      const d = data[i]!;
      if (d.length === 0) continue;
      const n = conn.send(d, urgent ? URGENT : NOT_URGENT);
      sent += n;
      if (n < d.length) break;
    }
    if (sent === 0) return WOULD_BLOCK;
    // MSG_MORE holds this write's partial tail back (Linux tcp_push with TCP_NAGLE_CORK for this call).
    conn.setMsgMore((flags & C.MSG_MORE) !== 0);
    // MSG_EOR (Linux tcp_sendmsg): once the whole message is queued, later data never joins its last segment.
    if ((flags & C.MSG_EOR) !== 0 && sent === want) conn.markEor();
    this.#owner.kick(entry);
    return sent;
  }

  recv(buffers: readonly Uint8Array[], flags: number): RecvResult | WouldBlock {
    if ((flags & C.MSG_ERRQUEUE) !== 0) raise('EAGAIN');
    if (this.#listen !== undefined) raise('ENOTCONN');
    if ((flags & C.MSG_OOB) !== 0) return this.#recvOob(buffers, flags);
    const entry = this.#entry;
    const want = totalLength(buffers);
    if (entry === undefined) {
      // tcp_recvmsg on a never-connected socket.
      this.#takeError();
      if ((this.#shutdown & RCV_SHUTDOWN) !== 0) return { bytesRead: 0, from: undefined, flags: 0 };
      raise('ENOTCONN');
    }
    const conn = entry.conn;
    conn.setOobInline(this.so.oobInline);
    // What an ordinary read may return: an out-of-band byte at the head does not count.
    const avail = conn.recvReadable;
    if (want === 0) return { bytesRead: 0, from: undefined, flags: 0 };
    if (avail === 0) {
      // Only the out-of-band byte is there: an ordinary read steps over it (Linux
      // tcp_recvmsg; it stays readable with MSG_OOB) and waits for what follows.
      if (conn.recvAvailable > 0 && (flags & C.MSG_PEEK) === 0) conn.recv(new Uint8Array(0));
      if (conn.eof) return { bytesRead: 0, from: undefined, flags: 0 };
      this.#takeError();
      if ((this.#shutdown & RCV_SHUTDOWN) !== 0 || conn.isClosed) return { bytesRead: 0, from: undefined, flags: 0 };
      return WOULD_BLOCK;
    }
    // SO_RCVLOWAT (Linux sock_rcvlowat, tcp_recvmsg): a blocking read waits for
    // min(lowat, len) bytes unless the stream ends, an error is pending or the
    // window is nearly closed (nothing more can come); a non-blocking read
    // (MSG_DONTWAIT, which the syscall layer also passes for O_NONBLOCK and on
    // the last try of an expired SO_RCVTIMEO) returns what is there.
    const target = Math.min(this.so.rcvlowat, want);
    if (avail < target && (flags & C.MSG_DONTWAIT) === 0 && !this.#readEnded(conn) && !this.#windowNearlyClosed(conn)) {
      return WOULD_BLOCK;
    }
    let got = 0;
    if ((flags & C.MSG_PEEK) !== 0) {
      const tmp = new Uint8Array(Math.min(avail, want));
      got = conn.recv(tmp, { peek: true });
      let at = 0;
      for (const b of buffers) {
        if (at >= got) break;
        const n = Math.min(b.length, got - at);
        b.set(tmp.subarray(at, at + n));
        at += n;
      }
      return { bytesRead: got, from: undefined, flags: 0 };
    }
    if ((flags & C.MSG_TRUNC) !== 0) {
      // Linux tcp_recvmsg: MSG_TRUNC discards the bytes instead of copying them.
      got = conn.recv(new Uint8Array(Math.min(avail, want)));
    } else {
      for (const b of buffers) {
        if (b.length === 0) continue;
        const n = conn.recv(b);
        got += n;
        // Short: the buffer ran dry or the read reached the urgent mark (it stops there).
        if (n < b.length) break;
      }
    }
    // Reading may open the window: let the window update go now.
    this.#owner.kick(entry);
    return { bytesRead: got, from: undefined, flags: 0 };
  }

  /** Nothing more will arrive to read: end of stream, an error, a shutdown or a dead connection. */
  #readEnded(conn: ConnEntry['conn']): boolean {
    return conn.eof || finReceivedIn(conn.state) || conn.isClosed || this.#error !== undefined || (this.#shutdown & RCV_SHUTDOWN) !== 0;
  }

  /**
   * Linux tcp_stream_is_readable: below SO_RCVLOWAT the data still counts
   * once the receive window has shrunk to under one segment, since the peer
   * cannot send the rest until the application reads.
   */
  #windowNearlyClosed(conn: ConnEntry['conn']): boolean {
    const i = conn.info;
    return i.recvBufferSize - conn.recvAvailable <= Math.max(1, i.mss);
  }

  /** recv(MSG_OOB), Linux tcp_recv_urg (man 7 tcp: SO_OOBINLINE off takes the urgent byte out of the stream). */
  #recvOob(buffers: readonly Uint8Array[], flags: number): RecvResult {
    const conn = this.#entry?.conn;
    if (conn === undefined || this.so.oobInline) raise('EINVAL');
    conn.setOobInline(false);
    const r = conn.recvUrgent((flags & C.MSG_PEEK) !== 0);
    if (r === 'none') raise('EINVAL');
    if (r === 'notyet') {
      // The pointer is known, the byte not yet: EAGAIN even for a blocking
      // socket (tcp_recv_urg never waits), or 0 once nothing more can arrive.
      if (conn.isClosed || (this.#shutdown & RCV_SHUTDOWN) !== 0 || finReceivedIn(conn.state)) {
        return { bytesRead: 0, from: undefined, flags: 0 };
      }
      raise('EAGAIN');
    }
    const first = buffers.find((b) => b.length > 0);
    if (first === undefined) return { bytesRead: 0, from: undefined, flags: C.MSG_TRUNC };
    first[0] = r;
    return { bytesRead: 1, from: undefined, flags: C.MSG_OOB };
  }

  /** Linux inet_shutdown. */
  shutdown(how: number): void {
    const bits = how === C.SHUT_RD ? RCV_SHUTDOWN : how === C.SHUT_WR ? SEND_SHUTDOWN : RCV_SHUTDOWN | SEND_SHUTDOWN;
    if (this.#listen !== undefined) {
      // A listener stops listening on SHUT_RD (tcp_disconnect); SHUT_WR alone does nothing.
      if ((bits & RCV_SHUTDOWN) !== 0) {
        this.#owner.stopListening(this.#binding!);
        this.#listen = undefined;
        this.wake();
      }
      return;
    }
    const entry = this.#entry;
    const st = this.#connState();
    if (entry === undefined || st === TcpState.CLOSED) {
      // ENOTCONN, but the bits are set all the same (so poll reports POLLHUP).
      this.#shutdown |= bits;
      this.wake();
      raise('ENOTCONN');
    }
    if (st === TcpState.SYN_SENT) {
      this.#disconnect();
      return;
    }
    this.#shutdown |= bits;
    if ((bits & SEND_SHUTDOWN) !== 0) entry.conn.shutdownWrite();
    this.#owner.kick(entry);
    this.wake();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waker = undefined;
    if (this.#listen !== undefined) {
      this.#owner.stopListening(this.#binding!);
      this.#listen = undefined;
    }
    const entry = this.#entry;
    this.#entry = undefined;
    if (entry !== undefined) {
      if (entry.conn.isClosed) {
        this.#owner.dropClosed(entry);
      } else {
        // SO_LINGER {1, 0}: abort with RST (the peer reads ECONNRESET); otherwise a
        // graceful FIN, or a RST when unread data would be lost (RFC 2525 2.17, Linux).
        if (this.so.linger.onoff !== 0 && this.so.linger.linger === 0) {
          entry.conn.abort();
        } else {
          entry.conn.close();
          if (this.so.linger.onoff !== 0) {
            // SO_LINGER {1, N}: the syscall layer may wait on lingerPending() (closeWait).
            this.#lingerEntry = entry;
            entry.lingerWaker = () => {
              this.#waker?.();
            };
          }
        }
        this.#owner.orphan(entry);
        this.#owner.kick(entry);
      }
      return;
    }
    if (this.#binding !== undefined) this.#owner.unbind(this.#binding);
    this.#binding = undefined;
  }

  /**
   * After close() with SO_LINGER {1, N > 0}: true while our FIN is not yet
   * acknowledged (Linux sk_stream_closing: FIN-WAIT-1, CLOSING, LAST-ACK),
   * so a lingering close still waits. Changes are reported through the waker,
   * which the syscall layer may set again after close().
   */
  lingerPending(): boolean {
    const e = this.#lingerEntry;
    if (e === undefined) return false;
    const st = e.conn.state;
    const closing = !e.released && (st === TcpState.FIN_WAIT_1 || st === TcpState.CLOSING || st === TcpState.LAST_ACK);
    if (!closing) {
      e.lingerWaker = undefined;
      this.#lingerEntry = undefined;
    }
    return closing;
  }

  localEndpoint(): Endpoint {
    const e = this.#entry;
    if (e !== undefined) return { address: e.conn.local.addr, port: e.conn.local.port };
    const b = this.#binding;
    return b === undefined ? { address: 0, port: 0 } : { address: b.address, port: b.port };
  }

  remoteEndpoint(): Endpoint | undefined {
    const e = this.#entry;
    // Linux inet_getname: ENOTCONN in CLOSE and SYN-SENT.
    if (e === undefined || this.#listen !== undefined) return undefined;
    const st = e.conn.state;
    if (st === TcpState.CLOSED || st === TcpState.SYN_SENT) return undefined;
    return { address: e.conn.remote.addr, port: e.conn.remote.port };
  }

  takeError(): number {
    const e = this.#error;
    this.#error = undefined;
    // A failed connect that has been reported leaves the socket unconnected.
    if (this.#state === 'connecting' && (this.#entry === undefined || this.#entry.conn.isClosed)) this.#state = 'unconnected';
    else if (this.#state === 'connecting' && this.#entry?.conn.isEstablished === true) this.#state = 'connected';
    return e === undefined ? 0 : Errno[e];
  }

  getsockopt(level: number, name: number): SockOptValue {
    return tableGet(TCP_OPTIONS, this, level, name);
  }

  setsockopt(level: number, name: number, value: SockOptValue): void {
    tableSet(TCP_OPTIONS, this, level, name, value);
  }

  // ------------------------------------------------------------ option helpers

  /** A live connection to apply a changed option to, then send what that allows. */
  get liveEntry(): ConnEntry | undefined {
    const e = this.#entry;
    return e !== undefined && !e.conn.isClosed ? e : undefined;
  }

  kick(): void {
    const e = this.liveEntry;
    if (e !== undefined) this.#owner.kick(e);
  }

  /** TCP_NOTSENT_LOWAT changed: the live connection takes it (0: the sysctl's), and a writer waiting on the old mark is woken (sk_write_space). */
  applyNotsentLowat(): void {
    this.liveEntry?.conn.setNotsentLowat(this.notsentLowat !== 0 ? this.notsentLowat >>> 0 : this.#owner.defaults.notsentLowat);
    this.wake();
  }

  /** Keepalive and user-timeout options changed: a live connection takes them at once (Linux does). */
  applyTimers(): void {
    const e = this.liveEntry;
    if (e === undefined) return;
    e.conn.setOptions({
      keepAlive: this.so.keepalive,
      keepIdle: Duration.fromSecs(this.keepIdleSecs),
      keepInterval: Duration.fromSecs(this.keepIntvlSecs),
      keepCount: this.keepCnt,
      userTimeout: Duration.fromMillis(this.userTimeoutMs),
    });
    this.#owner.kick(e);
  }

  get defaultTtl(): number {
    return this.#owner.defaultTtl;
  }

  info(): TcpInfoValue {
    const st = this.#connState();
    const e = this.#entry;
    if (e === undefined || this.#listen !== undefined) {
      return {
        state: LinuxTcpState[st],
        stateName: st,
        rto: 0,
        rtt: 0,
        rttvar: 0,
        snd_cwnd: 10,
        snd_ssthresh: 0x7fffffff,
        retransmits: 0,
        total_retrans: 0,
        snd_mss: TCP_MSS_DEFAULT,
        rcv_mss: TCP_MSS_DEFAULT,
      };
    }
    // Fields W2's TcpInfo may add later are read when present.
    const i = e.conn.info as typeof e.conn.info & { rttvar?: number; rcvMss?: number; totalRetrans?: number };
    const mss = Math.max(1, i.mss);
    return {
      state: LinuxTcpState[st],
      stateName: st,
      rto: i.rto,
      rtt: i.srtt,
      rttvar: i.rttvar ?? 0,
      snd_cwnd: Math.floor(i.cwnd / mss),
      snd_ssthresh: i.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.floor(i.ssthresh / mss),
      retransmits: i.retransmits,
      total_retrans: i.totalRetrans ?? e.totalRetrans,
      snd_mss: i.mss,
      rcv_mss: i.rcvMss ?? i.mss,
    };
  }

  acceptConn(): number {
    return this.#listen !== undefined ? 1 : 0;
  }

  maxSegValue(): number {
    const e = this.#entry;
    if (e !== undefined && e.conn.isEstablished && !e.conn.isClosed) return e.conn.info.mss;
    return this.maxSeg > 0 ? this.maxSeg : TCP_MSS_DEFAULT;
  }
}

const intOpt = (get: (s: TcpSocket) => number, set: (s: TcpSocket, v: SockOptValue) => void) =>
  ({ kind: 'int', get, set }) as const;

const TCP_OPTIONS: SockOptTable<TcpSocket> = mergeSockOptTables(
  socketLevelTable<TcpSocket>((s) => s.so),
  sockOptTable<TcpSocket>({
    [C.SOL_SOCKET]: {
      [C.SO_OOBINLINE]: intOpt(
        (s) => (s.so.oobInline ? 1 : 0),
        (s, v) => {
          s.so.oobInline = asInt(v) !== 0;
          s.liveEntry?.conn.setOobInline(s.so.oobInline);
        },
      ),
      [C.SO_ACCEPTCONN]: { kind: 'int', get: (s) => s.acceptConn() },
      [C.SO_KEEPALIVE]: intOpt(
        (s) => (s.so.keepalive ? 1 : 0),
        (s, v) => {
          s.so.keepalive = asInt(v) !== 0;
          s.applyTimers();
        },
      ),
      // Linux doubles the request (bookkeeping overhead) and reports the doubled
      // value; a connection reports the size it uses now (sk_sndbuf /
      // sk_rcvbuf), which auto-tuning grows unless the option locked it.
      [C.SO_SNDBUF]: intOpt(
        (s) => s.liveEntry?.conn.sendBufferSize ?? s.so.sndbuf,
        (s, v) => {
          s.so.sndbuf = linuxBufSize(asInt(v), SYSCTL_WMEM_MAX, SOCK_MIN_SNDBUF);
          s.sndbufLocked = true;
          // Linux sets sk_sndbuf of a connected socket at once (sock_setsockopt).
          s.liveEntry?.conn.setSendBufferSize(s.so.sndbuf);
        },
      ),
      [C.SO_RCVBUF]: intOpt(
        (s) => s.liveEntry?.conn.recvBufferSize ?? s.so.rcvbuf,
        (s, v) => {
          s.so.rcvbuf = linuxBufSize(asInt(v), SYSCTL_RMEM_MAX, SOCK_MIN_RCVBUF);
          s.rcvbufLocked = true;
        },
      ),
    },
    [C.IPPROTO_IP]: {
      [C.IP_TTL]: intOpt(
        (s) => s.ttl ?? s.defaultTtl,
        (s, v) => {
          const n = asInt(v);
          s.ttl = n === -1 ? undefined : inRange(v, 1, 255);
          const e = s.liveEntry;
          if (e !== undefined) e.ttl = s.ttl ?? s.defaultTtl;
        },
      ),
      [C.IP_TOS]: intOpt(
        (s) => s.tos,
        (s, v) => {
          // Linux: on a stream socket the ECN bits belong to the stack (RFC 3168).
          s.tos = asInt(v) & 0xfc;
          const e = s.liveEntry;
          if (e !== undefined) e.tos = s.tos;
        },
      ),
      [C.IP_MTU_DISCOVER]: pmtuDiscoverOption<TcpSocket>(),
    },
    [C.IPPROTO_TCP]: {
      [C.TCP_NODELAY]: intOpt(
        (s) => (s.noDelay ? 1 : 0),
        (s, v) => {
          s.noDelay = asInt(v) !== 0;
          s.liveEntry?.conn.setNoDelay(s.noDelay);
          // Linux tcp_push_pending_frames: turning Nagle off sends what it held.
          s.kick();
        },
      ),
      [C.TCP_CORK]: intOpt(
        (s) => (s.cork ? 1 : 0),
        (s, v) => {
          s.cork = asInt(v) !== 0;
          s.liveEntry?.conn.setCork(s.cork);
          s.kick();
        },
      ),
      [C.TCP_MAXSEG]: intOpt(
        (s) => s.maxSegValue(),
        (s, v) => {
          // Linux: 0 restores the default; otherwise TCP_MIN_MSS..MAX_TCP_WINDOW.
          const n = asInt(v);
          s.maxSeg = n === 0 ? 0 : inRange(v, TCP_MIN_MSS, TCP_MAX_MSS);
        },
      ),
      [C.TCP_KEEPIDLE]: intOpt(
        (s) => s.keepIdleSecs,
        (s, v) => {
          s.keepIdleSecs = inRange(v, 1, MAX_TCP_KEEPIDLE);
          s.applyTimers();
        },
      ),
      [C.TCP_KEEPINTVL]: intOpt(
        (s) => s.keepIntvlSecs,
        (s, v) => {
          s.keepIntvlSecs = inRange(v, 1, MAX_TCP_KEEPINTVL);
          s.applyTimers();
        },
      ),
      [C.TCP_KEEPCNT]: intOpt(
        (s) => s.keepCnt,
        (s, v) => {
          s.keepCnt = inRange(v, 1, MAX_TCP_KEEPCNT);
          s.applyTimers();
        },
      ),
      [C.TCP_SYNCNT]: intOpt(
        (s) => s.synCnt,
        (s, v) => {
          s.synCnt = inRange(v, 1, MAX_TCP_SYNCNT);
        },
      ),
      [C.TCP_USER_TIMEOUT]: intOpt(
        (s) => s.userTimeoutMs,
        (s, v) => {
          s.userTimeoutMs = inRange(v, 0, 0x7fffffff);
          s.applyTimers();
        },
      ),
      [C.TCP_NOTSENT_LOWAT]: intOpt(
        (s) => s.notsentLowat,
        (s, v) => {
          // Linux takes any int and reads it back as given; the stack uses it
          // as the u32 it is (-1: no limit), and 0 defers to the sysctl.
          s.notsentLowat = asInt(v);
          s.applyNotsentLowat();
        },
      ),
      [C.TCP_QUICKACK]: intOpt(
        () => 1,
        (s, v) => {
          // Linux: a non-zero TCP_QUICKACK sends any pending ACK at once.
          if (asInt(v) !== 0) {
            s.liveEntry?.conn.ackNow();
            s.kick();
          }
        },
      ),
      [C.TCP_CONGESTION]: {
        kind: 'string',
        // A connected socket reports the controller its connection really uses.
        get: (s) => s.liveEntry?.conn.info.congestionControl ?? s.congestion,
        set: (s, v) => {
          const name = v as string;
          // Linux tcp_set_congestion_control: an unknown algorithm is ENOENT.
          if (!(TCP_CONGESTION_ALGORITHMS as readonly string[]).includes(name)) raise('ENOENT');
          // Connections this socket opens or accepts from now on, and the live
          // one at once (tcp_reinit_congestion_control keeps cwnd and ssthresh).
          s.congestion = name as TcpCongestionName;
          s.liveEntry?.conn.setCongestionControl(s.congestion);
        },
      },
      [C.TCP_INFO]: { kind: 'object', get: (s) => s.info() as unknown as Readonly<Record<string, unknown>> },
    },
  }),
);

/** TCP's option table (for argument checking before dispatch). */
export const tcpOptionTable = TCP_OPTIONS;
