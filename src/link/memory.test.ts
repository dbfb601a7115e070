import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { ManualClock } from '../time/manual-clock.js';
import type { MacAddress } from '../wire/address.js';
import { MAC_BROADCAST, formatMac, isMacMulticast, mac, writeMac } from '../wire/address.js';
import { toHex } from '../wire/bytes.js';
import { defineLinkConformance } from './link-conformance.js';
import { LinkType } from './link.js';
import type { MemoryLink } from './memory.js';
import { MemoryNetwork, pointToPoint } from './memory.js';
import { MemoryCounter } from './memory-port.js';
import type { MemoryNetworkOptions } from './memory-switch.js';
import { PcapWriter, readPcap } from './pcap.js';
import { PcapLink } from './pcap-link.js';

const ms = Duration.fromMillis;

/** An Ethernet frame with a 4-byte sequence number in the payload (local experimental EtherType). */
function frame(dst: MacAddress, src: MacAddress, seq: number, payloadLen = 46): Uint8Array {
  const f = new Uint8Array(14 + payloadLen);
  writeMac(f, 0, dst);
  writeMac(f, 6, src);
  f[12] = 0x88;
  f[13] = 0xb5;
  if (payloadLen >= 4) {
    f[14] = seq >>> 24;
    f[15] = (seq >>> 16) & 0xff;
    f[16] = (seq >>> 8) & 0xff;
    f[17] = seq & 0xff;
  }
  for (let i = 18; i < f.length; i++) f[i] = (seq + i) & 0xff;
  return f;
}

function seqOf(f: Uint8Array): number {
  return ((f[14]! << 24) | (f[15]! << 16) | (f[16]! << 8) | f[17]!) >>> 0;
}

interface Arrival {
  readonly at: Instant;
  readonly frame: Uint8Array;
}

function collect(clock: ManualClock, link: MemoryLink): Arrival[] {
  const out: Arrival[] = [];
  link.setReceiver((f) => out.push({ at: clock.now(), frame: f }));
  return out;
}

function net(options: Partial<MemoryNetworkOptions> = {}): { clock: ManualClock; network: MemoryNetwork } {
  const clock = new ManualClock();
  return { clock, network: new MemoryNetwork({ clock, seed: 1, ...options }) };
}

/** A sender `a` and two promiscuous ports `c`, `d` whose arrivals are collected: for following a MAC between c and d. */
function senderAndTwoListeners() {
  const { clock, network } = net();
  const a = network.attach();
  const c = network.attach({ promiscuous: true });
  const d = network.attach({ promiscuous: true });
  return { clock, network, a, c, d, rc: collect(clock, c), rd: collect(clock, d) };
}

defineLinkConformance(
  'MemoryLink (point to point)',
  () => {
    const clock = new ManualClock();
    const [a, b] = pointToPoint({ clock, seed: 7 });
    return { sender: a, receiver: b, flush: () => void clock.runUntilIdle() };
  },
  { describe, it },
);

defineLinkConformance(
  'MemoryLink (switch with latency, jitter, bandwidth and a bystander)',
  () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ clock, seed: 8, latency: ms(3), jitter: ms(2), bandwidth: 100e6, mtu: 9000 });
    const a = network.attach();
    const b = network.attach();
    network.attach().setReceiver(() => undefined);
    return { sender: a, receiver: b, flush: () => void clock.runUntilIdle() };
  },
  { describe, it },
);

defineLinkConformance(
  'PcapLink around MemoryLink',
  () => {
    const clock = new ManualClock();
    const [a, b] = pointToPoint({ clock, seed: 9, latency: ms(1) });
    const writer = new PcapWriter(() => undefined, { linkType: LinkType.Ethernet });
    return {
      sender: new PcapLink(a, { writer, clock }),
      receiver: new PcapLink(b, { writer, clock }),
      flush: () => void clock.runUntilIdle(),
    };
  },
  { describe, it },
);

