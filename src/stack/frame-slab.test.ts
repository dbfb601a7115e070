// Review (issue 9): outgoing frames are cut from shared 64 KiB slabs, so a
// frame is a view with a non-zero byteOffset into a buffer other frames share.
// Whatever handles frames must use the view, never `frame.buffer` alone, and
// a frame once sent must never change again (slabs are bump-allocated, never
// reused). Two stacks exchange TCP and UDP traffic through a recording link;
// afterwards every recorded frame must still hold the bytes it had when it
// was sent, and parse with valid IPv4, TCP and UDP checksums as a view.
import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import type { FrameHandler } from '../link/link.js';
import { PassThroughLink } from '../link/pass-through-link.fixtures.js';
import { VirtualClock } from '../sim/virtual-clock.js';
import { constants as C } from '../syscall/constants.js';
import { pseudoHeaderSum, checksumValid } from '../wire/checksum.js';
import { EtherType, parseEthernet } from '../wire/ethernet.js';
import { IpProtocol, parseIpv4 } from '../wire/ipv4.js';
import { FrameSlab, poisonRecycledFrames } from './frame-slab.js';
import { Stack } from './stack.js';

/** A Link that keeps every frame it sends (the view itself) and a copy made at send time. */
class RecordingLink extends PassThroughLink {
  readonly sent: { view: Uint8Array; copy: Uint8Array }[] = [];
  // Not trusted: the stack must compute every checksum, so they can be checked.
  override get trusted(): boolean {
    return false;
  }
  override send(frame: Uint8Array): void {
    this.sent.push({ view: frame, copy: frame.slice() });
    this.inner.send(frame);
  }
  override setReceiver(handler: FrameHandler | undefined): void {
    // The receiving stack gets a copy: it owns what it receives and may write
    // into it (link.ts), so a change to a recorded view can only come from
    // the sending side handing slab space out twice.
    this.inner.setReceiver(handler === undefined ? undefined : (f) => handler(f.slice()));
  }
}

describe('frames cut from shared slabs', () => {
  it('stay intact after sending, and parse as views with valid checksums', async () => {
    const clock = new VirtualClock();
    // corrupt > 0 only makes the network untrusted; with 1e-300 it never happens.
    const net = new MemoryNetwork({ clock, seed: 5, corrupt: 1e-300 });
    const recA = new RecordingLink(net.attach({ name: 'a' }));
    const recB = new RecordingLink(net.attach({ name: 'b' }));
    const a = new Stack({ clock, seed: 1 });
    const b = new Stack({ clock, seed: 2 });
    a.addInterface(recA, { address: '10.0.0.1/24' });
    b.addInterface(recB, { address: '10.0.0.2/24' });
    try {
      // TCP: 200 KB one way, echoed in small pieces the other way.
      const lfd = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      b.sys.bind(lfd, { address: '0.0.0.0', port: 7 });
      b.sys.listen(lfd, 4);
      const data = new Uint8Array(200_000).map((_, i) => (i * 7 + (i >>> 9)) & 0xff);
      const server = (async () => {
        const { fd } = await b.sys.accept(lfd);
        const buf = new Uint8Array(3000);
        let total = 0;
        for (;;) {
          const n = await b.sys.read(fd, buf);
          if (n === 0) break;
          total += n;
          await b.sys.write(fd, buf.subarray(0, Math.min(n, 100)));
        }
        b.sys.close(fd);
        return total;
      })();
      const cfd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      await a.sys.connect(cfd, { address: '10.0.0.2', port: 7 });
      const reader = (async () => {
        const buf = new Uint8Array(4096);
        while ((await a.sys.read(cfd, buf)) > 0);
      })();
      for (let off = 0; off < data.length; off += 7000) await a.sys.write(cfd, data.subarray(off, off + 7000));
      a.sys.shutdown(cfd, C.SHUT_WR);
      expect(await server).toBe(data.length);
      await reader;
      a.sys.close(cfd);
      // UDP: datagrams of many sizes (slab frames of odd lengths and offsets).
      const ufd = b.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
      b.sys.bind(ufd, { address: '0.0.0.0', port: 9 });
      const sfd = a.sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
      for (let len = 1; len < 1400; len += 97) {
        await a.sys.sendto(sfd, data.subarray(len, 2 * len), 0, { address: '10.0.0.2', port: 9 });
      }
      const got = new Uint8Array(2000);
      for (let len = 1; len < 1400; len += 97) {
        const r = await b.sys.recvfrom(ufd, got, 0);
        expect(r.bytesRead).toBe(len);
        expect(got.subarray(0, len)).toEqual(data.subarray(len, 2 * len));
      }
    } finally {
      a.close();
      b.close();
    }

    const frames = [...recA.sent, ...recB.sent];
    expect(frames.length).toBeGreaterThan(200);
    // The slabs are really in use: views share buffers at non-zero offsets.
    expect(frames.some((f) => f.view.byteOffset !== 0)).toBe(true);
    let checkedTcp = 0;
    let checkedUdp = 0;
    for (const [i, f] of frames.entries()) {
      // Never changed after it was sent (no slab space handed out twice).
      if (!bytesSame(f.view, f.copy)) expect.fail(`frame ${i} (offset ${f.view.byteOffset}) changed after it was sent`);
      const eth = parseEthernet(f.view);
      if (!eth.ok || eth.value.ethertype !== EtherType.Ipv4) continue;
      const ip = parseIpv4(eth.value.payload);
      expect(ip.ok, `frame ${i}`).toBe(true);
      if (!ip.ok) continue;
      // parseIpv4 verifies the header checksum; now the transport checksum over the view.
      const p = ip.value;
      if (p.protocol !== IpProtocol.Tcp && p.protocol !== IpProtocol.Udp) continue;
      const pseudo = pseudoHeaderSum(p.src, p.dst, p.protocol, p.payload.length);
      expect(checksumValid(p.payload, pseudo), `frame ${i} transport checksum`).toBe(true);
      if (p.protocol === IpProtocol.Tcp) checkedTcp++;
      else checkedUdp++;
    }
    expect(checkedTcp).toBeGreaterThan(100);
    expect(checkedUdp).toBe(15);
  });
});

