// The IP layer's per-connection route cache (dst-cache.ts, Linux
// sk_dst_cache): sends through a slot reuse what the first one resolved, and
// every change a route depends on (routes, addresses, neighbour mappings,
// learnt path MTUs) must show on the very next send. Each case below fails
// if the change does not invalidate the cached route.
import { describe, expect, it } from 'vitest';
import type { MemoryLink } from '../link/memory.js';
import { MemoryNetwork } from '../link/memory.js';
import { VirtualClock } from '../sim/virtual-clock.js';
import { constants as C } from '../syscall/constants.js';
import { Duration } from '../time/duration.js';
import { ManualClock } from '../time/manual-clock.js';
import type { Ipv4Address, MacAddress } from '../wire/address.js';
import { ipv4, readMac } from '../wire/address.js';
import type { DstCacheSlot, IpRoute, IpSendStatus } from './transport.js';
import { Stack } from './stack.js';

const A = ipv4('10.0.0.1');
const B = ipv4('10.0.0.2');
const GW = ipv4('10.0.0.3');
const A2 = ipv4('10.0.0.5');
/** An experimental protocol number (RFC 3692): no transport handles it. */
const PROTO = 253;

interface Captured {
  readonly dstMac: MacAddress;
  readonly ethertype: number;
  /** IPv4 source and destination; 0 for ARP. */
  readonly src: Ipv4Address;
  readonly dst: Ipv4Address;
  /** The IPv4 header length (IHL * 4); 0 for ARP. */
  readonly headerLen: number;
}

/** Records what `link` sends (a switch delivers unicast to its port only, so no other port could see it all). */
function capture(link: MemoryLink): Captured[] {
  const out: Captured[] = [];
  const send = link.send.bind(link);
  link.send = (f: Uint8Array): void => {
    const ethertype = (f[12]! << 8) | f[13]!;
    const ip = ethertype === 0x0800;
    const word = (at: number): number => ((f[at]! << 24) | (f[at + 1]! << 16) | (f[at + 2]! << 8) | f[at + 3]!) >>> 0;
    out.push({ dstMac: readMac(f, 0), ethertype, src: ip ? word(26) : 0, dst: ip ? word(30) : 0, headerLen: ip ? (f[14]! & 0x0f) * 4 : 0 });
    send(f);
  };
  return out;
}

/** Stack A (10.0.0.1/24) on a network, every frame it sends recorded, and two more ports standing for B and the gateway. */
function setup() {
  const clock = new ManualClock();
  const net = new MemoryNetwork({ clock, seed: 5 });
  const stack = new Stack({ clock, seed: 9 });
  const linkA = net.attach({ name: 'a' });
  const tap = capture(linkA);
  const iface = stack.addInterface(linkA, { address: '10.0.0.1/24' });
  const macB = net.attach({ name: 'b' }).mac;
  const macGw = net.attach({ name: 'gw' }).mac;
  const neighbours = iface.neighbours!;
  neighbours.addStatic(B, macB);
  neighbours.addStatic(GW, macGw);
  const slot: DstCacheSlot = { dstCache: undefined };
  const routes: IpRoute[] = [];
  /** One datagram to `dst` through `slot`, delivered; the status. */
  const send = (len = 20, src?: Ipv4Address, dst = B): IpSendStatus => {
    const status = stack.ip.send(clock.now(), { dst, protocol: PROTO, dstCache: slot, ...(src === undefined ? {} : { src }) }, len, (_p, r) => {
      routes.push({ ...r });
    });
    clock.advance(Duration.fromMillis(1));
    return status;
  };
  const lastIp = (): Captured => tap.filter((c) => c.ethertype === 0x0800).at(-1)!;
  return { clock, stack, iface, tap, macB, macGw, neighbours, slot, routes, send, lastIp };
}