describe('MemoryNetwork: addresses', () => {
  it('draws locally administered unicast MACs, unique and reproducible from the seed', () => {
    const macs = (seed: number): MacAddress[] => {
      const network = new MemoryNetwork({ clock: new ManualClock(), seed });
      return Array.from({ length: 20 }, () => network.attach().mac);
    };
    const first = macs(5);
    expect(macs(5)).toEqual(first);
    expect(macs(6)).not.toEqual(first);
    expect(new Set(first).size).toBe(20);
    for (const m of first) {
      const firstOctet = Math.floor(m / 2 ** 40);
      expect(firstOctet & 0x02).toBe(0x02);
      expect(isMacMulticast(m)).toBe(false);
      expect(formatMac(m)).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    }
  });

  it('can take its randomness from a given SeededRng instead of a seed', () => {
    const macsFrom = (rng: SeededRng): MacAddress[] => {
      const network = new MemoryNetwork({ clock: new ManualClock(), rng });
      return [network.attach().mac, network.attach().mac];
    };
    expect(macsFrom(new SeededRng(1).fork('lan'))).toEqual(macsFrom(new SeededRng(1).fork('lan')));
    expect(macsFrom(new SeededRng(1).fork('lan'))).not.toEqual(macsFrom(new SeededRng(1).fork('wan')));
  });

  it('uses a given MAC and rejects group addresses', () => {
    const { network } = net();
    expect(network.attach({ mac: mac('02:00:00:00:00:2a') }).mac).toBe(mac('02:00:00:00:00:2a'));
    expect(() => network.attach({ mac: mac('01:00:5e:00:00:01') })).toThrow(RangeError);
    expect(() => network.attach({ mac: MAC_BROADCAST })).toThrow(RangeError);
  });

  it('validates its options', () => {
    const clock = new ManualClock();
    expect(() => new MemoryNetwork({ clock, mtu: 65_536 })).toThrow(RangeError);
    expect(() => new MemoryNetwork({ clock, mtu: 20 })).toThrow(RangeError);
    expect(() => new MemoryNetwork({ clock, loss: 1.5 })).toThrow(RangeError);
    expect(() => new MemoryNetwork({ clock, latency: -1 as Duration })).toThrow(RangeError);
    expect(() => new MemoryNetwork({ clock, bandwidth: 0 })).toThrow(RangeError);
    expect(new MemoryNetwork({ clock, mtu: 65_535 }).mtu).toBe(65_535);
    const link = new MemoryNetwork({ clock }).attach();
    expect(() => link.setImpairments({ corrupt: -0.1 })).toThrow(RangeError);
  });
});

