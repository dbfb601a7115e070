import { describe, expect, it } from 'vitest';
import type { IcmpErrorReport } from '../icmp/icmp-error.js';
import { MemoryNetwork } from '../link/memory.js';
import type { MemoryLink } from '../link/memory.js';
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { ManualClock } from '../time/manual-clock.js';
import type { Ipv4Address } from '../wire/address.js';
import { formatIpv4, ipv4 } from '../wire/address.js';
import { toHex } from '../wire/bytes.js';
import { bytes } from '../wire/bytes.fixtures.js';
import { EtherType, emitEthernetHeader } from '../wire/ethernet.js';
import { Stack } from './stack.js';
import type { IpPacketIn, IpSendStatus, IpSender, TransportProtocol } from './transport.js';

const RAW = 253; // RFC 3692 experimental protocol number

/** An opaque-payload transport for tests: records what arrives and the ICMP errors it is told about. */
class RawProtocol implements TransportProtocol {
  readonly protocol = RAW;
  readonly received: { src: Ipv4Address; payload: Uint8Array }[] = [];
  readonly errors: IcmpErrorReport[] = [];
  constructor(readonly stack: Stack) {
    stack.registerProtocol(this);
  }
  input(_now: Instant, p: IpPacketIn): void {
    this.received.push({ src: p.ip.src, payload: p.ip.payload.slice() });
  }
  icmpError(_now: Instant, report: IcmpErrorReport): void {
    this.errors.push(report);
  }
  poll(_now: Instant, _out: IpSender): void {}
  pollAt(): Instant | undefined {
    return undefined;
  }
  send(dst: string, payload: Uint8Array, dontFragment = false): IpSendStatus {
    const status = this.stack.ip.send(this.stack.clock.now(), { dst: ipv4(dst), protocol: RAW, dontFragment }, payload.length, (buf) =>
      buf.set(payload),
    );
    this.stack.wake();
    return status;
  }
}

function lan(seed = 7, opts: ConstructorParameters<typeof MemoryNetwork>[0] extends infer O ? Partial<O> : never = {}) {
  const clock = new ManualClock();
  const net = new MemoryNetwork({ clock, seed, latency: Duration.fromMillis(1), ...opts });
  const a = new Stack({ clock, seed: 1 });
  const b = new Stack({ clock, seed: 2 });
  const la = net.attach({ name: 'a' });
  const lb = net.attach({ name: 'b' });
  a.addInterface(la, { address: '10.0.0.1/24' });
  b.addInterface(lb, { address: '10.0.0.2/24' });
  return { clock, net, a, b, la, lb };
}

async function settle(clock: ManualClock, d = Duration.fromSecs(5)): Promise<void> {
  // Let promise callbacks run between timer batches.
  const step = Duration.fromMillis(10);
  for (let t = 0; t < d; t += step) {
    clock.advance(step);
    await Promise.resolve();
  }
}

