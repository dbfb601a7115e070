/**
 * The ARP cache (RFC 826, RFC 1122 2.3.2): IPv4 address -> MAC address, with
 * entries that expire, resolution that retries a bounded number of times,
 * and a small queue of packets waiting for each resolution.
 *
 * Pure: it never sends anything and never reads a clock. Callers pass `now`,
 * send the ARP requests that `resolve` and `poll` ask for, and transmit (or
 * report as unreachable) the packets that `update` and `poll` hand back.
 * Generic over the queued packet type so the stack can keep whatever it needs
 * to finish a frame later.
 */
import { Duration } from '../time/duration.js';
import { Instant, instantAdd } from '../time/instant.js';
import type { Ipv4Address, MacAddress } from '../wire/address.js';

export interface NeighbourCacheOptions {
  /**
   * How long a learned mapping is used before it must be resolved again.
   * RFC 1122 2.3.2.1 requires some timeout so a moved host is found again;
   * 60 s is the classic BSD value (Linux: 30 s reachable plus stale time).
   */
  readonly reachableTime?: Duration;
  /** ARP requests sent for one resolution before giving up (Linux mcast_solicit: 3). */
  readonly retries?: number;
  /** Time between requests. RFC 1122 2.3.2.1: at most one request per second per address. */
  readonly retryInterval?: Duration;
  /** Packets queued per unresolved neighbour; later ones are dropped (RFC 1122 2.3.2.2 asks for at least one). */
  readonly maxPending?: number;
  /** Most entries held; the oldest is evicted to make room. */
  readonly maxEntries?: number;
}

export type NeighbourState = 'incomplete' | 'reachable' | 'static';

export interface NeighbourEntry {
  readonly ip: Ipv4Address;
  readonly state: NeighbourState;
  /** Undefined while incomplete. */
  readonly mac: MacAddress | undefined;
  /** When a reachable entry expires, or when an incomplete one next retries or fails. */
  readonly deadline: Instant;
  readonly pending: number;
}

export type ResolveOutcome =
  /** The address is known: send now. The packet was not queued. */
  | { readonly kind: 'resolved'; readonly mac: MacAddress }
  /** Queued until resolution; `sendRequest` when the caller must send an ARP request now. */
  | { readonly kind: 'queued'; readonly sendRequest: boolean }
  /** The per-neighbour queue is full: the packet was not queued. */
  | { readonly kind: 'dropped' };

export interface NeighbourPollResult<P> {
  /** Addresses to send an ARP request for now. */
  readonly requests: Ipv4Address[];
  /**
   * Resolutions that ran out of retries, with the packets that waited for
   * them (report host unreachable). Packets of entries evicted to make room
   * are reported here too, under ip 0.
   */
  readonly failed: { readonly ip: Ipv4Address; readonly packets: P[] }[];
  /** Reachable entries that expired and were removed. */
  readonly expired: number;
}

interface Entry<P> {
  state: NeighbourState;
  mac: MacAddress | undefined;
  deadline: Instant;
  /** Requests sent so far (incomplete entries). */
  tries: number;
  pending: P[];
}

export class NeighbourCache<P> {
  readonly reachableTime: Duration;
  readonly retries: number;
  readonly retryInterval: Duration;
  readonly maxPending: number;
  readonly maxEntries: number;
  /** Insertion order doubles as age order for eviction (an update re-inserts). */
  readonly #entries = new Map<Ipv4Address, Entry<P>>();
  /** Packets dropped because an entry was evicted while holding them. */
  #evictedPackets: P[] = [];

