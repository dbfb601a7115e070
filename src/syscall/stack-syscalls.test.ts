import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import { Stack } from '../stack/stack.js';
import { Duration } from '../time/duration.js';
import { ManualClock } from '../time/manual-clock.js';
import { UdpCounter } from '../udp/udp-protocol.js';
import { constants as C } from './constants.js';
import { errnoOf } from './outcome.fixtures.js';
import { createStackSyscalls } from './stack-syscalls.js';

/** Two real Stacks on a MemoryNetwork (ARP, Ethernet, IPv4), with the syscall layer wired in. */
function lan(seed = 3) {
  const clock = new ManualClock();
  const net = new MemoryNetwork({ clock, seed, latency: Duration.fromMillis(1) });
  const a = new Stack({ clock, seed: 1 });
  const b = new Stack({ clock, seed: 2 });
  a.addInterface(net.attach({ name: 'a' }), { address: '10.0.0.1/24' });
  b.addInterface(net.attach({ name: 'b' }), { address: '10.0.0.2/24' });
  return { clock, net, a, b, sa: createStackSyscalls(a).sys, sb: createStackSyscalls(b).sys };
}

async function run(clock: ManualClock, ms = 2000): Promise<void> {
  const step = Duration.fromMillis(1);
  for (let t = 0; t < ms; t++) {
    clock.advance(step);
    await new Promise<void>((r) => setTimeout(r, 0));
  }
}

describe('UDP over real Stacks', () => {
  it('request/response across ARP and Ethernet', async () => {
    const { clock, sa, sb, a } = lan();
    const s = sa.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    sa.bind(s, { address: '0.0.0.0', port: 7 });
    const c = sb.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    const buf = new Uint8Array(64);
    const got = sa.recvfrom(s, buf, 0);
    await sb.sendto(c, new TextEncoder().encode('ping'), 0, { address: '10.0.0.1', port: 7 });
    await run(clock, 20);
    const r = await got;
    expect(r.bytesRead).toBe(4);
    expect(r.address.address).toBe('10.0.0.2');
    await sa.sendto(s, buf.subarray(0, 4), 0, r.address);
    await run(clock, 20);
    expect(await sb.recv(c, buf, C.MSG_DONTWAIT)).toBe(4);
    expect(a.stats.get(UdpCounter.InDatagrams)).toBe(1);
  });

  it('fragmented 65507-byte datagrams arrive whole', async () => {
    const { clock, sa, sb } = lan();
    const s = sa.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    sa.bind(s, { address: '0.0.0.0', port: 9 });
    const c = sb.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    const data = new Uint8Array(65507).map((_, i) => (i * 7) & 0xff);
    await sb.sendto(c, data, 0, { address: '10.0.0.1', port: 9 });
    await run(clock, 50);
    const buf = new Uint8Array(70000);
    expect(await sa.recv(s, buf, C.MSG_DONTWAIT)).toBe(65507);
    expect(buf.subarray(0, 65507)).toEqual(data);
  });

  it('port unreachable from a real stack gives ECONNREFUSED on a connected socket', async () => {
    const { clock, sb } = lan();
    const c = sb.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    await sb.connect(c, { address: '10.0.0.1', port: 4444 });
    const pending = errnoOf(sb.recv(c, new Uint8Array(8), 0));
    await sb.send(c, Uint8Array.of(1), 0);
    await run(clock, 20);
    expect(await pending).toBe('recv ECONNREFUSED');
  });

  it('multicast membership joins the interface; broadcast reaches the LAN', async () => {
    const { clock, sa, sb, a } = lan();
    const r = sa.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    sa.bind(r, { address: '0.0.0.0', port: 5353 });
    sa.setsockopt(r, C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, { multiaddr: '239.1.1.1' });
    expect(a.interfaces.some((i) => i.isMulticastMember(0xef010101))).toBe(true);
    const c = sb.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    await sb.sendto(c, Uint8Array.of(1, 2), 0, { address: '239.1.1.1', port: 5353 });
    sb.setsockopt(c, C.SOL_SOCKET, C.SO_BROADCAST, 1);
    await sb.sendto(c, Uint8Array.of(3), 0, { address: '10.0.0.255', port: 5353 });
    await run(clock, 20);
    expect(await sa.recv(r, new Uint8Array(8), C.MSG_DONTWAIT)).toBe(2);
    expect(await sa.recv(r, new Uint8Array(8), C.MSG_DONTWAIT)).toBe(1);
    sa.close(r);
    expect(a.interfaces.some((i) => i.isMulticastMember(0xef010101))).toBe(false);
  });

  it('loopback inside one stack', async () => {
    const { clock, sa } = lan();
    const s = sa.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    sa.bind(s, { address: '127.0.0.1', port: 1000 });
    const c = sa.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    await sa.sendto(c, Uint8Array.of(5), 0, { address: '127.0.0.1', port: 1000 });
    await run(clock, 5);
    const r = await sa.recvfrom(s, new Uint8Array(4), C.MSG_DONTWAIT);
    expect(r.address.address).toBe('127.0.0.1');
  });
});
