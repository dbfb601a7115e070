/**
 * The TcpConfig of the connections a socket opens or accepts: the stack's
 * defaults with the socket's options laid over them, and a small cache of
 * the frozen results, since nearly every connection of a process is made
 * from the same inputs. Separate from tcp-socket.ts: it reads only the
 * socket's option fields (ConnectionConfigOptions), not its call state.
 */
import { Duration } from '../time/duration.js';
import { tcpConfig } from './config.js';
import type { TcpConfig } from './config.js';
import type { TcpCongestionName, TcpOptionTarget } from './tcp-socket-options.js';

/** What a connection's configuration is made of: the socket's options (TcpSocket has them). */
export type ConnectionConfigOptions = Pick<
  TcpOptionTarget,
  | 'so'
  | 'rcvbufLocked'
  | 'sndbufLocked'
  | 'noDelay'
  | 'cork'
  | 'keepIdleSecs'
  | 'keepIntvlSecs'
  | 'keepCnt'
  | 'userTimeoutMs'
  | 'notsentLowat'
  | 'synCnt'
  | 'congestion'
>;

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

/** The configuration of a connection the socket `s` opens (or, for a listener, accepts). */
export function connectionConfigFor(s: ConnectionConfigOptions, defaults: TcpConfig, mtu: number): TcpConfig {
  // Nearly every connection of a process has the same inputs: hand out the
  // same frozen object instead of three spreads of a 40-field record and a
  // field-by-field comparison per connection (issue 9, tcp-connect).
  const rcvbuf = s.rcvbufLocked ? s.so.rcvbuf : -1;
  const sndbuf = s.sndbufLocked ? s.so.sndbuf : -1;
  for (const e of recentConnectionConfigs) {
    if (
      e.defaults === defaults &&
      e.mtu === mtu &&
      e.noDelay === s.noDelay &&
      e.cork === s.cork &&
      e.keepAlive === s.so.keepalive &&
      e.keepIdleSecs === s.keepIdleSecs &&
      e.keepIntvlSecs === s.keepIntvlSecs &&
      e.keepCnt === s.keepCnt &&
      e.userTimeoutMs === s.userTimeoutMs &&
      e.notsentLowat === s.notsentLowat &&
      e.synCnt === s.synCnt &&
      e.congestion === s.congestion &&
      e.rcvbuf === rcvbuf &&
      e.sndbuf === sndbuf
    ) {
      return e.config;
    }
  }
  const config = buildConnectionConfig(s, defaults, mtu);
  recentConnectionConfigs.unshift({
    defaults,
    mtu,
    noDelay: s.noDelay,
    cork: s.cork,
    keepAlive: s.so.keepalive,
    keepIdleSecs: s.keepIdleSecs,
    keepIntvlSecs: s.keepIntvlSecs,
    keepCnt: s.keepCnt,
    userTimeoutMs: s.userTimeoutMs,
    notsentLowat: s.notsentLowat,
    synCnt: s.synCnt,
    congestion: s.congestion,
    rcvbuf,
    sndbuf,
    config,
  });
  if (recentConnectionConfigs.length > RECENT_CONNECTION_CONFIGS) recentConnectionConfigs.pop();
  return config;
}

function buildConnectionConfig(s: ConnectionConfigOptions, defaults: TcpConfig, mtu: number): TcpConfig {
  return tcpConfig({
    ...defaults,
    mtu,
    noDelay: s.noDelay,
    cork: s.cork,
    keepAlive: s.so.keepalive,
    keepIdle: Duration.fromSecs(s.keepIdleSecs),
    keepInterval: Duration.fromSecs(s.keepIntvlSecs),
    keepCount: s.keepCnt,
    userTimeout: Duration.fromMillis(s.userTimeoutMs),
    ...(s.notsentLowat !== 0 ? { notsentLowat: s.notsentLowat >>> 0 } : {}),
    synRetries: s.synCnt,
    congestionControl: s.congestion,
    ...(s.rcvbufLocked ? { recvBufferSize: s.so.rcvbuf, recvBufferMax: s.so.rcvbuf } : {}),
    ...(s.sndbufLocked ? { sendBufferSize: s.so.sndbuf, sendBufferMax: s.so.sndbuf } : {}),
  });
}
