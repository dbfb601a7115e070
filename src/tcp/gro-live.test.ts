/**
 * GRO (gro.ts) between two stacks on a real-time memory wire, whose due-now
 * frames arrive in runs (Link.setBatchEnd). Driven by a SystemClock whose
 * time and timers are a ManualClock's, so the stacks and the network take
 * their real-time paths (batches, lazy timers, GRO) and every run is the
 * same. Checked: every byte arrives intact even when frame buffers are
 * poisoned the moment they go back to their sender (a merged segment reads
 * frame views until the run's end) and receive records once released, on a clean wire and on a lossy,
 * reordering, duplicating one (GRO never merges across a gap); the receiver
 * ACKs per merged segment; and a capture of the receiving link still shows
 * the wire's segments (GRO happens after capture).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../link/memory.js';
import type { MemoryImpairments } from '../link/memory.js';
import { PcapLink } from '../link/pcap-link.js';
import { PcapWriter, readPcap } from '../link/pcap.js';
import { LinkType } from '../link/link.js';
import type { FrameHandler } from '../link/link.js';
import { PassThroughLink } from '../link/pass-through-link.fixtures.js';
import { SeededRng } from '../random/rng.js';
import { poisonRecycledFrames } from '../stack/frame-slab.js';
import { Stack } from '../stack/stack.js';
import { constants as C } from '../syscall/constants.js';
import { Duration } from '../time/duration.js';
import { SteppedSystemClock } from '../time/stepped-system-clock.fixtures.js';
import { concatBytes } from '../wire/bytes.js';
import { poisonReusedTcpRecords } from '../wire/tcp.js';
import { TcpCounter } from './tcp-counters.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await Promise.resolve();
};

function seeded(n: number, seed: number): Uint8Array {
  const rng = new SeededRng(seed);
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.nextU32() & 0xff;
  return data;
}

interface Transfer {
  got: Uint8Array;
  sender: Stack;
  receiver: Stack;
  capture: Uint8Array[];
}

/** `data` from 10.0.0.1 to 10.0.0.2 in 64 KiB writes and reads, on a real-time memory wire (MTU 1500). */
async function transfer(data: Uint8Array, wire: Partial<MemoryImpairments> = {}, pcap = false): Promise<Transfer> {
  const clock = new SteppedSystemClock();
  const net = new MemoryNetwork({ clock, seed: 9, mtu: 1500, ...wire });
  const sender = new Stack({ clock, seed: 1 });
  const receiver = new Stack({ clock, seed: 2 });
  const capture: Uint8Array[] = [];
  sender.addInterface(net.attach({ name: 'a' }), { address: '10.0.0.1/24' });
  const bLink = net.attach({ name: 'b' });
  const writer = new PcapWriter((c) => capture.push(c.slice()), { linkType: LinkType.Ethernet });
  receiver.addInterface(pcap ? new PcapLink(bLink, { writer, clock }) : bLink, { address: '10.0.0.2/24' });
  expect(receiver.lazyTimers).toBe(true);
  const lfd = receiver.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  receiver.sys.bind(lfd, { address: C.INADDR_ANY, port: 80 });
  receiver.sys.listen(lfd, 1);
  const got = new Uint8Array(data.length);
  let received = 0;
  let done = false;
  const reading = (async () => {
    const { fd } = await receiver.sys.accept(lfd);
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await receiver.sys.read(fd, buf);
      if (n === 0) break;
      got.set(buf.subarray(0, n), received);
      received += n;
    }
    receiver.sys.close(fd);
    done = true;
  })();
  const writing = (async () => {
    const fd = sender.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await sender.sys.connect(fd, { address: '10.0.0.2', port: 80 });
    for (let off = 0; off < data.length; ) off += await sender.sys.write(fd, data.subarray(off, Math.min(data.length, off + 65536)));
    sender.sys.close(fd);
  })();
  // Virtual time in 1 ms steps; the microtask runs (batches) between them.
  for (let i = 0; i < 20_000 && !done; i++) {
    await settle();
    clock.manual.advance(Duration.fromMillis(1));
  }
  await writing;
  await reading;
  sender.close();
  receiver.close();
  expect(received).toBe(data.length);
  return { got, sender, receiver, capture };
}

const count = (s: Stack, name: string): number => s.stats.get(name);