describe('per-connection route cache', () => {
  it('keeps the route a send resolved and shares it between senders asking alike', () => {
    const t = setup();
    expect(t.send(20, A)).toBe('sent');
    const cached = t.slot.dstCache;
    expect(cached).toBeDefined();
    expect(t.send(20, A)).toBe('sent');
    expect(t.slot.dstCache).toBe(cached);
    const other: DstCacheSlot = { dstCache: undefined };
    t.stack.ip.send(t.clock.now(), { dst: B, src: A, protocol: PROTO, dstCache: other }, 4, () => undefined);
    expect(other.dstCache).toBe(cached);
    // Same frames either way: to B's MAC, from A.
    expect(t.tap.filter((c) => c.ethertype === 0x0800).map((c) => [c.dstMac, c.src, c.dst])).toEqual([
      [t.macB, A, B],
      [t.macB, A, B],
      [t.macB, A, B],
    ]);
    expect(t.routes.map((r) => r.nextHop)).toEqual([B, B]);
  });

  it('sends a datagram with IP options in full past a cached route, and caches no route for it', () => {
    const t = setup();
    const ROUTER_ALERT = new Uint8Array([0x94, 0x04, 0x00, 0x00]); // RFC 2113
    expect(t.send()).toBe('sent');
    expect(t.send()).toBe('sent');
    expect(t.lastIp().headerLen).toBe(20);
    // The cached path writes a plain 20-byte header: a request with options must not take it.
    expect(t.stack.ip.send(t.clock.now(), { dst: B, protocol: PROTO, dstCache: t.slot, options: ROUTER_ALERT }, 20, () => undefined)).toBe('sent');
    expect(t.lastIp().headerLen).toBe(24);
    const fresh: DstCacheSlot = { dstCache: undefined };
    expect(t.stack.ip.send(t.clock.now(), { dst: B, protocol: PROTO, dstCache: fresh, options: ROUTER_ALERT }, 20, () => undefined)).toBe('sent');
    expect(t.lastIp().headerLen).toBe(24);
    expect(fresh.dstCache).toBeUndefined();
  });

  it('takes a route added between two sends', () => {
    const t = setup();
    t.send();
    t.send();
    expect(t.lastIp().dstMac).toBe(t.macB);
    t.stack.addRoute('10.0.0.2/32', { gateway: '10.0.0.3' });
    t.send();
    expect(t.lastIp().dstMac).toBe(t.macGw);
    expect(t.routes.at(-1)!.nextHop).toBe(GW);
    expect(t.stack.removeRoute('10.0.0.2/32', '10.0.0.3')).toBe(true);
    t.send();
    expect(t.lastIp().dstMac).toBe(t.macB);
  });

  it('sees an address removed between two sends: the source is no longer ours', () => {
    const t = setup();
    t.stack.addAddress(t.iface, '10.0.0.5/24');
    expect(t.send(20, A2)).toBe('sent');
    expect(t.send(20, A2)).toBe('sent');
    expect(t.lastIp().src).toBe(A2);
    t.iface.removeAddress(A2);
    expect(t.send(20, A2)).toBe('EADDRNOTAVAIL');
    t.stack.addAddress(t.iface, '10.0.0.5/24');
    expect(t.send(20, A2)).toBe('sent');
    expect(t.lastIp().src).toBe(A2);
  });

  it('follows a neighbour mapping changed or removed between two sends', () => {
    const t = setup();
    t.send();
    t.send();
    expect(t.macGw).not.toBe(t.macB);
    expect(t.lastIp().dstMac).toBe(t.macB);
    t.neighbours.addStatic(B, t.macGw);
    t.send();
    expect(t.lastIp().dstMac).toBe(t.macGw);
    t.neighbours.delete(B);
    const before = t.tap.length;
    expect(t.send()).toBe('queued');
    // No IPv4 frame to a stale MAC: a broadcast ARP request for B instead.
    expect(t.tap.slice(before).map((c) => [c.ethertype, c.dstMac])).toEqual([[0x0806, 0xffffffffffff]]);
  });

  it('starts re-verification (DELAY) on the first send after a learnt mapping went STALE', () => {
    const t = setup();
    t.neighbours.delete(B);
    t.neighbours.update(t.clock.now(), B, t.macB, true, true); // a solicited reply: REACHABLE
    t.stack.wake(); // the stack's timer learns the entry's deadline
    t.send();
    t.send();
    const stateOfB = () => t.neighbours.entries().find((e) => e.ip === B)!.state;
    expect(stateOfB()).toBe('reachable');
    t.clock.advance(Duration.fromSecs(31)); // the stack's timer: REACHABLE -> STALE
    expect(stateOfB()).toBe('stale');
    t.send();
    expect(stateOfB()).toBe('delay');
    expect(t.lastIp().dstMac).toBe(t.macB);
  });

  it('applies a path MTU learnt between two sends, and drops it again when it expires', () => {
    const t = setup();
    expect(t.send(1400)).toBe('sent');
    expect(t.send(1400)).toBe('sent');
    expect(t.routes.at(-1)!.mtu).toBe(1500);
    t.stack.pathMtu.update(t.clock.now(), B, 1000, 1420, 1500);
    // DF is set by default: the datagram no longer fits.
    expect(t.send(1400)).toBe('EMSGSIZE');
    expect(t.send(100)).toBe('sent');
    expect(t.routes.at(-1)!.mtu).toBe(1000);
    expect(t.send(100)).toBe('sent');
    expect(t.routes.at(-1)!.mtu).toBe(1000);
    t.clock.advance(Duration.fromSecs(601)); // RFC 1191 6.3: the estimate expires
    // A datagram that fits the learnt MTU too: only the cached route's expiry sends it past the cache.
    expect(t.send(100)).toBe('sent');
    expect(t.routes.at(-1)!.mtu).toBe(1500);
    expect(t.send(1400)).toBe('sent');
    expect(t.routes.at(-1)!.mtu).toBe(1500);
  });

  it('refuses a datagram past the MTU of a cached route as it would without one (DF: EMSGSIZE)', () => {
    const t = setup();
    expect(t.send(100)).toBe('sent');
    expect(t.send(100)).toBe('sent');
    const sent = t.tap.length;
    // 20 + 1481 = 1501 bytes, one past the link MTU.
    expect(t.send(1481)).toBe('EMSGSIZE');
    expect(t.tap.length).toBe(sent);
    expect(t.send(1480)).toBe('sent');
    expect(t.tap.length).toBe(sent + 1);
  });
});

