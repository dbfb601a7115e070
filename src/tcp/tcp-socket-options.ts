/**
 * TCP's socket-option table: the SOL_SOCKET, IPPROTO_IP and IPPROTO_TCP
 * options of a TcpSocket with Linux's ranges and errno (net/ipv4/tcp.c
 * do_tcp_setsockopt / do_tcp_getsockopt), and what an accepted socket
 * inherits from its listener. Separate from tcp-socket.ts, which dispatches
 * getsockopt/setsockopt here: the table sees the socket only through the
 * narrow TcpOptionTarget, so this module does not import the socket class
 * (which would be an import cycle).
 */
import { constants as C } from '../syscall/constants.js';
import { raise } from '../syscall/socket-handle.js';
import {
  SOCK_MIN_RCVBUF,
  SOCK_MIN_SNDBUF,
  SYSCTL_RMEM_MAX,
  SYSCTL_WMEM_MAX,
  asInt,
  linuxBufSize,
  mergeSockOptTables,
  sockOptTable,
  socketLevelTable,
  pmtuDiscoverOption,
} from '../syscall/sockopt.js';
import type { PmtuDiscState, SockOptTable, SockOptValue, SocketLevelOptions } from '../syscall/sockopt.js';
import type { ConnEntry } from './tcp-entry.js';
import type { TcpInfoValue } from './tcp-info.js';

/** The congestion controls TCP_CONGESTION accepts (net.ipv4.tcp_available_congestion_control). */
export const TCP_CONGESTION_ALGORITHMS = ['cubic', 'reno'] as const;
export type TcpCongestionName = (typeof TCP_CONGESTION_ALGORITHMS)[number];

/** What the option table reads and writes of a socket (TcpSocket implements it). */
export interface TcpOptionTarget extends PmtuDiscState {
  readonly so: SocketLevelOptions;
  rcvbufLocked: boolean;
  sndbufLocked: boolean;
  ttl: number | undefined;
  tos: number;
  pmtuDisc: number | undefined;
  noDelay: boolean;
  cork: boolean;
  maxSeg: number;
  keepIdleSecs: number;
  keepIntvlSecs: number;
  keepCnt: number;
  userTimeoutMs: number;
  notsentLowat: number;
  synCnt: number;
  congestion: TcpCongestionName;
  /** A live connection to apply a changed option to. */
  readonly liveEntry: ConnEntry | undefined;
  readonly defaultTtl: number;
  /** Send what a changed option allows now. */
  kick(): void;
  applyNotsentLowat(): void;
  applyTimers(): void;
  info(): TcpInfoValue;
  acceptConn(): number;
  maxSegValue(): number;
}

/** Linux TCP_MIN_MSS and MAX_TCP_WINDOW bound TCP_MAXSEG. */
const TCP_MIN_MSS = 88;
const TCP_MAX_MSS = 32767;
const MAX_TCP_KEEPIDLE = 32767;
const MAX_TCP_KEEPINTVL = 32767;
const MAX_TCP_KEEPCNT = 127;
const MAX_TCP_SYNCNT = 127;

function inRange(v: SockOptValue, lo: number, hi: number): number {
  const n = asInt(v);
  if (n < lo || n > hi) raise('EINVAL');
  return n;
}

/** Options a child inherits from its listener (Linux sk_clone_lock copies the socket). */
export function inheritOptions(child: TcpOptionTarget, p: TcpOptionTarget): void {
  Object.assign(child.so, p.so);
  child.so.linger = { ...p.so.linger };
  child.rcvbufLocked = p.rcvbufLocked;
  child.sndbufLocked = p.sndbufLocked;
  child.ttl = p.ttl;
  child.tos = p.tos;
  child.noDelay = p.noDelay;
  child.cork = p.cork;
  child.maxSeg = p.maxSeg;
  child.keepIdleSecs = p.keepIdleSecs;
  child.keepIntvlSecs = p.keepIntvlSecs;
  child.keepCnt = p.keepCnt;
  child.userTimeoutMs = p.userTimeoutMs;
  child.notsentLowat = p.notsentLowat;
  child.synCnt = p.synCnt;
  child.congestion = p.congestion;
}

const intOpt = (get: (s: TcpOptionTarget) => number, set: (s: TcpOptionTarget, v: SockOptValue) => void) =>
  ({ kind: 'int', get, set }) as const;

const TCP_OPTIONS: SockOptTable<TcpOptionTarget> = mergeSockOptTables(
  socketLevelTable<TcpOptionTarget>((s) => s.so),
  sockOptTable<TcpOptionTarget>({
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
      [C.IP_MTU_DISCOVER]: pmtuDiscoverOption<TcpOptionTarget>(),
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
