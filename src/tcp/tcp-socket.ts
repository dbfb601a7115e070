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
import { Duration } from '../time/duration.js';
import type { TcpConfig } from './config.js';
import { TcpState } from './state.js';
import type { ConnEntry, ListenQueue, TcpBinding } from './tcp-entry.js';
import { TCP_MSS_DEFAULT, tcpInfo } from './tcp-info.js';
import type { TcpInfoValue } from './tcp-info.js';
import { TcpSocketOptionState } from './tcp-socket-option-state.js';
import { inheritOptions } from './tcp-socket-options.js';
import type { TcpOptionTarget } from './tcp-socket-options.js';
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
  /** kick() after a read, which may skip the drain when the read owes the peer nothing. */
  kickAfterRead(entry: ConnEntry): void;
  orphan(entry: ConnEntry): void;
  dropClosed(entry: ConnEntry): void;
}

const RCV_SHUTDOWN = 1;
const SEND_SHUTDOWN = 2;

type SocketState = 'unconnected' | 'connecting' | 'connected';

function totalLength(bufs: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of bufs) n += b.length;
  return n;
}

/** The peer's FIN has been processed (Linux: RCV_SHUTDOWN from tcp_fin). */
function finReceivedIn(s: TcpState): boolean {
  return s === TcpState.CLOSE_WAIT || s === TcpState.LAST_ACK || s === TcpState.CLOSING || s === TcpState.TIME_WAIT;
}

export class TcpSocket extends TcpSocketOptionState implements SocketHandle, TcpOptionTarget {
  readonly family = C.AF_INET;
  readonly type = C.SOCK_STREAM;
  readonly protocol = C.IPPROTO_TCP;

  readonly #owner: TcpSocketOwner;
  #waker: (() => void) | undefined;

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
  /** The connection a lingering close (SO_LINGER {1, N}) waits on. */
  #lingerEntry: ConnEntry | undefined = undefined;

  constructor(owner: TcpSocketOwner) {
    super(owner.defaults);
    this.#owner = owner;
  }

  // ------------------------------------------------------------ for TcpProtocol

