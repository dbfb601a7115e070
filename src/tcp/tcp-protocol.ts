/**
 * TCP as a transport of the Stack: the bind table, demultiplexing of
 * received segments to connections and listeners, active opens, ICMP
 * errors, and the timers of every connection.
 *
 * The connections themselves are W2's pure state machines (TcpConnection);
 * this file only feeds them segments, drains what they want to send, and
 * keeps them in a min-heap ordered by `pollAt()`, so a timer tick costs
 * O(log n) per due connection instead of a scan of all of them.
 *
 * Linux's rules are followed where the RFCs leave room (net/ipv4/tcp_ipv4.c,
 * inet_connection_sock.c), since programs written against sockstack usually
 * also run on Linux.
 *
 * A connection that reaches TIME-WAIT leaves its TCB for a compact record
 * (TimeWaitEntry, Linux's tcp_timewait_sock) in the same table and heap,
 * whether or not a socket still holds it (that socket's TCB goes to CLOSED,
 * as Linux's tcp_done); time-wait.ts answers its segments.
 *
 * Kept apart: the send path and RSTs for segments no socket wants
 * (tcp-transmit.ts), listen() and the passive open (tcp-listen.ts), the
 * connection index (conn-table.ts), the port-sharing rules
 * (port-sharing.ts), what an ICMP error does to a connection
 * (tcp-icmp-error.ts), TIME-WAIT records (time-wait-records.ts,
 * time-wait.ts, time-wait-state.ts), the counter names (tcp-counters.ts),
 * the host contract (tcp-host.ts) and the wiring into a Stack
 * (install-tcp.ts).
 */
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import type { PortAllocator } from '../stack/port-allocator.js';
import { PortAllocator as PortAllocatorClass } from '../stack/port-allocator.js';
import type { IpPacketIn, IpSender, TransportProtocol } from '../stack/transport.js';
import type { CounterCell, Counters } from '../stats/counters.js';
import { constants as C } from '../syscall/constants.js';
import { raise } from '../syscall/socket-handle.js';
import type { ProtocolFactory } from '../syscall/syscalls.js';
import { Duration } from '../time/duration.js';
import { instantAdd } from '../time/instant.js';
import type { Instant } from '../time/instant.js';
import { IPV4_BROADCAST, isIpv4Multicast } from '../wire/address.js';
import type { Ipv4Address } from '../wire/address.js';
import { IPV4_DEFAULT_TTL, IpProtocol } from '../wire/ipv4.js';
import { TcpReprScratch, copyTcpRepr, parseTcpInto, parseTcpIntoAt } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import { tcpConfig } from './config.js';
import type { TcpConfig } from './config.js';
import { ConnTable } from './conn-table.js';
import { TcpConnection } from './connection.js';
import { IsnGenerator } from './isn.js';
import { bindConflicts, findListener } from './port-sharing.js';
import { TcpState } from './state.js';
import { TcpCounter } from './tcp-counters.js';
import { ConnEntry, TimeWaitEntry } from './tcp-entry.js';
import type { ListenQueue, TcpBinding } from './tcp-entry.js';
import type { TcpHost, TcpProtocolOptions } from './tcp-host.js';
import { applyIcmpError } from './tcp-icmp-error.js';
import { TcpListeners } from './tcp-listen.js';
import { TcpSocket } from './tcp-socket.js';
import type { TcpSocketOwner } from './tcp-socket.js';
import { tcpOptionTable } from './tcp-socket-options.js';
import { TcpTransmitter } from './tcp-transmit.js';
import { timeWaitIcmpError } from './time-wait.js';
import { TimeWaitRecords } from './time-wait-records.js';

import { DeadlineHeap } from './deadline-heap.js';
import { GroInput } from './gro-input.js';
export { ConnEntry, ListenQueue, TimeWaitEntry } from './tcp-entry.js';
export type { TcpBinding, TcpEntrySocket } from './tcp-entry.js';

