// The IP layer's receive-side flow cache (ip-layer.ts #ipInputParsed, issue
// 9): a packet with the source, destination and interface of the last one
// accepted as unicast for us skips the martian, broadcast and local-address
// checks while the route generation stands. Each case fails if the cache
// outlives what made its answer true.
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import { Duration } from '../time/duration.js';
import { ManualClock } from '../time/manual-clock.js';
import type { Ipv4Address, MacAddress } from '../wire/address.js';
import { ipv4, writeMac } from '../wire/address.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import { emitIpv4PlainHeaderAt } from '../wire/ipv4.js';
import { Stack } from './stack.js';

const A = ipv4('10.0.0.1');
const B = ipv4('10.0.0.3');
const LOCALHOST = ipv4('127.0.0.1');
/** An experimental protocol number (RFC 3692): no transport handles it, so an accepted packet counts as ip.in-unknown-protos. */
const PROTO = 253;

/** An Ethernet frame carrying an 8-byte IPv4 datagram `src` -> `dst` with PROTO. */
function frame(dstMac: MacAddress, srcMac: MacAddress, src: Ipv4Address, dst: Ipv4Address): Uint8Array {
  const f = new Uint8Array(ETHERNET_HEADER_LEN + 20 + 8);
  writeMac(f, 0, dstMac);
  writeMac(f, 6, srcMac);
  f[12] = 0x08;
  f[13] = 0x00;
  emitIpv4PlainHeaderAt(f, ETHERNET_HEADER_LEN, src, dst, PROTO, 64, 0, 1, true, 8);
  return f;
}

interface Setup {
  clock: ManualClock;
  a: Stack;
  count: (name: string) => number;
  inject: (src: Ipv4Address, dst: Ipv4Address) => void;
}

function setup(): Setup {
  const clock = new ManualClock();
  const net = new MemoryNetwork({ clock, seed: 3 });
  const a = new Stack({ clock, seed: 1 });
  const linkA = net.attach({ name: 'a' });
  a.addInterface(linkA, { address: '10.0.0.1/24' });
  const raw = net.attach({ name: 'raw' });
  const count = (name: string): number => a.stats.snapshot()[name] ?? 0;
  const inject = (src: Ipv4Address, dst: Ipv4Address): void => {
    raw.send(frame(linkA.mac, raw.mac, src, dst));
    clock.advance(Duration.fromMillis(1));
  };
  return { clock, a, count, inject };
}

/** Two packets B -> `dst` from the wire: both delivered, the second through the cached flow. */
function cacheFlow(s: Setup, dst: Ipv4Address): void {
  s.inject(B, dst);
  s.inject(B, dst);
  expect(s.count('ip.in-unknown-protos')).toBe(2);
}

/** One more packet of that flow after a change: checked again, and dropped as `drop` (a counter) says. */
function expectRechecked(s: Setup, dst: Ipv4Address, drop: string): void {
  s.inject(B, dst);
  expect(s.count('ip.in-unknown-protos')).toBe(2);
  expect(s.count(drop)).toBe(1);
}

describe('the receive-side flow cache', () => {
  it('takes the packets of a flow again and again (the fast path delivers)', () => {
    const { count, inject } = setup();
    for (let i = 0; i < 3; i++) inject(B, A);
    expect(count('ip.in-unknown-protos')).toBe(3);
  });

  it('checks a source again once an address change makes it a broadcast address (martian source)', () => {
    const s = setup();
    cacheFlow(s, A);
    // 10.0.0.2/30: its directed broadcast is 10.0.0.3, the flow's source.
    s.a.addAddress(s.a.interfaces[1]!, '10.0.0.2/30');
    expectRechecked(s, A, 'ip.drop.martian-source');
  });

  it('stops taking a flow once its destination address is removed from the interface', () => {
    const s = setup();
    cacheFlow(s, A);
    s.a.interfaces[1]!.removeAddress(A);
    expectRechecked(s, A, 'ip.drop.not-for-us');
  });

  it('stops taking a flow to an address of another interface once that interface is removed (weak host model)', () => {
    const s = setup();
    const other = new MemoryNetwork({ clock: new ManualClock(), seed: 4 }).attach({ name: 'other' });
    const C = ipv4('192.168.7.1');
    s.a.addInterface(other, { address: '192.168.7.1/24' });
    // Arriving on 10.0.0.1's interface for the other interface's address: local all the same.
    cacheFlow(s, C);
    s.a.removeInterface(s.a.interfaces[2]!);
    expectRechecked(s, C, 'ip.drop.not-for-us');
  });

  it('does not let a flow accepted on the loopback through on another interface (127/8 never on a wire)', () => {
    const { clock, a, count, inject } = setup();
    // 127.0.0.1 -> 127.0.0.1 through lo: accepted there, and the flow cached.
    expect(a.ip.send(clock.now(), { dst: LOCALHOST, protocol: PROTO }, 8, () => undefined)).toBe('sent');
    clock.advance(Duration.fromMillis(1));
    expect(count('ip.in-unknown-protos')).toBe(1);
    // The same addresses arriving on the wire are martians.
    inject(LOCALHOST, LOCALHOST);
    expect(count('ip.in-unknown-protos')).toBe(1);
    expect(count('ip.drop.martian-loopback')).toBe(1);
  });

  it('still sends a cached flow\'s fragments to reassembly', () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ clock, seed: 5, mtu: 576 });
    const a = new Stack({ clock, seed: 1 });
    const b = new Stack({ clock, seed: 2 });
    a.addInterface(net.attach({ name: 'a' }), { address: '10.0.0.1/24' });
    b.addInterface(net.attach({ name: 'b' }), { address: '10.0.0.3/24' });
    const count = (name: string): number => a.stats.snapshot()[name] ?? 0;
    const send = (len: number): void => {
      b.ip.send(clock.now(), { dst: A, protocol: PROTO, dontFragment: false }, len, () => undefined);
      for (let i = 0; i < 5; i++) clock.advance(Duration.fromMillis(10));
    };
    send(8);
    send(8);
    expect(count('ip.in-unknown-protos')).toBe(2);
    send(1400);
    expect(count('ip.reasm-reqds')).toBe(3);
    expect(count('ip.reasm-oks')).toBe(1);
    expect(count('ip.in-unknown-protos')).toBe(3);
  });
});
