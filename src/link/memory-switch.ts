/**
 * The learning switch behind MemoryNetwork: forwarding (MAC learning,
 * flooding, partitions) and the impairments each frame draws; delivery on
 * the caller's Clock (one timer per frame, or due-now batches on a
 * real-time clock) is memory-delivery.ts. MemoryNetwork and MemoryLink
 * (memory.ts) are its public faces; this file is the engine they share,
 * kept apart so the public classes read on their own.
 */
import { SeededRng } from '../random/rng.js';
import { Counters } from '../stats/counters.js';
import type { Clock } from '../time/clock.js';
import { SystemClock } from '../time/system-clock.js';
import type { Instant } from '../time/instant.js';
import type { MacAddress } from '../wire/address.js';
import { isMacMulticast, readMac, readMacHalf } from '../wire/address.js';
import type { MemoryImpairments } from './memory-impairments.js';
import {
  DEFAULT_IMPAIRMENTS,
  FrameFate,
  checkImpairments,
  drawFrameFate,
  flipBit,
  isQuiet,
  jitterOf,
  mergeImpairments,
} from './memory-impairments.js';
import { MemoryDelivery } from './memory-delivery.js';
import type { Path } from './memory-port.js';
import { MemoryCounter, Port } from './memory-port.js';

/** Destination and source MAC plus EtherType. */
const ETHERNET_HEADER = 14;
const MAX_MTU = 65_535;
/** The smallest MTU IPv4 allows (RFC 791: every host must handle 68-octet datagrams). */
const MIN_MTU = 68;


export interface MemoryNetworkOptions extends Partial<MemoryImpairments> {
  /**
   * Drives every delivery; usually a ManualClock or VirtualClock shared with
   * the stacks on the network. Default: a SystemClock (real time), matching
   * a Stack created without a clock.
   */
  readonly clock?: Clock;
  /** Seeds every random choice (MAC addresses, impairments). Default 0. */
  readonly seed?: number;
  /** Instead of `seed`: a stream to fork from, e.g. `simRng.fork('lan-1')` in a simulation with several networks. */
  readonly rng?: SeededRng;
  /** Largest payload (IP packet) of a frame, excluding the 14-byte Ethernet header. Default 1500, at most 65535. */
  readonly mtu?: number;
  /**
   * Whether the stacks may treat the wire as trusted (skip computing and
   * verifying checksums, as Linux does on loopback) while no port corrupts
   * frames. Default true. False declares it an ordinary wire, like a NIC
   * without checksum offload: every stack on it computes and verifies every
   * checksum, whatever its `checksums` option.
   */
  readonly trusted?: boolean;
}

export interface MemoryAttachOptions {
  /** The port's MAC; by default a locally administered unicast address drawn from the seed. */
  readonly mac?: MacAddress;
  /** Impairments for frames this port sends, overriding the network's. */
  readonly impairments?: Partial<MemoryImpairments>;
  /**
   * Receive unicast frames addressed to other MACs too (flooded unknown
   * unicast). Off by default: a NIC filters them in hardware.
   */
  readonly promiscuous?: boolean;
  /** For messages and debugging; default `port<N>`. */
  readonly name?: string;
}

/** Where draws whose outcome no one reads go (owed draws of quiet frames). */
const discardedFate = new FrameFate();

/** The switch itself; MemoryNetwork and MemoryLink are its public faces. */
export class Switch {
  readonly clock: Clock;
  readonly mtu: number;
  readonly counters = new Counters();
  readonly #sent = this.counters.cell(MemoryCounter.Sent);
  readonly #delivered = this.counters.cell(MemoryCounter.Delivered);
  defaults: MemoryImpairments;
  readonly #root: SeededRng;
  readonly #macRng: SeededRng;
  readonly #pathRng: SeededRng;
  /** Open ports in attach order: flooding visits them in this order, so delivery order is deterministic. */
  readonly ports: Port[] = [];
  #nextIndex = 0;
  /** Forwarding database: MAC -> port, learned from source addresses. */
  readonly #fdb = new Map<MacAddress, Port>();
  /** Bumped whenever the forwarding database changes: what the ports' caches below are checked against. */
  #fdbVersion = 0;
  /** Real-time clocks only: due-now frames go in batches (see MemoryDelivery). */
  readonly #batchDue: boolean;
  /** Where frames go once their fate is drawn: timers and due-now batches, the receivers. */
  readonly #delivery: MemoryDelivery;
  /** The latest clock reading send() took: a lower bound of the present (see send). */
  #lastNow = 0 as Instant;

