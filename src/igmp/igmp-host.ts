/**
 * The host side of IGMP: RFC 3376 (v3) by default, RFC 2236 (v2) when
 * configured or while a v1/v2 querier is present (RFC 3376 7.2.1).
 *
 * It plugs into the Stack as the transport for IP protocol 2, so the Stack
 * demultiplexes queries and other hosts' reports to `input`, and its timers
 * (report retransmissions, delayed query responses) run through the Stack's
 * single timer via `pollAt`/`poll`. Random delays come from the stack's Rng.
 *
 * Memberships are any-source only (EXCLUDE {} in v3 terms, like a socket
 * using IP_ADD_MEMBERSHIP): there is no IP_ADD_SOURCE_MEMBERSHIP. A v1 query
 * is answered in v2 compatibility mode (with v2 reports) rather than with v1
 * reports; the 224.0.0.1 all-systems group is never reported (RFC 3376 5,
 * RFC 2236 6).
 *
 * Statistics: igmp.in-msgs, igmp.in-queries, igmp.in-reports, igmp.in-leaves,
 * igmp.out-reports, igmp.out-leaves, igmp.drop.<reason>.
 */
import type { Interface } from '../iface/interface.js';
import type { Rng } from '../random/rng.js';
import type { Counters } from '../stats/counters.js';
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import type { IpPacketIn, IpSender, TransportProtocol } from '../stack/transport.js';
import { Duration, durationAdd, durationMul } from '../time/duration.js';
import { DeadlineWatcher } from '../time/deadline-watch.js';
import type { DeadlineWatch } from '../time/deadline-watch.js';
import type { Instant } from '../time/instant.js';
import { instantAdd } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { isIpv4Multicast } from '../wire/address.js';
import {
  IGMP_ALL_ROUTERS,
  IGMP_ALL_SYSTEMS,
  IGMP_V3_ROUTERS,
  IgmpRecordType,
  IgmpType,
  ROUTER_ALERT_OPTION,
  emitIgmp,
  igmpBufferLen,
  igmpDecodeCode,
  parseIgmp,
} from '../wire/igmp.js';
import type { IgmpGroupRecord, IgmpQueryRepr, IgmpRepr } from '../wire/igmp.js';

export const IGMP_PROTOCOL = 2;

export interface IgmpOptions {
  /**
   * 'auto' (default): IGMPv3, falling back to v2 on an interface while a
   * v1/v2 querier is heard there (RFC 3376 7.2.1). 2 or 3: always that
   * version (Linux's force_igmp_version).
   */
  readonly version?: 'auto' | 2 | 3;
  /** The Robustness Variable (RFC 3376 8.1, RFC 2236 8.1): unsolicited reports are sent this many times. Default 2. */
  readonly robustness?: number;
  /** Default 1 s for v3 (RFC 3376 8.11), 10 s for v2 (RFC 2236 8.10). */
  readonly unsolicitedReportInterval?: Duration;
  /** Query Interval (RFC 3376 8.2), for the Older Version Querier Present timeout. Default 125 s. */
  readonly queryInterval?: Duration;
  /** Query Response Interval (RFC 3376 8.3). Default 10 s. */
  readonly queryResponseInterval?: Duration;
}

interface GroupState {
  /** When to answer a query for this group (undefined: no pending response). */
  responseAt: Instant | undefined;
  /** Sources a v3 group-and-source-specific query asked about, for the pending response (empty: whole group). */
  querySources: Ipv4Address[];
  /** Unsolicited state-change reports still to send after the first. */
  unsolicitedLeft: number;
  unsolicitedAt: Instant | undefined;
  /** RFC 2236 3: we sent the last report for the group (so a leave is ours to send). */
  lastReporter: boolean;
}

interface LeavingState {
  left: number;
  at: Instant;
}

interface IfaceState {
  readonly groups: Map<Ipv4Address, GroupState>;
  /** v3 state-change "leave" reports (TO_IN {}) still to send. */
  readonly leaving: Map<Ipv4Address, LeavingState>;
  /** RFC 3376 5.2: the interface timer for a pending response to a general query. */
  generalAt: Instant | undefined;
  /** RFC 3376 7.2.1: Older Version Querier Present. */
  olderQuerierUntil: Instant | undefined;
}

