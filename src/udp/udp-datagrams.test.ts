/**
 * The datagram issue's "Done when" items that need whole stacks: UDP
 * datagrams of 1..65507 bytes through fragmentation and reassembly on an
 * impaired wire (reordering, duplication AND loss together), incomplete
 * datagrams expiring with their memory freed, and a fragment flood against
 * a socket-holding stack staying inside the reassembly memory bound.
 */
import { describe, expect, it } from 'vitest';
import { isSocketError } from '../errno/socket-error.js';
import { MemoryNetwork } from '../link/memory.js';
import { SeededRng } from '../random/rng.js';
import { Stack } from '../stack/stack.js';
import { constants as C } from '../syscall/constants.js';
import { Duration } from '../time/duration.js';
import { ManualClock } from '../time/manual-clock.js';
import { ipv4 } from '../wire/address.js';
import { EtherType, emitEthernet, ethernetBufferLen } from '../wire/ethernet.js';
import { emitIpv4, ipv4BufferLen } from '../wire/ipv4.js';

async function run(clock: ManualClock, ms: number, stepMs = 1): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Duration.fromMillis(stepMs));
    await new Promise<void>((r) => setTimeout(r, 0));
  }
}

function lan(seed: number, reassembly?: { maxBytes: number }) {
  const clock = new ManualClock();
  const net = new MemoryNetwork({ clock, seed, latency: Duration.fromMillis(1) });
  const a = new Stack({ clock, seed: 1 });
  const b = new Stack({ clock, seed: 2, ...(reassembly === undefined ? {} : { reassembly }) });
  a.addInterface(net.attach({ name: 'a' }), { address: '10.0.0.1/24' });
  const bIface = b.addInterface(net.attach({ name: 'b' }), { address: '10.0.0.2/24' });
  return { clock, net, a, b, bIface };
}

/** A datagram whose content names it: 4 bytes of tag, then seeded bytes. */
function datagram(rng: SeededRng, tag: number, size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i += 4) {
    const v = rng.nextU32();
    for (let k = 0; k < 4 && i + k < size; k++) d[i + k] = (v >>> (8 * k)) & 0xff;
  }
  for (let i = 0; i < Math.min(4, size); i++) d[i] = (tag >>> (8 * (3 - i))) & 0xff;
  return d;
}

describe('UDP datagrams through fragmentation on an impaired wire', () => {
  it('1..65507 bytes under reordering, duplication and loss: what arrives is exact; incomplete datagrams expire and free their memory', async () => {
    const { clock, net, a, b } = lan(21);
    const rx = b.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    b.sys.setsockopt(rx, C.SOL_SOCKET, C.SO_RCVBUF, 4 * 1024 * 1024);
    b.sys.bind(rx, { address: '0.0.0.0', port: 7000 });
    const tx = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    // Resolve ARP on a clean wire, then impair it.
    await a.sys.sendto(tx, Uint8Array.of(0), 0, { address: '10.0.0.2', port: 7000 });
    await run(clock, 10);
    expect(await b.sys.recv(rx, new Uint8Array(4), C.MSG_DONTWAIT)).toBe(1);
    net.setImpairments({ loss: 0.03, duplicate: 0.2, reorder: 0.3, reorderDelay: Duration.fromMillis(3) });

    const rng = new SeededRng(5);
    const sizes = [4, 5, 100, 1472, 1473, 1480, 2961, 8000, 20_000, 40_000, 65_507];
    const sent = new Map<number, Uint8Array>();
    let tag = 1;
    for (let round = 0; round < 3; round++) {
      for (const n of sizes) {
        const d = datagram(rng, tag, n);
        sent.set(tag++, d);
        expect(await a.sys.sendto(tx, d, 0, { address: '10.0.0.2', port: 7000 })).toBe(n);
      }
    }
    await run(clock, 200);
    const buf = new Uint8Array(65_507);
    const got = new Set<number>();
    let copies = 0;
    for (;;) {
      let n: number;
      try {
        n = await b.sys.recv(rx, buf, C.MSG_DONTWAIT);
      } catch (e) {
        // The queue is drained; any other error is a failure, not the end of the loop.
        if (isSocketError(e, 'EAGAIN')) break;
        throw e;
      }
      const t = ((buf[0]! << 24) | (buf[1]! << 16) | (buf[2]! << 8) | buf[3]!) >>> 0;
      // Every datagram delivered is one that was sent, byte for byte.
      expect(buf.subarray(0, n)).toEqual(sent.get(t));
      got.add(t);
      copies++;
    }
    // Seeded: the exact outcome of this run (small datagrams mostly arrive, some twice; big ones lose a fragment more often).
    expect({ distinct: got.size, copies, lostSome: got.size < sent.size }).toEqual({ distinct: 25, copies: 27, lostSome: true });
    expect(b.stats.get('ip.reasm-oks')).toBeGreaterThan(10);
    expect(b.stats.get('ip.reasm-duplicates')).toBeGreaterThan(0);
    // Incomplete datagrams hold memory until the 30 s reassembly timeout, then it is all freed.
    expect(b.reassembler.memory).toBeGreaterThan(0);
    net.setImpairments({ loss: 0, duplicate: 0, reorder: 0 });
    await run(clock, 31_000, 100);
    expect(b.reassembler.memory).toBe(0);
    expect(b.reassembler.pending).toBe(0);
    expect(b.stats.get('ip.reasm-timeout')).toBeGreaterThan(0);
  });

  it('a fragment flood against a stack with sockets stays inside the reassembly memory bound; real datagrams still get through', async () => {
    const maxBytes = 64 * 1024;
    const { clock, net, a, b, bIface } = lan(22, { maxBytes });
    const rx = b.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    b.sys.bind(rx, { address: '0.0.0.0', port: 7000 });
    const attacker = net.attach({ name: 'attacker' });
    const rng = new SeededRng(77);
    let peak = 0;
    for (let i = 0; i < 3000; i++) {
      const ip = {
        src: ipv4('10.0.0.66'),
        dst: ipv4('10.0.0.2'),
        protocol: 17,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        identification: rng.nextInt(0x10000),
        dontFragment: false,
        moreFragments: true,
        fragmentOffset: 8 * rng.nextInt(8000),
        options: new Uint8Array(0),
        payload: new Uint8Array(1000),
      };
      const packet = new Uint8Array(ipv4BufferLen(ip));
      emitIpv4(ip, packet);
      const eth = { dst: bIface.mac!, src: attacker.mac, ethertype: EtherType.Ipv4, payload: packet };
      const frame = new Uint8Array(ethernetBufferLen(eth));
      emitEthernet(eth, frame);
      attacker.send(frame);
      if (i % 100 === 99) {
        await run(clock, 1);
        peak = Math.max(peak, b.reassembler.memory);
      }
    }
    await run(clock, 5);
    expect(peak).toBeGreaterThan(maxBytes / 2);
    expect(peak).toBeLessThanOrEqual(maxBytes);
    expect(b.reassembler.evicted).toBeGreaterThan(0);
    // A legitimate fragmented datagram still arrives whole.
    const tx = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    const d = datagram(rng, 0xfeed, 20_000);
    await a.sys.sendto(tx, d, 0, { address: '10.0.0.2', port: 7000 });
    await run(clock, 20);
    const buf = new Uint8Array(30_000);
    const n = await b.sys.recv(rx, buf, C.MSG_DONTWAIT);
    expect(buf.subarray(0, n)).toEqual(d);
    expect(b.reassembler.memory).toBeLessThanOrEqual(maxBytes);
  });
});