/**
 * How long a connection that keeps saying "due now" without sending anything
 * is put off, so that a bookkeeping mismatch cannot spin the stack's timer
 * at one instant forever (counted as tcp.poll-spins).
 */
const SPIN_BACKOFF = Duration.fromMillis(1);

/** How often one connection's forward progress confirms its neighbour (see #confirmNeighbour). */
const CONFIRM_INTERVAL = Duration.fromSecs(1);

export class TcpProtocol implements TransportProtocol, TcpSocketOwner {
  readonly protocol = IpProtocol.Tcp;
  readonly #host: TcpHost;
  readonly #ports: PortAllocator<TcpBinding>;
  readonly #conns = new ConnTable();
  /** The listening hash (tcp-listen.ts), read by every SYN. */
  readonly #listening: Map<number, TcpBinding[]>;
  readonly #heap = new DeadlineHeap();
  readonly #isn: IsnGenerator;
  readonly #defaults: TcpConfig;
  // Per-segment counters, taken once (issue 9: no name lookup per segment).
  readonly #inSegs: CounterCell;
  readonly #outSegs: CounterCell;
  readonly #fastPath: CounterCell;
  /** Segments out: built in place, handed to the IP layer (tcp-transmit.ts). */
  readonly #tx: TcpTransmitter;
  /** listen() and the passive open of a SYN (tcp-listen.ts). */
  readonly #listeners: TcpListeners;
  /** TIME-WAIT records: compacting a TCB into one, their input, freeing them (time-wait-records.ts). */
  readonly #timeWaits: TimeWaitRecords;

