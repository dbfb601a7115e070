import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { VirtualClock } from '../sim/virtual-clock.js';
import { Stack } from '../stack/stack.js';
import { constants as C } from '../syscall/constants.js';
import { Duration } from '../time/duration.js';
import type { Instant } from '../time/instant.js';
import { concatBytes } from '../wire/bytes.js';
import { ImpairCounter, impairLink } from './impaired-link.js';
import type { ImpairLinkOptions } from './impaired-link.js';
import type { FrameHandler, Link } from './link.js';
import { LinkType } from './link.js';
import { LoopbackLink } from './loopback.js';
import { pointToPoint } from './memory.js';

const ms = (n: number): Duration => Duration.fromMillis(n);

/** An inner link that records what reaches it (with the time) and lets a test inject received frames. */
class WireStub implements Link {
  readonly linkType = LinkType.RawIp;
  readonly mtu = 1500;
  readonly trusted = true;
  readonly sent: { at: Instant; frame: Uint8Array }[] = [];
  receiver: FrameHandler | undefined;
  closed = false;
  constructor(readonly clock: VirtualClock) {}
  send(frame: Uint8Array): void {
    this.sent.push({ at: this.clock.now(), frame });
  }
  setReceiver(handler: FrameHandler | undefined): void {
    this.receiver = handler;
  }
  close(): void {
    this.closed = true;
  }
  inject(frame: Uint8Array): void {
    this.receiver?.(frame);
  }
}

/** A 64-byte frame carrying sequence number `n` in its first four bytes. */
function numbered(n: number, size = 64): Uint8Array {
  const f = new Uint8Array(size);
  new DataView(f.buffer).setUint32(0, n);
  for (let i = 4; i < size; i++) f[i] = (n + i) & 0xff;
  return f;
}
const seqOf = (f: Uint8Array): number => new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(0);

function setup(options: Omit<ImpairLinkOptions, 'clock'>): { clock: VirtualClock; wire: WireStub; link: ReturnType<typeof impairLink>; got: { at: Instant; frame: Uint8Array }[] } {
  const clock = new VirtualClock();
  const wire = new WireStub(clock);
  const link = impairLink(wire, { clock, ...options });
  const got: { at: Instant; frame: Uint8Array }[] = [];
  link.setReceiver((frame) => got.push({ at: clock.now(), frame }));
  return { clock, wire, link, got };
}

/** Sends `count` numbered frames, one every `gapUs` microseconds of virtual time, then runs every delivery. */
function sendSpaced(s: ReturnType<typeof setup>, count: number, gapUs: number, size = 64): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    s.clock.advanceTo((i * gapUs) as Instant);
    const f = numbered(i, size);
    frames.push(f.slice());
    s.link.send(f);
  }
  s.clock.advance(Duration.fromSecs(60));
  return frames;
}

/** |x - n p| within 4.5 standard deviations of a binomial(n, p): fails about once in 150 000 seeds, never for the fixed seed here. */
function expectBinomial(x: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(x - n * p)).toBeLessThanOrEqual(4.5 * sd);
}

