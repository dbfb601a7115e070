/**
 * The Stack: owns the interfaces (a loopback with 127.0.0.1/8 always, plus
 * whatever links are added), the routing table, the IP layer, the
 * registered transport protocols, the clock, the Rng and the statistics,
 * and keeps THE ONLY timer.
 *
 * Scheduling: after every input (a frame from a link), every timer firing
 * and every user action (`wake()`), the stack asks each part when it next
 * needs to run (ARP retries and expiry, reassembly timeouts, ping sessions,
 * every protocol's `pollAt()`) and keeps exactly one clock timer armed for
 * the earliest. When it fires, everything is polled. There are no
 * per-socket timers and no busy loops.
 *
 * Re-entrancy: a frame that arrives while the stack is working (a link that
 * delivers synchronously) is queued and handled right after, never nested
 * (stack-work.ts: the units of work, GRO and the work-end functions).
 *
 * Statistics (`stack.stats`), netstat -s style:
 *   ip.in-receives, ip.in-hdr-errors, ip.in-addr-errors, ip.in-unknown-protos,
 *   ip.in-delivers, ip.out-requests, ip.out-no-routes, ip.out-discards,
 *   ip.forw-datagrams, ip.frag-oks, ip.frag-fails, ip.frag-creates,
 *   ip.reasm-reqds, ip.reasm-oks, ip.reasm-fails, ip.reasm-timeout,
 *   ip.reasm-duplicates, ip.pmtu-updates,
 *   icmp.in-msgs, icmp.in-errors, icmp.in-echos, icmp.in-echo-reps,
 *   icmp.in-dest-unreachs, icmp.in-time-excds, icmp.in-parm-probs, icmp.in-other,
 *   icmp.out-msgs, icmp.out-echos, icmp.out-echo-reps, icmp.out-dest-unreachs,
 *   icmp.out-time-excds, icmp.out-rate-limited,
 *   arp.in-requests, arp.in-replies, arp.out-requests, arp.out-replies,
 *   arp.out-announcements, arp.queue-dropped, arp.resolve-failed, arp.expired,
 * and one counter per drop reason: `<layer>.drop.<reason>` with layer one of
 * link, arp, ip, icmp (e.g. ip.drop.bad-checksum, ip.drop.not-for-us,
 * ip.drop.reasm-overlap, link.drop.unknown-ethertype).
 */
import { IcmpRateLimiter } from '../icmp/rate-limit.js';
import type { IcmpRateLimiterOptions } from '../icmp/rate-limit.js';
import { Interface, parseCidr } from '../iface/interface.js';
import type { InterfaceAddress } from '../iface/interface.js';
import type { NeighbourCacheOptions } from '../iface/neighbour-cache.js';
import { PathMtuCache } from '../iface/path-mtu.js';
import type { PathMtuCacheOptions } from '../iface/path-mtu.js';
import { Reassembler } from '../iface/reassembly.js';
import type { ReassemblerOptions } from '../iface/reassembly.js';
import { RouteTable } from '../iface/route-table.js';
import type { Link } from '../link/link.js';
import { LoopbackLink } from '../link/loopback.js';
import type { Rng } from '../random/rng.js';
import { SeededRng, cryptoRng } from '../random/rng.js';
import { Counters } from '../stats/counters.js';
import type { Clock } from '../time/clock.js';
import { DeadlineWatch } from '../time/deadline-watch.js';
import type { Instant } from '../time/instant.js';
import { SystemClock } from '../time/system-clock.js';
import type { Ipv4Address } from '../wire/address.js';
import { ipv4 } from '../wire/address.js';
import { IpProtocol } from '../wire/ipv4.js';
import { IpLayer } from './ip-layer.js';
import { PingClient } from './ping.js';
import type { PingOptions, PingResult } from './ping.js';
import { PortAllocator } from './port-allocator.js';
import { StackTimer } from './stack-timer.js';
import { StackWork } from './stack-work.js';
import type { PortRange } from './port-allocator.js';
import type { IcmpSocketHandler, IpSender, TransportProtocol } from './transport.js';
import { createStackSyscalls } from '../syscall/stack-syscalls.js';
import type { StackSyscalls, StackSyscallsOptions } from '../syscall/stack-syscalls.js';
import type { Syscalls } from '../syscall/syscalls.js';
import { connect as connectSocket } from '../api/connect.js';
import type { Socket, SocketAddress, SocketOptions } from '../api/connect.js';
import type { TlsProvider } from '../api/tls-provider.js';

