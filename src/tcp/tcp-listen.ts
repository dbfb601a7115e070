/**
 * Listening sockets of TcpProtocol: listen(), the listening hash a SYN is
 * looked up in, and the passive open (RFC 9293 3.10.7.2, Linux
 * tcp_v4_conn_request): the checks a segment to a listener goes through and
 * the new connection it creates. Registering that connection in the tables
 * and the timer heap stays with TcpProtocol, which owns them.
 */
import type { PortAllocator } from '../stack/port-allocator.js';
import type { IpSender } from '../stack/transport.js';
import { raise } from '../syscall/socket-handle.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { IPV4_DEFAULT_TTL } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { TcpConfig } from './config.js';
import { TcpConnection } from './connection.js';
import type { IsnGenerator } from './isn.js';
import { listenConflicts, listenersOn } from './port-sharing.js';
import { TcpCounter } from './tcp-counters.js';
import { ConnEntry, ListenQueue } from './tcp-entry.js';
import type { TcpBinding } from './tcp-entry.js';
import type { TcpHost } from './tcp-host.js';
import type { TcpSocket } from './tcp-socket.js';
import type { TcpTransmitter } from './tcp-transmit.js';

export class TcpListeners {
  readonly #host: TcpHost;
  readonly #ports: PortAllocator<TcpBinding>;
  readonly #isn: IsnGenerator;
  readonly #defaults: TcpConfig;
  readonly #tx: TcpTransmitter;

  /**
   * Listening bindings by port (Linux's listening hash): a SYN looks here,
   * not through every binding of the port, which holds one per accepted
   * connection too (100 000 of them on a busy server's port).
   */
  readonly byPort = new Map<number, TcpBinding[]>();

  constructor(host: TcpHost, ports: PortAllocator<TcpBinding>, isn: IsnGenerator, defaults: TcpConfig, tx: TcpTransmitter) {
    this.#host = host;
    this.#ports = ports;
    this.#isn = isn;
    this.#defaults = defaults;
    this.#tx = tx;
  }

  /** listen(): Linux re-checks the port for other listeners (inet_csk_listen_start -> get_port). */
  listen(sock: TcpSocket, b: TcpBinding, backlog: number): ListenQueue {
    if (listenConflicts(this.#ports, b)) raise('EADDRINUSE');
    const q = new ListenQueue(sock, backlog);
    b.listener = q;
    this.reindex(b.port);
    return q;
  }

  /** Rebuilds byPort for `port`, in bind order (the order findListener breaks ties in). */
  reindex(port: number): void {
    const list = listenersOn(this.#ports, port);
    if (list.length === 0) this.byPort.delete(port);
    else this.byPort.set(port, list);
  }

  /** RFC 9293 3.10.7.2: LISTEN. A new connection, in the SYN queue, for the caller to register; undefined when the SYN goes no further. */
  synInput(now: Instant, b: TcpBinding, src: Ipv4Address, dst: Ipv4Address, seg: TcpRepr, out: IpSender): ConnEntry | undefined {
    const stats = this.#host.stats;
    const q = b.listener!;
    // "First, check for a RST": ignore it.
    if ((seg.flags & TcpFlag.RST) !== 0) {
      stats.increment('tcp.drop.listen-rst');
      return undefined;
    }
    // "Second, check for an ACK": nothing was sent from here, so reset it.
    if ((seg.flags & TcpFlag.ACK) !== 0) {
      this.#tx.sendReset(now, src, dst, seg, out);
      return undefined;
    }
    // "Third, check for a SYN"; anything else is dropped.
    if ((seg.flags & TcpFlag.SYN) === 0) {
      stats.increment('tcp.drop.listen-not-syn');
      return undefined;
    }
    // Linux drops (does not reset) SYNs to a full queue, so clients retry (no syncookies here).
    // sk_acceptq_is_full is `> backlog`: listen(fd, 0) still takes one connection.
    if (q.acceptQueue.length > q.backlog) {
      stats.increment(TcpCounter.ListenOverflows);
      stats.increment(TcpCounter.ListenDrops);
      return undefined;
    }
    if (q.synQueue.size > q.backlog) {
      stats.increment(TcpCounter.ListenDrops);
      return undefined;
    }
    const route = out.route(src, dst);
    if (route === undefined) {
      stats.increment('tcp.drop.no-route');
      return undefined;
    }
    const sock = q.socket;
    const mtu = sock.mtuFor(route.mtu);
    const config = sock.connectionConfig(this.#defaults, mtu);
    const iss = this.#isn.isn(now, dst, seg.dstPort, src, seg.srcPort);
    const tsOff = this.#isn.tsOffset(dst, src);
    const conn = TcpConnection.accept(now, config, { addr: dst, port: seg.dstPort }, { addr: src, port: seg.srcPort }, seg, iss, tsOff);
    // The child shares the listener's port (Linux inet_inherit_port) with its concrete address.
    const child: TcpBinding = {
      address: dst,
      port: seg.dstPort,
      reuseAddr: b.reuseAddr,
      reusePort: b.reusePort,
      listener: undefined,
      entry: undefined,
    };
    this.#ports.bind(child.port, child);
    const entry = new ConnEntry(conn, child, q, sock.ttl ?? (this.#host.defaultTtl ?? IPV4_DEFAULT_TTL), sock.tos, route.mtu, iss);
    child.entry = entry;
    q.synQueue.add(entry);
    return entry;
  }
}
