/**
 * Per-connection TCP configuration with Linux defaults (net.ipv4.tcp_* sysctls
 * and socket options). A connection copies its config when created, so later
 * changes go through the connection's setters, never by mutating a shared
 * object.
 */
import { Duration } from '../time/duration.js';
import type { CongestionControlName } from './congestion/congestion-controller.js';
import { checkHz, HZ_1000 } from './jiffies.js';

export interface TcpConfig {
  /** Interface MTU; the MSS we announce is mtu - 40 (IPv4 + TCP headers, MUST-14). */
  readonly mtu: number;
  /** Initial congestion window in segments (RFC 6928: 10). */
  readonly initialWindowSegments: number;
  /** RFC 6298 2.4 lower bound; Linux TCP_RTO_MIN is 200 ms. */
  readonly rtoMin: Duration;
  /** RFC 6298 2.1 initial RTO (1 s). */
  readonly rtoInitial: Duration;
  /** RFC 6298 2.5 upper bound; Linux TCP_RTO_MAX is 120 s. */
  readonly rtoMax: Duration;
  /** R2 for data segments (MUST-20, MUST-21): Linux tcp_retries2 = 15. */
  readonly retries2: number;
  /** R2 for SYNs (MUST-22): Linux tcp_syn_retries = 6, about 127 s (MUST-23 asks >= 3 min; Linux chooses less). */
  readonly synRetries: number;
  /** SYN-ACK retransmissions for passive opens: Linux tcp_synack_retries = 5. */
  readonly synAckRetries: number;
  /** Delayed ACKs (RFC 9293 3.8.6.3, MUST-40: < 0.5 s). Off means every segment is ACKed at once. */
  readonly delayedAck: boolean;
  /** Linux TCP_DELACK_MIN: 40 ms. */
  readonly delayedAckTimeout: Duration;
  /** Segments ACKed at once at connection start, like Linux's quickack mode. */
  readonly quickAcks: number;
  /** TCP_NODELAY: disables Nagle (MUST-17). */
  readonly noDelay: boolean;
  /** TCP_CORK: hold partial segments until uncorked (or 200 ms, as Linux does). */
  readonly cork: boolean;
  /** SO_KEEPALIVE: off by default (MUST-25). */
  readonly keepAlive: boolean;
  /** TCP_KEEPIDLE: 2 h (MUST-28). */
  readonly keepIdle: Duration;
  /** TCP_KEEPINTVL: 75 s. */
  readonly keepInterval: Duration;
  /** TCP_KEEPCNT: 9. */
  readonly keepCount: number;
  /** TCP_USER_TIMEOUT: 0 = off (then R2 decides). */
  readonly userTimeout: Duration;
  /**
   * net.ipv4.tcp_notsent_lowat, or TCP_NOTSENT_LOWAT when a socket sets it:
   * the unsent bytes (queued, not yet transmitted) above which a writer
   * waits and below half of which poll says POLLOUT (Linux
   * tcp_stream_memory_free). 0xffffffff (Linux's default): no limit.
   */
  readonly notsentLowat: number;
  /** RFC 7323 timestamps (net.ipv4.tcp_timestamps). */
  readonly timestamps: boolean;
  /** RFC 7323 window scaling (net.ipv4.tcp_window_scaling). */
  readonly windowScaling: boolean;
  /** RFC 2018 SACK (net.ipv4.tcp_sack). */
  readonly sack: boolean;
  /** SO_RCVBUF in bytes: the initial receive buffer. */
  readonly recvBufferSize: number;
  /** Auto-tuning ceiling (tcp_rmem max); the window scale is computed from this. */
  readonly recvBufferMax: number;
  /**
   * SO_SNDBUF in bytes: the initial send buffer, a bound on the queue's
   * truesize as Linux's sk_sndbuf (payload plus per-skb overhead, send-memory.ts).
   */
  readonly sendBufferSize: number;
  /**
   * Send-buffer auto-tuning ceiling (Linux tcp_wmem[2]; 1 MiB here): the buffer
   * grows to two congestion windows (tcp_sndbuf_expand). Equal to
   * sendBufferSize (SO_SNDBUF set) means fixed.
   */
  readonly sendBufferMax: number;
  /** Maximum segment lifetime; TIME-WAIT lasts 2 * msl (MUST-13). Linux's TIME-WAIT is 60 s. */
  readonly msl: Duration;
  /** RFC 5961 7: challenge ACKs per second (Linux tcp_challenge_ack_limit, per socket here). 0 = unlimited. */
  readonly challengeAckLimit: number;
  /**
   * Linux net.ipv4.tcp_min_tso_segs: the fewest segments one transmitted
   * "skb" carries (tcp_tso_autosize); with the pacing rate it sizes the
   * pieces the send-memory charge counts (send-memory.ts).
   */
  readonly minTsoSegs: number;
  /** Out-of-order islands kept before new ones are dropped (Assembler bound). */
  readonly maxOutOfOrderRanges: number;
  /** TCP_CONGESTION: Linux's default is CUBIC. */
  readonly congestionControl: CongestionControlName;
  /** RTO = SRTT + max(4*RTTVAR, rtoMin) as Linux, instead of RFC 6298's max(rtoMin, SRTT + 4*RTTVAR). Default true. */
  readonly linuxRto: boolean;
  /** RFC 6937 proportional rate reduction in SACK recovery (Linux always). Default true. */
  readonly prr: boolean;
  /** RFC 8985 7 tail loss probes (Linux net.ipv4.tcp_early_retrans >= 3, the default). Default true. */
  readonly lossProbe: boolean;
  /**
   * RFC 8985 6 RACK time-based loss detection with SACK, in place of RFC
   * 6675's DupThresh rule (Linux net.ipv4.tcp_recovery bit 0, the default).
   * Default true.
   */
  readonly rack: boolean;
  /**
   * Slow start as Linux (tcp_slow_start): cwnd grows by every segment an ACK
   * covers, without RFC 3465's L = 2 MSS cap on stretch ACKs. Default true.
   */
  readonly linuxSlowStart: boolean;
  /**
   * The kernel tick rate (CONFIG_HZ) whose timer arithmetic we reproduce:
   * Linux keeps the RTO, delayed ACK, loss probe and RACK reorder timers in
   * jiffies and rounds microsecond values up to whole ticks (jiffies.ts).
   */
  readonly linuxHz: number;
}

