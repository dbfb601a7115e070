import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import type { MemoryLink } from '../link/memory.js';
import { Stack } from '../stack/stack.js';
import type { StackOptions } from '../stack/stack.js';
import { constants as C } from '../syscall/constants.js';
import { Duration } from '../time/duration.js';
import { ManualClock } from '../time/manual-clock.js';
import { formatIpv4, formatMac, ipv4 } from '../wire/address.js';
import { EtherType, emitEthernet, ethernetBufferLen, parseEthernet } from '../wire/ethernet.js';
import { IgmpType, ROUTER_ALERT_OPTION, emitIgmp, igmpBufferLen, parseIgmp } from '../wire/igmp.js';
import type { IgmpQueryRepr, IgmpRepr } from '../wire/igmp.js';
import { emitIpv4, ipv4BufferLen, parseIpv4 } from '../wire/ipv4.js';
import type { Ipv4Repr } from '../wire/ipv4.js';

interface Captured {
  readonly at: number;
  readonly dstMac: string;
  readonly ip: Ipv4Repr;
  readonly igmp: IgmpRepr;
}

/** Two Stacks and a promiscuous sniffer port (which also plays the multicast router sending queries). */
function lan(opts: StackOptions = {}, seed = 7) {
  const clock = new ManualClock();
  const net = new MemoryNetwork({ clock, seed, latency: Duration.fromMillis(1) });
  const a = new Stack({ clock, seed: 1, ...opts });
  const b = new Stack({ clock, seed: 2, ...opts });
  a.addInterface(net.attach({ name: 'a' }), { address: '10.0.0.1/24' });
  b.addInterface(net.attach({ name: 'b' }), { address: '10.0.0.2/24' });
  const router = net.attach({ name: 'router', promiscuous: true });
  const captured: Captured[] = [];
  router.setReceiver((frame) => {
    const eth = parseEthernet(frame);
    if (!eth.ok || eth.value.ethertype !== EtherType.Ipv4) return;
    const ip = parseIpv4(eth.value.payload);
    if (!ip.ok || ip.value.protocol !== 2) return;
    const igmp = parseIgmp(ip.value.payload);
    if (!igmp.ok) throw new Error(`bad IGMP on the wire: ${igmp.reason}`);
    captured.push({ at: Duration.toMillis(clock.now() as number as Duration), dstMac: formatMac(eth.value.dst), ip: ip.value, igmp: igmp.value });
  });
  return { clock, net, a, b, router, captured };
}

async function run(clock: ManualClock, ms: number): Promise<void> {
  const step = Duration.fromMillis(1);
  for (let t = 0; t < ms; t++) {
    clock.advance(step);
    if (t % 50 === 0) await new Promise<void>((r) => setTimeout(r, 0));
  }
  await new Promise<void>((r) => setTimeout(r, 0));
}

function sendQuery(router: MemoryLink, q: IgmpQueryRepr, dst = '224.0.0.1'): void {
  const igmp = new Uint8Array(igmpBufferLen(q));
  emitIgmp(q, igmp);
  const ip: Ipv4Repr = {
    src: ipv4('10.0.0.254'),
    dst: ipv4(dst),
    protocol: 2,
    ttl: 1,
    dscp: 0x30,
    ecn: 0,
    identification: 1,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    options: ROUTER_ALERT_OPTION,
    payload: igmp,
  };
  const ipBytes = new Uint8Array(ipv4BufferLen(ip));
  emitIpv4(ip, ipBytes);
  const d = ipv4(dst);
  const eth = { dst: 0x01005e000000 + (d & 0x7fffff), src: router.mac, ethertype: EtherType.Ipv4, payload: ipBytes };
  const frame = new Uint8Array(ethernetBufferLen(eth));
  emitEthernet(eth, frame);
  router.send(frame);
}

function v3Query(group = '0.0.0.0', maxRespCode = 100, sources: string[] = []): IgmpQueryRepr {
  return {
    type: IgmpType.MembershipQuery,
    version: 3,
    maxRespCode,
    group: ipv4(group),
    suppressRouterSide: false,
    robustness: 2,
    queryIntervalCode: 125,
    sources: sources.map(ipv4),
  };
}

function v2Query(group = '0.0.0.0', maxRespCode = 100): IgmpQueryRepr {
  return { type: IgmpType.MembershipQuery, version: 2, maxRespCode, group: ipv4(group), suppressRouterSide: false, robustness: 0, queryIntervalCode: 0, sources: [] };
}

function join(stack: Stack, group: string): number {
  const fd = stack.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
  stack.sys.setsockopt(fd, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, { multiaddr: group });
  return fd;
}