describe('MemoryNetwork: switching', () => {
  it('sends unicast only to the port with that MAC', () => {
    const { clock, network } = net();
    const [a, b, c] = [network.attach(), network.attach(), network.attach({ promiscuous: true })];
    const rb = collect(clock, b);
    const rc = collect(clock, c);
    a.send(frame(b.mac, a.mac, 1));
    clock.runUntilIdle();
    expect(rb.map((x) => seqOf(x.frame))).toEqual([1]);
    // Even a promiscuous port sees nothing: the switch does not flood known unicast.
    expect(rc).toEqual([]);
    expect(network.counters.get(MemoryCounter.Flooded)).toBe(0);
  });

  it('floods broadcast to every other port, each with its own buffer', () => {
    const { clock, network } = net();
    const [a, b, c] = [network.attach(), network.attach(), network.attach()];
    const ra = collect(clock, a);
    const rb = collect(clock, b);
    const rc = collect(clock, c);
    a.send(frame(MAC_BROADCAST, a.mac, 7));
    clock.runUntilIdle();
    expect(ra).toEqual([]);
    expect(rb).toHaveLength(1);
    expect(rc).toHaveLength(1);
    expect(rb[0]!.frame).not.toBe(rc[0]!.frame);
    rb[0]!.frame.fill(0);
    expect(seqOf(rc[0]!.frame)).toBe(7);
    // Multicast (group bit set) is flooded the same way.
    c.send(frame(mac('01:00:5e:00:00:fb'), c.mac, 8));
    clock.runUntilIdle();
    expect(ra.map((x) => seqOf(x.frame))).toEqual([8]);
    expect(rb).toHaveLength(2);
  });

  it('floods unknown unicast and learns source addresses', () => {
    const { clock, network } = net();
    const a = network.attach();
    const b = network.attach();
    const c = network.attach({ promiscuous: true });
    const d = network.attach({ promiscuous: true });
    const rb = collect(clock, b);
    const rc = collect(clock, c);
    const rd = collect(clock, d);
    const x = mac('02:aa:bb:cc:dd:ee');

    a.send(frame(x, a.mac, 1));
    clock.runUntilIdle();
    // Flooded: promiscuous ports see it, b's NIC filters it.
    expect(rc.map((r) => seqOf(r.frame))).toEqual([1]);
    expect(rd.map((r) => seqOf(r.frame))).toEqual([1]);
    expect(rb).toEqual([]);
    expect(network.counters.get(MemoryCounter.Flooded)).toBe(1);

    // c sends from x (a bridge or a VM behind it): the switch learns x -> c.
    c.send(frame(a.mac, x, 2));
    clock.runUntilIdle();
    a.send(frame(x, a.mac, 3));
    clock.runUntilIdle();
    expect(rc.map((r) => seqOf(r.frame))).toEqual([1, 3]);
    expect(rd.map((r) => seqOf(r.frame))).toEqual([1]);
    expect(network.counters.get(MemoryCounter.Flooded)).toBe(1);

    // Once c closes, its entries are forgotten and x is unknown again.
    c.close();
    a.send(frame(x, a.mac, 4));
    clock.runUntilIdle();
    expect(rd.map((r) => seqOf(r.frame))).toEqual([1, 4]);
    expect(network.links).toEqual([a, b, d]);
  });

  it('follows a MAC address that moves between ports while a sender keeps sending to it', () => {
    const { clock, network, a, c, d, rc, rd } = senderAndTwoListeners();
    const x = mac('02:aa:bb:cc:dd:01');
    // x behind c: a's frames to x go to c alone, frame after frame.
    c.send(frame(a.mac, x, 1));
    a.send(frame(x, a.mac, 2));
    a.send(frame(x, a.mac, 3));
    clock.runUntilIdle();
    expect(rc.map((r) => seqOf(r.frame))).toEqual([2, 3]);
    expect(rd.map((r) => seqOf(r.frame))).toEqual([]);
    // x moves behind d: the next frame from a to x follows it.
    d.send(frame(a.mac, x, 4));
    a.send(frame(x, a.mac, 5));
    clock.runUntilIdle();
    expect(rc.map((r) => seqOf(r.frame))).toEqual([2, 3]);
    expect(rd.map((r) => seqOf(r.frame))).toEqual([5]);
    // And back to c, learnt again from c's repeated source address.
    c.send(frame(a.mac, x, 6));
    a.send(frame(x, a.mac, 7));
    clock.runUntilIdle();
    expect(rc.map((r) => seqOf(r.frame))).toEqual([2, 3, 7]);
    expect(rd.map((r) => seqOf(r.frame))).toEqual([5]);
    expect(network.counters.get(MemoryCounter.Flooded)).toBe(0);
  });

  it('tells apart addresses that share one 24-bit half (the switch caches halves of the last source and destination)', () => {
    const { clock, network, a, c, d, rc, rd } = senderAndTwoListeners();
    const x = mac('02:aa:bb:cc:dd:01');
    const sameLow = mac('02:aa:bc:cc:dd:01'); // differs from x in the high half only
    const sameHigh = mac('02:aa:bb:cc:dd:02'); // in the low half only
    // c sends from x, then from the two others: the switch learns all three behind c.
    c.send(frame(a.mac, x, 1));
    c.send(frame(a.mac, sameLow, 2));
    c.send(frame(a.mac, sameHigh, 3));
    // a sends to each in turn: known unicast to c alone, never flooded to d.
    a.send(frame(x, a.mac, 4));
    a.send(frame(sameLow, a.mac, 5));
    a.send(frame(sameHigh, a.mac, 6));
    a.send(frame(x, a.mac, 7));
    clock.runUntilIdle();
    expect(rc.map((r) => seqOf(r.frame))).toEqual([4, 5, 6, 7]);
    expect(rd.map((r) => seqOf(r.frame))).toEqual([]);
    expect(network.counters.get(MemoryCounter.Flooded)).toBe(0);
    // sameLow moves behind d: only frames to it follow, the others stay with c.
    d.send(frame(a.mac, sameLow, 8));
    a.send(frame(sameLow, a.mac, 9));
    a.send(frame(x, a.mac, 10));
    a.send(frame(sameHigh, a.mac, 11));
    a.send(frame(sameLow, a.mac, 12));
    clock.runUntilIdle();
    expect(rc.map((r) => seqOf(r.frame))).toEqual([4, 5, 6, 7, 10, 11]);
    expect(rd.map((r) => seqOf(r.frame))).toEqual([9, 12]);
  });

  it('drops unicast to the sender itself (a switch never reflects out of the ingress port)', () => {
    const { clock, network } = net();
    const a = network.attach();
    network.attach();
    const ra = collect(clock, a);
    a.send(frame(a.mac, a.mac, 1));
    clock.runUntilIdle();
    expect(ra).toEqual([]);
    expect(a.counters.get(MemoryCounter.DroppedNoDestination)).toBe(1);
  });

  it('drops oversize and runt frames and counts them', () => {
    const { clock, network } = net({ mtu: 1000 });
    const a = network.attach();
    const b = network.attach();
    const rb = collect(clock, b);
    a.send(frame(b.mac, a.mac, 1, 1000));
    a.send(frame(b.mac, a.mac, 2, 1001));
    a.send(new Uint8Array(13));
    clock.runUntilIdle();
    expect(rb.map((r) => seqOf(r.frame))).toEqual([1]);
    expect(network.counters.get(MemoryCounter.Oversize)).toBe(1);
    expect(a.counters.get(MemoryCounter.Oversize)).toBe(1);
    expect(network.counters.get(MemoryCounter.DroppedRunt)).toBe(1);
    expect(network.counters.get(MemoryCounter.Sent)).toBe(3);
    expect(network.counters.get(MemoryCounter.Delivered)).toBe(1);
    expect(b.counters.get(MemoryCounter.Delivered)).toBe(1);
  });

  it('carries jumbo frames up to an MTU of 65535', () => {
    const { clock, network } = net({ mtu: 65_535 });
    const a = network.attach();
    const b = network.attach();
    const rb = collect(clock, b);
    a.send(frame(b.mac, a.mac, 1, 65_535));
    clock.runUntilIdle();
    expect(rb[0]!.frame.length).toBe(65_549);
  });
});

