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
import { DeadlineWatcher } from '../time/deadline-watch.js';
import type { DeadlineWatch } from '../time/deadline-watch.js';
import type { Ipv4Address, MacAddress } from '../wire/address.js';
import { bumpRouteGeneration } from './route-generation.js';

export interface NeighbourCacheOptions {
  /**
   * How long a confirmed mapping counts as REACHABLE (Linux base_reachable_time,
   * 30 s). After that it is STALE: still used, but re-verified on next use.
   * RFC 1122 2.3.2.1 requires some such timeout so a moved host is found again.
   */
  readonly reachableTime?: Duration;
  /** How long an unused STALE entry is kept before it is forgotten (Linux gc_staletime, 60 s). */
  readonly staleTime?: Duration;
  /** DELAY: how long a STALE entry in use waits for a confirmation before probing (Linux delay_first_probe_time, 5 s). */
  readonly delayFirstProbe?: Duration;
  /** Unicast probes of a PROBE entry before it is declared failed (Linux ucast_solicit: 3). */
  readonly unicastProbes?: number;
  /** A different MAC for a known address is ignored this soon after the last update (Linux locktime, 1 s). */
  readonly lockTime?: Duration;
  /** ARP requests sent for one resolution before giving up (Linux mcast_solicit: 3). */
  readonly retries?: number;
  /** Time between requests and probes. RFC 1122 2.3.2.1: at most one request per second per address. */
  readonly retryInterval?: Duration;
  /**
   * Packets queued per unresolved neighbour; later ones are dropped (RFC
   * 1122 2.3.2.2 asks for at least one). Default 101, Linux's unres_qlen
   * (unres_qlen_bytes, 212992 bytes of skb truesize, in full-size frames):
   * a program that opens dozens of connections to a neighbour not yet
   * resolved must not lose its SYNs to a 1 s retransmission.
   */
  readonly maxPending?: number;
  /** Most entries held; the oldest is evicted to make room. */
  readonly maxEntries?: number;
}

/**
 * Linux NUD states (include/net/neighbour.h, RFC 4861 7.3.2 for NDP): an
 * entry learned without proof that our frames reach the neighbour (from its
 * ARP request, or a reply not sent to us) starts STALE; a solicited reply
 * makes it REACHABLE for `reachableTime`, after which it is STALE again.
 * Sending through a STALE entry moves it to DELAY; with no confirmation by
 * then, PROBE sends unicast requests to the cached MAC, and when those go
 * unanswered the entry is dropped, so the next packet resolves afresh by
 * broadcast. So a wrong mapping (a corrupted ARP packet) costs seconds, not
 * a connection.
 */
export type NeighbourState = 'incomplete' | 'reachable' | 'stale' | 'delay' | 'probe' | 'static';

export interface NeighbourEntry {
  readonly ip: Ipv4Address;
  readonly state: NeighbourState;
  /** Undefined while incomplete. */
  readonly mac: MacAddress | undefined;
  /** When the entry next changes state by itself (Instant.MAX for static entries). */
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
  /** Addresses to send a (broadcast) ARP request for now. */
  readonly requests: Ipv4Address[];
  /** PROBE: ARP requests to send now by unicast to the cached MAC (Linux ucast_solicit). */
  readonly probes: { readonly ip: Ipv4Address; readonly mac: MacAddress }[];
  /**
   * Resolutions that ran out of retries, with the packets that waited for
   * them (report host unreachable). Packets of entries evicted to make room
   * are reported here too, under ip 0.
   */
  readonly failed: { readonly ip: Ipv4Address; readonly packets: P[] }[];
  /** Entries removed: STALE ones unused for `staleTime`, and PROBE ones nobody answered. */
  readonly expired: number;
}

interface Entry<P> {
  state: NeighbourState;
  mac: MacAddress | undefined;
  deadline: Instant;
  /** Requests (incomplete) or probes (probe) sent so far. */
  tries: number;
  pending: P[];
  /** When the mapping last changed or was confirmed (for lockTime). */
  updatedAt: Instant;
}

