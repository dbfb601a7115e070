/**
 * Linux's rules for sharing a TCP port among sockets: which bind() conflicts
 * (inet_csk_bind_conflict), which listen() conflicts, and which listener a
 * SYN goes to (__inet_lookup_listener). Separate from tcp-protocol.ts: pure
 * functions of the bind table, no connection state.
 */
import { addressesOverlap as overlaps, flowHash } from '../stack/flow-hash.js';
import type { PortAllocator } from '../stack/port-allocator.js';
import type { Ipv4Address } from '../wire/address.js';
import { inTimeWait } from './tcp-entry.js';
import type { TcpBinding } from './tcp-entry.js';

/**
 * Linux inet_csk_bind_conflict, simplified: sharing an overlapping address
 * and port is allowed when both sides set SO_REUSEADDR and the other is not
 * listening, when the new socket sets SO_REUSEADDR and the other is in
 * TIME-WAIT (restarting a server), or when both set SO_REUSEPORT.
 */
export function bindConflicts(
  ports: PortAllocator<TcpBinding>,
  self: TcpBinding | undefined,
  address: Ipv4Address,
  port: number,
  reuseAddr: boolean,
  reusePort: boolean,
): boolean {
  for (const other of ports.bindings(port)) {
    if (other === self || !overlaps(other.address, address)) continue;
    if (reuseAddr && other.reuseAddr && other.listener === undefined) continue;
    if (reuseAddr && other.entry !== undefined && inTimeWait(other.entry)) continue;
    if (reusePort && other.reusePort) continue;
    return true;
  }
  return false;
}

/** listen(): Linux re-checks the port for other listeners (inet_csk_listen_start -> get_port). */
export function listenConflicts(ports: PortAllocator<TcpBinding>, b: TcpBinding): boolean {
  for (const other of ports.bindings(b.port)) {
    if (other === b || other.listener === undefined || !overlaps(other.address, b.address)) continue;
    if (b.reusePort && other.reusePort) continue;
    return true;
  }
  return false;
}

/** The listening bindings of `port`, in bind order (the order findListener breaks ties in). */
export function listenersOn(ports: PortAllocator<TcpBinding>, port: number): TcpBinding[] {
  return ports.bindings(port).filter((x) => x.listener !== undefined);
}

/** Linux __inet_lookup_listener: a specific address beats the wildcard; a SO_REUSEPORT group shares by flow hash. */
export function findListener(
  listeningByPort: ReadonlyMap<number, readonly TcpBinding[]>,
  dst: Ipv4Address,
  dport: number,
  src: Ipv4Address,
  sport: number,
): TcpBinding | undefined {
  let best: TcpBinding | undefined;
  const group: TcpBinding[] = [];
  const listening = listeningByPort.get(dport);
  if (listening === undefined) return undefined;
  for (const b of listening) {
    if (b.listener === undefined) continue;
    if (b.address !== 0 && b.address !== dst) continue;
    if (best === undefined || (best.address === 0 && b.address !== 0)) {
      best = b;
      group.length = 0;
      group.push(b);
    } else if (b.address === best.address && b.reusePort && best.reusePort) {
      group.push(b);
    }
  }
  if (group.length > 1) return group[flowHash(src, sport, dst, dport) % group.length];
  return best;
}