describe('MemoryNetwork: timing', () => {
  it('delivers after exactly the latency, never inside send()', () => {
    const { clock, network } = net({ latency: ms(5) });
    const a = network.attach();
    const b = network.attach();
    const rb = collect(clock, b);
    a.send(frame(b.mac, a.mac, 1));
    expect(rb).toEqual([]);
    clock.advance(Duration.fromMicros(4_999));
    expect(rb).toEqual([]);
    clock.advance(Duration.fromMicros(1));
    expect(rb.map((r) => r.at)).toEqual([5_000]);
  });

  it('delivers through the clock even with zero latency', () => {
    const { clock, network } = net();
    const a = network.attach();
    const b = network.attach();
    const rb = collect(clock, b);
    a.send(frame(b.mac, a.mac, 1));
    expect(rb).toEqual([]);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(Duration.ZERO);
    expect(rb).toHaveLength(1);
  });

  it('jitter spreads arrivals over [latency, latency + jitter] without reordering a path', () => {
    const { clock, network } = net({ latency: ms(10), jitter: ms(5) });
    const a = network.attach();
    const b = network.attach();
    const rb = collect(clock, b);
    const sentAt: number[] = [];
    for (let i = 0; i < 200; i++) {
      sentAt.push(clock.now());
      a.send(frame(b.mac, a.mac, i));
      clock.advance(Duration.fromMicros(500));
    }
    clock.runUntilIdle();
    expect(rb.map((r) => seqOf(r.frame))).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const delays = rb.map((r, i) => r.at - sentAt[i]!);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(10_000);
      expect(d).toBeLessThanOrEqual(15_000);
    }
    // Jitter is really there: many distinct delays, spanning most of the range.
    expect(new Set(delays).size).toBeGreaterThan(100);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(4_000);
  });

  it('bandwidth adds serialisation delay and queues frames back to back', () => {
    // 1 Mbit/s: a 1250-byte frame takes 10 ms on the wire.
    const { clock, network } = net({ bandwidth: 1e6, latency: ms(1) });
    const a = network.attach();
    const b = network.attach();
    const rb = collect(clock, b);
    for (let i = 0; i < 3; i++) a.send(frame(b.mac, a.mac, i, 1250 - 14));
    clock.runUntilIdle();
    expect(rb.map((r) => r.at)).toEqual([11_000, 21_000, 31_000]);
    // An idle port starts at once again.
    clock.advanceTo(100_000 as Instant);
    a.send(frame(b.mac, a.mac, 3, 125 - 14));
    clock.runUntilIdle();
    expect(rb[3]!.at).toBe(100_000 + 1_000 + 1_000);
  });

  it('tail-drops when the port queue is full, and accepts again once it drains', () => {
    const { clock, network } = net({ bandwidth: 1e6, queueLimit: 3 });
    const a = network.attach();
    const b = network.attach();
    const rb = collect(clock, b);
    for (let i = 0; i < 10; i++) a.send(frame(b.mac, a.mac, i, 1250 - 14));
    expect(network.counters.get(MemoryCounter.DroppedQueue)).toBe(7);
    // After one frame time, one slot is free.
    clock.advance(ms(10));
    a.send(frame(b.mac, a.mac, 10, 1250 - 14));
    a.send(frame(b.mac, a.mac, 11, 1250 - 14));
    clock.runUntilIdle();
    expect(rb.map((r) => seqOf(r.frame))).toEqual([0, 1, 2, 10]);
    expect(rb.map((r) => r.at)).toEqual([10_000, 20_000, 30_000, 40_000]);
    expect(a.counters.get(MemoryCounter.DroppedQueue)).toBe(8);
  });
});

