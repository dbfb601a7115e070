/**
 * The generation of everything a cached route depends on, as Linux keeps
 * rt_genid (net/ipv4/route.c rt_cache_flush): routes, addresses, interfaces,
 * neighbour mappings and learnt path MTUs each bump it when they change, and
 * a connection's cached route (the IP layer's per-socket cache, Linux
 * sk_dst_cache checked by dst_check) is used only while the generation it
 * was made in is still current.
 *
 * One counter for the whole process, not one per Stack: the structures that
 * bump it are built on their own (a RouteTable or a NeighbourCache knows no
 * Stack). A change in one stack costs every other stack's cached routes one
 * full lookup each, never a wrong answer; configuration changes are rare
 * next to packets.
 */
let generation = 0;

/** The current generation: a cached route made in another one must be looked up again. */
export function routeGeneration(): number {
  return generation;
}

/** Something a route depends on changed: every cached route is stale. */
export function bumpRouteGeneration(): void {
  generation++;
}
