/**
 * The IPPROTO_IP options every IPv4 datagram socket (UDP, ping) handles the
 * same way: IP_TTL, IP_TOS and IP_RECVERR.
 */

import { constants as C } from '../syscall/constants.js';
import { raise } from '../syscall/socket-handle.js';
import { asInt, pmtuDiscoverOption, sockOptTable } from '../syscall/sockopt.js';
import type { PmtuDiscState, SockOptTable, SockOptValue } from '../syscall/sockopt.js';

/** What the shared IP-level options read and write on a socket. */
export interface DatagramIpOptionState extends PmtuDiscState {
  /** undefined: the stack default (IP_TTL -1). */
  ttl: number | undefined;
  tos: number;
  recvErr: boolean;
  readonly owner: { readonly defaultTtl: number };
  readonly errorQueue: { clear(): void };
}

/** An integer option value in lo..hi, else EINVAL. */
export function byteRange(v: SockOptValue, lo: number, hi: number): number {
  const n = asInt(v);
  if (n < lo || n > hi) raise('EINVAL');
  return n;
}

/** IP_TTL, IP_TOS and IP_RECVERR for a datagram socket; merge with the protocol's own table. */
export function datagramIpOptions<S extends DatagramIpOptionState>(): SockOptTable<S> {
  return sockOptTable<S>({
    [C.IPPROTO_IP]: {
      [C.IP_TTL]: {
        kind: 'int',
        get: (s) => s.ttl ?? s.owner.defaultTtl,
        set: (s, v) => {
          // Linux: -1 restores the default; otherwise 1..255.
          const n = asInt(v);
          s.ttl = n === -1 ? undefined : byteRange(v, 1, 255);
        },
      },
      [C.IP_TOS]: {
        kind: 'int',
        get: (s) => s.tos,
        set: (s, v) => {
          // Linux keeps the ECN bits of a datagram socket out of the user's hands (RFC 3168 belongs to the stack).
          s.tos = asInt(v) & 0xfc;
        },
      },
      // Kept and reported; datagrams are still sent without DF (WANT's fragmenting behaviour).
      [C.IP_MTU_DISCOVER]: pmtuDiscoverOption<S>(),
      [C.IP_RECVERR]: {
        kind: 'int',
        get: (s) => (s.recvErr ? 1 : 0),
        set: (s, v) => {
          s.recvErr = asInt(v) !== 0;
          // Linux ip_setsockopt: turning IP_RECVERR off purges the error queue.
          if (!s.recvErr) s.errorQueue.clear();
        },
      },
    },
  });
}