describe('impairLink', () => {
  it('passes frames through untouched and synchronously when nothing is impaired', () => {
    const s = setup({});
    const f = numbered(1);
    s.link.send(f);
    expect(s.wire.sent).toHaveLength(1);
    expect(s.wire.sent[0]!.frame).toBe(f);
    s.wire.inject(f);
    expect(s.got[0]!.frame).toBe(f);
    expect(s.link.linkType).toBe(LinkType.RawIp);
    expect(s.link.mtu).toBe(1500);
    expect(s.link.trusted).toBe(true);
  });

  it('delays each direction by exactly its latency', () => {
    const s = setup({ egress: { latency: ms(10) }, ingress: { latency: ms(3) } });
    s.clock.advanceTo(1000 as Instant);
    s.link.send(numbered(7));
    s.clock.advanceTo(10_999 as Instant);
    expect(s.wire.sent).toHaveLength(0);
    s.clock.advanceTo(11_000 as Instant);
    expect(s.wire.sent.map((e) => [e.at, seqOf(e.frame)])).toEqual([[11_000, 7]]);
    s.wire.inject(numbered(8));
    s.clock.advance(Duration.fromSecs(1));
    expect(s.got.map((e) => [e.at, seqOf(e.frame)])).toEqual([[14_000, 8]]);
  });

  it('adds the delay both ways around a loopback link', () => {
    const clock = new VirtualClock();
    const link = impairLink(new LoopbackLink({ clock }), { clock, egress: { latency: ms(4) }, ingress: { latency: ms(6) } });
    const at: number[] = [];
    link.setReceiver(() => at.push(clock.now()));
    link.send(numbered(1));
    clock.advance(Duration.fromSecs(1));
    expect(at).toEqual([10_000]);
  });

  it('jitter delays frames but never reorders them', () => {
    const s = setup({ seed: 5, egress: { latency: ms(1), jitter: ms(5) } });
    sendSpaced(s, 500, 100);
    const seqs = s.wire.sent.map((e) => seqOf(e.frame));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs).toHaveLength(500);
    const delays = s.wire.sent.map((e) => e.at - seqOf(e.frame) * 100);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeGreaterThan(3000);
  });

  it('reorders: held-back frames arrive after later ones, every frame arrives once', () => {
    const s = setup({ seed: 11, egress: { latency: ms(1), reorder: 0.05, reorderDelay: ms(3) } });
    sendSpaced(s, 2000, 100);
    const seqs = s.wire.sent.map((e) => seqOf(e.frame));
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    const reordered = s.link.egress.counters.get(ImpairCounter.Reordered);
    expectBinomial(reordered, 2000, 0.05);
    // Exactly the held-back frames arrive late (latency + reorderDelay), and each is overtaken by a later one.
    const late = s.wire.sent.filter((e) => e.at - seqOf(e.frame) * 100 === 4000);
    expect(late).toHaveLength(reordered);
    let overtaken = 0;
    let maxSeen = -1;
    for (const q of seqs) {
      if (q < maxSeen) overtaken++;
      maxSeen = Math.max(maxSeen, q);
    }
    expect(overtaken).toBe(reordered);
  });

  it('loses and duplicates at the configured rates (fixed seed), duplicates as distinct buffers', () => {
    const n = 20_000;
    const s = setup({ seed: 3, ingress: { loss: 0.02, duplicate: 0.01 } });
    for (let i = 0; i < n; i++) s.wire.inject(numbered(i));
    s.clock.advance(Duration.fromSecs(1));
    const c = s.link.ingress.counters;
    const lost = c.get(ImpairCounter.DroppedLoss);
    const dups = c.get(ImpairCounter.Duplicated);
    expectBinomial(lost, n, 0.02);
    expectBinomial(dups, n * 0.98, 0.01);
    expect(lost).toBeGreaterThan(0);
    expect(dups).toBeGreaterThan(0);
    expect(s.got).toHaveLength(n - lost + dups);
    expect(c.get(ImpairCounter.Delivered)).toBe(n - lost + dups);
    let pairs = 0;
    for (let i = 1; i < s.got.length; i++) {
      const a = s.got[i - 1]!.frame;
      const b = s.got[i]!.frame;
      if (seqOf(a) === seqOf(b)) {
        pairs++;
        expect(b).not.toBe(a);
        expect(b).toEqual(a);
      }
    }
    expect(pairs).toBe(dups);
  });

  it('the same seed replays the same run, another seed does not', () => {
    const run = (seed: number): string => {
      const s = setup({ seed, egress: { loss: 0.1, reorder: 0.1, jitter: ms(2), duplicate: 0.05 } });
      sendSpaced(s, 300, 200);
      return s.wire.sent.map((e) => `${e.at}:${seqOf(e.frame)}`).join(',');
    };
    expect(run(9)).toBe(run(9));
    expect(run(9)).not.toBe(run(10));
    // A SeededRng as the seed works too, and forks rather than draws from it.
    const a = setup({ seed: new SeededRng(4).fork('x'), egress: { loss: 0.5 } });
    const b = setup({ seed: new SeededRng(4).fork('x'), egress: { loss: 0.5 } });
    sendSpaced(a, 100, 10);
    sendSpaced(b, 100, 10);
    expect(a.wire.sent.map((e) => seqOf(e.frame))).toEqual(b.wire.sent.map((e) => seqOf(e.frame)));
  });

  it('corrupts by flipping exactly one bit of a copy, and then the link is not trusted', () => {
    const s = setup({ seed: 1, egress: { corrupt: 1 } });
    expect(s.link.trusted).toBe(false);
    const originals = sendSpaced(s, 200, 10, 100);
    expect(s.wire.sent).toHaveLength(200);
    expect(s.link.egress.counters.get(ImpairCounter.Corrupted)).toBe(200);
    const bitsHit = new Set<number>();
    s.wire.sent.forEach((e, i) => {
      const orig = originals[i]!;
      let flipped = 0;
      for (let k = 0; k < orig.length; k++) {
        let x = orig[k]! ^ e.frame[k]!;
        if (x !== 0) bitsHit.add(k * 8 + Math.clz32(x));
        for (; x !== 0; x &= x - 1) flipped++;
      }
      expect(flipped).toBe(1);
    });
    // Spread over the frame, not one fixed bit.
    expect(bitsHit.size).toBeGreaterThan(100);
  });

  it('tail-drops beyond the queue limit of a bandwidth-limited direction', () => {
    // 8 Mbit/s: a 1000-byte frame takes exactly 1 ms on the wire.
    const s = setup({ egress: { bandwidth: 8_000_000, queueLimit: 5 } });
    for (let i = 0; i < 20; i++) s.link.send(numbered(i, 1000));
    s.clock.advance(Duration.fromSecs(1));
    expect(s.wire.sent.map((e) => [e.at, seqOf(e.frame)])).toEqual([
      [1000, 0],
      [2000, 1],
      [3000, 2],
      [4000, 3],
      [5000, 4],
    ]);
    expect(s.link.egress.counters.get(ImpairCounter.DroppedQueue)).toBe(15);
    // Once the queue drained it takes frames again.
    s.link.send(numbered(99, 1000));
    s.clock.advance(Duration.fromSecs(1));
    expect(s.wire.sent.map((e) => seqOf(e.frame)).at(-1)).toBe(99);
  });

  it('close() cancels every pending delivery and closes the inner link', () => {
    const s = setup({ egress: { latency: Duration.fromSecs(1) }, ingress: { latency: Duration.fromSecs(1) } });
    for (let i = 0; i < 10; i++) s.link.send(numbered(i));
    for (let i = 0; i < 4; i++) s.wire.inject(numbered(i));
    expect(s.link.pendingFrames).toBe(14);
    expect(s.clock.pendingTimers).toBe(14);
    s.link.close();
    s.link.close();
    expect(s.clock.pendingTimers).toBe(0);
    expect(s.link.pendingFrames).toBe(0);
    expect(s.wire.closed).toBe(true);
    s.clock.advance(Duration.fromSecs(5));
    expect(s.wire.sent).toHaveLength(0);
    expect(s.got).toHaveLength(0);
    expect(s.link.egress.counters.get(ImpairCounter.DroppedClosed)).toBe(14);
    s.link.send(numbered(1));
    expect(s.clock.pendingTimers).toBe(0);
  });

  it('rejects meaningless impairments at construction and on change', () => {
    const clock = new VirtualClock();
    expect(() => impairLink(new WireStub(clock), { clock, egress: { loss: 2 } })).toThrow(RangeError);
    const link = impairLink(new WireStub(clock), { clock });
    expect(() => link.ingress.setImpairments({ latency: -1 as Duration })).toThrow(RangeError);
    link.ingress.setImpairments({ loss: 0.5 });
    link.ingress.setImpairments({ latency: ms(1) });
    expect(link.ingress.impairments.loss).toBe(0.5);
  });

  it('TCP between two stacks over impaired links moves 1 MiB intact', async () => {
    const clock = new VirtualClock({ maxTime: Duration.fromSecs(3600) as number as Instant });
    const [a, b] = pointToPoint({ clock, seed: 1 });
    const impaired = { latency: ms(5), jitter: ms(1), bandwidth: 50_000_000, queueLimit: 200, loss: 0.01, duplicate: 0.01, reorder: 0.02, reorderDelay: ms(3), corrupt: 0.002 };
    const la = impairLink(a, { clock, seed: 21, egress: impaired, ingress: { latency: ms(2), reorder: 0.01 } });
    const lb = impairLink(b, { clock, seed: 22, egress: impaired });
    const sa = new Stack({ clock, seed: 31 });
    const sb = new Stack({ clock, seed: 32 });
    sa.addInterface(la, { address: '10.0.0.1/24' });
    sb.addInterface(lb, { address: '10.0.0.2/24' });
    const data = new Uint8Array(1 << 20);
    const rng = new SeededRng(77);
    for (let i = 0; i < data.length; i++) data[i] = rng.nextU32() & 0xff;

    const lfd = sb.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    sb.sys.bind(lfd, { address: '10.0.0.2', port: 5000 });
    sb.sys.listen(lfd, 1);
    const server = (async () => {
      const { fd } = await sb.sys.accept(lfd);
      const parts: Uint8Array[] = [];
      const buf = new Uint8Array(65536);
      let total = 0;
      for (;;) {
        const n = await sb.sys.read(fd, buf);
        if (n === 0) break;
        parts.push(buf.slice(0, n));
        total += n;
      }
      sb.sys.close(fd);
      return concatBytes(parts, total);
    })();
    const fd = sa.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await sa.sys.connect(fd, { address: '10.0.0.2', port: 5000 });
    for (let off = 0; off < data.length; ) off += await sa.sys.write(fd, data.subarray(off));
    sa.sys.shutdown(fd, C.SHUT_WR);
    const got = await server;
    expect(got.length).toBe(data.length);
    expect(Buffer.compare(got, data)).toBe(0);
    expect(await sa.sys.read(fd, new Uint8Array(16))).toBe(0);
    sa.sys.close(fd);
    const e = la.egress.counters;
    for (const name of [ImpairCounter.DroppedLoss, ImpairCounter.Duplicated, ImpairCounter.Reordered, ImpairCounter.Corrupted]) {
      expect(e.get(name), name).toBeGreaterThan(0);
    }
    expect(lb.egress.counters.get(ImpairCounter.Reordered)).toBeGreaterThan(0);
    expect(la.ingress.counters.get(ImpairCounter.Reordered)).toBeGreaterThan(0);
    sa.close();
    sb.close();
  });
});
