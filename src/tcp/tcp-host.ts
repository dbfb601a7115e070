/**
 * The contract between TcpProtocol and the stack it runs in: TcpHost (what
 * the protocol calls: time, statistics, the IP layer, address checks) and
 * the protocol's construction options. Separate from tcp-protocol.ts so
 * that the wiring (install-tcp.ts) and the protocol both depend on it
 * rather than on each other's details.
 */
import type { Rng } from '../random/rng.js';
import type { PortAllocator } from '../stack/port-allocator.js';
import type { IpSender } from '../stack/transport.js';
import type { Counters } from '../stats/counters.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import type { TcpConfig } from './config.js';
import type { TcpBinding } from './tcp-entry.js';

/** What TCP needs from the stack it runs in. `Stack` (plus a `now`) provides it; see `createTcp`. */
export interface TcpHost {
  readonly stats: Counters;
  /** Seeded: ISN keys and ephemeral ports repeat with the seed. */
  readonly rng: Rng;
  readonly ip: IpSender;
  /** The current time, for user calls (connect, send, close) that produce output at once. */
  now(): Instant;
  /** Re-arms the stack's timer after a user call changed a connection's deadline. */
  wake(): void;
  /**
   * Like wake() but without asking for a poll: for calls that already drained
   * the connection's output themselves, at `now`; `earliest` is TCP's own
   * earliest deadline after that (pollAt()). Optional; wake() stands in for it.
   */
  rearm?(now: Instant, earliest: Instant | undefined): void;
  /**
   * The stack's timer runs on real time (Stack.lazyTimers): TCP's deadlines
   * are met by that timer, never by the exact instant of a user call, so a
   * call that leaves nothing to send need not drain the connection itself.
   */
  readonly realTime?: boolean;
  isLocalAddress(a: Ipv4Address): boolean;
  /** True for a directed broadcast address of a local subnet (255.255.255.255 is checked here). */
  isBroadcastAddress?(a: Ipv4Address): boolean;
  /** IP_TTL of sockets that did not set one. Default 64. */
  readonly defaultTtl?: number;
}

export interface TcpProtocolOptions {
  /** The stack's shared TCP port table (`stack.ports(6)`); default: a private one. */
  readonly ports?: PortAllocator<TcpBinding>;
  /** Defaults for new connections (the net.ipv4.tcp_* sysctls). */
  readonly config?: Partial<TcpConfig>;
}