/**
 * Routes cached by the IP layer keep the MAC they resolved and skip
 * lookupForSend while the route generation stands (route-generation.ts).
 * That is exact as long as lookupForSend would return the same MAC and do
 * nothing else: so every change of a mapping (learnt, replaced, static,
 * removed) and every entry that becomes STALE (where the next send starts
 * re-verification) bumps the generation. Moves between the other states
 * with a MAC (DELAY, PROBE, REACHABLE: confirm, suspect) change nothing a
 * send does, and do not.
 */
export class NeighbourCache<P> {
  readonly reachableTime: Duration;
  readonly staleTime: Duration;
  readonly delayFirstProbe: Duration;
  readonly unicastProbes: number;
  readonly lockTime: Duration;
  readonly retries: number;
  readonly retryInterval: Duration;
  readonly maxPending: number;
  readonly maxEntries: number;
  /** Insertion order doubles as age order for eviction (an update re-inserts). */
  readonly #entries = new Map<Ipv4Address, Entry<P>>();
  /** Packets dropped because an entry was evicted while holding them. */
  #evictedPackets: P[] = [];
  /**
   * pollAt's answer, kept until an entry, a deadline or the evicted packets
   * change (every such change sets #pollDirty): the stack asks after every
   * frame and every call, the table changes about once per exchange (a
   * transport's confirm) or less (issue 9: a Map walk per frame).
   */
  #pollCached: Instant | undefined = undefined;
  #pollDirty = true;
  readonly #watcher = new DeadlineWatcher();

  /** Raises `w` whenever pollAt() may change (issue 9: the stack asks again only then). */
  watchDeadline(w: DeadlineWatch | undefined): void {
    this.#watcher.watch(w);
  }