  constructor(options: NeighbourCacheOptions = {}) {
    this.reachableTime = options.reachableTime ?? Duration.fromSecs(60);
    this.retries = options.retries ?? 3;
    this.retryInterval = options.retryInterval ?? Duration.fromSecs(1);
    this.maxPending = options.maxPending ?? 8;
    this.maxEntries = options.maxEntries ?? 1024;
    if (!Number.isInteger(this.retries) || this.retries < 1) throw new RangeError('NeighbourCache: retries must be >= 1');
    if (!Number.isInteger(this.maxPending) || this.maxPending < 0) throw new RangeError('NeighbourCache: bad maxPending');
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('NeighbourCache: bad maxEntries');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The MAC of a usable entry, without side effects. */
  lookup(now: Instant, ip: Ipv4Address): MacAddress | undefined {
    const e = this.#entries.get(ip);
    if (e === undefined || e.mac === undefined) return undefined;
    if (e.state === 'reachable' && e.deadline <= now) return undefined;
    return e.mac;
  }

  /**
   * Finds the MAC for `ip`, or queues `packet` until it is known. The first
   * packet for an unknown address creates an incomplete entry and asks the
   * caller to send the first request.
   */
  resolve(now: Instant, ip: Ipv4Address, packet: P): ResolveOutcome {
    const known = this.lookup(now, ip);
    if (known !== undefined) return { kind: 'resolved', mac: known };
    let e = this.#entries.get(ip);
    if (e !== undefined && e.state === 'reachable') {
      // Expired but not yet swept: start over.
      this.#entries.delete(ip);
      e = undefined;
    }
    if (e === undefined) {
      if (this.maxPending === 0) return { kind: 'dropped' };
      this.#makeRoom();
      e = { state: 'incomplete', mac: undefined, deadline: instantAdd(now, this.retryInterval), tries: 1, pending: [packet] };
      this.#entries.set(ip, e);
      return { kind: 'queued', sendRequest: true };
    }
    if (e.pending.length >= this.maxPending) return { kind: 'dropped' };
    e.pending.push(packet);
    return { kind: 'queued', sendRequest: false };
  }

  /**
   * Records `ip` is at `mac` (from any ARP packet). RFC 826 "Packet
   * Reception": an existing entry is always updated (the merge flag); a new
   * one is created only when `create` (we were the target of the packet).
   * Returns the packets that were waiting for this address, now sendable.
   */
  update(now: Instant, ip: Ipv4Address, mac: MacAddress, create: boolean): P[] {
    const e = this.#entries.get(ip);
    if (e === undefined) {
      if (create) {
        this.#makeRoom();
        this.#entries.set(ip, this.#reachable(now, mac));
      }
      return [];
    }
    if (e.state === 'static') return [];
    const pending = e.pending;
    // Re-insert so the Map's order stays the age order used for eviction.
    this.#entries.delete(ip);
    this.#entries.set(ip, this.#reachable(now, mac));
    return pending;
  }

  /** A permanent entry (like `arp -s`); it never expires and ARP packets never change it. */
  addStatic(ip: Ipv4Address, mac: MacAddress): P[] {
    const pending = this.#entries.get(ip)?.pending ?? [];
    this.#entries.delete(ip);
    this.#entries.set(ip, { state: 'static', mac, deadline: Instant.MAX, tries: 0, pending: [] });
    return pending;
  }

  /** Forgets an entry; returns the packets that were waiting on it. */
  delete(ip: Ipv4Address): P[] {
    const e = this.#entries.get(ip);
    this.#entries.delete(ip);
    return e?.pending ?? [];
  }

  /** Retries, failures and expiry due at `now`. */
  poll(now: Instant): NeighbourPollResult<P> {
    const requests: Ipv4Address[] = [];
    const failed: { ip: Ipv4Address; packets: P[] }[] = [];
    let expired = 0;
    for (const [ip, e] of this.#entries) {
      if (e.deadline > now) continue;
      if (e.state === 'reachable') {
        this.#entries.delete(ip);
        expired++;
      } else if (e.state === 'incomplete') {
        if (e.tries < this.retries) {
          e.tries++;
          e.deadline = instantAdd(now, this.retryInterval);
          requests.push(ip);
        } else {
          this.#entries.delete(ip);
          failed.push({ ip, packets: e.pending });
        }
      }
    }
    if (this.#evictedPackets.length > 0) {
      failed.push({ ip: 0, packets: this.#evictedPackets });
      this.#evictedPackets = [];
    }
    return { requests, failed, expired };
  }

  /** The earliest deadline, for the stack's single timer. */
  pollAt(): Instant | undefined {
    if (this.#evictedPackets.length > 0) return Instant.ZERO;
    let at: Instant | undefined;
    for (const e of this.#entries.values()) {
      if (e.state === 'static') continue;
      if (at === undefined || e.deadline < at) at = e.deadline;
    }
    return at;
  }

  /** A snapshot, for `arp -n`-like display and tests. */
  entries(): NeighbourEntry[] {
    return [...this.#entries].map(([ip, e]) => ({
      ip,
      state: e.state,
      mac: e.mac,
      deadline: e.deadline,
      pending: e.pending.length,
    }));
  }

  #reachable(now: Instant, mac: MacAddress): Entry<P> {
    return { state: 'reachable', mac, deadline: instantAdd(now, this.reachableTime), tries: 0, pending: [] };
  }

  #makeRoom(): void {
    while (this.#entries.size >= this.maxEntries) {
      let victim: Ipv4Address | undefined;
      for (const [ip, e] of this.#entries) {
        if (e.state !== 'static') {
          victim = ip;
          break;
        }
      }
      if (victim === undefined) return; // all static: let the table grow past the limit rather than lose them
      const pending = this.#entries.get(victim)!.pending;
      for (const p of pending) this.#evictedPackets.push(p);
      this.#entries.delete(victim);
    }
  }
}
