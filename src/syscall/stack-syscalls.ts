/**
 * Wires the syscall layer and UDP to a Stack: builds the UdpHost adapter
 * over the stack's IP layer, interfaces, statistics and RNG, registers UDP
 * as a transport, and returns the `Syscalls` that `stack.sys` exposes.
 *
 * It takes the Stack structurally (`SyscallStack`) rather than importing
 * stack.ts, so Stack itself may call it (`get sys()`) without an import
 * cycle. Stream sockets plug in later through `sys.registerProtocol`.
 */
import type { Interface } from '../iface/interface.js';
import type { Rng } from '../random/rng.js';
import type { Counters } from '../stats/counters.js';
import type { PortAllocator } from '../stack/port-allocator.js';
import type { IpSender, TransportProtocol } from '../stack/transport.js';
import type { Clock } from '../time/clock.js';
import { UdpProtocol } from '../udp/udp-protocol.js';
import type { UdpHost } from '../udp/udp-protocol.js';
import type { UdpSocket } from '../udp/udp-socket.js';
import { IPV4_BROADCAST } from '../wire/address.js';
import type { Ipv4Address } from '../wire/address.js';
import { IP_PROTOCOL_UDP } from '../wire/udp.js';
import { installTcp } from '../tcp/tcp-protocol.js';
import type { TcpProtocol } from '../tcp/tcp-protocol.js';
import { Syscalls } from './syscalls.js';

/** What of a Stack the syscall layer uses. `Stack` satisfies it. */
export interface SyscallStack {
  readonly clock: Clock;
  readonly stats: Counters;
  readonly rng: Rng;
  readonly ip: IpSender;
  readonly interfaces: readonly Interface[];
  isLocalAddress(a: Ipv4Address): boolean;
  registerProtocol(p: TransportProtocol): void;
  ports<B = unknown>(n: number): PortAllocator<B>;
  wake(): void;
}

export interface StackSyscallsOptions {
  /** Soft RLIMIT_NOFILE. Default 1024. */
  readonly rlimitNofile?: number;
  /** Lowest descriptor. Default 3. */
  readonly firstFd?: number;
  /** IP_TTL default for UDP sockets. Default 64. */
  readonly defaultTtl?: number;
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

  constructor(stack: SyscallStack) {
    this.#stack = stack;
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
      if (n === 0) i.joinMulticast(group);
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
      }
    }
  }
}

export interface StackSyscalls {
  readonly sys: Syscalls;
  readonly udp: UdpProtocol;
  readonly tcp: TcpProtocol;
}

export function createStackSyscalls(stack: SyscallStack, opts: StackSyscallsOptions = {}): StackSyscalls {
  const groups = new GroupTable(stack);
  const host: UdpHost = {
    stats: stack.stats,
    rng: stack.rng,
    ip: stack.ip,
    now: () => stack.clock.now(),
    wake: () => {
      stack.wake();
    },
    ...(opts.defaultTtl === undefined ? {} : { defaultTtl: opts.defaultTtl }),
    isLocalAddress: (a) => stack.isLocalAddress(a),
    isBroadcastAddress: (a) => a === IPV4_BROADCAST || stack.interfaces.some((i) => !i.isLoopback && i.isBroadcast(a)),
    joinGroup: (g, i) => {
      groups.join(g, i);
    },
    leaveGroup: (g, i) => {
      groups.leave(g, i);
    },
  };
  const udp = new UdpProtocol(host, { ports: stack.ports<UdpSocket>(IP_PROTOCOL_UDP) });
  stack.registerProtocol(udp);
  const sysOpts: { clock: Clock; rlimitNofile?: number; firstFd?: number } = { clock: stack.clock };
  if (opts.rlimitNofile !== undefined) sysOpts.rlimitNofile = opts.rlimitNofile;
  if (opts.firstFd !== undefined) sysOpts.firstFd = opts.firstFd;
  const sys = new Syscalls(sysOpts);
  sys.registerProtocol(udp.factory());
  // TCP (W6): the transport and the SOCK_STREAM factory.
  const tcp = installTcp(stack, sys, opts.defaultTtl === undefined ? {} : { defaultTtl: opts.defaultTtl });
  return { sys, udp, tcp };
}
