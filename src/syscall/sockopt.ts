/**
 * getsockopt/setsockopt: option values, their kinds, and per-level tables
 * that protocol handles declare instead of writing switch statements.
 *
 * C passes an untyped buffer plus a length; here each option has a kind and
 * its value is a plain JavaScript value of that kind:
 * - 'int': a number (booleans accepted as 0/1, as the issue asks);
 * - 'linger': `{ onoff, linger }` (struct linger);
 * - 'timeval': `{ sec, usec }` (struct timeval);
 * - 'mreq': `{ multiaddr, interface? , ifindex? }` (struct ip_mreq / ip_mreqn);
 * - 'addr': an IPv4 address string (IP_MULTICAST_IF's struct in_addr);
 * - 'string': TCP_CONGESTION's name;
 * - 'object': read-only structured results such as TCP_INFO.
 * A value of the wrong JavaScript type is a programmer error (TypeError, the
 * analogue of EFAULT); a well-typed but unacceptable value is EINVAL.
 */
import { raise } from './handle-error.js';

export interface Linger {
  readonly onoff: number;
  readonly linger: number;
}

export interface Timeval {
  readonly sec: number;
  readonly usec: number;
}

export interface IpMreq {
  /** The multicast group, e.g. '239.1.2.3'. */
  readonly multiaddr: string;
  /** The local interface address; '0.0.0.0' or absent lets the stack choose. */
  readonly interface?: string;
  /** ip_mreqn's interface index; 0 or absent: unspecified. */
  readonly ifindex?: number;
}

export type SockOptValue = number | Linger | Timeval | IpMreq | string | Readonly<Record<string, unknown>>;

export type SockOptKind = 'int' | 'linger' | 'timeval' | 'mreq' | 'addr' | 'string' | 'object';

/** One option of a table: `get` absent means write-only, `set` absent read-only (Linux: ENOPROTOOPT on set). */
export interface SockOptSpec<S> {
  readonly kind: SockOptKind;
  readonly get?: (self: S) => SockOptValue;
  readonly set?: (self: S, value: SockOptValue) => void;
}

/** level -> option name -> spec. */
export type SockOptTable<S> = ReadonlyMap<number, ReadonlyMap<number, SockOptSpec<S>>>;

/** Builds a table from `{ [level]: { [name]: spec } }` literals. */
export function sockOptTable<S>(levels: Record<number, Record<number, SockOptSpec<S>>>): SockOptTable<S> {
  const out = new Map<number, Map<number, SockOptSpec<S>>>();
  for (const [level, opts] of Object.entries(levels)) {
    out.set(Number(level), new Map(Object.entries(opts).map(([name, spec]) => [Number(name), spec])));
  }
  return out;
}

/** Merges tables; later ones override earlier entries of the same level and name. */
export function mergeSockOptTables<S>(...tables: SockOptTable<S>[]): SockOptTable<S> {
  const out = new Map<number, Map<number, SockOptSpec<S>>>();
  for (const t of tables) {
    for (const [level, opts] of t) {
      let m = out.get(level);
      if (m === undefined) out.set(level, (m = new Map<number, SockOptSpec<S>>()));
      for (const [name, spec] of opts) m.set(name, spec);
    }
  }
  return out;
}

function lookup<S>(table: SockOptTable<S>, level: number, name: number): SockOptSpec<S> {
  const spec = table.get(level)?.get(name);
  // Linux answers ENOPROTOOPT both for an unknown option and for a level the protocol does not handle.
  if (spec === undefined) raise('ENOPROTOOPT');
  return spec;
}

export function tableGet<S>(table: SockOptTable<S>, self: S, level: number, name: number): SockOptValue {
  const spec = lookup(table, level, name);
  if (spec.get === undefined) raise('ENOPROTOOPT');
  return spec.get(self);
}

export function tableSet<S>(table: SockOptTable<S>, self: S, level: number, name: number, value: SockOptValue): void {
  const spec = lookup(table, level, name);
  if (spec.set === undefined) raise('ENOPROTOOPT');
  spec.set(self, normaliseOptValue(spec.kind, value));
}

