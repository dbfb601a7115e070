/**
 * Configurations shared between connections: Tcb's constructor (tcb.ts)
 * interns each connection's TcpConfig, so equal configurations are one
 * frozen object, and with it the socket options setsockopt may later change
 * on a live connection (MutableOptions). A memory measure for idle
 * connections, separate from the TCB, whose per-connection state it is not.
 */
import type { Duration } from '../time/duration.js';
import type { TcpConfig } from './config.js';

/** A configuration as connections share it, with the socket options derived from it. */
export interface SharedConfig {
  readonly config: TcpConfig;
  readonly opts: Readonly<MutableOptions>;
}

/**
 * Configurations of recent connections, newest first. Sockets build a fresh
 * (frozen) TcpConfig per connection; nearly all are equal field for field,
 * and one object per connection cost about 300 bytes of heap each (it has
 * some 40 fields), a large share of an idle connection. A handful of
 * recent ones cover a process's few distinct configurations; an unusual
 * one just is not shared.
 */
const recentConfigs: SharedConfig[] = [];
const RECENT_CONFIGS = 8;
/**
 * Every config object already matched, to its shared one: sockets hand out
 * the same frozen object for every connection of a configuration
 * (TcpSocket.connectionConfig), but two sockets (a client and a listener)
 * hand out two equal objects, and only one of them can be the shared one.
 * Without this the other paid the field-by-field comparison on every
 * connection (issue 9, tcp-connect). Weak: configs come and go with sockets.
 */
const seenConfigs = new WeakMap<TcpConfig, SharedConfig>();

export function internConfig(config: TcpConfig): SharedConfig {
  const seen = seenConfigs.get(config);
  if (seen !== undefined) return seen;
  const hit = recentConfigs.findIndex((s) => sameConfig(s.config, config));
  if (hit >= 0) {
    const s = recentConfigs[hit]!;
    if (hit > 0) {
      recentConfigs.splice(hit, 1);
      recentConfigs.unshift(s);
    }
    // Only a frozen object can stand for its shared config later: a mutable one may change.
    if (Object.isFrozen(config)) seenConfigs.set(config, s);
    return s;
  }
  const s: SharedConfig = {
    config: Object.isFrozen(config) ? config : Object.freeze({ ...config }),
    opts: Object.freeze({
      keepAlive: config.keepAlive,
      keepIdle: config.keepIdle,
      keepInterval: config.keepInterval,
      keepCount: config.keepCount,
      userTimeout: config.userTimeout,
    }),
  };
  recentConfigs.unshift(s);
  if (recentConfigs.length > RECENT_CONFIGS) recentConfigs.pop();
  seenConfigs.set(s.config, s);
  return s;
}

/** Equal field for field (every TcpConfig field is a primitive). */
function sameConfig(a: TcpConfig, b: TcpConfig): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  for (const k of ka) if (!Object.is(ra[k], rb[k])) return false;
  return true;
}

/** SO_KEEPALIVE, TCP_KEEPIDLE/KEEPINTVL/KEEPCNT and TCP_USER_TIMEOUT, changeable on a live connection. */
export interface MutableOptions {
  keepAlive: boolean;
  keepIdle: Duration;
  keepInterval: Duration;
  keepCount: number;
  userTimeout: Duration;
}
