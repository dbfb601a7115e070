/**
 * A virtual Ethernet LAN in one process: a learning switch with any number
 * of ports, each a MemoryLink that a stack uses like a NIC. It injects
 * latency, jitter, bandwidth limits with queueing, loss, duplication,
 * reordering and corruption, and cuts the network into partitions, all from
 * a seeded Rng and on the caller's Clock: the same seed replays the same run
 * byte for byte, and a ManualClock/VirtualClock runs hours of traffic in
 * milliseconds.
 *
 * Frames never arrive synchronously inside send(): every delivery is a
 * clock timer (even with zero latency), so a stack never re-enters itself
 * through a peer and the order of events is exactly the timers' order.
 * (On a real-time SystemClock, frames due at once are delivered in batches,
 * mostly as microtasks: see MemoryDelivery.schedule.)
 *
 * This file holds the public faces, MemoryNetwork and MemoryLink; the
 * switch they drive is memory-switch.ts, its deliveries memory-delivery.ts,
 * its ports' state memory-port.ts.
 */
import type { Clock } from '../time/clock.js';
import type { MacAddress } from '../wire/address.js';
import type { Counters } from '../stats/counters.js';
import type { FrameHandler, Link } from './link.js';
import { LinkType } from './link.js';
import type { MemoryImpairments } from './memory-impairments.js';
import { checkImpairments, mergeImpairments } from './memory-impairments.js';
import type { Port } from './memory-port.js';
import type { MemoryAttachOptions, MemoryNetworkOptions } from './memory-switch.js';
import { Switch } from './memory-switch.js';

export type { MemoryImpairments } from './memory-impairments.js';
export { DEFAULT_IMPAIRMENTS } from './memory-impairments.js';

/** One port of a MemoryNetwork: an Ethernet Link for a stack. */
export class MemoryLink implements Link {
  readonly linkType = LinkType.Ethernet;
  readonly mtu: number;
  readonly mac: MacAddress;
  readonly network: MemoryNetwork;
  readonly #switch: Switch;
  readonly #port: Port;

  /** Made by `MemoryNetwork.attach`; not for direct use. */
  constructor(network: MemoryNetwork, sw: unknown, port: unknown) {
    this.network = network;
    this.#switch = sw as Switch;
    this.#port = port as Port;
    this.mtu = this.#switch.mtu;
    this.mac = this.#port.mac;
  }

  get name(): string {
    return this.#port.name;
  }

  /**
   * True while no port of the network corrupts frames, so checksums can be
   * skipped. It is a live value: it turns false as soon as any port gets a
   * corruption probability, so read it per packet rather than caching it.
   */
  get trusted(): boolean {
    return this.#switch.trusted();
  }

  /** Events on this port (see MemoryCounter). */
  get counters(): Counters {
    return this.#port.counters;
  }

  /** The impairments applied to frames this link sends: the network's, with this link's overrides. */
  get impairments(): MemoryImpairments {
    return this.#port.effective;
  }

  /** Changes this link's overrides; fields left out keep their current value. */
  setImpairments(impairments: Partial<MemoryImpairments>): void {
    checkImpairments(impairments);
    this.#port.overrides = mergeImpairments(this.#port.overrides, impairments);
    this.#switch.refresh();
  }

  get enabled(): boolean {
    return this.#port.enabled;
  }

  /** Plugs (true) or unplugs (false) the cable: while unplugged, frames sent, and frames arriving, are dropped. */
  setEnabled(enabled: boolean): void {
    this.#port.enabled = enabled;
  }

  get closed(): boolean {
    return this.#port.closed;
  }

  setRecycler(recycle: ((frame: Uint8Array) => void) | undefined): void {
    this.#port.recycler = recycle;
  }

  setBatchEnd(end: (() => void) | undefined): void {
    this.#port.batchEnd = end;
  }

  send(frame: Uint8Array): void {
    this.#switch.send(this.#port, frame);
  }

  setReceiver(handler: FrameHandler | undefined): void {
    if (this.#port.closed) return;
    this.#port.receiver = handler;
  }

  /** Detaches from the switch: later sends are dropped, frames in flight to it are dropped. Idempotent. */
  close(): void {
    this.#switch.close(this.#port);
  }

  /** @internal The port, for MemoryNetwork's partition bookkeeping. */
  static portOf(link: MemoryLink): unknown {
    return link.#port;
  }
}

export class MemoryNetwork {
  readonly #switch: Switch;
  readonly #links = new Map<Port, MemoryLink>();

  constructor(options: MemoryNetworkOptions = {}) {
    this.#switch = new Switch(options);
  }

  get clock(): Clock {
    return this.#switch.clock;
  }

  get mtu(): number {
    return this.#switch.mtu;
  }

  /** Whole-network counters (see MemoryCounter). */
  get counters(): Counters {
    return this.#switch.counters;
  }

  /** The network-wide impairments, which links' overrides start from. */
  get impairments(): MemoryImpairments {
    return this.#switch.defaults;
  }

  /** Changes the network-wide impairments; fields left out keep their value. Links' overrides still win. */
  setImpairments(impairments: Partial<MemoryImpairments>): void {
    checkImpairments(impairments);
    this.#switch.defaults = { ...this.#switch.defaults, ...mergeImpairments({}, impairments) };
    this.#switch.refresh();
  }

  /** The open links, in attach order. */
  get links(): MemoryLink[] {
    return this.#switch.ports.map((p) => this.#links.get(p)!);
  }

  /** Plugs a new port into the switch. */
  attach(options: MemoryAttachOptions = {}): MemoryLink {
    const port = this.#switch.attach(options);
    const link = new MemoryLink(this, this.#switch, port);
    this.#links.set(port, link);
    return link;
  }

  /**
   * Cuts every path between a link of `groupA` and a link of `groupB`, both
   * ways, including frames already in flight. Partitions add up; `heal()`
   * removes them all.
   */
  partition(groupA: readonly MemoryLink[], groupB: readonly MemoryLink[]): void {
    for (const a of groupA) {
      const pa = this.#portOf(a);
      for (const b of groupB) {
        const pb = this.#portOf(b);
        if (pa === pb) continue;
        pa.blocked.add(pb);
        pb.blocked.add(pa);
      }
    }
  }

  /** Whether frames from `a` to `b` are cut by a partition. */
  isPartitioned(a: MemoryLink, b: MemoryLink): boolean {
    return this.#portOf(a).blocked.has(this.#portOf(b));
  }

  /** Removes every partition. */
  heal(): void {
    for (const p of this.#links.keys()) p.blocked.clear();
  }

  #portOf(link: MemoryLink): Port {
    if (link.network !== this) throw new RangeError(`MemoryNetwork: link ${link.name} belongs to another network`);
    return MemoryLink.portOf(link) as Port;
  }
}

/**
 * Two links joined directly, like a crossover cable: a two-port
 * MemoryNetwork (reach it through `a.network`), with the same impairments
 * both ways unless changed per link.
 */
export function pointToPoint(
  options: MemoryNetworkOptions & { readonly macs?: readonly [MacAddress, MacAddress] },
): [MemoryLink, MemoryLink] {
  const { macs, ...rest } = options;
  const network = new MemoryNetwork(rest);
  const a = network.attach(macs === undefined ? { name: 'a' } : { name: 'a', mac: macs[0] });
  const b = network.attach(macs === undefined ? { name: 'b' } : { name: 'b', mac: macs[1] });
  return [a, b];
}