export interface StackOptions {
  /**
   * Default: a SystemClock whose timers keep the process alive while the
   * stack has work scheduled (like Node's own sockets); `close()` the stack
   * to let the process exit at once. Use a ManualClock or VirtualClock for
   * tests and simulation.
   */
  readonly clock?: Clock;
  /** Seeds the Rng (a SeededRng): same seed, same run. Default: cryptographic randomness. */
  readonly seed?: number;
  /** An Rng to use instead (wins over `seed`). */
  readonly rng?: Rng;
  /**
   * 'auto' (default): transports skip checksums on trusted links (loopback,
   * uncorruptible memory wires), like Linux on lo. 'always': compute them
   * everywhere, e.g. so a pcap of a trusted link shows valid checksums.
   * Received checksums are verified on every link that is not trusted, in
   * both modes: on a trusted link the sender may have skipped them. For a
   * memory wire computed and verified at both ends, declare it untrusted
   * (`new MemoryNetwork({ trusted: false })`).
   */
  readonly checksums?: 'always' | 'auto';
  /** Act as a router between interfaces (RFC 1812). Default false. */
  readonly forwarding?: boolean;
  /** TTL of datagrams we originate. Default 64. */
  readonly defaultTtl?: number;
  readonly reassembly?: ReassemblerOptions;
  /** Defaults for every interface's ARP cache. */
  readonly neighbour?: NeighbourCacheOptions;
  readonly pathMtu?: PathMtuCacheOptions;
  readonly icmpRateLimit?: IcmpRateLimiterOptions;
  /** Ephemeral port range for every protocol's PortAllocator. Default 32768-60999. */
  readonly ephemeralPorts?: PortRange;
  /** Options of the socket layer behind `stack.sys` (descriptor limit, ...). */
  readonly syscalls?: StackSyscallsOptions;
  /**
   * TLS for `stack.connect(addr, { secureTransport: 'on' | 'starttls' })`,
   * the way a runtime supplies it to the draft's connect(): e.g. `nodeTls()`
   * from sockstack/node. The core carries no cryptography; without one,
   * those connects throw a SocketError.
   */
  readonly tls?: TlsProvider;
}

export interface InterfaceConfig {
  /** "10.0.0.1/24", or several. */
  readonly address?: string | readonly string[];
  /** The default gateway through this interface ("10.0.0.254"). */
  readonly gateway?: string;
  /** Default eth0, eth1, ... */
  readonly name?: string;
  /** At most the link's MTU. */
  readonly mtu?: number;
  /** Send a gratuitous ARP for each address (RFC 5227 announcement). Default false. */
  readonly announce?: boolean;
  readonly neighbour?: NeighbourCacheOptions;
}

export interface RouteConfig {
  readonly gateway?: string | Ipv4Address;
  /** Default: the interface whose subnet holds the gateway. */
  readonly iface?: Interface;
  readonly metric?: number;
}

