/**
 * A small virtual LAN for the TCP examples and tests: N Stacks on one
 * MemoryNetwork (Ethernet, ARP, IPv4), each with the syscall layer, UDP and
 * TCP wired in (`stack.sys`), all on one VirtualClock, so `await sys.accept(fd)` and a
 * two-hour keepalive run in virtual time, and the same seed replays the same
 * run byte for byte.
 */
import { IpProtocol } from '../src/wire/ipv4.js';
import { MemoryNetwork } from '../src/link/memory.js';
import type { MemoryImpairments, MemoryLink } from '../src/link/memory.js';
import { VirtualClock } from '../src/sim/virtual-clock.js';
import { Stack } from '../src/stack/stack.js';
import type { Syscalls } from '../src/syscall/syscalls.js';
import { TcpProtocol } from '../src/tcp/tcp-protocol.js';
import { Duration } from '../src/time/duration.js';
import type { Instant } from '../src/time/instant.js';

export interface Host {
  readonly stack: Stack;
  readonly sys: Syscalls;
  readonly tcp: TcpProtocol;
  readonly link: MemoryLink;
  /** "10.0.0.<n>" */
  readonly address: string;
}

export interface LanOptions {
  /** Number of hosts, 10.0.0.1 ... Default 2. */
  readonly hosts?: number;
  /** Seeds the network's impairments and each stack's Rng. Default 1. */
  readonly seed?: number;
  readonly impairments?: Partial<MemoryImpairments>;
  /** Stops a runaway simulation: virtual time may not pass this. Default 1 day. */
  readonly maxTime?: Instant;
  readonly rlimitNofile?: number;
}

export interface Lan {
  readonly clock: VirtualClock;
  readonly net: MemoryNetwork;
  readonly hosts: Host[];
  /** Stops every stack (their timers) so the process can exit. */
  close(): void;
}

export function lan(opts: LanOptions = {}): Lan {
  const seed = opts.seed ?? 1;
  const clock = new VirtualClock({ maxTime: opts.maxTime ?? (Duration.fromSecs(86_400) as number as Instant) });
  const net = new MemoryNetwork({ clock, seed, latency: Duration.fromMillis(1), ...opts.impairments });
  const hosts: Host[] = [];
  for (let i = 0; i < (opts.hosts ?? 2); i++) {
    const stack = new Stack({
      clock,
      seed: seed * 1000 + i + 1,
      ...(opts.rlimitNofile === undefined ? {} : { syscalls: { rlimitNofile: opts.rlimitNofile } }),
    });
    const link = net.attach({ name: `h${i + 1}` });
    const address = `10.0.0.${i + 1}`;
    stack.addInterface(link, { address: `${address}/24` });
    // `stack.sys` builds the socket layer (UDP and TCP) on first use.
    const sys = stack.sys;
    const tcp = stack.protocol(IpProtocol.Tcp);
    if (!(tcp instanceof TcpProtocol)) throw new Error('stack.sys did not install TCP');
    hosts.push({ stack, sys, tcp, link, address });
  }
  return {
    clock,
    net,
    hosts,
    close: () => {
      for (const h of hosts) h.stack.close();
    },
  };
}