/** A compact description of a report: "v3 TO_EX 239.1.2.3" etc. */
function describe3(c: Captured): string {
  const m = c.igmp;
  const names: Record<number, string> = { 1: 'IS_IN', 2: 'IS_EX', 3: 'TO_IN', 4: 'TO_EX' };
  switch (m.type) {
    case IgmpType.V3MembershipReport:
      return `v3 ${m.records.map((r) => `${names[r.recordType] ?? r.recordType} ${formatIpv4(r.group)}${r.sources.length > 0 ? ` {${r.sources.map(formatIpv4).join(',')}}` : ''}`).join('; ')} -> ${formatIpv4(c.ip.dst)}`;
    case IgmpType.V2MembershipReport:
      return `v2 report ${formatIpv4(m.group)} -> ${formatIpv4(c.ip.dst)}`;
    case IgmpType.V2LeaveGroup:
      return `v2 leave ${formatIpv4(m.group)} -> ${formatIpv4(c.ip.dst)}`;
    default:
      return `type ${m.type}`;
  }
}

function from(c: readonly Captured[], host: string): Captured[] {
  return c.filter((x) => formatIpv4(x.ip.src) === host);
}

describe('IGMP host (RFC 3376, RFC 2236) over a MemoryNetwork', () => {
  it('v3: a join sends Robustness (2) TO_EX reports to 224.0.0.22 with TTL 1 and Router Alert; the last leave sends TO_IN twice', async () => {
    const { clock, a, captured } = lan();
    const fd = join(a, '239.1.2.3');
    await run(clock, 1500);
    const joins = from(captured, '10.0.0.1');
    expect(joins.map(describe3)).toEqual(['v3 TO_EX 239.1.2.3 -> 224.0.0.22', 'v3 TO_EX 239.1.2.3 -> 224.0.0.22']);
    for (const c of joins) {
      expect(c.ip.ttl).toBe(1);
      expect([...c.ip.options]).toEqual([0x94, 0x04, 0, 0]);
      expect(c.dstMac).toBe('01:00:5e:00:00:16');
    }
    // The first at once (plus 1 ms of wire latency), the retransmission within the 1 s Unsolicited Report Interval.
    expect(joins[0]!.at).toBeLessThanOrEqual(2);
    expect(joins[1]!.at - joins[0]!.at).toBeLessThanOrEqual(1001);
    // A second socket joining the same group is not news to the network.
    const fd2 = join(a, '239.1.2.3');
    await run(clock, 1500);
    expect(from(captured, '10.0.0.1')).toHaveLength(2);
    a.sys.close(fd2);
    await run(clock, 1500);
    expect(from(captured, '10.0.0.1')).toHaveLength(2);
    a.sys.close(fd);
    await run(clock, 1500);
    expect(from(captured, '10.0.0.1').slice(2).map(describe3)).toEqual(['v3 TO_IN 239.1.2.3 -> 224.0.0.22', 'v3 TO_IN 239.1.2.3 -> 224.0.0.22']);
    expect(a.stats.get('igmp.out-reports')).toBe(4);
  });

  it('v3: answers a general query with one IS_EX report for all groups within Max Resp Time, and a group-specific query for that group', async () => {
    const { clock, a, router, captured } = lan();
    join(a, '239.1.2.3');
    join(a, '239.4.5.6');
    await run(clock, 3000);
    captured.length = 0;
    const t0 = Duration.toMillis(clock.now() as number as Duration);
    sendQuery(router, v3Query('0.0.0.0', 20)); // 2 s
    await run(clock, 3000);
    const answers = from(captured, '10.0.0.1');
    expect(answers.map(describe3)).toEqual(['v3 IS_EX 239.1.2.3; IS_EX 239.4.5.6 -> 224.0.0.22']);
    expect(answers[0]!.at - t0).toBeLessThanOrEqual(2002);
    captured.length = 0;
    sendQuery(router, v3Query('239.4.5.6', 10), '239.4.5.6');
    sendQuery(router, v3Query('239.9.9.9', 10), '239.9.9.9'); // not a member: never reaches IGMP
    await run(clock, 2000);
    expect(from(captured, '10.0.0.1').map(describe3)).toEqual(['v3 IS_EX 239.4.5.6 -> 224.0.0.22']);
    captured.length = 0;
    sendQuery(router, v3Query('239.4.5.6', 10, ['10.9.9.9']), '239.4.5.6');
    await run(clock, 2000);
    expect(from(captured, '10.0.0.1').map(describe3)).toEqual(['v3 IS_IN 239.4.5.6 {10.9.9.9} -> 224.0.0.22']);
    expect(a.stats.get('igmp.in-queries')).toBe(3);
  });

  it('falls back to v2 when a v2 querier is heard (RFC 3376 7.2.1), and returns to v3 after the Older Version Querier Present timeout', async () => {
    const { clock, a, router, captured } = lan();
    const fd = join(a, '239.1.2.3');
    await run(clock, 3000);
    captured.length = 0;
    sendQuery(router, v2Query('0.0.0.0', 50));
    await run(clock, 6000);
    expect(from(captured, '10.0.0.1').map(describe3)).toEqual(['v2 report 239.1.2.3 -> 239.1.2.3']);
    expect(from(captured, '10.0.0.1')[0]!.dstMac).toBe('01:00:5e:01:02:03');
    captured.length = 0;
    a.sys.close(fd);
    await run(clock, 100);
    expect(from(captured, '10.0.0.1').map(describe3)).toEqual(['v2 leave 239.1.2.3 -> 224.0.0.2']);
    // 2 * 125 s + 10 s after the v2 query, the interface is back to v3.
    clock.advance(Duration.fromSecs(260));
    await run(clock, 10);
    captured.length = 0;
    join(a, '239.7.7.7');
    await run(clock, 2000);
    expect(from(captured, '10.0.0.1').map(describe3)).toEqual(['v3 TO_EX 239.7.7.7 -> 224.0.0.22', 'v3 TO_EX 239.7.7.7 -> 224.0.0.22']);
  });

  it('v2 (configured): unsolicited reports to the group, report suppression by another member, leave only by the last reporter', async () => {
    const { clock, a, b, router, captured } = lan({ syscalls: { igmp: { version: 2 } } });
    const fa = join(a, '239.1.2.3');
    const fb = join(b, '239.1.2.3');
    await run(clock, 25_000);
    expect(from(captured, '10.0.0.1').map(describe3)).toEqual(['v2 report 239.1.2.3 -> 239.1.2.3', 'v2 report 239.1.2.3 -> 239.1.2.3']);
    captured.length = 0;
    // Both members get the query; whoever's random delay ends first answers, the other hears it and stays quiet.
    sendQuery(router, v2Query('239.1.2.3', 100), '239.1.2.3');
    await run(clock, 11_000);
    expect(captured.map(describe3)).toEqual(['v2 report 239.1.2.3 -> 239.1.2.3']);
    expect(a.stats.get('igmp.in-reports') + b.stats.get('igmp.in-reports')).toBeGreaterThanOrEqual(1);
    // RFC 2236 3: only the host that sent the last report sends a Leave Group.
    const reporter = formatIpv4(captured[0]!.ip.src);
    captured.length = 0;
    a.sys.close(fa);
    b.sys.close(fb);
    await run(clock, 100);
    expect(captured.map((c) => `${formatIpv4(c.ip.src)} ${describe3(c)}`)).toEqual([`${reporter} v2 leave 239.1.2.3 -> 224.0.0.2`]);
  });

  it('delays are drawn from the stack Rng: same seeds, same report times', async () => {
    const times = async (): Promise<number[]> => {
      const { clock, a, router, captured } = lan();
      join(a, '239.1.2.3');
      await run(clock, 2000);
      sendQuery(router, v3Query('0.0.0.0', 100));
      await run(clock, 11_000);
      return captured.map((c) => c.at);
    };
    expect(await times()).toEqual(await times());
  });

  it('a multicast sender and receiver on two stacks', async () => {
    const { clock, a, b } = lan();
    const rx = b.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    b.sys.bind(rx, { address: '0.0.0.0', port: 5000 });
    b.sys.setsockopt(rx, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, { multiaddr: '239.1.2.3' });
    const tx = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    const buf = new Uint8Array(64);
    const got = b.sys.recvfrom(rx, buf, 0);
    await a.sys.sendto(tx, new TextEncoder().encode('to the group'), 0, { address: '239.1.2.3', port: 5000 });
    await run(clock, 10);
    const r = await got;
    expect(new TextDecoder().decode(buf.subarray(0, r.bytesRead))).toBe('to the group');
    expect(r.address.address).toBe('10.0.0.1');
    // After the drop, the group's datagrams are filtered out again.
    b.sys.setsockopt(rx, C.IPPROTO_IP, C.IP_DROP_MEMBERSHIP, { multiaddr: '239.1.2.3' });
    await a.sys.sendto(tx, new TextEncoder().encode('again'), 0, { address: '239.1.2.3', port: 5000 });
    await run(clock, 10);
    await expect(b.sys.recv(rx, buf, C.MSG_DONTWAIT)).rejects.toMatchObject({ code: 'EAGAIN' });
    expect(b.stats.get('ip.drop.not-subscribed')).toBeGreaterThanOrEqual(1);
  });
});