export class Stack {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly stats = new Counters();
  readonly routes = new RouteTable<Interface>();
  readonly loopback: Interface;
  readonly pathMtu: PathMtuCache;
  readonly reassembler: Reassembler;
  readonly checksums: 'always' | 'auto';
  /** The TLS provider from the options, used by `connect()`. */
  readonly tls: TlsProvider | undefined;
  readonly #options: StackOptions;
  readonly #interfaces: Interface[] = [];
  readonly #protocols = new Map<number, TransportProtocol>();
  /** The same protocols in registration order, for the sweeps: a Map iterator per frame was garbage (issue 9). */
  #protocolList: TransportProtocol[] = [];
  /**
   * The deadline cache of #schedule (issue 9): the parts that raise #watch
   * on every change of their pollAt() (the IP layer's reassembly and ARP
   * caches, ping, the protocols with watchDeadline) are asked again only
   * after it was raised; #watchedAt is their earliest deadline as of then.
   * The other protocols (TCP) are asked every time.
   */
  readonly #watch = new DeadlineWatch();
  #watchedAt: Instant | undefined = undefined;
  #watchedProtocols: TransportProtocol[] = [];
  #liveProtocols: TransportProtocol[] = [];
  readonly #ports = new Map<number, PortAllocator>();
  readonly #ip: IpLayer;
  /** Frames, runs of frames and the timer's polls, never nested (stack-work.ts). */
  readonly #work: StackWork;
  readonly #ping: PingClient;
  /** THE ONLY timer (stack-timer.ts): lazily armed on a real-time clock. */
  readonly #timer: StackTimer;
  #lazyTimers = false;
  #wakeRequested = false;
  #closed = false;
  #syscalls: StackSyscalls | undefined;
  #icmpSockets: IcmpSocketHandler | undefined;
  readonly #syscallOptions: StackSyscallsOptions;
  #nextIndex = 1;

