// Issue 9: frames above 4 KiB (and from 1 KiB on a recycling link) come back from a MemoryNetwork once their
// receiver is done with them (Link.setRecycler) and are reused unzeroed. Two
// ways that could go wrong, both caught here: a receiver that kept a view of a
// frame (TCP out-of-order data, a queued datagram, reassembly, echo data)
// would read the next frame's bytes or the poison pattern; a sender that
// leaves a byte of its frame unwritten would send stale bytes. So: the same
// seeded exchange three times (no recycling; recycling; recycling with
// poisoned buffers) must deliver the same frames, byte for byte, and every
// application byte intact.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import { SeededRng } from '../random/rng.js';
import { VirtualClock } from '../sim/virtual-clock.js';
import { constants as C } from '../syscall/constants.js';
import { poisonRecycledFrames } from './frame-slab.js';
import type { Instant } from '../time/instant.js';
import { Stack } from './stack.js';
import { TapLink, tcpBothWays } from './two-way-exchange.fixtures.js';

interface Run {
  frames: string[];
  recycled: number;
}

async function exchange(mode: 'off' | 'on' | 'poison', corrupt: boolean, mtu: number): Promise<Run> {
  const before = poisonRecycledFrames(mode === 'poison');
  const clock = new VirtualClock();
  // Reordering and loss make TCP keep out-of-order data and retransmit; a
  // tiny corruption probability makes the link untrusted (checksums on).
  const net = new MemoryNetwork({ clock, seed: 11, mtu, reorder: 0.05, loss: 0.01, ...(corrupt ? { corrupt: 1e-300 } : {}) });
  const la = new TapLink(net.attach({ name: 'a' }), mode !== 'off');
  const lb = new TapLink(net.attach({ name: 'b' }), mode !== 'off');
  const a = new Stack({ clock, seed: 1 });
  const b = new Stack({ clock, seed: 2 });
  a.addInterface(la, { address: '10.0.0.1/24' });
  b.addInterface(lb, { address: '10.0.0.2/24' });
  const rng = new SeededRng(3);
  const data = new Uint8Array(3 << 20);
  for (let i = 0; i < data.length; i += 4) {
    const w = rng.nextU32();
    data[i] = w;
    data[i + 1] = w >>> 8;
    data[i + 2] = w >>> 16;
    data[i + 3] = w >>> 24;
  }
  try {
    // TCP both ways at once: big segments in flight in both directions.
    const { client: clientGot, server: serverGot } = await tcpBothWays(a, b, data, 40_000);
    expect(clientGot.length).toBe(data.length);
    expect(serverGot.length).toBe(data.length);
    // Compared without printing 3 MiB on failure.
    expect(clientGot.every((x, i) => x === data[i])).toBe(true);
    expect(serverGot.every((x, i) => x === data[i])).toBe(true);

    // UDP: large datagrams queued unread while more frames are recycled, then read.
    const ufd = b.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    b.sys.bind(ufd, { address: '0.0.0.0', port: 9 });
    b.sys.setsockopt(ufd, C.SOL_SOCKET, C.SO_RCVBUF, 1 << 20);
    const sfd = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    const sizes = [5000, 60_000, 8191, 16_385, 65_507, 4097];
    for (const [k, n] of sizes.entries()) await a.sys.sendto(sfd, data.subarray(k * 7, k * 7 + n), 0, { address: '10.0.0.2', port: 9 });
    // Let every datagram arrive (and its frame be recycled) before reading any.
    await new Promise<void>((resolve) => void clock.setTimer((clock.now() + 100_000) as Instant, resolve));
    const buf = new Uint8Array(70_000);
    let udpOk = 0;
    for (;;) {
      const r = await b.sys.recvfrom(ufd, buf, C.MSG_DONTWAIT).catch(() => undefined);
      if (r === undefined) break; // all read (some may be lost on the wire: loss is on)
      // Lengths are distinct: the length says which datagram this is.
      const k = sizes.indexOf(r.bytesRead);
      expect(k, `datagram of ${r.bytesRead} bytes`).toBeGreaterThanOrEqual(0);
      const want = data.subarray(k * 7, k * 7 + r.bytesRead);
      expect(buf.subarray(0, r.bytesRead).every((x, i) => x === want[i]), `datagram ${k} content`).toBe(true);
      udpOk++;
    }
    expect(udpOk).toBeGreaterThan(0);
    a.sys.close(sfd);
    b.sys.close(ufd);
  } finally {
    a.close();
    b.close();
  }
  return { frames: [...la.received, ...lb.received], recycled: poisonRecycledFrames(false) - before };
}

// MTU 65535: frames above 4 KiB (the large pools). MTU 1500: full-size
// frames of 1 to 4 KiB, pooled too on a link that recycles (the small pools).
for (const mtu of [65535, 1500]) {
  describe(`recycled frame buffers (MTU ${mtu} memory wire)`, () => {
    afterEach(() => {
      poisonRecycledFrames(false);
    });

    for (const corrupt of [false, true]) {
      it(`deliver the same frames as fresh ones, and no receiver keeps one (${corrupt ? 'checksums on' : 'trusted link'})`, async () => {
        const off = await exchange('off', corrupt, mtu);
        const on = await exchange('on', corrupt, mtu);
        const poison = await exchange('poison', corrupt, mtu);
        expect(off.recycled).toBe(0);
        // The pools really are in use.
        expect(on.recycled).toBeGreaterThan(100);
        expect(poison.recycled).toBe(on.recycled);
        expect(off.frames.length).toBeGreaterThan(200);
        expect(on.frames).toEqual(off.frames);
        expect(poison.frames).toEqual(off.frames);
      }, 60_000);
    }
  });
}
