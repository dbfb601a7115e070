/**
 * The IPv4 routing table: connected routes (one per interface prefix), static
 * routes and a default route, looked up by longest-prefix match (RFC 1812
 * 5.2.4.3). Generic over what a route points at, so the table knows nothing
 * about links and can be tested on its own.
 */
import type { Ipv4Address } from '../wire/address.js';
import { formatIpv4, ipv4Netmask } from '../wire/address.js';
import { bumpRouteGeneration } from './route-generation.js';

export interface Route<I> {
  /** The network address (host bits zero). */
  readonly prefix: Ipv4Address;
  /** 0..32; 0 with prefix 0 is the default route. */
  readonly prefixLength: number;
  /** The next hop; absent for a connected route (the destination is on the link). */
  readonly gateway?: Ipv4Address;
  /** The outgoing interface. */
  readonly iface: I;
  /** Among equal prefixes, the lower metric wins (ties: the earlier route). */
  readonly metric?: number;
  /** Preferred source address for packets on this route (Linux `ip route ... src`). */
  readonly source?: Ipv4Address;
}

function sameRoute<I>(a: Route<I>, prefix: Ipv4Address, prefixLength: number, gateway: Ipv4Address | undefined): boolean {
  return a.prefix === prefix && a.prefixLength === prefixLength && a.gateway === gateway;
}

export class RouteTable<I> {
  /** Kept sorted: longest prefix first, then lowest metric, then insertion order; lookup takes the first match. */
  #routes: Route<I>[] = [];

  /**
   * Adds a route. The prefix is masked to its length. Throws RangeError for a
   * prefix length outside 0..32 or a route with the same prefix, length and
   * gateway already present (as `ip route add` fails with EEXIST).
   */
  addRoute(route: Route<I>): void {
    const { prefixLength } = route;
    if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
      throw new RangeError(`addRoute: prefix length ${prefixLength} is not in 0..32`);
    }
    const prefix = (route.prefix & ipv4Netmask(prefixLength)) >>> 0;
    if (this.#routes.some((r) => sameRoute(r, prefix, prefixLength, route.gateway))) {
      throw new RangeError(`addRoute: ${formatIpv4(prefix)}/${prefixLength} already exists`);
    }
    const stored: Route<I> = { ...route, prefix };
    const metric = route.metric ?? 0;
    let at = this.#routes.length;
    for (let i = 0; i < this.#routes.length; i++) {
      const r = this.#routes[i]!;
      if (r.prefixLength < prefixLength || (r.prefixLength === prefixLength && (r.metric ?? 0) > metric)) {
        at = i;
        break;
      }
    }
    this.#routes.splice(at, 0, stored);
    bumpRouteGeneration();
  }

  /** Removes the route with this prefix, length and gateway (undefined: a connected route). Returns whether one was removed. */
  removeRoute(prefix: Ipv4Address, prefixLength: number, gateway?: Ipv4Address): boolean {
    const masked = (prefix & ipv4Netmask(prefixLength)) >>> 0;
    const i = this.#routes.findIndex((r) => sameRoute(r, masked, prefixLength, gateway));
    if (i < 0) return false;
    this.#routes.splice(i, 1);
    bumpRouteGeneration();
    return true;
  }

  /** Removes every route through `iface` (when an interface goes away). Returns how many. */
  removeInterface(iface: I): number {
    const before = this.#routes.length;
    this.#routes = this.#routes.filter((r) => r.iface !== iface);
    // Always: the interface itself is going away (Stack.removeInterface), and
    // routes cached through it, or from its addresses, must be looked up again.
    bumpRouteGeneration();
    return before - this.#routes.length;
  }

  /** The most specific route to `dst`, or undefined (ENETUNREACH). */
  lookup(dst: Ipv4Address): Route<I> | undefined {
    for (const r of this.#routes) {
      if (((dst & ipv4Netmask(r.prefixLength)) >>> 0) === r.prefix) return r;
    }
    return undefined;
  }

  /** All routes in lookup order. */
  routes(): readonly Route<I>[] {
    return this.#routes.slice();
  }
}