/** Sends n frames a -> b, 100 us apart, and returns the arrivals. */
function blast(options: Partial<MemoryNetworkOptions>, n: number): { arrivals: Arrival[]; network: MemoryNetwork; sent: Uint8Array[] } {
  const { clock, network } = net(options);
  const a = network.attach();
  const b = network.attach();
  const arrivals = collect(clock, b);
  const sent: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const f = frame(b.mac, a.mac, i, 60);
    sent.push(f.slice());
    a.send(f);
    clock.advance(Duration.fromMicros(100));
  }
  clock.runUntilIdle();
  return { arrivals, network, sent };
}

describe('MemoryNetwork: impairments', () => {
  const N = 10_000;

  it('loses frames at the configured rate', () => {
    const { arrivals, network } = blast({ loss: 0.1 }, N);
    const lost = network.counters.get(MemoryCounter.DroppedLoss);
    // Binomial(10000, 0.1): sd = 30; allow 5 sd.
    expect(Math.abs(lost - 1000)).toBeLessThan(150);
    expect(arrivals.length).toBe(N - lost);
  });

  it('duplicates frames at the configured rate, as distinct buffers', () => {
    const { arrivals, network } = blast({ duplicate: 0.05 }, N);
    const dups = network.counters.get(MemoryCounter.Duplicated);
    // sd ~ 22.
    expect(Math.abs(dups - 500)).toBeLessThan(110);
    expect(arrivals.length).toBe(N + dups);
    const buffers = new Set(arrivals.map((r) => r.frame));
    expect(buffers.size).toBe(arrivals.length);
  });

  it('reorders frames at the configured rate', () => {
    const { arrivals, network } = blast({ reorder: 0.1, reorderDelay: ms(1), latency: ms(2) }, N);
    const reordered = network.counters.get(MemoryCounter.Reordered);
    expect(Math.abs(reordered - 1000)).toBeLessThan(150);
    expect(arrivals.length).toBe(N);
    let inversions = 0;
    for (let i = 1; i < arrivals.length; i++) if (seqOf(arrivals[i]!.frame) < seqOf(arrivals[i - 1]!.frame)) inversions++;
    // Each held-back frame lands behind the frames sent in the next 1 ms.
    expect(inversions).toBeGreaterThan(reordered * 0.8);
    expect(new Set(arrivals.map((r) => seqOf(r.frame))).size).toBe(N);
  });

  it('corrupts frames at the configured rate, one flipped bit each, on a copy', () => {
    const { clock, network } = net({ corrupt: 0.1 });
    const a = network.attach();
    const b = network.attach();
    const rb = collect(clock, b);
    const originals: Uint8Array[] = [];
    const pristine: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const f = frame(b.mac, a.mac, i, 60);
      originals.push(f);
      pristine.push(f.slice());
      a.send(f);
    }
    clock.runUntilIdle();
    const corrupted = network.counters.get(MemoryCounter.Corrupted);
    expect(Math.abs(corrupted - 1000)).toBeLessThan(150);
    let changed = 0;
    for (const [i, r] of rb.entries()) {
      const want = pristine[i]!;
      let bits = 0;
      for (let k = 0; k < want.length; k++) {
        let x = r.frame[k]! ^ want[k]!;
        while (x) {
          bits += x & 1;
          x >>= 1;
        }
      }
      expect(bits).toBeLessThanOrEqual(1);
      if (bits === 1) {
        changed++;
        // The sender's buffer was copied before the flip.
        expect(r.frame).not.toBe(originals[i]);
        expect(originals[i]).toEqual(want);
      }
    }
    expect(changed).toBe(corrupted);
  });

  it('is trusted only while no port can corrupt', () => {
    const { network } = net();
    const a = network.attach();
    const b = network.attach();
    expect(a.trusted).toBe(true);
    b.setImpairments({ corrupt: 0.01 });
    expect(a.trusted).toBe(false);
    expect(b.trusted).toBe(false);
    b.setImpairments({ corrupt: 0 });
    expect(a.trusted).toBe(true);
    network.setImpairments({ corrupt: 0.5 });
    expect(a.trusted).toBe(false);
    expect(new MemoryNetwork({ clock: new ManualClock(), corrupt: 0.1 }).attach().trusted).toBe(false);
  });

  it('is never trusted when declared untrusted, corruption or not', () => {
    const network = new MemoryNetwork({ clock: new ManualClock(), trusted: false });
    const a = network.attach();
    expect(a.trusted).toBe(false);
    a.setImpairments({ corrupt: 0.01 });
    a.setImpairments({ corrupt: 0 });
    expect(a.trusted).toBe(false);
    expect(network.attach().trusted).toBe(false);
  });

  it('applies per-link impairments to frames that link sends', () => {
    const { clock, network } = net({ latency: ms(1) });
    const a = network.attach({ impairments: { latency: ms(7) } });
    const b = network.attach();
    const ra = collect(clock, a);
    const rb = collect(clock, b);
    a.send(frame(b.mac, a.mac, 1));
    b.send(frame(a.mac, b.mac, 2));
    clock.runUntilIdle();
    expect(rb[0]!.at).toBe(7_000);
    expect(ra[0]!.at).toBe(1_000);
    expect(a.impairments.latency).toBe(7_000);
    expect(b.impairments.latency).toBe(1_000);
    a.setImpairments({ loss: 1 });
    expect(a.impairments.latency).toBe(7_000);
    a.send(frame(b.mac, a.mac, 3));
    clock.runUntilIdle();
    expect(rb).toHaveLength(1);
  });

  it('replays a run exactly for the same seed, and differently for another', () => {
    const run = (seed: number): string[] => {
      const clock = new ManualClock();
      const network = new MemoryNetwork({
        clock,
        seed,
        latency: ms(2),
        jitter: ms(3),
        bandwidth: 10e6,
        queueLimit: 20,
        loss: 0.05,
        duplicate: 0.05,
        reorder: 0.05,
        corrupt: 0.05,
      });
      const links = [network.attach(), network.attach(), network.attach()];
      const log: string[] = [];
      for (const [i, l] of links.entries()) l.setReceiver((f) => log.push(`${clock.now()} ${i} ${toHex(f)}`));
      for (let k = 0; k < 600; k++) {
        const from = links[k % 3]!;
        const to = k % 7 === 0 ? MAC_BROADCAST : links[(k + 1) % 3]!.mac;
        from.send(frame(to, from.mac, k, 30 + (k % 50)));
        if (k % 5 === 0) clock.advance(Duration.fromMicros(300));
      }
      clock.runUntilIdle();
      log.push(JSON.stringify(network.counters.snapshot()));
      return log;
    };
    const first = run(1234);
    expect(run(1234)).toEqual(first);
    expect(run(1235)).not.toEqual(first);
    expect(first.length).toBeGreaterThan(500);
  });

  it('adding a port does not change the random choices of existing pairs', () => {
    const pattern = (extra: boolean): string => {
      const { clock, network } = net({ loss: 0.5, jitter: ms(1) });
      const a = network.attach();
      const b = network.attach();
      if (extra) network.attach().setReceiver(() => undefined);
      const rb = collect(clock, b);
      for (let i = 0; i < 200; i++) {
        a.send(frame(MAC_BROADCAST, a.mac, i));
        clock.advance(ms(2));
      }
      clock.runUntilIdle();
      return rb.map((r) => `${seqOf(r.frame)}@${r.at}`).join(',');
    };
    expect(pattern(true)).toEqual(pattern(false));
  });
});