export const DEFAULT_TCP_CONFIG: TcpConfig = Object.freeze({
  mtu: 1500,
  initialWindowSegments: 10,
  rtoMin: Duration.fromMillis(200),
  rtoInitial: Duration.fromSecs(1),
  rtoMax: Duration.fromSecs(120),
  retries2: 15,
  synRetries: 6,
  synAckRetries: 5,
  delayedAck: true,
  delayedAckTimeout: Duration.fromMillis(40),
  quickAcks: 16,
  noDelay: false,
  cork: false,
  keepAlive: false,
  keepIdle: Duration.fromSecs(7200),
  keepInterval: Duration.fromSecs(75),
  keepCount: 9,
  userTimeout: Duration.ZERO,
  notsentLowat: 0xffff_ffff,
  timestamps: true,
  windowScaling: true,
  sack: true,
  recvBufferSize: 131072,
  recvBufferMax: 6291456,
  // Linux tcp_wmem is 4096 16384 4194304 in truesize (about twice the payload
  // at MTU 1500 without TSO); we count truesize too (send-memory.ts) but with
  // tso-sized skbs, and start larger so a first write needs no auto-tuning. The
  // ceiling is a quarter of Linux's: every byte in flight on a MemoryNetwork
  // costs several in frames and timers (a 64 MiB pipe peaked at ~80 MB of heap
  // with 4 MiB, ~29 MB with 1 MiB), and tcp-bulk is as fast with 1 MiB.
  sendBufferSize: 16384 * 4,
  sendBufferMax: 1048576,
  msl: Duration.fromSecs(30),
  challengeAckLimit: 1000,
  minTsoSegs: 2,
  maxOutOfOrderRanges: 32,
  congestionControl: 'cubic',
  lossProbe: true,
  linuxRto: true,
  prr: true,
  rack: true,
  linuxSlowStart: true,
  // 1000, Linux's finest tick: timers are rounded up by less than a
  // millisecond and TCP_TIMEOUT_MIN is 2 ms, so a program that never thinks
  // about HZ gets the tightest timers Linux can have. Packetdrill scripts
  // compare timing with the kernel they were recorded on, so their runner
  // takes the HZ from `--hz` (DEFAULT_PACKETDRILL_HZ, runner.ts, explains
  // its default); Debian's kernels are 250.
  linuxHz: HZ_1000,
});

/** Fills in the defaults. */
export function tcpConfig(overrides: Partial<TcpConfig> = {}): TcpConfig {
  const c = { ...DEFAULT_TCP_CONFIG, ...overrides };
  if (!Number.isInteger(c.mtu) || c.mtu < 68 + 20) throw new RangeError(`TcpConfig: mtu too small: ${c.mtu}`);
  if (!Number.isInteger(c.recvBufferSize) || c.recvBufferSize < 1) {
    throw new RangeError(`TcpConfig: recvBufferSize must be a positive integer, got ${c.recvBufferSize}`);
  }
  if (!Number.isInteger(c.sendBufferSize) || c.sendBufferSize < 1) {
    throw new RangeError(`TcpConfig: sendBufferSize must be a positive integer, got ${c.sendBufferSize}`);
  }
  checkHz(c.linuxHz);
  if (!Number.isInteger(c.notsentLowat) || c.notsentLowat < 0 || c.notsentLowat > 0xffff_ffff) {
    throw new RangeError(`TcpConfig: notsentLowat must be an integer in 0..0xffffffff, got ${c.notsentLowat}`);
  }
  if (!Number.isInteger(c.minTsoSegs) || c.minTsoSegs < 1) {
    throw new RangeError(`TcpConfig: minTsoSegs must be a positive integer, got ${c.minTsoSegs}`);
  }
  return Object.freeze(c);
}

/** The MSS we announce: MTU minus the 20-byte IPv4 and 20-byte TCP headers (RFC 9293 3.7.1). */
export function announcedMss(config: TcpConfig): number {
  return Math.min(0xffff, config.mtu - 40);
}

/**
 * RFC 7323 2.2: the smallest shift that lets the largest receive buffer we may
 * grow to be advertised, capped at 14 (RFC 7323 2.3).
 */
export function windowScaleFor(maxBuffer: number): number {
  let shift = 0;
  while (shift < 14 && maxBuffer >>> shift > 0xffff) shift++;
  return shift;
}