describe('Stack', () => {
  it('pings both ways over ARP, then uses the cache', async () => {
    const { clock, a, b } = lan();
    const p1 = a.ping('10.0.0.2', { count: 2, interval: Duration.fromMillis(100) });
    await settle(clock, Duration.fromSecs(1));
    const r1 = await p1;
    expect(r1.received).toBe(2);
    // First: ARP request + reply + echo + reply = 4 hops of 1 ms; second: 2 ms.
    expect(r1.rtts).toEqual([4000, 2000]);
    expect(a.stats.get('arp.out-requests')).toBe(1);
    const p2 = b.ping('10.0.0.1');
    await settle(clock, Duration.fromSecs(1));
    expect((await p2).rtts).toEqual([2000]); // b learned a from its request
    expect(b.stats.get('arp.out-requests')).toBe(0);
    expect(b.stats.get('icmp.out-echo-reps')).toBe(2);
  });

  it('expires ARP entries and resolves again', async () => {
    const { clock, a } = lan();
    const p = a.ping('10.0.0.2');
    await settle(clock, Duration.fromSecs(1));
    await p;
    // NUD (neighbour-cache.ts): REACHABLE for 30 s, then STALE; unused for 60 s more, forgotten.
    await settle(clock, Duration.fromSecs(91));
    expect(a.stats.get('arp.expired')).toBe(1);
    const p2 = a.ping('10.0.0.2');
    await settle(clock, Duration.fromSecs(1));
    expect((await p2).received).toBe(1);
    expect(a.stats.get('arp.out-requests')).toBe(2);
  });

  it('counts pending-queue overflow and reports host unreachable after the ARP retries', async () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ clock, seed: 1 });
    const a = new Stack({ clock, seed: 1, neighbour: { maxPending: 2 } });
    a.addInterface(net.attach(), { address: '10.0.0.1/24' });
    const raw = new RawProtocol(a);
    expect(raw.send('10.0.0.9', bytes(10, 1))).toBe('queued');
    expect(raw.send('10.0.0.9', bytes(10, 2))).toBe('queued');
    expect(raw.send('10.0.0.9', bytes(10, 3))).toBe('dropped');
    expect(a.stats.get('arp.queue-dropped')).toBe(1);
    await settle(clock, Duration.fromSecs(4));
    expect(a.stats.get('arp.out-requests')).toBe(3);
    expect(a.stats.get('arp.resolve-failed')).toBe(1);
    expect(raw.errors.map((e) => [e.errno, e.local, formatIpv4(e.quote.dst)])).toEqual([
      ['EHOSTUNREACH', true, '10.0.0.9'],
      ['EHOSTUNREACH', true, '10.0.0.9'],
    ]);
    expect(a.nextPollAt).toBeUndefined(); // idle: no timer left armed
  });

  it('delivers over loopback, to 127.0.0.1 and to its own address', async () => {
    const { clock, a } = lan();
    const raw = new RawProtocol(a);
    expect(raw.send('127.0.0.1', bytes(100, 1))).toBe('sent');
    expect(raw.send('10.0.0.1', bytes(70000 - 65000, 2))).toBe('sent');
    await settle(clock, Duration.fromMillis(10));
    expect(raw.received.map((r) => [formatIpv4(r.src), r.payload.length])).toEqual([
      ['127.0.0.1', 100],
      ['10.0.0.1', 5000],
    ]);
    const p = a.ping('127.0.0.1');
    await settle(clock, Duration.fromMillis(10));
    expect((await p).rtts).toEqual([0]);
  });

  it('fragments and reassembles datagrams of 1..65507 bytes, with duplication and reordering', async () => {
    const { clock, a, b, net } = lan(3);
    const ra = new RawProtocol(a);
    const rb = new RawProtocol(b);
    // Resolve ARP first, then impair the wire.
    const warm = a.ping('10.0.0.2');
    await settle(clock, Duration.fromMillis(20));
    expect((await warm).received).toBe(1);
    net.setImpairments({ duplicate: 0.2, reorder: 0.3, reorderDelay: Duration.fromMillis(3) });
    const sizes = [1, 100, 1472, 1473, 1480, 2961, 10_000, 30_000, 65_507];
    for (const n of sizes) expect(ra.send('10.0.0.2', bytes(n, n), false)).toBe('sent');
    await settle(clock, Duration.fromMillis(200));
    const got = new Map(rb.received.map((r) => [r.payload.length, r.payload]));
    for (const n of sizes) expect(got.get(n)).toEqual(bytes(n, n));
    expect(b.stats.get('ip.reasm-oks')).toBeGreaterThan(0);
    expect(b.reassembler.memory).toBe(0);
    expect(ra.send('10.0.0.2', bytes(2000, 1), true)).toBe('EMSGSIZE');
  });

  it('frees memory of datagrams that lose a fragment after the reassembly timeout', async () => {
    const { clock, a, b, net } = lan(5);
    const ra = new RawProtocol(a);
    const warm = a.ping('10.0.0.2');
    await settle(clock, Duration.fromMillis(20));
    expect((await warm).received).toBe(1);
    net.setImpairments({ loss: 0.3 });
    for (let i = 0; i < 10; i++) ra.send('10.0.0.2', bytes(20_000, i));
    await settle(clock, Duration.fromMillis(100));
    expect(b.reassembler.memory).toBeGreaterThan(0);
    net.setImpairments({ loss: 0 });
    await settle(clock, Duration.fromSecs(31));
    expect(b.reassembler.memory).toBe(0);
    expect(b.stats.get('ip.reasm-timeout')).toBeGreaterThan(0);
  });

  it('drops and counts malformed frames without throwing, and answers unknown protocols', async () => {
    // A wire declared untrusted: checksums are computed and verified.
    const { clock, a, b, la } = lan(7, { trusted: false });
    const warm = a.ping('10.0.0.2');
    await settle(clock, Duration.fromMillis(20));
    expect((await warm).received).toBe(1);
    const macB = b.interfaces[1]!.mac!;
    const send = (ipBytes: Uint8Array, type: number = EtherType.Ipv4): void => {
      const f = new Uint8Array(14 + ipBytes.length);
      emitEthernetHeader({ dst: macB, src: la.mac, ethertype: type }, f);
      f.set(ipBytes, 14);
      la.send(f);
    };
    const good = (proto: number): Uint8Array => {
      const h = new Uint8Array(28);
      h.set([0x45, 0, 0, 28, 0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += (h[i]! << 8) | h[i + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      const c = ~sum & 0xffff;
      h[10] = c >>> 8;
      h[11] = c & 0xff;
      return h;
    };
    const badSum = good(RAW);
    badSum[11]! ^= 0xff;
    send(badSum);
    send(new Uint8Array([0x45, 0, 0]));
    send(new Uint8Array([0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    send(new Uint8Array(30), 0x1234);
    send(good(99)); // no such protocol: ICMP protocol unreachable back to a
    await settle(clock, Duration.fromMillis(20));
    expect(b.stats.get('ip.drop.bad-checksum')).toBe(1);
    expect(b.stats.get('ip.drop.truncated')).toBe(1);
    expect(b.stats.get('ip.drop.bad-version')).toBe(1);
    expect(b.stats.get('link.drop.unknown-ethertype')).toBe(1);
    expect(b.stats.get('ip.in-unknown-protos')).toBe(1);
    expect(b.stats.get('icmp.out-dest-unreachs')).toBe(1);
    expect(a.stats.get('icmp.in-dest-unreachs')).toBe(1);
  });

  it('rate-limits ICMP errors per destination (burst 6, then 1 per second)', async () => {
    const { clock, a, b } = lan();
    const warm = a.ping('10.0.0.2');
    await settle(clock, Duration.fromMillis(20));
    expect((await warm).received).toBe(1);
    const probe = (): IpSendStatus => a.ip.send(clock.now(), { dst: ipv4('10.0.0.2'), protocol: 99 }, 4, () => {});
    for (let i = 0; i < 20; i++) probe();
    await settle(clock, Duration.fromMillis(20));
    expect(b.stats.get('icmp.out-dest-unreachs')).toBe(6);
    expect(b.stats.get('icmp.out-rate-limited')).toBe(14);
    await settle(clock, Duration.fromSecs(2));
    for (let i = 0; i < 5; i++) probe();
    await settle(clock, Duration.fromMillis(20));
    expect(b.stats.get('icmp.out-dest-unreachs')).toBe(8);
  });

  it('routes through a gateway stack that forwards, with TTL expiry reported', async () => {
    const clock = new ManualClock();
    const left = new MemoryNetwork({ clock, seed: 1, latency: Duration.fromMillis(1) });
    const right = new MemoryNetwork({ clock, seed: 2, latency: Duration.fromMillis(1), mtu: 576 });
    const a = new Stack({ clock, seed: 1 });
    const r = new Stack({ clock, seed: 2, forwarding: true });
    const c = new Stack({ clock, seed: 3 });
    a.addInterface(left.attach(), { address: '10.0.0.1/24', gateway: '10.0.0.254' });
    r.addInterface(left.attach(), { address: '10.0.0.254/24' });
    r.addInterface(right.attach(), { address: '192.168.1.254/24' });
    c.addInterface(right.attach(), { address: '192.168.1.2/24', gateway: '192.168.1.254' });
    const p = a.ping('192.168.1.2', { size: 1000 }); // fragmented by the router onto the 576-byte link
    await settle(clock, Duration.fromSecs(1));
    expect((await p).received).toBe(1);
    expect(r.stats.get('ip.forw-datagrams')).toBeGreaterThanOrEqual(2);
    expect(r.stats.get('ip.frag-oks')).toBeGreaterThanOrEqual(1);
    const raw = new RawProtocol(a);
    a.ip.send(clock.now(), { dst: ipv4('192.168.1.2'), protocol: RAW, ttl: 1 }, 8, () => {});
    a.ip.send(clock.now(), { dst: ipv4('192.168.1.2'), protocol: RAW, dontFragment: true }, 1000, () => {});
    a.wake();
    await settle(clock, Duration.fromMillis(50));
    expect(raw.errors.map((e) => [e.type, e.code, e.errno])).toEqual([
      [11, 0, 'EHOSTUNREACH'],
      [3, 4, 'EMSGSIZE'],
    ]);
    expect(raw.errors[1]!.pathMtu).toBe(576);
    expect(a.ip.route(ipv4('192.168.1.2'))?.mtu).toBe(576);
  });

  it('fails a ping with ENETUNREACH when there is no route', async () => {
    const { clock, a } = lan();
    const p = a.ping('8.8.8.8');
    const check = expect(p).rejects.toMatchObject({ code: 'ENETUNREACH', syscall: 'sendto' });
    await settle(clock, Duration.fromMillis(10));
    await check;
  });

  it('replays a whole run byte for byte from the same seeds', async () => {
    async function run(): Promise<string[]> {
      const { clock, a, b, net, la } = lan(11, { jitter: Duration.fromMillis(2), duplicate: 0.1, reorder: 0.1 });
      const log: string[] = [];
      const inner = la.send.bind(la);
      la.send = (f: Uint8Array) => {
        log.push(`${clock.now()} ${toHex(f)}`);
        inner(f);
      };
      void net;
      const ra = new RawProtocol(a);
      new RawProtocol(b);
      void a.ping('10.0.0.2', { count: 3, interval: Duration.fromMillis(50) });
      await settle(clock, Duration.fromMillis(100));
      ra.send('10.0.0.2', bytes(5000, 1));
      await settle(clock, Duration.fromMillis(500));
      return log;
    }
    const one = await run();
    const two = await run();
    expect(one.length).toBeGreaterThan(5);
    expect(two).toEqual(one);
  });
});

export type { MemoryLink };
