/**
 * The records TcpProtocol and TcpSocket share: a bind-table entry, a
 * listener's queues and one tracked connection; and the protocol's compact
 * record of a connection in TIME-WAIT whose socket is gone. A leaf module
 * (it knows the socket only through `TcpEntrySocket`), so the protocol and
 * the socket do not import each other.
 */
import type { ErrnoName } from '../errno/errno.js';
import type { DstEntry } from '../stack/dst-cache.js';
import type { SocketLevelOptions } from '../syscall/sockopt.js';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import type { TcpConfig } from './config.js';
import type { TcpConnection } from './connection.js';
import { TcpState } from './state.js';
import type { TcpEndpoint } from './tcb.js';
import type { TimeWaitFields } from './time-wait-state.js';

/** What the protocol needs of the socket owning a connection or a listener (TcpSocket). */
export interface TcpEntrySocket {
  readonly so: SocketLevelOptions;
  readonly ttl: number | undefined;
  readonly tos: number;
  /** IP_MTU_DISCOVER mode (undefined: the default, IP_PMTUDISC_WANT). */
  readonly pmtuDisc?: number | undefined;
  /** Readiness may have changed. */
  wake(): void;
  /** The connection ended (reset, timeout, refused, or both FINs done). */
  connectionEnded(entry: ConnEntry): void;
  /** The MTU a new connection's MSS derives from, given the route's. */
  mtuFor(routeMtu: number): number;
  /** The configuration of a connection this socket opens or accepts. */
  connectionConfig(defaults: TcpConfig, mtu: number): TcpConfig;
}

/** One entry of the bind table (Linux: a socket in an inet_bind_bucket). */
export interface TcpBinding {
  address: Ipv4Address;
  readonly port: number;
  reuseAddr: boolean;
  reusePort: boolean;
  /** Set while the owner is a listening socket. */
  listener: ListenQueue | undefined;
  /** The connection using this binding, once there is one (a TimeWaitEntry once it is in TIME-WAIT). */
  entry: ConnEntry | TimeWaitEntry | undefined;
}

/** A listening socket's queues (Linux: the request queue and the accept queue). */
export class ListenQueue {
  backlog: number;
  readonly socket: TcpEntrySocket;
  /** Connections still in SYN-RECEIVED. */
  readonly synQueue = new Set<ConnEntry>();
  /** Established connections waiting for accept(), oldest first. */
  readonly acceptQueue: ConnEntry[] = [];

  constructor(socket: TcpEntrySocket, backlog: number) {
    this.socket = socket;
    this.backlog = backlog;
  }
}

/** One connection as the protocol tracks it. */
export class ConnEntry {
  readonly conn: TcpConnection;
  readonly binding: TcpBinding;
  /** The socket that owns it; undefined while queued on a listener or after close() (orphan). */
  socket: TcpEntrySocket | undefined = undefined;
  /** The listener it came from, until accepted. */
  parent: ListenQueue | undefined;
  ttl: number;
  tos: number;
  /** RFC 1191: the path MTU we last heard of; segments larger go out with DF clear. */
  pathMtu: number;
  /** RFC 1122 4.2.3.9: the last soft ICMP error, reported if the connection times out. */
  softError: ErrnoName | undefined = undefined;
  /** An error that ended the connection from outside the state machine (a hard ICMP error). */
  abortError: ErrnoName | undefined = undefined;
  /** The state before the segment being processed (Linux's tcp_reset chooses its errno by it). */
  stateBefore: TcpState;
  /** Highest sequence number sent, to recognise retransmissions (TCP_INFO total_retrans). */
  highestSent: number;
  totalRetrans = 0;
  heapIndex = -1;
  deadline = Number.POSITIVE_INFINITY;
  released = false;
  /** The IP layer's cached route for this connection's segments (IpSendRequest.dstCache; Linux sk_dst_cache). */
  dstCache: DstEntry | undefined = undefined;
  /** When the neighbour was last confirmed for this connection (rate-limits IpSender.neighbourAdvice). */
  confirmedAt = Number.NEGATIVE_INFINITY;
  /** A close() lingering on this connection (SO_LINGER with a time) wants to hear of every change. */
  lingerWaker: (() => void) | undefined = undefined;

  /** The 4-tuple, for the connection table (conn-table.ts), as TimeWaitEntry has it. */
  get local(): TcpEndpoint {
    return this.conn.local;
  }
  get remote(): TcpEndpoint {
    return this.conn.remote;
  }

