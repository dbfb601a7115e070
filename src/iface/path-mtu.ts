/**
 * The path MTU cache (RFC 1191): the largest datagram known to cross the path
 * to a destination, lowered by ICMP "fragmentation needed" and forgotten
 * after a while so that a path that grew is discovered again.
 */
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { instantAdd } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { bumpRouteGeneration } from './route-generation.js';

/**
 * RFC 1191 7: the plateau table, for routers that report a next-hop MTU of
 * zero (pre-RFC 1191): guess the next plateau below the datagram's size.
 */
const PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

export interface PathMtuCacheOptions {
  /**
   * The smallest MTU an ICMP message can make us use. Linux min_pmtu is 552:
   * a forged "fragmentation needed, MTU 68" would otherwise make a
   * connection crawl (a known attack, RFC 5927 7.1).
   */
  readonly minMtu?: number;
  /** RFC 1191 6.3: raise the estimate again after about 10 minutes (Linux mtu_expires: 600 s). */
  readonly expiry?: Duration;
  /** Most destinations remembered; the oldest is forgotten first. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly mtu: number;
  readonly expiresAt: Instant;
}

export class PathMtuCache {
  readonly minMtu: number;
  readonly expiry: Duration;
  readonly maxEntries: number;
  readonly #entries = new Map<Ipv4Address, Entry>();

  constructor(options: PathMtuCacheOptions = {}) {
    this.minMtu = options.minMtu ?? 552;
    this.expiry = options.expiry ?? Duration.fromSecs(600);
    this.maxEntries = options.maxEntries ?? 4096;
  }

  /** The path MTU to `dst` given the outgoing link's MTU. */
  get(now: Instant, dst: Ipv4Address, linkMtu: number): number {
    const e = this.#entries.get(dst);
    if (e === undefined) return linkMtu;
    if (e.expiresAt <= now) {
      this.#entries.delete(dst);
      bumpRouteGeneration();
      return linkMtu;
    }
    return Math.min(e.mtu, linkMtu);
  }

  /**
   * When the estimate for `dst` expires (get() then answers the link MTU
   * again), or undefined when there is none: a cached route with a learnt
   * path MTU is good until then (learning one bumps the route generation).
   */
  expiresAt(dst: Ipv4Address): Instant | undefined {
    return this.#entries.get(dst)?.expiresAt;
  }

  /**
   * Applies a "fragmentation needed" report (RFC 1191 4). `nextHopMtu` 0
   * means an old router: fall back to the plateau below `datagramLength`.
   * Returns the new estimate, or undefined when nothing changed (the report
   * would raise the estimate, which RFC 1191 6.1 forbids).
   */
  update(now: Instant, dst: Ipv4Address, nextHopMtu: number, datagramLength: number, linkMtu: number): number | undefined {
    let mtu = nextHopMtu;
    if (mtu === 0 || mtu >= datagramLength) {
      mtu = PLATEAUS.find((p) => p < datagramLength) ?? 68;
    }
    mtu = Math.max(mtu, this.minMtu);
    const current = this.get(now, dst, linkMtu);
    if (mtu >= current) return undefined;
    this.#entries.delete(dst);
    while (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(dst, { mtu, expiresAt: instantAdd(now, this.expiry) });
    // Cached routes to dst hold the old MTU (Linux: the learnt PMTU lives in the
    // nexthop exception, and dst_check fails for sockets caching the old dst).
    bumpRouteGeneration();
    return mtu;
  }

  /** Drops expired estimates. */
  poll(now: Instant): void {
    for (const [dst, e] of this.#entries) {
      if (e.expiresAt <= now) {
        this.#entries.delete(dst);
        bumpRouteGeneration();
      }
    }
  }

  /** Expiry needs no timer: `get` checks it lazily, so there is nothing to wake up for. */
  pollAt(): Instant | undefined {
    return undefined;
  }

  get size(): number {
    return this.#entries.size;
  }
}
