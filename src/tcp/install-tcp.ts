/**
 * Wiring TCP into a Stack and its syscall layer: what installTcp needs of a
 * Stack (TcpStack) and the TcpHost it makes from one. Separate from
 * tcp-protocol.ts: the protocol knows only TcpHost, not the Stack.
 */
import { isDirectedBroadcast } from '../iface/interface.js';
import { routeGeneration } from '../iface/route-generation.js';
import type { Rng } from '../random/rng.js';
import type { PortAllocator } from '../stack/port-allocator.js';
import type { IpSender, TransportProtocol } from '../stack/transport.js';
import type { Counters } from '../stats/counters.js';
import type { ProtocolFactory } from '../syscall/syscalls.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { IpProtocol } from '../wire/ipv4.js';
import type { TcpConfig } from './config.js';
import type { TcpBinding } from './tcp-entry.js';
import type { TcpHost } from './tcp-host.js';
import { TcpProtocol } from './tcp-protocol.js';

/** What of a Stack TCP needs to be wired in (`Stack` satisfies it). */
export interface TcpStack {
  readonly clock: { now(): Instant };
  readonly stats: Counters;
  readonly rng: Rng;
  readonly ip: IpSender;
  readonly interfaces: readonly { readonly isLoopback: boolean; isBroadcast(a: Ipv4Address): boolean }[];
  isLocalAddress(a: Ipv4Address): boolean;
  registerProtocol(p: TransportProtocol): void;
  ports<B = unknown>(n: number): PortAllocator<B>;
  wake(): void;
  /** Re-arms the timer without a poll (Stack.reschedule), given a recent clock reading. */
  reschedule?(now?: Instant): void;
  /** reschedule() given that only TCP's deadline moved, to `at` (Stack.rescheduleFor). */
  rescheduleFor?(now: Instant, at: Instant | undefined): void;
  /** Whether the stack's one timer runs on real time (Stack.lazyTimers). */
  readonly lazyTimers?: boolean;
}

/**
 * Plugs TCP into a Stack and its syscall layer: registers the transport and
 * the SOCK_STREAM factory, so `sys.socket(AF_INET, SOCK_STREAM, 0)` makes
 * TcpSockets. Returns the protocol (for statistics and tests).
 */
export function installTcp(
  stack: TcpStack,
  sys: { registerProtocol(f: ProtocolFactory): void },
  opts: { readonly config?: Partial<TcpConfig>; readonly defaultTtl?: number } = {},
): TcpProtocol {
  const host: TcpHost = {
    stats: stack.stats,
    rng: stack.rng,
    ip: stack.ip,
    now: () => stack.clock.now(),
    wake: () => {
      stack.wake();
    },
    ...(stack.rescheduleFor !== undefined
      ? { rearm: (now: Instant, at: Instant | undefined) => stack.rescheduleFor?.(now, at) }
      : stack.reschedule === undefined
        ? {}
        : { rearm: (now: Instant) => stack.reschedule?.(now) }),
    realTime: stack.lazyTimers === true,
    isLocalAddress: (a) => stack.isLocalAddress(a),
    isBroadcastAddress: directedBroadcastCache(stack.interfaces),
    ...(opts.defaultTtl === undefined ? {} : { defaultTtl: opts.defaultTtl }),
  };
  const tcp = new TcpProtocol(host, {
    ports: stack.ports<TcpBinding>(IpProtocol.Tcp),
    ...(opts.config === undefined ? {} : { config: opts.config }),
  });
  stack.registerProtocol(tcp);
  sys.registerProtocol(tcp.factory());
  return tcp;
}

/**
 * isDirectedBroadcast(interfaces, a) with the last answer kept: TCP asks it
 * for every segment received (RFC 1122 4.2.3.10), nearly always for the same
 * local address, and the answer depends only on the interfaces' addresses,
 * whose every change bumps the route generation (Interface.addAddress,
 * removeAddress; RouteTable.removeInterface when one goes). The interface
 * count is compared as well, so that an interface added or removed without
 * any address change is never missed (issue 9: the scan of every interface
 * per segment was ~1% of a round trip; Linux answers it from the route the
 * packet was received on, skb_rtable's RTCF_BROADCAST).
 */
export function directedBroadcastCache(interfaces: TcpStack['interfaces']): (a: Ipv4Address) => boolean {
  let lastAddr = -1;
  let lastGeneration = -1;
  let lastCount = -1;
  let lastAnswer = false;
  return (a) => {
    const generation = routeGeneration();
    if (a === lastAddr && generation === lastGeneration && interfaces.length === lastCount) return lastAnswer;
    lastAnswer = isDirectedBroadcast(interfaces, a);
    lastAddr = a;
    lastGeneration = generation;
    lastCount = interfaces.length;
    return lastAnswer;
  };
}