describe('a TCP connection with a cached route', () => {
  it('sends its next segment to the new MAC after a neighbour change', async () => {
    const clock = new VirtualClock();
    const net = new MemoryNetwork({ clock, seed: 3 });
    const a = new Stack({ clock, seed: 1 });
    const b = new Stack({ clock, seed: 2 });
    const linkA = net.attach({ name: 'a' });
    const tap = capture(linkA);
    const ifaceA = a.addInterface(linkA, { address: '10.0.0.1/24' });
    const linkB = net.attach({ name: 'b' });
    b.addInterface(linkB, { address: '10.0.0.2/24' });
    const tapLink = net.attach({ name: 'tap', promiscuous: true });
    const lfd = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    b.sys.bind(lfd, { address: '0.0.0.0', port: 7 });
    b.sys.listen(lfd, 1);
    const fd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await a.sys.connect(fd, { address: '10.0.0.2', port: 7 });
    const { fd: sfd } = await b.sys.accept(lfd);
    const buf = new Uint8Array(16);
    await a.sys.write(fd, new Uint8Array([1]));
    expect(await b.sys.read(sfd, buf)).toBe(1);
    const fromA = () => tap.filter((c) => c.ethertype === 0x0800 && c.src === A);
    expect(fromA().at(-1)!.dstMac).toBe(linkB.mac);
    // The mapping for B now points at the tap: A's next segment must go there.
    ifaceA.neighbours!.addStatic(B, tapLink.mac);
    const before = fromA().length;
    await a.sys.write(fd, new Uint8Array([2]));
    await clock.sleep(Duration.fromMillis(10));
    const after = fromA().slice(before);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((c) => c.dstMac === tapLink.mac)).toBe(true);
    a.close();
    b.close();
  });
});

describe('the receive side', () => {
  it('stops taking packets for an address removed between two packets (the last local destination is not kept past it)', () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ clock, seed: 7 });
    const a = new Stack({ clock, seed: 1 });
    const b = new Stack({ clock, seed: 2 });
    const ifaceA = a.addInterface(net.attach({ name: 'a' }), { address: '10.0.0.1/24' });
    const linkB = net.attach({ name: 'b' });
    b.addInterface(linkB, { address: '10.0.0.2/24' });
    a.addAddress(ifaceA, '10.0.0.5/24');
    b.interfaces[1]!.neighbours!.addStatic(A2, ifaceA.mac!);
    const toA2 = (): void => {
      expect(b.ip.send(clock.now(), { dst: A2, protocol: PROTO }, 8, () => undefined)).toBe('sent');
      clock.advance(Duration.fromMillis(1));
    };
    const count = (name: string): number => a.stats.snapshot()[name] ?? 0;
    toA2();
    toA2();
    // Taken as ours: no transport for the protocol, so counted there.
    expect(count('ip.in-unknown-protos')).toBe(2);
    ifaceA.removeAddress(A2);
    toA2();
    expect(count('ip.in-unknown-protos')).toBe(2);
    expect(count('ip.drop.not-for-us')).toBe(1);
  });
});
