/**
 * Converting between the address objects users pass (`{ address, port }`)
 * and the numeric Endpoints handles use, with Linux's errno for bad ones.
 */
import { formatIpv4, parseIpv4Address } from '../wire/address.js';
import { constants as C } from './constants.js';
import { raise } from './socket-handle.js';
import type { Endpoint, SockAddr, SockAddrIn } from './socket-handle.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** True when the object asks for AF_UNSPEC. */
export function isUnspec(addr: SockAddr): boolean {
  return addr.family === C.AF_UNSPEC;
}

/**
 * Parses a user sockaddr for an AF_INET socket. Wrong JavaScript types are
 * programmer errors (TypeError, our EFAULT); an unknown family or an IPv6
 * address is EAFNOSUPPORT; an unparsable address string EINVAL; a port
 * outside 0..65535 is a RangeError (a C in_port_t cannot hold one).
 */
export function parseSockAddrIn(addr: unknown): Endpoint {
  if (!isObject(addr)) throw new TypeError('socket address must be an object { address, port }');
  const family = addr.family;
  if (family !== undefined && family !== C.AF_INET) {
    if (typeof family !== 'number') throw new TypeError('address family must be a number');
    raise('EAFNOSUPPORT');
  }
  const address = addr.address ?? C.INADDR_ANY;
  const port = addr.port ?? 0;
  if (typeof address !== 'string') throw new TypeError('address must be a string');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`port must be an integer 0..65535, got ${typeof port === 'number' ? port : typeof port}`);
  }
  const ip = parseIpv4Address(address);
  if (ip === undefined) raise(address.includes(':') ? 'EAFNOSUPPORT' : 'EINVAL');
  return { address: ip, port };
}

export function formatEndpoint(e: Endpoint): SockAddrIn & { family: number } {
  return { family: C.AF_INET, address: formatIpv4(e.address), port: e.port };
}

/** For error messages: best effort, never throws. */
export function describeSockAddr(addr: unknown): { address?: string; port?: number } {
  if (!isObject(addr)) return {};
  const out: { address?: string; port?: number } = {};
  if (typeof addr.address === 'string') out.address = addr.address;
  if (typeof addr.port === 'number') out.port = addr.port;
  return out;
}