/** The kind of an option in a table, or undefined when the table lacks it. */
export function tableKind<S>(table: SockOptTable<S>, level: number, name: number): SockOptKind | undefined {
  return table.get(level)?.get(name)?.kind;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intOf(v: unknown, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${what} must be a number, got ${typeof v}`);
  // C's int is 32-bit: values that do not fit would be truncated by the ABI; refuse them instead.
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`${what} is not a C int: ${v}`);
  return v;
}

/**
 * Checks a user-supplied value against an option kind and returns it in
 * canonical form (booleans as 0/1, structs with only their own fields).
 * Throws TypeError for values of the wrong shape.
 */
export function normaliseOptValue(kind: SockOptKind, value: unknown): SockOptValue {
  switch (kind) {
    case 'int':
      return intOf(value, 'option value');
    case 'linger':
      if (!isRecord(value)) throw new TypeError('SO_LINGER takes { onoff, linger }');
      return { onoff: intOf(value.onoff, 'linger.onoff'), linger: intOf(value.linger, 'linger.linger') };
    case 'timeval':
      if (!isRecord(value)) throw new TypeError('a timeval option takes { sec, usec }');
      return { sec: intOf(value.sec ?? 0, 'timeval.sec'), usec: intOf(value.usec ?? 0, 'timeval.usec') };
    case 'mreq': {
      if (!isRecord(value) || typeof value.multiaddr !== 'string') {
        throw new TypeError('a membership option takes { multiaddr, interface?, ifindex? }');
      }
      const iface = value.interface;
      if (iface !== undefined && typeof iface !== 'string') throw new TypeError('mreq.interface must be a string');
      const out: { multiaddr: string; interface?: string; ifindex?: number } = { multiaddr: value.multiaddr };
      if (iface !== undefined) out.interface = iface;
      if (value.ifindex !== undefined) out.ifindex = intOf(value.ifindex, 'mreq.ifindex');
      return out;
    }
    case 'addr':
    case 'string':
      if (typeof value !== 'string') throw new TypeError(`option value must be a string, got ${typeof value}`);
      return value;
    case 'object':
      if (!isRecord(value)) throw new TypeError('option value must be an object');
      return value;
  }
}

/** An integer option's value (after normalisation). */
export function asInt(v: SockOptValue): number {
  return typeof v === 'number' ? v : 0;
}

/**
 * Linux's SO_RCVBUF/SO_SNDBUF: the kernel doubles the requested size (to
 * allow for bookkeeping overhead) after capping it at rmem_max/wmem_max, and
 * getsockopt returns the doubled value; there is a floor.
 */
export const SOCK_MIN_RCVBUF = 2304;
export const SOCK_MIN_SNDBUF = 4608;
export const SYSCTL_RMEM_MAX = 212992;
export const SYSCTL_WMEM_MAX = 212992;
/** net.core.rmem_default / wmem_default. */
export const SYSCTL_RMEM_DEFAULT = 212992;
export const SYSCTL_WMEM_DEFAULT = 212992;

export function linuxBufSize(requested: number, max: number, min: number): number {
  const v = Math.min(Math.max(requested, 0), max);
  return Math.max(v * 2, min);
}

/**
 * The SOL_SOCKET options every protocol socket keeps, with Linux defaults.
 * Handles embed one (`readonly so = new SocketLevelOptions()`) and spread
 * `socketLevelTable` into their own table, so TCP and UDP agree on them.
 */
export class SocketLevelOptions {
  reuseAddr = false;
  reusePort = false;
  broadcast = false;
  keepalive = false;
  dontRoute = false;
  oobInline = false;
  debug = false;
  priority = 0;
  linger: Linger = { onoff: 0, linger: 0 };
  rcvbuf = SYSCTL_RMEM_DEFAULT;
  sndbuf = SYSCTL_WMEM_DEFAULT;
  rcvlowat = 1;
  sndlowat = 1;
}

const SOL_SOCKET = 1;

/** Table for SocketLevelOptions; `pick` finds it inside a handle. */
export function socketLevelTable<S>(pick: (self: S) => SocketLevelOptions): SockOptTable<S> {
  const flag = (key: 'reuseAddr' | 'reusePort' | 'broadcast' | 'keepalive' | 'dontRoute' | 'oobInline' | 'debug') =>
    ({
      kind: 'int',
      get: (s: S) => (pick(s)[key] ? 1 : 0),
      set: (s: S, v: SockOptValue) => {
        pick(s)[key] = asInt(v) !== 0;
      },
    }) as const;
  return sockOptTable<S>({
    [SOL_SOCKET]: {
      1: flag('debug'),
      2: flag('reuseAddr'),
      5: flag('dontRoute'),
      6: flag('broadcast'),
      7: {
        kind: 'int',
        get: (s) => pick(s).sndbuf,
        set: (s, v) => {
          pick(s).sndbuf = linuxBufSize(asInt(v), SYSCTL_WMEM_MAX, SOCK_MIN_SNDBUF);
        },
      },
      8: {
        kind: 'int',
        get: (s) => pick(s).rcvbuf,
        set: (s, v) => {
          pick(s).rcvbuf = linuxBufSize(asInt(v), SYSCTL_RMEM_MAX, SOCK_MIN_RCVBUF);
        },
      },
      9: flag('keepalive'),
      10: flag('oobInline'),
      12: {
        kind: 'int',
        get: (s) => pick(s).priority,
        set: (s, v) => {
          const p = asInt(v);
          // Linux: priorities 0..6 need no privilege; we run as root, so any value, but never negative.
          if (p < 0) raise('EINVAL');
          pick(s).priority = p;
        },
      },
      13: {
        kind: 'linger',
        get: (s) => ({ ...pick(s).linger }),
        set: (s, v) => {
          const l = v as Linger;
          pick(s).linger = { onoff: l.onoff !== 0 ? 1 : 0, linger: Math.max(0, l.linger) };
        },
      },
      15: flag('reusePort'),
      18: {
        kind: 'int',
        get: (s) => pick(s).rcvlowat,
        set: (s, v) => {
          // Linux: a zero or negative low-water mark means 1.
          pick(s).rcvlowat = Math.max(1, asInt(v));
        },
      },
      // Linux: SO_SNDLOWAT is readable but not changeable ("ENOPROTOOPT").
      19: { kind: 'int', get: (s) => pick(s).sndlowat },
    },
  });
}

/**
 * IP_MTU_DISCOVER (ip(7)): the path MTU discovery mode of a socket, Linux
 * values. DONT (0): never set DF, ignore "fragmentation needed"; WANT (1,
 * the default with ip_no_pmtu_disc=0): DF on, learn the path MTU (RFC 1191);
 * DO (2): DF always; PROBE (3): DF on but the path MTU is not learnt;
 * INTERFACE (4) / OMIT (5): use the interface MTU (OMIT: no DF on
 * fragments). Linux rejects anything above OMIT with EINVAL.
 */
export const IP_PMTUDISC_DONT = 0;
export const IP_PMTUDISC_WANT = 1;
export const IP_PMTUDISC_DO = 2;
export const IP_PMTUDISC_PROBE = 3;
export const IP_PMTUDISC_INTERFACE = 4;
export const IP_PMTUDISC_OMIT = 5;

/** A socket that keeps an IP_MTU_DISCOVER mode (absent: the default, WANT). */
export interface PmtuDiscState {
  pmtuDisc?: number | undefined;
}

/** The IP_MTU_DISCOVER option spec; `onSet` lets a socket pass the mode to its live connection. */
export function pmtuDiscoverOption<S extends PmtuDiscState>(onSet?: (self: S, mode: number) => void): SockOptSpec<S> {
  return {
    kind: 'int',
    get: (s) => s.pmtuDisc ?? IP_PMTUDISC_WANT,
    set: (s, v) => {
      const mode = asInt(v);
      // Linux ip_setsockopt: "if (val < IP_PMTUDISC_DONT || val > IP_PMTUDISC_OMIT) goto e_inval".
      if (mode < IP_PMTUDISC_DONT || mode > IP_PMTUDISC_OMIT) raise('EINVAL');
      s.pmtuDisc = mode;
      onSet?.(s, mode);
    },
  };
}

/** Does a socket in this mode set DF on its packets (Linux ip_dont_fragment)? */
export function pmtuDiscSetsDf(mode: number): boolean {
  return mode === IP_PMTUDISC_WANT || mode === IP_PMTUDISC_DO || mode === IP_PMTUDISC_PROBE;
}

/** Does a socket in this mode learn a smaller path MTU from ICMP (Linux: not DONT, ip_sk_accept_pmtu, not PROBE)? */
export function pmtuDiscLearns(mode: number): boolean {
  return mode === IP_PMTUDISC_WANT || mode === IP_PMTUDISC_DO;
}