  constructor(options: MemoryNetworkOptions) {
    const mtu = options.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) {
      throw new RangeError(`MemoryNetwork: mtu must be a whole number in [${MIN_MTU}, ${MAX_MTU}]: ${mtu}`);
    }
    const { clock: _clock, seed: _seed, rng: _rng, mtu: _mtu, trusted: declared, ...impairments } = options;
    checkImpairments(impairments);
    this.clock = options.clock ?? new SystemClock({ keepAlive: true });
    this.#batchDue = this.clock instanceof SystemClock;
    this.#delivery = new MemoryDelivery(this.clock, this.counters, this.#delivered, this.#batchDue);
    this.mtu = mtu;
    this.#declaredTrusted = declared ?? true;
    this.#trusted = this.#declaredTrusted;
    this.defaults = { ...DEFAULT_IMPAIRMENTS, ...mergeImpairments({}, impairments) };
    this.#root = options.rng ?? new SeededRng(options.seed ?? 0);
    this.#macRng = this.#root.fork('mac');
    this.#pathRng = this.#root.fork('path');
  }

  attach(options: MemoryAttachOptions): Port {
    const index = this.#nextIndex++;
    let mac = options.mac;
    if (mac !== undefined) {
      if (!Number.isInteger(mac) || mac < 0 || mac > 0xffff_ffff_ffff || isMacMulticast(mac)) {
        throw new RangeError(`MemoryNetwork.attach: not a unicast MAC address: ${mac}`);
      }
    } else {
      mac = this.#drawMac(index);
    }
    const overrides = options.impairments ?? {};
    checkImpairments(overrides);
    const port = new Port(index, mac, options.name ?? `port${index}`, options.promiscuous ?? false, mergeImpairments({}, overrides));
    this.ports.push(port);
    // Like a static FDB entry: the switch knows where each NIC sits before it
    // has sent anything, so unicast to it is not flooded.
    this.#fdb.set(mac, port);
    this.#fdbVersion++;
    this.refresh();
    return port;
  }

  /** A locally administered unicast MAC (02:xx:..., RFC 7042 2.1), unique on this network, from the port's own stream. */
  #drawMac(index: number): MacAddress {
    const rng = this.#macRng.fork(index);
    for (;;) {
      // First octet: set the locally administered bit (0x02), clear the group bit (0x01).
      const hi = ((rng.nextU32() & 0xfcff) | 0x0200) & 0xffff;
      const mac = hi * 0x1_0000_0000 + rng.nextU32();
      if (!this.ports.some((p) => p.mac === mac)) return mac;
    }
  }

  /** MemoryNetworkOptions.trusted. */
  readonly #declaredTrusted: boolean;
  /** Declared trusted and no open port corrupts; cached because a stack may ask per packet. */
  #trusted: boolean;

  trusted(): boolean {
    return this.#trusted;
  }

  /** Recomputes the cached effective impairments after any change to defaults, overrides or ports. */
  refresh(): void {
    let trusted = this.#declaredTrusted;
    for (const p of this.ports) {
      const e = { ...this.defaults, ...p.overrides };
      p.effective = e;
      p.quiet = isQuiet(e);
      if (e.corrupt > 0) trusted = false;
    }
    this.#trusted = trusted;
  }

  #count(name: string, port: Port): void {
    this.counters.increment(name);
    port.counters.increment(name);
  }

  close(port: Port): void {
    if (port.closed) return;
    port.closed = true;
    port.receiver = undefined;
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
    for (const [mac, p] of this.#fdb) if (p === port) this.#fdb.delete(mac);
    this.#fdbVersion++;
    this.refresh();
  }

  send(port: Port, frame: Uint8Array): void {
    if (port.closed) {
      this.#count(MemoryCounter.DroppedClosed, port);
      return;
    }
    this.#sent.n++;
    port.sent.n++;
    if (!port.enabled) {
      this.#count(MemoryCounter.DroppedDisabled, port);
      return;
    }
    if (frame.length > this.mtu + ETHERNET_HEADER) {
      this.#count(MemoryCounter.Oversize, port);
      return;
    }
    if (frame.length < ETHERNET_HEADER) {
      this.#count(MemoryCounter.DroppedRunt, port);
      return;
    }
    // IEEE 802.1D: learn from unicast source addresses only; a group address
    // as source is bogus and must not steal a forwarding entry.
    // A port sends from the same address frame after frame: while the table
    // has not changed since, the learning and the lookup of the last frame
    // stand (issue 9: two Map operations on MAC-valued keys per frame). The
    // addresses are compared as two 24-bit halves, small integers: a 48-bit
    // MAC as one number is a heap-allocated double (issue 9).
    const srcHi = readMacHalf(frame, 6);
    const srcLo = readMacHalf(frame, 9);
    if (srcHi !== port.learnedHi || srcLo !== port.learnedLo || port.learnedVersion !== this.#fdbVersion) {
      const src = readMac(frame, 6);
      if (!isMacMulticast(src) && this.#fdb.get(src) !== port) {
        this.#fdb.set(src, port);
        this.#fdbVersion++;
      }
      port.learnedHi = srcHi;
      port.learnedLo = srcLo;
      port.learnedVersion = this.#fdbVersion;
    }

    const outs = this.#route(port, frame);
    if (outs.length === 0) {
      this.#count(MemoryCounter.DroppedNoDestination, port);
      return;
    }

    const imp = port.effective;
    let now: Instant;
    const earlierNow = this.#batchDue && port.quiet && imp.latency === 0 && imp.bandwidth === Infinity;
    if (earlierNow) {
      // Real time, and nothing can delay this frame: any earlier reading
      // serves (issue 9: a clock read per frame). Its arrival is then
      // max(that reading, the path's last arrival), which is never later
      // than the present, so it still goes in the due-now batch, behind
      // every earlier frame of its path; an arrival still in the future
      // (latency just switched off) takes the timer path as before. A path
      // whose last arrival is past that reading reads the clock after all
      // (below), so it does not take the timer path for nothing.
      now = this.#lastNow;
    } else {
      now = this.clock.now();
      this.#lastNow = now;
    }
    const departure = port.tx.admit(now, frame.length, imp);
    if (departure === undefined) {
      this.#count(MemoryCounter.DroppedQueue, port);
      return;
    }

    // The sender gave the frame away (link.ts ownership), so one receiver may
    // have the very buffer; every other delivery gets its own copy because
    // its receiver may change it.
    let originalGiven = false;
    // An index loop: for-of allocated an iterator per frame (issue 9).
    for (let k = 0; k < outs.length; k++) {
      const out = outs[k]!;
      const path = this.#path(port, out);
      if (port.quiet) {
        // The fast path of an unimpaired network (issue 9): the eight draws
        // below could change nothing, so they are owed, not made.
        path.owedDraws++;
        let at = departure + imp.latency;
        if (earlierNow && at < path.lastArrival) {
          // The earlier reading is older than this path's last arrival (see above).
          now = this.clock.now();
          this.#lastNow = now;
          at = now;
        }
        if (at < path.lastArrival) at = path.lastArrival;
        path.lastArrival = at as Instant;
        let buf = frame;
        if (originalGiven) buf = frame.slice();
        originalGiven = true;
        this.#delivery.schedule(at as Instant, now, port, out, buf, path);
        continue;
      }
      const rng = path.rng;
      for (; path.owedDraws > 0; path.owedDraws--) drawFrameFate(rng, imp, discardedFate);
      // Always the same draws per frame, whatever the outcome (see drawFrameFate).
      const fate = this.#fate;
      drawFrameFate(rng, imp, fate);
      if (fate.lost) {
        this.#count(MemoryCounter.DroppedLoss, port);
        continue;
      }
      const dup = fate.duplicated;
      let at = departure + imp.latency + jitterOf(fate, imp);
      if (fate.reordered) {
        this.#count(MemoryCounter.Reordered, port);
        at += imp.reorderDelay;
      } else {
        // A later frame never overtakes an earlier one on the same path
        // through jitter alone: a cable is a FIFO.
        if (at < path.lastArrival) at = path.lastArrival;
        path.lastArrival = at as Instant;
      }
      const copies = dup ? 2 : 1;
      if (dup) this.#count(MemoryCounter.Duplicated, port);
      for (let k = 0; k < copies; k++) {
        const corrupt = k === 0 ? fate.corrupt1 : fate.corrupt2;
        let buf: Uint8Array;
        if (!originalGiven && !corrupt) {
          buf = frame;
          originalGiven = true;
        } else {
          // Copy before flipping: the sender or another receiver may hold the original.
          buf = frame.slice();
        }
        if (corrupt) {
          flipBit(buf, k === 0 ? fate.bit1 : fate.bit2);
          this.#count(MemoryCounter.Corrupted, port);
        }
        this.#delivery.schedule(at as Instant, now, port, out, buf, fate.reordered ? undefined : path);
      }
    }
  }

  /** The current frame's draws, reused (no object per frame). */
  readonly #fate = new FrameFate();

  /** The one-port answer of #route, reused: send() reads it before the next call (no array per frame). */
  readonly #single: Port[] = [];

  /** Where a frame sent from `from` goes, by its destination MAC (the frame's first six bytes). */
  #route(from: Port, frame: Uint8Array): Port[] {
    const dstHi = readMacHalf(frame, 0);
    const dstLo = readMacHalf(frame, 3);
    if (dstHi === from.routedHi && dstLo === from.routedLo && from.routedVersion === this.#fdbVersion) {
      // The same known unicast destination as the last frame, the table unchanged.
      this.#single[0] = from.routedTo!;
      return this.#single;
    }
    const dst = readMac(frame, 0);
    if (!isMacMulticast(dst)) {
      const known = this.#fdb.get(dst);
      if (known !== undefined) {
        // A switch never sends a frame back out of the port it came in on.
        if (known === from || !known.accepts(dst)) return [];
        from.routedHi = dstHi;
        from.routedLo = dstLo;
        from.routedTo = known;
        from.routedVersion = this.#fdbVersion;
        this.#single[0] = known;
        return this.#single;
      }
      this.counters.increment(MemoryCounter.Flooded);
      from.counters.increment(MemoryCounter.Flooded);
    }
    // Broadcast, multicast and unknown unicast go to every other port (in
    // attach order), minus NICs that would filter the frame anyway.
    return this.ports.filter((p) => p !== from && p.accepts(dst));
  }

  #path(from: Port, to: Port): Path {
    // Frame after frame a port sends to the same port: the last path found
    // serves without a Map lookup (issue 9). Paths are never removed.
    if (to === from.lastPathTo) return from.lastPath!;
    let path = from.paths.get(to);
    if (path === undefined) {
      // One stream per (sender, receiver) pair, keyed by attach indices: a
      // port attached later does not change what existing pairs draw.
      path = {
        rng: this.#pathRng.fork(from.index).fork(to.index),
        lastArrival: 0 as Instant,
        owedDraws: 0,
        waiting: undefined,
        waitingHead: 0,
      };
      from.paths.set(to, path);
    }
    from.lastPathTo = to;
    from.lastPath = path;
    return path;
  }
}