function bytesSame(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('FrameSlab cells (full-size frames on a recycling link)', () => {
  it('hand a returned cell out again, the same view when the length repeats, a view of the same bytes otherwise', () => {
    const slab = new FrameSlab();
    const a = slab.alloc(1514, true);
    expect(a.length).toBe(1514);
    slab.recycle(a);
    expect(slab.alloc(1514, true)).toBe(a);
    slab.recycle(a);
    const b = slab.alloc(1200, true);
    expect(b).not.toBe(a);
    expect(b.length).toBe(1200);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset);
    // Not recyclable, or too small: carved from the plain slab, never handed out twice.
    expect(slab.alloc(1514, false).buffer).not.toBe(a.buffer);
    expect(slab.alloc(100, true).buffer).not.toBe(a.buffer);
    const mid = slab.alloc(500, true);
    slab.recycle(mid);
    expect(slab.alloc(500, true)).not.toBe(mid);
  });

  it('hand pure-ACK-sized frames out of cells of their own, and take them back the same way', () => {
    const slab = new FrameSlab();
    const big = slab.alloc(1514, true);
    const ack = slab.alloc(66, true);
    expect(ack.buffer).not.toBe(big.buffer);
    const payload = slab.payloadView(ack, 34);
    slab.recycle(ack);
    expect(slab.alloc(66, true)).toBe(ack);
    expect(slab.payloadView(ack, 34)).toBe(payload);
    slab.recycle(ack);
    const sack = slab.alloc(106, true);
    expect(sack.buffer).toBe(ack.buffer);
    expect(sack.byteOffset).toBe(ack.byteOffset);
    // Cells never overlap: a second one starts a cell further.
    const other = slab.alloc(66, true);
    expect(Math.abs(other.byteOffset - sack.byteOffset)).toBeGreaterThanOrEqual(128);
    // Not on a recycling link: the plain slab.
    expect(slab.alloc(66, false).buffer).not.toBe(ack.buffer);
  });

  it('refuse, in test mode, a frame that comes back twice', () => {
    const slab = new FrameSlab();
    const a = slab.alloc(1514, true);
    poisonRecycledFrames(true);
    try {
      slab.recycle(a);
      expect(a.every((x) => x === 0xa5)).toBe(true);
      expect(() => slab.recycle(a)).toThrow(/came back twice/);
    } finally {
      poisonRecycledFrames(false);
    }
  });

  it('keep the payload view of a reused cell, and make a fresh one when the frame or the offset changes', () => {
    const slab = new FrameSlab();
    const a = slab.alloc(1514, true);
    const pa = slab.payloadView(a, 34);
    expect(pa.byteOffset).toBe(a.byteOffset + 34);
    expect(pa.length).toBe(1480);
    slab.recycle(a);
    expect(slab.alloc(1514, true)).toBe(a);
    expect(slab.payloadView(a, 34)).toBe(pa);
    // Another header length: another view.
    const pb = slab.payloadView(a, 38);
    expect(pb.byteOffset).toBe(a.byteOffset + 38);
    expect(pb.length).toBe(1476);
    slab.recycle(a);
    const b = slab.alloc(1200, true);
    const pc = slab.payloadView(b, 34);
    expect(pc.byteOffset).toBe(b.byteOffset + 34);
    expect(pc.length).toBe(1166);
    // A frame that is not the cell just handed out gets a plain view.
    const plain = slab.alloc(100, false);
    const pp = slab.payloadView(plain, 20);
    expect(pp.byteOffset).toBe(plain.byteOffset + 20);
    expect(pp.length).toBe(80);
    expect(slab.payloadView(b, 34)).not.toBe(pc);
  });

  it('take back the frame just handed out and older ones alike, each cell once (the last-frame shortcut, issue 9)', () => {
    const slab = new FrameSlab();
    const before = poisonRecycledFrames(false);
    const a = slab.alloc(66, true);
    const b = slab.alloc(66, true);
    slab.recycle(b); // the frame just handed out
    slab.recycle(a); // an older one
    expect(poisonRecycledFrames(false) - before).toBe(2);
    // Free cells go out newest first; a third alloc needs a new cell.
    expect(slab.alloc(66, true)).toBe(a);
    expect(slab.alloc(66, true)).toBe(b);
    const c = slab.alloc(66, true);
    expect(c).not.toBe(a);
    expect(c).not.toBe(b);
    // Full-size cells likewise, and a shortcut taken once does not serve a frame of the other pool.
    const big = slab.alloc(1514, true);
    slab.recycle(big);
    slab.recycle(c);
    expect(slab.alloc(1514, true)).toBe(big);
    expect(slab.alloc(66, true)).toBe(c);
  });

  it('take back only the view they handed out', () => {
    const slab = new FrameSlab();
    const a = slab.alloc(1514, true);
    slab.recycle(new Uint8Array(a.buffer, a.byteOffset, a.length));
    expect(slab.alloc(1514, true)).not.toBe(a);
  });
});