/** Passes a memory link through, and calls `onCut` once right after the `cutAt`-th TCP data frame from 10.0.0.1 is received. */
class CutLink extends PassThroughLink {
  cutAt = Infinity;
  onCut: () => void = () => undefined;
  /** TCP payload bytes of the data frames received up to the cut. */
  delivered = 0;
  #frames = 0;
  override setReceiver(handler: FrameHandler | undefined): void {
    this.inner.setReceiver(
      handler === undefined
        ? undefined
        : (f) => {
            const done = handler(f);
            const ipLen = (f[16]! << 8) | f[17]!;
            const payload = ipLen - 20 - (f[14 + 20 + 12]! >>> 4) * 4;
            if (f[23] === 6 && f[29] === 1 && payload > 0 && this.#frames < this.cutAt) {
              this.delivered += payload;
              if (++this.#frames === this.cutAt) this.onCut();
            }
            return done;
          },
    );
  }
  setBatchEnd(end: (() => void) | undefined): void {
    this.inner.setBatchEnd?.(end);
  }
  setRecycler(recycle: ((frame: Uint8Array) => void) | undefined): void {
    this.inner.setRecycler?.(recycle);
  }
}

describe('GRO on a real-time memory wire', () => {
  afterEach(() => {
    poisonRecycledFrames(false);
    poisonReusedTcpRecords(false);
  });

  it('merges the segments of each run; every byte intact though frames are poisoned once given back', async () => {
    // Receive records too: the train's record must be its own, not the next segment's.
    poisonRecycledFrames(true);
    poisonReusedTcpRecords(true);
    const data = seeded(2 << 20, 5);
    const { got, receiver } = await transfer(data);
    // Compared without printing 2 MiB on failure.
    expect(got.every((x, i) => x === data[i])).toBe(true);
    const packets = count(receiver, TcpCounter.GroPackets);
    const merged = count(receiver, TcpCounter.GroMerged);
    expect(packets).toBeGreaterThan(0);
    // Most data segments went up merged, several to a merged segment.
    const inSegs = count(receiver, TcpCounter.InSegs);
    expect(merged).toBeGreaterThan(inSegs / 2);
    expect(merged / packets).toBeGreaterThan(4);
  });

  it('ACKs per merged segment, far fewer ACKs than one per two wire segments', async () => {
    const data = seeded(2 << 20, 6);
    const { receiver } = await transfer(data);
    const dataSegs = Math.ceil(data.length / 1448);
    const acks = count(receiver, TcpCounter.OutSegs);
    // Without GRO the receiver sends about one ACK per two full segments (dataSegs / 2).
    expect(acks).toBeLessThan(dataSegs / 4);
    // And never fewer than one per merged segment (each is ACKed on its own).
    expect(acks).toBeGreaterThanOrEqual(count(receiver, TcpCounter.GroPackets) / 2);
  });

  it('never merges across a gap: a lossy, reordering, duplicating wire still delivers every byte in order', async () => {
    const data = seeded(1 << 20, 7);
    const { got, receiver } = await transfer(data, { loss: 0.01, reorder: 0.03, duplicate: 0.01 });
    expect(got.every((x, i) => x === data[i])).toBe(true);
    expect(count(receiver, TcpCounter.GroPackets)).toBeGreaterThan(0);
  });

  it('an interface removed in the middle of a run first processes what GRO held of it', async () => {
    poisonRecycledFrames(true);
    const clock = new SteppedSystemClock();
    const net = new MemoryNetwork({ clock, seed: 9, mtu: 1500 });
    const sender = new Stack({ clock, seed: 1 });
    const receiver = new Stack({ clock, seed: 2 });
    sender.addInterface(net.attach({ name: 'a' }), { address: '10.0.0.1/24' });
    const cut = new CutLink(net.attach({ name: 'b' }));
    const iface = receiver.addInterface(cut, { address: '10.0.0.2/24' });
    // Within the initial receive window (nobody reads), in the middle of the third run (slow start).
    cut.cutAt = 40;
    let removed = false;
    cut.onCut = () => {
      receiver.removeInterface(iface);
      removed = true;
    };
    const lfd = receiver.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    receiver.sys.bind(lfd, { address: C.INADDR_ANY, port: 80 });
    receiver.sys.listen(lfd, 1);
    const accepted = receiver.sys.accept(lfd);
    const data = seeded(1 << 20, 10);
    const fd = sender.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    void (async () => {
      await sender.sys.connect(fd, { address: '10.0.0.2', port: 80 });
      for (let off = 0; off < data.length && !removed; ) off += await sender.sys.write(fd, data.subarray(off, Math.min(data.length, off + 65536)));
    })().catch(() => undefined);
    let rfd = -1;
    void accepted.then((a) => (rfd = a.fd));
    for (let i = 0; i < 2000 && !removed; i++) {
      await settle();
      clock.manual.advance(Duration.fromMillis(1));
    }
    expect(removed, 'cut').toBe(true);
    expect(rfd).toBeGreaterThanOrEqual(0);
    expect(count(receiver, TcpCounter.GroPackets)).toBeGreaterThan(0);
    // Every data byte that arrived before the cut was taken in, intact.
    const buf = new Uint8Array(data.length);
    let got = 0;
    for (;;) {
      const n = await receiver.sys.recv(rfd, buf.subarray(got), C.MSG_DONTWAIT).catch(() => 0);
      if (n === 0) break;
      got += n;
    }
    expect(got).toBe(cut.delivered);
    expect(buf.subarray(0, got).every((x, i) => x === data[i]), 'intact').toBe(true);
    sender.close();
    receiver.close();
  });

  it('a capture of the receiving link shows the wire segments, not the merged ones', async () => {
    const data = seeded(1 << 20, 8);
    const { got, receiver, capture } = await transfer(data, {}, true);
    expect(got.every((x, i) => x === data[i])).toBe(true);
    expect(count(receiver, TcpCounter.GroPackets)).toBeGreaterThan(0);
    const file = readPcap(concatBytes(capture));
    if (!file.ok) throw new Error(file.reason);
    let payload = 0;
    let segments = 0;
    let largest = 0;
    let fromSender = 0;
    for (const r of file.value.records) {
      const f = r.data;
      // Ethernet, IPv4 without options, TCP from 10.0.0.1 (frames the receiver got).
      if (f[12] !== 8 || f[13] !== 0 || f[23] !== 6 || f[29] !== 1) continue;
      fromSender++;
      const ipLen = (f[16]! << 8) | f[17]!;
      const tcpLen = ipLen - 20 - (f[14 + 20 + 12]! >>> 4) * 4;
      if (tcpLen <= 0) continue;
      segments++;
      payload += tcpLen;
      largest = Math.max(largest, ipLen);
    }
    // Every data segment as it was on the wire: at most the MTU each, one
    // per TCP input segment counted, their payload the whole stream.
    expect(largest).toBeLessThanOrEqual(1500);
    expect(payload).toBeGreaterThanOrEqual(data.length);
    expect(segments).toBeGreaterThan(count(receiver, TcpCounter.GroPackets) * 4);
    // Each one a TCP input segment of its own before GRO merged them.
    expect(fromSender).toBe(count(receiver, TcpCounter.InSegs));
  });
});
