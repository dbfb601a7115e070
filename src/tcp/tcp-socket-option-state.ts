/**
 * The option side of a TCP socket: the fields Linux keeps in `struct sock`
 * and `struct tcp_sock` for setsockopt (sk_rcvbuf, nonagle, keepalive_time,
 * ...), their starting values from the stack's TcpConfig, what a new
 * connection takes from them, and getsockopt/setsockopt through the option
 * table (tcp-socket-options.ts). TcpSocket extends it with the call state
 * (bind, listen, connect, close) and the data path, and implements the hooks
 * that need its connection (liveEntry, applyTimers, info, ...).
 */
import { SocketLevelOptions, tableGet, tableSet } from '../syscall/sockopt.js';
import type { SockOptValue } from '../syscall/sockopt.js';
import { Duration } from '../time/duration.js';
import type { TcpConfig } from './config.js';
import { connectionConfigFor } from './socket-connection-config.js';
import type { ConnEntry } from './tcp-entry.js';
import type { TcpInfoValue } from './tcp-info.js';
import { tcpOptionTable } from './tcp-socket-options.js';
import type { TcpCongestionName, TcpOptionTarget } from './tcp-socket-options.js';

export abstract class TcpSocketOptionState implements TcpOptionTarget {
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

  constructor(d: TcpConfig) {
    this.so.rcvbuf = d.recvBufferSize;
    this.so.sndbuf = d.sendBufferSize;
    this.noDelay = d.noDelay;
    this.congestion = d.congestionControl;
    this.keepIdleSecs = Math.round(Duration.toSecs(d.keepIdle));
    this.keepIntvlSecs = Math.round(Duration.toSecs(d.keepInterval));
    this.keepCnt = d.keepCount;
    this.synCnt = d.synRetries;
  }

  /** The MTU a new connection's MSS is derived from: the route's, lowered by TCP_MAXSEG. */
  mtuFor(routeMtu: number): number {
    return this.maxSeg > 0 ? Math.min(routeMtu, this.maxSeg + 40) : routeMtu;
  }

  /** The configuration of a connection this socket opens (or, for a listener, accepts). */
  connectionConfig(defaults: TcpConfig, mtu: number): TcpConfig {
    return connectionConfigFor(this, defaults, mtu);
  }

  getsockopt(level: number, name: number): SockOptValue {
    return tableGet(tcpOptionTable, this, level, name);
  }

  setsockopt(level: number, name: number, value: SockOptValue): void {
    tableSet(tcpOptionTable, this, level, name, value);
  }

  // ------------------------------------------------------------ what TcpSocket supplies

  abstract get liveEntry(): ConnEntry | undefined;
  abstract get defaultTtl(): number;
  abstract kick(): void;
  abstract applyNotsentLowat(): void;
  abstract applyTimers(): void;
  abstract info(): TcpInfoValue;
  abstract acceptConn(): number;
  abstract maxSegValue(): number;
}
