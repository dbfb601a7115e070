/**
 * Wires the syscall layer and UDP to a Stack: builds the UdpHost adapter
 * over the stack's IP layer, interfaces, statistics and RNG, registers UDP
 * as a transport, and returns the `Syscalls` that `stack.sys` exposes.
 *
 * It takes the Stack structurally (`SyscallStack`) rather than importing
 * stack.ts, so Stack itself may call it (`get sys()`) without an import
 * cycle. Stream sockets plug in later through `sys.registerProtocol`.
 */
import { IpProtocol } from '../wire/ipv4.js';
import type { Interface } from '../iface/interface.js';
import { isDirectedBroadcast } from '../iface/interface.js';
import { IgmpProtocol } from '../igmp/igmp-host.js';
import type { IgmpOptions } from '../igmp/igmp-host.js';
import { PingSocketProtocol } from '../icmp/ping-socket.js';
import type { PingSocket } from '../icmp/ping-socket.js';
import type { Rng } from '../random/rng.js';
import type { Counters } from '../stats/counters.js';
import type { PortAllocator } from '../stack/port-allocator.js';
import type { IcmpSocketHandler, IpSender, TransportProtocol } from '../stack/transport.js';
import type { Clock } from '../time/clock.js';
import { UdpProtocol } from '../udp/udp-protocol.js';
import type { UdpHost } from '../udp/udp-protocol.js';
import type { UdpSocket } from '../udp/udp-socket.js';
import { IPV4_BROADCAST } from '../wire/address.js';
import type { Ipv4Address } from '../wire/address.js';
import { installTcp } from '../tcp/install-tcp.js';
import type { TcpProtocol } from '../tcp/tcp-protocol.js';
import type { TcpConfig } from '../tcp/config.js';
import type { WorkEnd } from './open-file.js';
import { Syscalls } from './syscalls.js';

const IP_PROTOCOL_ICMP = 1;

/** What of a Stack the syscall layer uses. `Stack` satisfies it. */
export interface SyscallStack {
  readonly clock: Clock;
  readonly stats: Counters;
  readonly rng: Rng;
  readonly ip: IpSender;
  readonly interfaces: readonly Interface[];
  isLocalAddress(a: Ipv4Address): boolean;
  registerProtocol(p: TransportProtocol): void;
  /** Where echo replies and errors about our echo requests go (ping sockets); optional for minimal hosts. */
  setIcmpSocketHandler?(h: IcmpSocketHandler | undefined): void;
  ports<B = unknown>(n: number): PortAllocator<B>;
  wake(): void;
  /** Optional (issue 9): woken blocked calls retry at the end of the stack's work (see Stack.onWorkEnd). */
  readonly retryAtWorkEnd?: boolean;
  onWorkEnd?(fn: () => void): void;
}

export interface StackSyscallsOptions {
  /** Soft RLIMIT_NOFILE. Default 1024. */
  readonly rlimitNofile?: number;
  /** Lowest descriptor. Default 3. */
  readonly firstFd?: number;
  /** IP_TTL default for UDP sockets. Default 64. */
  readonly defaultTtl?: number;
  /** IGMP host behaviour (version 'auto' | 2 | 3, robustness, intervals). */
  readonly igmp?: IgmpOptions;
  /** Defaults for new TCP connections (the net.ipv4.tcp_* sysctls). */
  readonly tcp?: Partial<TcpConfig>;
}

/**
 * Host-level multicast membership on the stack's interfaces: `iface` 0 means
 * every non-loopback interface (a simplification of Linux, which picks one
 * by route). Reference-counted per interface and group, since several
 * (group, interface address) memberships can land on one interface.
 */
class GroupTable {
  readonly #counts = new Map<Interface, Map<Ipv4Address, number>>();
  readonly #stack: SyscallStack;
  readonly #igmp: IgmpProtocol;

  constructor(stack: SyscallStack, igmp: IgmpProtocol) {
    this.#stack = stack;
    this.#igmp = igmp;
  }