  wake(): void {
    this.#waker?.();
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
        // sk_stream_is_writeable (send-memory.ts streamWriteable); a socket with no connection yet is writable.
        if (conn === undefined || conn.writable) m |= C.POLLOUT | C.POLLWRNORM;
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
    inheritOptions(child, this);
    child.#adopt(entry);
    const r = entry.conn.remote;
    return { handle: child, peer: { address: r.addr, port: r.port } };
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
    // Linux tcp_sendmsg ignores a destination on a connected stream. #takeError only with an error to report (issue 9).
    if (this.#error !== undefined) this.#takeError();
    if ((this.#shutdown & SEND_SHUTDOWN) !== 0) raise('EPIPE');
    const entry = this.#entry;
    // sk_stream_wait_connect: a socket that is not connecting or connected is a broken pipe.
    if (entry === undefined || this.#listen !== undefined) raise('EPIPE');
    const conn = entry.conn;
    const st = conn.state;
    if (st === TcpState.SYN_SENT || st === TcpState.SYN_RECEIVED) return WOULD_BLOCK;
    if (st !== TcpState.ESTABLISHED && st !== TcpState.CLOSE_WAIT) raise('EPIPE');
    const urgent = (flags & C.MSG_OOB) !== 0 ? URGENT : NOT_URGENT;
    let want: number;
    let sent = 0;
    if (data.length === 1) {
      // Issue 9: write() and send() pass one buffer: no totalLength pass nor loop.
      const d = data[0]!;
      want = d.length;
      if (want === 0) return 0;
      sent = conn.send(d, urgent);
    } else {
      want = totalLength(data);
      if (want === 0) return 0;
      for (let i = 0; i < data.length; i++) {
        const d = data[i]!;
        if (d.length === 0) continue;
        const n = conn.send(d, urgent);
        sent += n;
        if (n < d.length) break;
      }
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
    // MSG_OOB reports output flags; every other read is its byte count.
    if ((flags & (C.MSG_OOB | C.MSG_ERRQUEUE)) === C.MSG_OOB && this.#listen === undefined) return this.#recvOob(buffers, flags);
    const n = this.recvCount(buffers, flags);
    return n === WOULD_BLOCK ? n : { bytesRead: n, from: undefined, flags: 0 };
  }

  /** recv() as its byte count (SocketHandle.recvCount): no record per read (issue 9). */
  recvCount(buffers: readonly Uint8Array[], flags: number): number | WouldBlock {
    if ((flags & C.MSG_ERRQUEUE) !== 0) raise('EAGAIN');
    if (this.#listen !== undefined) raise('ENOTCONN');
    if ((flags & C.MSG_OOB) !== 0) return this.#recvOob(buffers, flags).bytesRead;
    const entry = this.#entry;
    const want = buffers.length === 1 ? buffers[0]!.length : totalLength(buffers);
    if (entry === undefined) {
      // tcp_recvmsg on a never-connected socket.
      this.#takeError();
      if ((this.#shutdown & RCV_SHUTDOWN) !== 0) return 0;
      raise('ENOTCONN');
    }
    const conn = entry.conn;
    conn.setOobInline(this.so.oobInline);
    // What an ordinary read may return: an out-of-band byte at the head does not count.
    const avail = conn.recvReadable;
    if (want === 0) return 0;
    if (avail === 0) {
      // Only the out-of-band byte is there: an ordinary read steps over it (Linux
      // tcp_recvmsg; it stays readable with MSG_OOB) and waits for what follows.
      if (conn.recvAvailable > 0 && (flags & C.MSG_PEEK) === 0) conn.recv(new Uint8Array(0));
      if (conn.eof) return 0;
      // #takeError only with an error to report: issue 9, every blocked read passes here.
      if (this.#error !== undefined) this.#takeError();
      if ((this.#shutdown & RCV_SHUTDOWN) !== 0 || conn.isClosed) return 0;
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
      return got;
    }
    if ((flags & C.MSG_TRUNC) !== 0) {
      // Linux tcp_recvmsg: MSG_TRUNC discards the bytes instead of copying them.
      got = conn.recv(new Uint8Array(Math.min(avail, want)));
    } else if (buffers.length === 1) {
      // Issue 9: read() and recv() pass one buffer (not empty: want > 0), no loop.
      got = conn.recv(buffers[0]!);
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
    this.#owner.kickAfterRead(entry);
    return got;
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

  // ------------------------------------------------------------ option helpers

  /** A live connection to apply a changed option to, then send what that allows. */
  override get liveEntry(): ConnEntry | undefined {
    const e = this.#entry;
    return e !== undefined && !e.conn.isClosed ? e : undefined;
  }

  override kick(): void {
    const e = this.liveEntry;
    if (e !== undefined) this.#owner.kick(e);
  }

  /** TCP_NOTSENT_LOWAT changed: the live connection takes it (0: the sysctl's), and a writer waiting on the old mark is woken (sk_write_space). */
  override applyNotsentLowat(): void {
    this.liveEntry?.conn.setNotsentLowat(this.notsentLowat !== 0 ? this.notsentLowat >>> 0 : this.#owner.defaults.notsentLowat);
    this.wake();
  }

  /** Keepalive and user-timeout options changed: a live connection takes them at once (Linux does). */
  override applyTimers(): void {
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

  override get defaultTtl(): number {
    return this.#owner.defaultTtl;
  }

  override info(): TcpInfoValue {
    return tcpInfo(this.#connState(), this.#listen !== undefined ? undefined : this.#entry);
  }

  override acceptConn(): number {
    return this.#listen !== undefined ? 1 : 0;
  }

  override maxSegValue(): number {
    const e = this.#entry;
    if (e !== undefined && e.conn.isEstablished && !e.conn.isClosed) return e.conn.info.mss;
    return this.maxSeg > 0 ? this.maxSeg : TCP_MSS_DEFAULT;
  }
}