  constructor(host: TcpHost, opts: TcpProtocolOptions = {}) {
    this.#host = host;
    this.#inSegs = host.stats.cell(TcpCounter.InSegs);
    this.#outSegs = host.stats.cell(TcpCounter.OutSegs);
    this.#fastPath = host.stats.cell(TcpCounter.FastPath);
    this.#groIn = new GroInput<ConnEntry>(
      {
        established: (ip, seg) => this.#groEstablished(ip, seg),
        deliver: (now, entry, seg) => {
          this.#groDeliver(now, entry, seg);
        },
      },
      host.stats.cell(TcpCounter.GroPackets),
      host.stats.cell(TcpCounter.GroMerged),
    );
    this.#tx = new TcpTransmitter(host, this.#outSegs, host.stats.cell(TcpCounter.RetransSegs));
    this.#ports = opts.ports ?? new PortAllocatorClass<TcpBinding>(host.rng);
    // RFC 6528: one secret key per stack, drawn from the (seeded) Rng.
    this.#isn = new IsnGenerator(host.rng);
    this.#defaults = tcpConfig(opts.config ?? {});
    this.#listeners = new TcpListeners(host, this.#ports, this.#isn, this.#defaults, this.#tx);
    this.#listening = this.#listeners.byPort;
    this.#timeWaits = new TimeWaitRecords(host, this.#conns, this.#heap, this.#ports, this.#listening, this.#tx);
  }

  /** The factory to register with Syscalls: SOCK_STREAM sockets of AF_INET, protocol IPPROTO_TCP. */
  factory(): ProtocolFactory {
    return {
      family: C.AF_INET,
      type: C.SOCK_STREAM,
      protocol: C.IPPROTO_TCP,
      create: () => new TcpSocket(this),
      optionKind: (level, name) => tcpOptionTable.get(level)?.get(name)?.kind,
    };
  }

  get defaults(): TcpConfig {
    return this.#defaults;
  }

  get defaultTtl(): number {
    return this.#host.defaultTtl ?? IPV4_DEFAULT_TTL;
  }

  get stats(): Counters {
    return this.#host.stats;
  }

  now(): Instant {
    return this.#host.now();
  }

  /** Live connections (TIME-WAIT and orphans included), for tests and `ss`-like listings. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  /** The states of all live connections, for tests and diagnostics. */
  connectionStates(): TcpState[] {
    return [...this.#conns.values()].map((e) => (e instanceof TimeWaitEntry ? TcpState.TIME_WAIT : e.conn.state));
  }

  /** Connections in TIME-WAIT held as compact records (time-wait.ts) rather than full TCBs, for tests. */
  get compactTimeWaits(): number {
    let n = 0;
    for (const e of this.#conns.values()) if (e instanceof TimeWaitEntry) n++;
    return n;
  }

  isLocalAddress(a: Ipv4Address): boolean {
    return this.#host.isLocalAddress(a);
  }

  #isBroadcast(a: Ipv4Address): boolean {
    return a === IPV4_BROADCAST || (this.#host.isBroadcastAddress?.(a) ?? false);
  }

  // ------------------------------------------------------------ bind table

  /** bind(): a new binding for `sock`. Raises EADDRNOTAVAIL, EADDRINUSE, or EAGAIN when no ephemeral port is left. */
  bind(address: Ipv4Address, port: number, reuseAddr: boolean, reusePort: boolean): TcpBinding {
    // Linux inet_bind: the address must be one of ours, or the wildcard (no IP_FREEBIND here).
    if (address !== 0 && !this.#host.isLocalAddress(address)) raise('EADDRNOTAVAIL');
    let p = port;
    if (p === 0) {
      const picked = this.#ports.allocate((q) => !this.#ports.isInUse(q));
      if (picked === undefined) raise('EADDRINUSE');
      p = picked;
    } else if (bindConflicts(this.#ports, undefined, address, p, reuseAddr, reusePort)) {
      raise('EADDRINUSE');
    }
    const b: TcpBinding = { address, port: p, reuseAddr, reusePort, listener: undefined, entry: undefined };
    this.#ports.bind(p, b);
    return b;
  }

  unbind(b: TcpBinding): void {
    this.#ports.unbind(b.port, b);
    if (b.listener !== undefined) this.#listeners.reindex(b.port);
  }

  /** listen(): Linux re-checks the port for other listeners (inet_csk_listen_start -> get_port). */
  listen(sock: TcpSocket, b: TcpBinding, backlog: number): ListenQueue {
    return this.#listeners.listen(sock, b, backlog);
  }

  /** Stops listening: every connection nobody accepted is reset (Linux inet_csk_listen_stop). */
  stopListening(b: TcpBinding): void {
    const q = b.listener;
    if (q === undefined) return;
    b.listener = undefined;
    this.#listeners.reindex(b.port);
    const now = this.#host.now();
    for (const e of [...q.synQueue, ...q.acceptQueue]) {
      e.parent = undefined;
      e.conn.abort();
      this.#after(e, now);
    }
    q.synQueue.clear();
    q.acceptQueue.length = 0;
    this.#host.wake();
  }

  /** The oldest established connection of a listener, now owned by `sock`'s accepted child. */
  acceptFrom(q: ListenQueue): ConnEntry | undefined {
    const e = q.acceptQueue.shift();
    if (e !== undefined) e.parent = undefined;
    return e;
  }

  // ------------------------------------------------------------ connect

  /**
   * Active open for `sock` (already bound or not): route, source address,
   * ephemeral port, ISN, and the SYN goes out at once. Returns the entry.
   */
  connect(sock: TcpSocket, binding: TcpBinding | undefined, remoteAddr: Ipv4Address, remotePort: number): { entry: ConnEntry; binding: TcpBinding } {
    // Linux ip_route_connect: connecting to 0.0.0.0 means this host.
    let dst = remoteAddr;
    if (dst === 0) dst = binding !== undefined && binding.address !== 0 ? binding.address : 0x7f000001;
    // Linux tcp_v4_connect: broadcast and multicast routes are ENETUNREACH.
    if (this.#isBroadcast(dst) || isIpv4Multicast(dst)) raise('ENETUNREACH');
    const fixedSrc = binding !== undefined && binding.address !== 0 ? binding.address : undefined;
    const route = this.#host.ip.route(dst, fixedSrc);
    if (route === undefined) raise('ENETUNREACH');
    const src = fixedSrc ?? route.src;
    let b = binding;
    if (b === undefined) {
      // Linux __inet_hash_connect: an ephemeral port nobody has bound (RFC 6056 3.3.1 start point).
      const port = this.#ports.allocate(
        (p) => !this.#ports.isInUse(p) && this.#conns.find(src, p, dst, remotePort) === undefined,
      );
      if (port === undefined) raise('EADDRNOTAVAIL');
      b = { address: 0, port, reuseAddr: sock.so.reuseAddr, reusePort: sock.so.reusePort, listener: undefined, entry: undefined };
      this.#ports.bind(port, b);
    }
    const existing = this.#conns.find(src, b.port, dst, remotePort);
    if (existing !== undefined) {
      // A TIME-WAIT incarnation may be reused (RFC 6191 spirit; Linux tcp_tw_reuse on loopback); anything else is taken.
      if (!(existing instanceof TimeWaitEntry) && existing.conn.state !== TcpState.TIME_WAIT) {
        if (binding === undefined) this.#ports.unbind(b.port, b);
        raise('EADDRNOTAVAIL');
      }
      if (existing instanceof TimeWaitEntry) this.#timeWaits.releaseTimeWait(existing);
      else this.#release(existing);
      this.#host.stats.increment(TcpCounter.TimeWaitFreed);
    }
    const now = this.#host.now();
    const mtu = sock.mtuFor(route.mtu);
    const config = sock.connectionConfig(this.#defaults, mtu);
    const iss = this.#isn.isn(now, src, b.port, dst, remotePort);
    const tsOff = this.#isn.tsOffset(src, dst);
    const conn = TcpConnection.connect(now, config, { addr: src, port: b.port }, { addr: dst, port: remotePort }, iss, tsOff);
    const entry = new ConnEntry(conn, b, undefined, sock.ttl ?? this.defaultTtl, sock.tos, route.mtu, iss);
    entry.socket = sock;
    b.entry = entry;
    this.#register(entry);
    this.#host.stats.increment(TcpCounter.ActiveOpens);
    this.#after(entry, now);
    this.#rearm(now);
    return { entry, binding: b };
  }

  #register(entry: ConnEntry): void {
    this.#conns.set(entry);
    entry.conn.onEvent = () => {
      entry.socket?.wake();
      entry.lingerWaker?.();
    };
  }

  /** After a user call on a connection (send, recv, shutdown, close, option change): send what is due now. */
  kick(entry: ConnEntry): void {
    if (entry.released) return;
    const now = this.#host.now();
    this.#after(entry, now);
    this.#rearm(now);
  }

  /**
   * After recv: Linux tcp_recvmsg sends nothing unless tcp_cleanup_rbuf owes
   * an ACK (window update, delayed ACK cut short: ackDue). On a real-time
   * clock an established connection's due timers are left to the stack's
   * timer, so such a read skips the drain, its clock read and the re-filing:
   * a blocked read does this on every request/response exchange (issue 9).
   * A read changes no deadline of the connection (nextDeadline) but ackNow.
   */
  kickAfterRead(entry: ConnEntry): void {
    if (this.#host.realTime === true && entry.conn.state === TcpState.ESTABLISHED && !entry.conn.ackDue) return;
    this.kick(entry);
  }

  /**
   * After #after drained a connection at a user call: only the stack's timer
   * needs to follow the new deadline. A wake() would cost a timer callback
   * and a poll of everything per write (issue 9: a third of a round trip).
   */
  #rearm(now: Instant): void {
    if (this.#host.rearm !== undefined) this.#host.rearm(now, this.pollAt());
    else this.#host.wake();
  }

  /** The socket was closed: the connection lives on as an orphan until it is done (FIN handshake, TIME-WAIT). */
  orphan(entry: ConnEntry): void {
    entry.socket = undefined;
    if (entry.conn.isClosed) this.#release(entry);
  }

  // ------------------------------------------------------------ the engine

  /**
   * Drains a connection's output, then files it: into a listener's accept
   * queue once established, out of the tables once closed, and into the
   * deadline heap otherwise.
   */
  #after(entry: ConnEntry, now: Instant): void {
    if (entry.released) return;
    const conn = entry.conn;
    // conn.output() without its callback: no closure per call (issue 9).
    // drainDone: the queue's last segment ends the drain without a poll that answers undefined (issue 9).
    for (let seg = conn.poll(now); seg !== undefined; seg = conn.poll(now)) {
      this.#tx.transmit(now, entry, seg);
      if (conn.drainDone()) break;
    }
    const q = entry.parent;
    if (q !== undefined && q.synQueue.has(entry) && conn.state !== TcpState.SYN_RECEIVED) {
      q.synQueue.delete(entry);
      // A connection that got data and even a FIN before accept() is still accepted (Linux does).
      if (conn.state !== TcpState.CLOSED || conn.recvAvailable > 0) {
        q.acceptQueue.push(entry);
        q.socket.wake();
      } else {
        entry.parent = undefined;
      }
    }
    if (conn.isClosed) {
      if (entry.stateBefore === TcpState.SYN_SENT || entry.stateBefore === TcpState.SYN_RECEIVED) {
        if (entry.error !== undefined) this.#host.stats.increment(TcpCounter.AttemptFails);
      } else if (entry.error === 'ECONNRESET' || entry.error === 'EPIPE') {
        this.#host.stats.increment(TcpCounter.EstabResets);
      }
      entry.socket?.connectionEnded(entry);
      // An unaccepted connection that closed stays queued (it may hold data); the others go.
      if (entry.socket === undefined && (entry.parent === undefined || !entry.parent.acceptQueue.includes(entry))) {
        this.#release(entry);
      } else {
        this.#heap.remove(entry);
        this.#conns.delete(entry);
      }
      return;
    }
    entry.stateBefore = conn.state;
    if (conn.state === TcpState.TIME_WAIT && entry.parent === undefined && this.#timeWaits.compact(entry)) return;
    // Right after the drain above: poll() has just answered undefined.
    const at = conn.pollAt(true);
    if (at !== undefined && at <= now) {
      // After a full drain nothing should be due at this very instant; should the
      // state machine say so anyway, put it off a little rather than spin in place.
      this.#host.stats.increment('tcp.poll-spins');
      this.#heap.set(entry, instantAdd(now, SPIN_BACKOFF));
      return;
    }
    this.#heap.set(entry, at);
  }

  /**
   * Forward progress (the peer acknowledged new data) proves the neighbour
   * mapping works, as Linux's dst_confirm does; at most once a second per
   * connection, since a bulk transfer brings thousands of ACKs.
   */
  #confirmNeighbour(now: Instant, entry: ConnEntry): void {
    if (now - entry.confirmedAt < CONFIRM_INTERVAL) return;
    entry.confirmedAt = now;
    this.#host.ip.neighbourAdvice?.(now, entry.conn.remote.addr, 'confirm');
  }

  /** Frees a connection: tables, heap, and its port binding if no socket holds it. */
  #release(entry: ConnEntry): void {
    if (entry.released) return;
    entry.released = true;
    const lingering = entry.lingerWaker;
    entry.lingerWaker = undefined;
    lingering?.();
    this.#heap.remove(entry);
    this.#conns.delete(entry);
    entry.conn.onEvent = undefined;
    if (entry.parent !== undefined) {
      entry.parent.synQueue.delete(entry);
      const i = entry.parent.acceptQueue.indexOf(entry);
      if (i >= 0) entry.parent.acceptQueue.splice(i, 1);
      entry.parent = undefined;
    }
    if (entry.socket === undefined && entry.binding.entry === entry) {
      entry.binding.entry = undefined;
      this.#ports.unbind(entry.binding.port, entry.binding);
    }
  }

  /** A socket that owned a closed connection let go of it (close() or a new connect()). */
  dropClosed(entry: ConnEntry): void {
    entry.socket = undefined;
    this.#release(entry);
  }

  // ------------------------------------------------------------ TransportProtocol

  input(now: Instant, packet: IpPacketIn, out: IpSender): void {
    const stats = this.#host.stats;
    const ip = packet.ip;
    // RFC 9293 3.10.7.2 / RFC 1122 4.2.3.10: TCP is unicast only.
    if (packet.broadcast || this.#isBroadcast(ip.dst) || isIpv4Multicast(ip.dst)) {
      stats.increment('tcp.drop.broadcast');
      return;
    }
    // One record for every segment (issue 9); a nested input, should there
    // ever be one, gets its own. See TcpReprScratch for what users may keep.
    const seg = this.#rxDepth === 0 ? this.#rx : new TcpReprScratch();
    const bytes = packet.bytes;
    const err =
      bytes === undefined
        ? parseTcpInto(ip.payload, packet.verifyChecksum, ip.src, ip.dst, seg)
        : parseTcpIntoAt(bytes, packet.payloadStart ?? 0, packet.payloadEnd ?? bytes.length, packet.verifyChecksum, ip.src, ip.dst, seg);
    if (err !== undefined) {
      stats.increment(TcpCounter.InErrs);
      if (err === 'bad-checksum') stats.increment(TcpCounter.InCsumErrors);
      stats.increment(`tcp.drop.${err}`);
      return;
    }
    this.#inSegs.n++;
    if (this.#groIn.batching && this.#rxDepth === 0) {
      const next =
        bytes === undefined ? this.#groIn.input(now, ip, ip.payload, 0, seg) : this.#groIn.input(now, ip, bytes, packet.payloadStart ?? 0, seg);
      if (next !== undefined) {
        this.#rx = next;
        return;
      }
    }
    this.#rxDepth++;
    try {
      this.#segmentInput(now, packet, seg, out);
    } finally {
      this.#rxDepth--;
      seg.release();
    }
  }

  #rx = new TcpReprScratch();
  #rxDepth = 0;

  // ------------------------------------------------------------ GRO (gro-input.ts)

  readonly #groIn: GroInput<ConnEntry>;

  batchBegin(): void {
    this.#groIn.begin();
  }

  batchEnd(): boolean {
    return this.#groIn.end();
  }

  batchFlush(now: Instant, _out: IpSender): void {
    this.#groIn.flush(now);
  }

  /** GroInput's view of the connection table: only ESTABLISHED connections' segments are held. */
  #groEstablished(ip: IpPacketIn['ip'], seg: TcpReprScratch): ConnEntry | undefined {
    const entry = this.#conns.find(ip.dst, seg.dstPort, ip.src, seg.srcPort);
    if (entry === undefined || entry instanceof TimeWaitEntry || entry.released || entry.conn.state !== TcpState.ESTABLISHED) return undefined;
    return entry;
  }

  #groDeliver(now: Instant, entry: ConnEntry, seg: TcpReprScratch): void {
    // Nested input (should there be any) must not parse into a record in use.
    this.#rxDepth++;
    try {
      // Nothing else ran for this connection since the train started; kept as a guard.
      if (entry.released) this.#host.stats.increment('tcp.drop.gro-stale');
      else this.#connInput(now, entry, seg);
    } finally {
      this.#rxDepth--;
    }
  }

  #segmentInput(now: Instant, packet: IpPacketIn, seg: TcpRepr, out: IpSender): void {
    const stats = this.#host.stats;
    const ip = packet.ip;
    if (seg.srcPort === 0 || seg.dstPort === 0) {
      stats.increment('tcp.drop.port-zero');
      return;
    }
    // ConnTable keeps a one-entry cache in front: segments come in runs.
    const entry = this.#conns.find(ip.dst, seg.dstPort, ip.src, seg.srcPort);
    if (entry instanceof TimeWaitEntry) {
      // RFC 6191 / RFC 1122 4.2.2.13, Linux TCP_TW_SYN: a new incarnation goes on to the listener, as below.
      if (!this.#timeWaits.timeWaitInput(now, entry, seg)) return;
    } else if (entry !== undefined) {
      if (entry.conn.state === TcpState.TIME_WAIT && entry.conn.acceptsNewSyn(seg, now) && this.#timeWaits.listenerFor(entry.conn.local, entry.conn.remote)) {
        // RFC 6191 / RFC 1122 4.2.2.13: a new incarnation may start from TIME-WAIT;
        // the old one goes and the SYN is the listener's (Linux TCP_TW_SYN).
        this.#release(entry);
        stats.increment(TcpCounter.TimeWaitFreed);
      } else {
        this.#connInput(now, entry, seg);
        return;
      }
    }
    const listener = findListener(this.#listening, ip.dst, seg.dstPort, ip.src, seg.srcPort);
    if (listener === undefined) {
      // RFC 9293 3.10.7.1: CLOSED. Everything but a RST is answered with a RST.
      stats.increment('tcp.drop.no-socket');
      this.#tx.sendReset(now, ip.src, ip.dst, seg, out);
      return;
    }
    // A new connection keeps what it learns from its SYN: it gets a record of its own.
    this.#listenerInput(now, listener, ip.src, ip.dst, copyTcpRepr(seg), out);
  }

  /** A segment for a connection's TCB (input.ts), then its output. */
  #connInput(now: Instant, entry: ConnEntry, seg: TcpRepr): void {
    entry.stateBefore = entry.conn.state;
    const una = entry.conn.sndUna;
    if (entry.conn.input(now, seg)) this.#fastPath.n++;
    if (entry.conn.sndUna !== una) this.#confirmNeighbour(now, entry);
    this.#after(entry, now);
  }

  /** RFC 9293 3.10.7.2: LISTEN (tcp-listen.ts); a new connection joins the tables here. */
  #listenerInput(now: Instant, b: TcpBinding, src: Ipv4Address, dst: Ipv4Address, seg: TcpRepr, out: IpSender): void {
    const entry = this.#listeners.synInput(now, b, src, dst, seg, out);
    if (entry === undefined) return;
    this.#register(entry);
    this.#host.stats.increment(TcpCounter.PassiveOpens);
    this.#after(entry, now);
  }

  /** An ICMP error about a segment we sent (RFC 1122 4.2.3.9, RFC 5927); see applyIcmpError. */
  icmpError(now: Instant, report: IcmpErrorReport): void {
    const q = report.quote;
    if (q.protocol !== IpProtocol.Tcp || q.srcPort === undefined || q.dstPort === undefined) return;
    const entry = this.#conns.find(q.src, q.srcPort, q.dst, q.dstPort);
    if (entry === undefined) return;
    if (entry instanceof TimeWaitEntry) {
      timeWaitIcmpError(entry, report, this.#host.stats);
      return;
    }
    if (applyIcmpError(entry, report, this.#host.stats)) this.#after(entry, now);
  }

  poll(now: Instant, _out: IpSender): void {
    const due: ConnEntry[] = [];
    for (let e = this.#heap.peek(); e !== undefined && e.deadline <= now; e = this.#heap.peek()) {
      this.#heap.remove(e);
      // MUST-13: 2 MSL are over.
      if (e instanceof TimeWaitEntry) this.#timeWaits.releaseTimeWait(e);
      else due.push(e);
    }
    for (const e of due) {
      e.stateBefore = e.conn.state;
      this.#after(e, now);
    }
  }

  pollAt(): Instant | undefined {
    const e = this.#heap.peek();
    return e === undefined ? undefined : (e.deadline as Instant);
  }
}