describe('MemoryNetwork: partitions and cables', () => {
  it('partitions cut both directions, including frames in flight, until healed', () => {
    const { clock, network } = net({ latency: ms(10) });
    const [a, b, c] = [network.attach(), network.attach(), network.attach()];
    const ra = collect(clock, a);
    const rb = collect(clock, b);
    const rc = collect(clock, c);
    c.send(frame(a.mac, c.mac, 1)); // in flight when the partition happens
    clock.advance(ms(5));
    network.partition([a, b], [c]);
    expect(network.isPartitioned(a, c)).toBe(true);
    expect(network.isPartitioned(c, b)).toBe(true);
    expect(network.isPartitioned(a, b)).toBe(false);
    a.send(frame(c.mac, a.mac, 2));
    c.send(frame(MAC_BROADCAST, c.mac, 3));
    a.send(frame(b.mac, a.mac, 4));
    clock.runUntilIdle();
    expect(ra).toEqual([]);
    expect(rc).toEqual([]);
    expect(rb.map((r) => seqOf(r.frame))).toEqual([4]);
    expect(network.counters.get(MemoryCounter.DroppedPartition)).toBe(4);

    network.heal();
    expect(network.isPartitioned(a, c)).toBe(false);
    c.send(frame(a.mac, c.mac, 5));
    clock.runUntilIdle();
    expect(ra.map((r) => seqOf(r.frame))).toEqual([5]);
  });

  it('an unplugged cable drops frames both ways until plugged back in', () => {
    const { clock, network } = net({ latency: ms(1) });
    const a = network.attach();
    const b = network.attach();
    const ra = collect(clock, a);
    const rb = collect(clock, b);
    a.send(frame(b.mac, a.mac, 1)); // in flight when b is unplugged
    b.setEnabled(false);
    expect(b.enabled).toBe(false);
    b.send(frame(a.mac, b.mac, 2));
    a.send(frame(b.mac, a.mac, 3));
    clock.runUntilIdle();
    expect(ra).toEqual([]);
    expect(rb).toEqual([]);
    expect(network.counters.get(MemoryCounter.DroppedDisabled)).toBe(3);
    b.setEnabled(true);
    a.send(frame(b.mac, a.mac, 4));
    clock.runUntilIdle();
    expect(rb.map((r) => seqOf(r.frame))).toEqual([4]);
  });

  it('a closed link drops its sends and frames in flight to it', () => {
    const { clock, network } = net({ latency: ms(1) });
    const a = network.attach();
    const b = network.attach();
    b.setReceiver(() => {
      throw new Error('must not be called');
    });
    a.send(frame(b.mac, a.mac, 1));
    b.close();
    expect(b.closed).toBe(true);
    b.send(frame(a.mac, b.mac, 2));
    clock.runUntilIdle();
    expect(network.counters.get(MemoryCounter.DroppedClosed)).toBe(2);
  });

  it('pointToPoint joins two links with the same impairments', () => {
    const clock = new ManualClock();
    const [a, b] = pointToPoint({ clock, seed: 3, latency: ms(4), macs: [mac('02:00:00:00:00:01'), mac('02:00:00:00:00:02')] });
    expect(a.network).toBe(b.network);
    expect(a.mac).toBe(mac('02:00:00:00:00:01'));
    expect(a.name).toBe('a');
    const ra = collect(clock, a);
    b.send(frame(a.mac, b.mac, 1));
    clock.runUntilIdle();
    expect(ra.map((r) => r.at)).toEqual([4_000]);
  });

  it('a pcap sniffer records both directions on simulated time', () => {
    const clock = new ManualClock();
    const [a, b] = pointToPoint({ clock, seed: 3, latency: ms(4) });
    const chunks: Uint8Array[] = [];
    const writer = new PcapWriter((c) => chunks.push(c), { linkType: LinkType.Ethernet });
    const sa = new PcapLink(a, { writer, clock });
    sa.setReceiver(() => undefined);
    sa.send(frame(b.mac, a.mac, 1));
    b.send(frame(a.mac, b.mac, 2));
    clock.runUntilIdle();
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    const parsed = readPcap(all);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.records.map((p) => seqOf(p.data))).toEqual([1, 2]);
    // Sent at 0 by a; b's frame arrives at a after the 4 ms latency.
    expect(parsed.value.records.map((p) => p.at)).toEqual([0, 4_000]);
  });
});