  #targets(iface: Ipv4Address): Interface[] {
    const all = this.#stack.interfaces.filter((i) => !i.isLoopback);
    if (iface === 0) return all;
    return all.filter((i) => i.hasAddress(iface));
  }

  join(group: Ipv4Address, iface: Ipv4Address): void {
    for (const i of this.#targets(iface)) {
      let m = this.#counts.get(i);
      if (m === undefined) this.#counts.set(i, (m = new Map<Ipv4Address, number>()));
      const n = m.get(group) ?? 0;
      m.set(group, n + 1);
      if (n === 0) {
        i.joinMulticast(group);
        // RFC 3376 5.1 / RFC 2236 3: the host's first membership is announced on the link.
        this.#igmp.join(this.#stack.clock.now(), i, group);
      }
    }
  }

  leave(group: Ipv4Address, iface: Ipv4Address): void {
    for (const i of this.#targets(iface)) {
      const m = this.#counts.get(i);
      const n = m?.get(group);
      if (m === undefined || n === undefined) continue;
      if (n > 1) m.set(group, n - 1);
      else {
        m.delete(group);
        i.leaveMulticast(group);
        this.#igmp.leave(this.#stack.clock.now(), i, group);
      }
    }
  }
}

export interface StackSyscalls {
  readonly sys: Syscalls;
  readonly udp: UdpProtocol;
  readonly tcp: TcpProtocol;
  readonly igmp: IgmpProtocol;
  readonly ping: PingSocketProtocol;
}

export function createStackSyscalls(stack: SyscallStack, opts: StackSyscallsOptions = {}): StackSyscalls {
  const igmp = new IgmpProtocol(stack.rng, stack.stats, () => stack.wake(), opts.igmp);
  stack.registerProtocol(igmp);
  const groups = new GroupTable(stack, igmp);
  // Typed by its literal (wake stays required) so it serves the ping sockets too.
  const host = {
    stats: stack.stats,
    rng: stack.rng,
    ip: stack.ip,
    now: () => stack.clock.now(),
    wake: () => {
      stack.wake();
    },
    ...(opts.defaultTtl === undefined ? {} : { defaultTtl: opts.defaultTtl }),
    isLocalAddress: (a) => stack.isLocalAddress(a),
    isBroadcastAddress: (a) => a === IPV4_BROADCAST || isDirectedBroadcast(stack.interfaces, a),
    joinGroup: (g, i) => {
      groups.join(g, i);
    },
    leaveGroup: (g, i) => {
      groups.leave(g, i);
    },
  } satisfies UdpHost;
  const udp = new UdpProtocol(host, { ports: stack.ports<UdpSocket>(IpProtocol.Udp) });
  stack.registerProtocol(udp);
  const sysOpts: { clock: Clock; rlimitNofile?: number; firstFd?: number; workEnd?: WorkEnd } = { clock: stack.clock };
  if (opts.rlimitNofile !== undefined) sysOpts.rlimitNofile = opts.rlimitNofile;
  if (opts.firstFd !== undefined) sysOpts.firstFd = opts.firstFd;
  // Only together: a layer told to wait for the work's end must be called there.
  if (stack.onWorkEnd !== undefined && stack.retryAtWorkEnd !== undefined) sysOpts.workEnd = stack as WorkEnd;
  const sys = new Syscalls(sysOpts);
  // The flush itself, not a closure around it (issue 9: one call less per woken read).
  stack.onWorkEnd?.(sys.retryWoken);
  sys.registerProtocol(udp.factory());
  // Ping sockets: SOCK_DGRAM + IPPROTO_ICMP (UDP stays the SOCK_DGRAM default).
  // The UDP host serves as the ping host too (same output, clock, wake-up and address tests).
  const ping = new PingSocketProtocol(host, stack.ports<PingSocket>(IP_PROTOCOL_ICMP));
  stack.setIcmpSocketHandler?.(ping);
  sys.registerProtocol(ping.factory());
  // TCP (W6): the transport and the SOCK_STREAM factory.
  const tcp = installTcp(stack, sys, {
    ...(opts.defaultTtl === undefined ? {} : { defaultTtl: opts.defaultTtl }),
    ...(opts.tcp === undefined ? {} : { config: opts.tcp }),
  });
  return { sys, udp, tcp, igmp, ping };
}