/** What tests and `stack` users can read about one interface. */
export interface IgmpInterfaceInfo {
  readonly version: 2 | 3;
  readonly groups: readonly Ipv4Address[];
}

export class IgmpProtocol implements TransportProtocol {
  readonly protocol = IGMP_PROTOCOL;
  readonly #rng: Rng;
  readonly #stats: Counters;
  readonly #wake: () => void;
  readonly #forced: 2 | 3 | undefined;
  readonly #robustness: number;
  readonly #uri: Duration | undefined;
  readonly #olderQuerierTimeout: Duration;
  readonly #ifaces = new Map<Interface, IfaceState>();

  readonly #watcher = new DeadlineWatcher();

  /** Raises `w` whenever pollAt() may change from now on: the stack asks again only then (issue 9). */
  watchDeadline(w: DeadlineWatch | undefined): void {
    this.#watcher.watch(w);
  }

  constructor(rng: Rng, stats: Counters, wake: () => void, options: IgmpOptions = {}) {
    this.#rng = rng;
    this.#stats = stats;
    this.#wake = wake;
    const v = options.version ?? 'auto';
    if (v !== 'auto' && v !== 2 && v !== 3) throw new RangeError(`IGMP version ${String(v)} is not 'auto', 2 or 3`);
    this.#forced = v === 'auto' ? undefined : v;
    this.#robustness = options.robustness ?? 2;
    if (!Number.isInteger(this.#robustness) || this.#robustness < 1 || this.#robustness > 7) {
      throw new RangeError(`IGMP robustness ${this.#robustness} is not in 1..7`);
    }
    this.#uri = options.unsolicitedReportInterval;
    const qi = options.queryInterval ?? Duration.fromSecs(125);
    const qri = options.queryResponseInterval ?? Duration.fromSecs(10);
    // RFC 3376 8.12: Robustness * Query Interval + Query Response Interval.
    this.#olderQuerierTimeout = durationAdd(durationMul(qi, this.#robustness), qri);
  }

  /** The version in force on `iface` now. */
  version(now: Instant, iface: Interface): 2 | 3 {
    if (this.#forced !== undefined) return this.#forced;
    const until = this.#ifaces.get(iface)?.olderQuerierUntil;
    return until !== undefined && now < until ? 2 : 3;
  }

  info(now: Instant, iface: Interface): IgmpInterfaceInfo {
    return { version: this.version(now, iface), groups: [...(this.#ifaces.get(iface)?.groups.keys() ?? [])] };
  }

  #state(iface: Interface): IfaceState {
    let s = this.#ifaces.get(iface);
    if (s === undefined) {
      s = { groups: new Map(), leaving: new Map(), generalAt: undefined, olderQuerierUntil: undefined };
      this.#ifaces.set(iface, s);
    }
    return s;
  }

  #reportInterval(version: 2 | 3): Duration {
    return this.#uri ?? Duration.fromSecs(version === 3 ? 1 : 10);
  }

  /** A random delay in [0, max] from the stack's Rng (RFC 3376 5.2, RFC 2236 3). */
  #randomDelay(max: Duration): Duration {
    const m = Math.max(0, Math.floor(max));
    return (m === 0 ? 0 : this.#rng.nextInt(Math.min(m + 1, 2 ** 32))) as Duration;
  }

  /**
   * The host joined `group` on `iface` (its first socket membership there).
   * The first report goes out at the next poll (now); the rest follow at
   * random intervals (RFC 3376 5.1, RFC 2236 3).
   */
  join(now: Instant, iface: Interface, group: Ipv4Address): void {
    if (!isIpv4Multicast(group) || group === IGMP_ALL_SYSTEMS || iface.isLoopback) return;
    this.#watcher.raise();
    const s = this.#state(iface);
    if (s.groups.has(group)) return;
    s.leaving.delete(group);
    s.groups.set(group, {
      responseAt: undefined,
      querySources: [],
      unsolicitedLeft: this.#robustness,
      unsolicitedAt: now,
      lastReporter: false,
    });
    this.#wake();
  }

  /** The host left `group` on `iface` (its last socket membership there). */
  leave(now: Instant, iface: Interface, group: Ipv4Address): void {
    this.#watcher.raise();
    const s = this.#ifaces.get(iface);
    const g = s?.groups.get(group);
    if (s === undefined || g === undefined) return;
    s.groups.delete(group);
    if (this.version(now, iface) === 3) {
      // RFC 3376 5.1: a state-change report (TO_IN {}) sent Robustness times.
      s.leaving.set(group, { left: this.#robustness, at: now });
    } else if (g.lastReporter || g.unsolicitedLeft > 0) {
      // RFC 2236 3: a leave only when we were the last host to report.
      s.leaving.set(group, { left: 1, at: now });
    }
    this.#wake();
  }

  input(now: Instant, packet: IpPacketIn, _out: IpSender): void {
    // A query (re)starts report timers.
    this.#watcher.raise();
    const st = this.#stats;
    const r = parseIgmp(packet.ip.payload, { verifyChecksum: packet.verifyChecksum });
    if (!r.ok) {
      st.increment(`igmp.drop.${r.reason}`);
      return;
    }
    st.increment('igmp.in-msgs');
    const m = r.value;
    if (packet.iface.isLoopback) return;
    if (m.type === IgmpType.MembershipQuery) {
      st.increment('igmp.in-queries');
      this.#onQuery(now, packet.iface, packet.ip.dst, m);
    } else if (m.type === IgmpType.V1MembershipReport || m.type === IgmpType.V2MembershipReport) {
      st.increment('igmp.in-reports');
      // RFC 2236 3: another member answered; ours would be redundant. (v3 has no suppression.)
      const g = this.#ifaces.get(packet.iface)?.groups.get(m.group);
      if (g !== undefined && this.version(now, packet.iface) === 2) {
        g.responseAt = undefined;
        g.lastReporter = false;
      }
    } else if (m.type === IgmpType.V2LeaveGroup) {
      st.increment('igmp.in-leaves');
    } else {
      st.increment('igmp.in-reports');
    }
  }

  #onQuery(now: Instant, iface: Interface, dst: Ipv4Address, q: IgmpQueryRepr): void {
    const s = this.#state(iface);
    // RFC 3376 4.1.12: a general query goes to 224.0.0.1, a group-specific one to the group.
    if (q.group === 0 ? dst !== IGMP_ALL_SYSTEMS : dst !== q.group && dst !== IGMP_ALL_SYSTEMS) {
      this.#stats.increment('igmp.drop.bad-query-destination');
      return;
    }
    if (q.group !== 0 && !isIpv4Multicast(q.group)) {
      this.#stats.increment('igmp.drop.bad-query-group');
      return;
    }
    let maxResp: Duration;
    if (q.version !== 3) {
      // RFC 3376 7.2.1: a v1/v2 querier switches this interface to v2 for a while.
      s.olderQuerierUntil = instantAdd(now, this.#olderQuerierTimeout);
      // RFC 2236 4: a v1 query (Max Resp 0) means 10 s.
      maxResp = Duration.fromMillis(q.version === 1 ? 10_000 : q.maxRespCode * 100);
    } else {
      maxResp = Duration.fromMillis(igmpDecodeCode(q.maxRespCode) * 100);
    }
    const delay = this.#randomDelay(maxResp);
    const at = instantAdd(now, delay);
    const v = this.version(now, iface);
    if (v === 3 && q.group === 0) {
      // RFC 3376 5.2 rules 1 and 2: keep an earlier pending general response.
      if (s.generalAt === undefined || at < s.generalAt) s.generalAt = at;
    } else {
      const targets = q.group === 0 ? [...s.groups.values()] : [s.groups.get(q.group)].filter((g) => g !== undefined);
      for (const g of targets) {
        if (v === 3) {
          // RFC 3376 5.2 rule 3-5: merge with a pending group response.
          if (g.responseAt === undefined) g.querySources = [...q.sources];
          else if (g.querySources.length === 0 || q.sources.length === 0) g.querySources = [];
          else g.querySources = [...new Set([...g.querySources, ...q.sources])];
        }
        // RFC 2236 3: reset the timer only if the new delay is sooner.
        if (g.responseAt === undefined || at < g.responseAt) g.responseAt = at;
      }
    }
    this.#wake();
  }

  icmpError(_now: Instant, _report: IcmpErrorReport, _out: IpSender): void {
    // IGMP messages never draw ICMP errors (they go to multicast addresses).
  }

  poll(now: Instant, out: IpSender): void {
    this.#watcher.raise();
    for (const [iface, s] of this.#ifaces) {
      const v = this.version(now, iface);
      const v3Records: IgmpGroupRecord[] = [];
      const record = (recordType: number, group: Ipv4Address, sources: readonly Ipv4Address[] = []): void => {
        v3Records.push({ recordType, group, sources, auxData: new Uint8Array(0) });
      };
      if (s.generalAt !== undefined && s.generalAt <= now) {
        s.generalAt = undefined;
        if (v === 3) for (const group of s.groups.keys()) record(IgmpRecordType.ModeIsExclude, group);
      }
      for (const [group, g] of s.groups) {
        if (g.unsolicitedAt !== undefined && g.unsolicitedAt <= now) {
          g.unsolicitedLeft--;
          g.unsolicitedAt = g.unsolicitedLeft > 0 ? instantAdd(now, this.#randomDelay(this.#reportInterval(v))) : undefined;
          g.lastReporter = true;
          if (v === 3) record(IgmpRecordType.ChangeToExcludeMode, group);
          else this.#send(now, out, iface, group, { type: IgmpType.V2MembershipReport, group });
        }
        if (g.responseAt !== undefined && g.responseAt <= now) {
          g.responseAt = undefined;
          g.lastReporter = true;
          if (v === 2) this.#send(now, out, iface, group, { type: IgmpType.V2MembershipReport, group });
          else if (g.querySources.length > 0) record(IgmpRecordType.ModeIsInclude, group, g.querySources);
          else if (!v3Records.some((r) => r.group === group)) record(IgmpRecordType.ModeIsExclude, group);
          g.querySources = [];
        }
      }
      for (const [group, l] of s.leaving) {
        if (l.at > now) continue;
        l.left--;
        if (l.left > 0) l.at = instantAdd(now, this.#randomDelay(this.#reportInterval(v)));
        else s.leaving.delete(group);
        if (v === 3) record(IgmpRecordType.ChangeToIncludeMode, group);
        else {
          this.#stats.increment('igmp.out-leaves');
          this.#send(now, out, iface, IGMP_ALL_ROUTERS, { type: IgmpType.V2LeaveGroup, group });
        }
      }
      if (v3Records.length > 0) this.#send(now, out, iface, IGMP_V3_ROUTERS, { type: IgmpType.V3MembershipReport, records: v3Records });
    }
  }

  pollAt(): Instant | undefined {
    // The stack asks this after every frame and user call (issue 9): no
    // closure per call, and nothing to walk on a host without memberships.
    if (this.#ifaces.size === 0) return undefined;
    let at: Instant | undefined;
    for (const s of this.#ifaces.values()) {
      at = earlier(at, s.generalAt);
      for (const g of s.groups.values()) {
        at = earlier(at, g.unsolicitedAt);
        at = earlier(at, g.responseAt);
      }
      for (const l of s.leaving.values()) at = earlier(at, l.at);
    }
    return at;
  }

  /** RFC 3376 4 / RFC 2236 2: TTL 1 and the Router Alert option (RFC 2113) on every report. */
  #send(now: Instant, out: IpSender, iface: Interface, dst: Ipv4Address, msg: IgmpRepr): void {
    const status = out.send(
      now,
      { dst, protocol: IGMP_PROTOCOL, ttl: 1, iface, dontFragment: false, dscp: 0x30, options: ROUTER_ALERT_OPTION },
      igmpBufferLen(msg),
      (buf) => void emitIgmp(msg, buf),
    );
    if (status === 'sent' || status === 'queued') {
      if (msg.type !== IgmpType.V2LeaveGroup) this.#stats.increment('igmp.out-reports');
    } else {
      this.#stats.increment(`igmp.drop.out-${status}`);
    }
  }
}

/** The earlier of two optional deadlines (undefined: none). */
function earlier(a: Instant | undefined, b: Instant | undefined): Instant | undefined {
  return b !== undefined && (a === undefined || b < a) ? b : a;
}