  constructor(conn: TcpConnection, binding: TcpBinding, parent: ListenQueue | undefined, ttl: number, tos: number, mtu: number, iss: number) {
    this.conn = conn;
    this.binding = binding;
    this.parent = parent;
    this.ttl = ttl;
    this.tos = tos;
    this.pathMtu = mtu;
    this.stateBefore = conn.state;
    this.highestSent = iss;
  }

  /**
   * The error the connection ended with, as the socket reports it: an ICMP
   * abort, or the state machine's, where a timeout reports the last soft
   * ICMP error instead (Linux tcp_write_err: `sk_err_soft ? : ETIMEDOUT`),
   * and a reset in CLOSE-WAIT reads EPIPE (Linux tcp_reset).
   */
  get error(): ErrnoName | undefined {
    if (this.abortError !== undefined) return this.abortError;
    const e = this.conn.error;
    if (e === 'ETIMEDOUT' && this.softError !== undefined) return this.softError;
    if (e === 'ECONNRESET' && this.stateBefore === TcpState.CLOSE_WAIT) return 'EPIPE';
    return e;
  }
}

/**
 * A connection in TIME-WAIT, in place of its ConnEntry and TCB in the
 * tables (Linux's inet_timewait_sock; a socket that still holds the
 * connection keeps the TCB, CLOSED): what time-wait.ts needs to answer
 * segments for the 4-tuple during 2 MSL, and what the protocol's tables
 * need (the tuple, the binding that holds the port, the heap slot). Filled
 * by TcpConnection.fillTimeWait (time-wait-state.ts).
 *
 * Sequence numbers and TSvals are kept as int32 and read back unsigned:
 * an int32 is a small integer to V8, stored in the object, where half of
 * all uint32 values would each be a separate 16-byte heap number.
 */
export class TimeWaitEntry implements TimeWaitFields {
  local: TcpEndpoint = NO_ENDPOINT;
  remote: TcpEndpoint = NO_ENDPOINT;
  readonly binding: TcpBinding;
  readonly ttl: number;
  readonly tos: number;
  /** RFC 1191: as ConnEntry.pathMtu; our ACKs go with DF set when they fit. */
  pathMtu: number;
  windowField = 0;
  tsOk = false;
  tsRecentAt = Instant.ZERO;
  lastOowAckAt = Instant.ZERO;
  timeWaitLen = Duration.ZERO;
  heapIndex = -1;
  /** The 2 MSL deadline while in the heap (DeadlineHeap keeps it). */
  deadline = Number.POSITIVE_INFINITY;
  released = false;
  #highestSent: number;
  #sndNxt = 0;
  #rcvNxt = 0;
  #tsRecent = 0;
  #tsOffset = 0;

  /** `highestSent`: ConnEntry.highestSent, for ICMP errors. */
  constructor(binding: TcpBinding, ttl: number, tos: number, pathMtu: number, highestSent: number) {
    this.binding = binding;
    this.ttl = ttl;
    this.tos = tos;
    this.pathMtu = pathMtu;
    this.#highestSent = highestSent | 0;
  }

  get highestSent(): number {
    return this.#highestSent >>> 0;
  }
  get sndNxt(): number {
    return this.#sndNxt >>> 0;
  }
  set sndNxt(v: number) {
    this.#sndNxt = v | 0;
  }
  get rcvNxt(): number {
    return this.#rcvNxt >>> 0;
  }
  set rcvNxt(v: number) {
    this.#rcvNxt = v | 0;
  }
  get tsRecent(): number {
    return this.#tsRecent >>> 0;
  }
  set tsRecent(v: number) {
    this.#tsRecent = v | 0;
  }
  get tsOffset(): number {
    return this.#tsOffset >>> 0;
  }
  set tsOffset(v: number) {
    this.#tsOffset = v | 0;
  }
}

const NO_ENDPOINT: TcpEndpoint = Object.freeze({ addr: 0, port: 0 });

/** Is `e` in TIME-WAIT, as a compact record or a full connection (one not yet compacted, time-wait-state.ts)? */
export function inTimeWait(e: ConnEntry | TimeWaitEntry): boolean {
  return e instanceof TimeWaitEntry || e.conn.state === TcpState.TIME_WAIT;
}