  constructor(options: StackOptions = {}) {
    this.#syscallOptions = {
      ...(options.defaultTtl === undefined ? {} : { defaultTtl: options.defaultTtl }),
      ...options.syscalls,
    };
    this.#options = options;
    this.clock = options.clock ?? new SystemClock({ keepAlive: true });
    this.#lazyTimers = this.clock instanceof SystemClock;
    this.#timer = new StackTimer(this.clock, this.#lazyTimers, () => this.#work.run(this.#pollAllBound));
    this.rng = options.rng ?? (options.seed !== undefined ? new SeededRng(options.seed) : cryptoRng());
    this.checksums = options.checksums ?? 'auto';
    this.tls = options.tls;
    this.pathMtu = new PathMtuCache(options.pathMtu);
    this.reassembler = new Reassembler(options.reassembly);
    this.reassembler.watchDeadline(this.#watch);
    this.#ping = new PingClient(this.rng.nextU32());
    this.#ping.watchDeadline(this.#watch);
    this.loopback = this.#attach(new LoopbackLink({ clock: this.clock }), 'lo', ['127.0.0.1/8'], {}, true);
    this.#ip = new IpLayer({
      stats: this.stats,
      interfaces: this.#interfaces,
      loopback: this.loopback,
      routes: this.routes,
      protocols: this.#protocols,
      reassembler: this.reassembler,
      pathMtu: this.pathMtu,
      icmpLimiter: new IcmpRateLimiter(options.icmpRateLimit),
      now: () => this.clock.now(),
      checksums: this.checksums,
      forwarding: options.forwarding ?? false,
      ...(options.defaultTtl === undefined ? {} : { defaultTtl: options.defaultTtl }),
      initialId: this.rng.nextU32(),
      onEchoReply: (now, from, id, seq, data, to) => {
        this.#ping.onReply(now, from, id, seq);
        this.#icmpSockets?.echoReply(now, from, to, id, seq, data);
      },
      onIcmpError: (now, report) => this.#icmpSockets?.icmpError(now, report),
    });
    this.#work = new StackWork(this.clock, this.#ip, this.#lazyTimers, this.#schedule);
  }

  /** All interfaces, the loopback first. */
  get interfaces(): readonly Interface[] {
    return this.#interfaces;
  }

  /** The output path transports use (also passed to their input/poll calls). */
  get ip(): IpSender {
    return this.#ip;
  }

  /** Adds a link as an interface, with its addresses, connected routes and optional default gateway. */
  addInterface(link: Link, config: InterfaceConfig = {}): Interface {
    this.#checkOpen();
    const addrs = config.address === undefined ? [] : typeof config.address === 'string' ? [config.address] : config.address;
    const name = config.name ?? `eth${this.#interfaces.length - 1}`;
    if (this.#interfaces.some((i) => i.name === name)) throw new RangeError(`addInterface: ${name} already exists`);
    const iface = this.#attach(link, name, addrs, config, false);
    if (config.gateway !== undefined) this.addRoute('0.0.0.0/0', { gateway: config.gateway, iface });
    if (config.announce === true) for (const a of iface.addresses) this.#ip.announce(iface, a.address);
    return iface;
  }

  #attach(link: Link, name: string, addrs: readonly string[], config: InterfaceConfig, isLoopback: boolean): Interface {
    const neighbour = config.neighbour ?? this.#options.neighbour;
    const iface = new Interface(
      name,
      this.#nextIndex++,
      link,
      { ...(config.mtu === undefined ? {} : { mtu: config.mtu }), ...(neighbour === undefined ? {} : { neighbour }) },
      isLoopback,
    );
    this.#interfaces.push(iface);
    // Its ARP cache's deadlines count from now on (the IP layer's pollAt walks every interface).
    iface.neighbours?.watchDeadline(this.#watch);
    this.#watch.changed = true;
    for (const a of addrs) this.addAddress(iface, a);
    if (link.setBatchEnd === undefined) link.setReceiver((frame) => this.#work.onFrame(iface, frame));
    else {
      link.setReceiver((frame) => this.#work.onBatchFrame(iface, frame));
      link.setBatchEnd(this.#work.endBatch);
    }
    // Frames we sent come back for reuse where the link supports it (large-MTU memory wires, issue 9).
    link.setRecycler?.(this.#ip.recycler);
    return iface;
  }

  /** Detaches an interface: its routes go, its link stops delivering (the link is not closed). */
  removeInterface(iface: Interface): void {
    if (iface === this.loopback) throw new RangeError('removeInterface: the loopback cannot be removed');
    const i = this.#interfaces.indexOf(iface);
    if (i < 0) return;
    // A run of frames still open ends now: its link will not report the end
    // once detached, and gives the frames back (GRO's held views) after it;
    // calls the run woke are retried there, so they do not wait for ever.
    if (this.#work.batchOpen && !this.#work.busy) this.#work.endBatch();
    this.#interfaces.splice(i, 1);
    iface.neighbours?.watchDeadline(undefined);
    this.#watch.changed = true;
    this.routes.removeInterface(iface);
    iface.link.setReceiver(undefined);
    iface.link.setRecycler?.(undefined);
    iface.link.setBatchEnd?.(undefined);
  }

  /** Adds "a.b.c.d/len" to an interface with its connected route (like `ip addr add`). */
  addAddress(iface: Interface, cidr: string | InterfaceAddress): void {
    const a = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
    if (!iface.addAddress(a)) return;
    const prefix = a.prefixLength === 0 ? 0 : (a.address & ((0xffffffff << (32 - a.prefixLength)) >>> 0)) >>> 0;
    if (!this.routes.routes().some((r) => r.iface === iface && r.prefix === prefix && r.prefixLength === a.prefixLength && r.gateway === undefined)) {
      this.routes.addRoute({ prefix, prefixLength: a.prefixLength, iface, source: a.address });
    }
  }

  /** `ip route add <cidr> [via gateway] [dev iface]`. Throws RangeError when no interface reaches the gateway. */
  addRoute(cidr: string, config: RouteConfig = {}): void {
    const { address, prefixLength } = parseCidr(cidr);
    const gateway = typeof config.gateway === 'string' ? ipv4(config.gateway) : config.gateway;
    let iface = config.iface;
    if (iface === undefined) {
      if (gateway === undefined) throw new RangeError(`addRoute ${cidr}: need a gateway or an interface`);
      iface = this.routes.lookup(gateway)?.iface;
      if (iface === undefined || iface.isLoopback) throw new RangeError(`addRoute ${cidr}: gateway is not on any interface's subnet`);
    }
    this.routes.addRoute({
      prefix: address,
      prefixLength,
      iface,
      ...(gateway === undefined ? {} : { gateway }),
      ...(config.metric === undefined ? {} : { metric: config.metric }),
    });
  }

  removeRoute(cidr: string, gateway?: string | Ipv4Address): boolean {
    const { address, prefixLength } = parseCidr(cidr);
    return this.routes.removeRoute(address, prefixLength, typeof gateway === 'string' ? ipv4(gateway) : gateway);
  }

  /** Plugs in a transport protocol. Throws RangeError if the number is taken (ICMP is built in). */
  registerProtocol(p: TransportProtocol): void {
    if (p.protocol === IpProtocol.Icmp || this.#protocols.has(p.protocol)) {
      throw new RangeError(`registerProtocol: protocol ${p.protocol} is already handled`);
    }
    this.#protocols.set(p.protocol, p);
    p.watchDeadline?.(this.#watch);
    this.#protocolsChanged();
    this.wake();
  }

  unregisterProtocol(p: TransportProtocol): void {
    if (this.#protocols.get(p.protocol) !== p) return;
    this.#protocols.delete(p.protocol);
    p.watchDeadline?.(undefined);
    this.#protocolsChanged();
  }

  #protocolsChanged(): void {
    this.#protocolList = [...this.#protocols.values()];
    this.#watchedProtocols = this.#protocolList.filter((q) => q.watchDeadline !== undefined);
    this.#liveProtocols = this.#protocolList.filter((q) => q.watchDeadline === undefined);
    this.#watch.changed = true;
    this.#work.protocols = this.#protocolList;
  }

  /** Installs the receiver of echo replies and ICMP errors about ICMP we sent (the ping sockets behind `stack.sys`). */
  setIcmpSocketHandler(h: IcmpSocketHandler | undefined): void {
    this.#icmpSockets = h;
  }

  protocol(n: number): TransportProtocol | undefined {
    return this.#protocols.get(n);
  }

  /** The port table of protocol `n` (created on first use), shared by every socket of that protocol. */
  ports<B = unknown>(n: number): PortAllocator<B> {
    let p = this.#ports.get(n);
    if (p === undefined) {
      p = new PortAllocator(this.rng, this.#options.ephemeralPorts);
      this.#ports.set(n, p);
    }
    return p as PortAllocator<B>;
  }

  /** Whether `a` is one of this host's addresses (or 127/8). */
  isLocalAddress(a: Ipv4Address): boolean {
    return this.#ip.isLocalAddress(a);
  }

  /**
   * Asks for a poll of everything as soon as the clock allows. Call it after
   * a user action that may produce output. Any number of calls before the
   * poll runs cost one timer.
   */
  wake(): void {
    if (this.#closed) return;
    this.#wakeRequested = true;
    if (!this.#work.busy) this.#schedule();
  }

  /**
   * Re-arms the stack's timer for the current deadlines of its parts, without
   * asking for a poll: for a caller that has already done its work (TCP's
   * kick drains a connection's output synchronously). wake() would cost a
   * timer callback and a poll of everything (issue 9). `now`: the clock
   * reading the caller worked with, if it has one (saves reading it again).
   */
  reschedule(now?: Instant): void {
    if (this.#closed || this.#work.busy) return;
    this.#schedule(now);
  }

  /**
   * reschedule() for a part that knows its own new earliest deadline (`at`,
   * undefined: none) and changed nothing else (TCP after a send or recv).
   * With lazy timers (see StackTimer, stack-timer.ts) the armed timer already covers any
   * deadline not earlier than its own, and a pending due-now wake-up polls
   * and re-arms anyway, so the sweep over every part's pollAt() is skipped:
   * a request/response round trip made about six of them (issue 9).
   */
  rescheduleFor(now: Instant, at: Instant | undefined): void {
    if (this.#closed || this.#work.busy) return;
    // A watched part's deadline changed during the caller's work (an ARP
    // retry started by a TCP send to an unresolved neighbour): the sweep
    // runs, so a deadline earlier than the armed timer re-arms it.
    if (this.#lazyTimers && !this.#wakeRequested && !this.#watch.changed && this.#timer.covers(at)) return;
    this.#schedule(now);
  }

  /** Sends ICMP echo requests to `dst` and resolves with the round-trip times. Rejects with a SocketError (e.g. ENETUNREACH). */
  ping(dst: string | Ipv4Address, options: PingOptions = {}): Promise<PingResult> {
    this.#checkOpen();
    const addr = typeof dst === 'string' ? ipv4(dst) : dst;
    const p = this.#ping.start(this.clock.now(), addr, options);
    this.wake();
    return p;
  }

  /**
   * Whether the timer is armed lazily (a real-time clock, see StackTimer in stack-timer.ts):
   * deadlines are then met by the timer firing a little after them, never by
   * the exact instant of some user call, which TCP uses to skip draining a
   * connection after a read that owes the peer nothing.
   */
  get lazyTimers(): boolean {
    return this.#lazyTimers;
  }

  /** When the stack's timer is next due (undefined: idle), for tests and simulators. */
  get nextPollAt(): Instant | undefined {
    return this.#timer.at;
  }

  /** Stops the timer and closes every interface's link. Idempotent. */
  /**
   * The BSD socket calls on this stack (socket, bind, connect, ...). The
   * socket layer is built on first use. Stack is the composition root users
   * hold, so it is the one place where the layer below reaches the one above;
   * stack-syscalls.ts sees the Stack only through a structural interface.
   */
  get sys(): Syscalls {
    this.#syscalls ??= createStackSyscalls(this, this.#syscallOptions);
    return this.#syscalls.sys;
  }

  /**
   * Opens a TCP connection the web-standard way (the WinterTC sockets API,
   * Cloudflare's `connect()`): returns a Socket at once with `readable`,
   * `writable`, `opened` and `closed`. Runs in any JavaScript runtime.
   */
  connect(address: string | SocketAddress, options?: SocketOptions): Socket {
    return connectSocket(this, address, options);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#work.closed = true;
    this.#timer.stop();
    for (const i of this.#interfaces) {
      i.link.setReceiver(undefined);
      i.link.close();
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('Stack is closed');
  }

  /**
   * Issue 9: `fn` runs at the end of every unit of this stack's work (a run
   * of frames, a lone frame, a timer's poll); see StackWork.onWorkEnd
   * (stack-work.ts).
   */
  onWorkEnd(fn: () => void): void {
    this.#work.onWorkEnd(fn);
  }

  /**
   * True while the stack is processing (a frame, a timer's poll) and will
   * call the onWorkEnd functions when done, so a call woken now may wait for
   * that. Only on a real-time clock (lazy timers): on a simulated clock the
   * woken calls keep their microtask, after every event of the same instant
   * (ManualClock.advance, VirtualClock), so replays and simulations see the
   * same order as before.
   */
  get retryAtWorkEnd(): boolean {
    const work = this.#work;
    return work.busy && this.#lazyTimers && work.workEnd.length > 0;
  }

  #pollAll(now: Instant): void {
    this.#wakeRequested = false;
    this.#ip.poll(now);
    this.#ping.poll(now, (t, dst, id, seq, data, ttl) => this.#ip.sendEcho(t, dst, id, seq, data, ttl));
    // (Un)registering replaces the list: a change made by a poll counts from the next sweep.
    const list = this.#protocolList;
    for (let i = 0; i < list.length; i++) list[i]!.poll(now, this.#ip);
    // Polls change deadlines: the watched parts raise the watch themselves, this is for certain.
    this.#watch.changed = true;
  }

  /** `now`: a recent clock reading, if the caller has one (undefined: read the clock when needed). */
  readonly #schedule = (now?: Instant): void => {
    if (this.#closed) return;
    // Runs after every frame and every wake: no closure per call (issue 9).
    let at: Instant | undefined = this.#wakeRequested ? (now ?? this.clock.now()) : undefined;
    // The watched parts only when one raised the watch (issue 9: about 16
    // calls per request/response round trip for deadlines that never moved).
    const watch = this.#watch;
    if (watch.changed) {
      // Lowered first: a part that changes while asked raises it again.
      watch.changed = false;
      let w = earlier(this.#ip.pollAt(), this.#ping.pollAt());
      const watched = this.#watchedProtocols;
      for (let i = 0; i < watched.length; i++) w = earlier(w, watched[i]!.pollAt());
      this.#watchedAt = w;
    }
    at = earlier(at, this.#watchedAt);
    const list = this.#liveProtocols;
    for (let i = 0; i < list.length; i++) at = earlier(at, list[i]!.pollAt());
    this.#timer.arm(at, now);
  };

  readonly #pollAllBound = (now: Instant): void => {
    this.#pollAll(now);
  };
}

/** The earlier of two optional deadlines (undefined: none). */
function earlier(a: Instant | undefined, b: Instant | undefined): Instant | undefined {
  return b !== undefined && (a === undefined || b < a) ? b : a;
}