  /** A change of some entry's deadline or state: pollAt() must look again, and so must the stack. */
  #touch(): void {
    this.#pollDirty = true;
    this.#watcher.raise();
  }

  constructor(options: NeighbourCacheOptions = {}) {
    this.reachableTime = options.reachableTime ?? Duration.fromSecs(30);
    this.staleTime = options.staleTime ?? Duration.fromSecs(60);
    this.delayFirstProbe = options.delayFirstProbe ?? Duration.fromSecs(5);
    this.unicastProbes = options.unicastProbes ?? 3;
    this.lockTime = options.lockTime ?? Duration.fromSecs(1);
    this.retries = options.retries ?? 3;
    this.retryInterval = options.retryInterval ?? Duration.fromSecs(1);
    this.maxPending = options.maxPending ?? 101;
    this.maxEntries = options.maxEntries ?? 1024;
    if (!Number.isInteger(this.retries) || this.retries < 1) throw new RangeError('NeighbourCache: retries must be >= 1');
    if (!Number.isInteger(this.unicastProbes) || this.unicastProbes < 1) throw new RangeError('NeighbourCache: unicastProbes must be >= 1');
    if (!Number.isInteger(this.maxPending) || this.maxPending < 0) throw new RangeError('NeighbourCache: bad maxPending');
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('NeighbourCache: bad maxEntries');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The MAC of a usable entry (any state but incomplete), without side effects. */
  lookup(_now: Instant, ip: Ipv4Address): MacAddress | undefined {
    return this.#entries.get(ip)?.mac;
  }

  /**
   * Finds the MAC for `ip`, or queues `packet` until it is known. The first
   * packet for an unknown address creates an incomplete entry and asks the
   * caller to send the first request. Using a STALE entry starts its
   * re-verification (DELAY), as Linux neigh_event_send does.
   */
  /**
   * The MAC to send to `ip` now, when known: exactly resolve()'s 'resolved'
   * case (a STALE entry in use moves to DELAY), without its outcome object.
   * Undefined when resolve() would queue or drop: call resolve() then.
   */
  lookupForSend(now: Instant, ip: Ipv4Address): MacAddress | undefined {
    const e = this.#entries.get(ip);
    if (e === undefined || e.mac === undefined) return undefined;
    if (e.state === 'stale') {
      this.#touch();
      e.state = 'delay';
      e.deadline = instantAdd(now, this.delayFirstProbe);
    }
    return e.mac;
  }

  resolve(now: Instant, ip: Ipv4Address, packet: P): ResolveOutcome {
    let e = this.#entries.get(ip);
    if (e !== undefined && e.mac !== undefined) {
      if (e.state === 'stale') {
        this.#touch();
        e.state = 'delay';
        e.deadline = instantAdd(now, this.delayFirstProbe);
      }
      return { kind: 'resolved', mac: e.mac };
    }
    if (e === undefined) {
      if (this.maxPending === 0) return { kind: 'dropped' };
      this.#makeRoom();
      this.#touch();
      e = { state: 'incomplete', mac: undefined, deadline: instantAdd(now, this.retryInterval), tries: 1, pending: [packet], updatedAt: now };
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
   * `confirmed`: the packet proves the neighbour hears us (an ARP reply sent
   * to us): REACHABLE; otherwise (a request, Linux neigh_event_ns) a new
   * mapping is only STALE. A different MAC for a known address changes only
   * a STALE entry, not within `lockTime` of its last update (Linux locktime),
   * and leaves it STALE. Returns the packets that were waiting for this
   * address, now sendable.
   */
  update(now: Instant, ip: Ipv4Address, mac: MacAddress, create: boolean, confirmed = true): P[] {
    const e = this.#entries.get(ip);
    if (e === undefined) {
      if (create) {
        this.#makeRoom();
        this.#touch();
        this.#entries.set(ip, this.#learned(now, mac, confirmed));
        bumpRouteGeneration();
      }
      return [];
    }
    if (e.state === 'static') return [];
    if (e.mac !== undefined && e.mac !== mac) {
      // A conflicting MAC for a mapping in use is more likely a corrupted (or
      // forged) packet than a moved host: it replaces only a STALE entry, and
      // unconfirmed, so it is probed before it is trusted (RFC 4861 7.2.5 treats
      // a non-override advertisement alike). A host that really moved stops
      // answering probes at the old MAC and is found again by broadcast.
      if (e.state !== 'stale' || now < instantAdd(e.updatedAt, this.lockTime)) return [];
      confirmed = false;
    }
    if (e.mac === mac && !confirmed) return []; // nothing new: keep the state (and any re-verification) as is
    const pending = e.pending;
    this.#touch();
    // Re-insert so the Map's order stays the age order used for eviction.
    this.#entries.delete(ip);
    this.#entries.set(ip, this.#learned(now, mac, confirmed));
    bumpRouteGeneration();
    return pending;
  }

  /**
   * Upper-layer proof that the mapping works (Linux neigh confirm from TCP's
   * dst_confirm: the peer acknowledged new data): REACHABLE again.
   */
  confirm(now: Instant, ip: Ipv4Address): void {
    const e = this.#entries.get(ip);
    if (e === undefined || e.mac === undefined || e.state === 'static') return;
    this.#touch();
    e.state = 'reachable';
    e.deadline = instantAdd(now, this.reachableTime);
    e.tries = 0;
  }

  /**
   * Upper-layer doubt (a transport's retransmission timer fired): a mapping
   * not already being probed goes to PROBE at once. Returns the MAC to send
   * the first unicast probe to, or undefined when there is nothing to do.
   */
  suspect(now: Instant, ip: Ipv4Address): MacAddress | undefined {
    const e = this.#entries.get(ip);
    if (e === undefined || e.mac === undefined || e.state === 'static' || e.state === 'probe') return undefined;
    this.#touch();
    e.state = 'probe';
    e.tries = 1;
    e.deadline = instantAdd(now, this.retryInterval);
    return e.mac;
  }

  /** A permanent entry (like `arp -s`); it never expires and ARP packets never change it. */
  addStatic(ip: Ipv4Address, mac: MacAddress): P[] {
    const pending = this.#entries.get(ip)?.pending ?? [];
    this.#touch();
    this.#entries.delete(ip);
    this.#entries.set(ip, { state: 'static', mac, deadline: Instant.MAX, tries: 0, pending: [], updatedAt: Instant.ZERO });
    bumpRouteGeneration();
    return pending;
  }

  /** Forgets an entry; returns the packets that were waiting on it. */
  delete(ip: Ipv4Address): P[] {
    const e = this.#entries.get(ip);
    this.#touch();
    this.#entries.delete(ip);
    bumpRouteGeneration();
    return e?.pending ?? [];
  }

  /** Retries, probes, failures and state changes due at `now` (Linux neigh_timer_handler). */
  poll(now: Instant): NeighbourPollResult<P> {
    const requests: Ipv4Address[] = [];
    const probes: { ip: Ipv4Address; mac: MacAddress }[] = [];
    const failed: { ip: Ipv4Address; packets: P[] }[] = [];
    let expired = 0;
    for (const [ip, e] of this.#entries) {
      if (e.deadline > now) continue;
      this.#touch();
      switch (e.state) {
        case 'reachable':
          e.state = 'stale';
          e.deadline = instantAdd(now, this.staleTime);
          // The next send through it must start re-verification (DELAY): routes
          // cached with this mapping go through lookupForSend again.
          bumpRouteGeneration();
          break;
        case 'stale':
          this.#entries.delete(ip);
          bumpRouteGeneration();
          expired++;
          break;
        case 'delay':
          e.state = 'probe';
          e.tries = 1;
          e.deadline = instantAdd(now, this.retryInterval);
          probes.push({ ip, mac: e.mac! });
          break;
        case 'probe':
          if (e.tries < this.unicastProbes) {
            e.tries++;
            e.deadline = instantAdd(now, this.retryInterval);
            probes.push({ ip, mac: e.mac! });
          } else {
            // Nobody answers at that MAC: forget it, the next packet resolves afresh.
            this.#entries.delete(ip);
            bumpRouteGeneration();
            expired++;
          }
          break;
        case 'incomplete':
          if (e.tries < this.retries) {
            e.tries++;
            e.deadline = instantAdd(now, this.retryInterval);
            requests.push(ip);
          } else {
            this.#entries.delete(ip);
            failed.push({ ip, packets: e.pending });
          }
          break;
        case 'static':
          break;
      }
    }
    if (this.#evictedPackets.length > 0) {
      this.#touch();
      failed.push({ ip: 0, packets: this.#evictedPackets });
      this.#evictedPackets = [];
    }
    return { requests, probes, failed, expired };
  }

  /** The earliest deadline, for the stack's single timer. */
  pollAt(): Instant | undefined {
    if (!this.#pollDirty) return this.#pollCached;
    let at: Instant | undefined;
    if (this.#evictedPackets.length > 0) at = Instant.ZERO;
    else {
      for (const e of this.#entries.values()) {
        if (e.state === 'static') continue;
        if (at === undefined || e.deadline < at) at = e.deadline;
      }
    }
    this.#pollCached = at;
    this.#pollDirty = false;
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

  #learned(now: Instant, mac: MacAddress, confirmed: boolean): Entry<P> {
    return confirmed
      ? { state: 'reachable', mac, deadline: instantAdd(now, this.reachableTime), tries: 0, pending: [], updatedAt: now }
      : { state: 'stale', mac, deadline: instantAdd(now, this.staleTime), tries: 0, pending: [], updatedAt: now };
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
      this.#touch();
      this.#entries.delete(victim);
      bumpRouteGeneration();
    }
  }
}
