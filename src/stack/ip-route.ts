/**
 * The route record IpSender.route answers (transport.ts) and a
 * connection's cached route holds (dst-cache.ts): its own module so that
 * both can name it without importing each other.
 */
import type { Interface } from '../iface/interface.js';
import type { Ipv4Address } from '../wire/address.js';

/** Where and how a datagram to some destination would go; what `IpSender.route` answers. */
export interface IpRoute {
  readonly iface: Interface;
  /** The source address the stack picks (RFC 1122 3.3.4.3) unless the caller fixed one. */
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  /** The gateway, or dst itself when it is on-link. */
  readonly nextHop: Ipv4Address;
  /** The path MTU (RFC 1191 estimate, at most the interface MTU): TCP derives its MSS from it. */
  readonly mtu: number;
  /** Whether the transport must fill in its checksum (false on trusted links unless the stack says 'always'). */
  readonly checksum: boolean;
}
