/**
 * The send-buffer accounting rules on their own (send-memory.ts), on a bare
 * connection state: no wire, no clock. The numbers follow blocking-write.pkt
 * (MSS 1000, peer window 50000, SO_SNDBUF 21000 doubled to 42000,
 * tcp_min_tso_segs 10, srtt 100 ms), whose Linux trace they reproduce.
 */
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../storage/ring-buffer.js';
import type { Duration } from '../time/duration.js';
import { runScript } from '../packetdrill/runner.js';
import { SKB_OVERHEAD, chargeFor, sendCharge, sendMemoryFree, sendQueue, sizeGoal, tailRoom, tsoBytes } from './send-memory.js';
import type { SendMemoryState } from './send-memory.js';
import { seqAdd, seqSub } from './seq.js';

const ISS = 0xfffff000; // close to the wrap, so stream offsets are not sequence numbers
const INFINITE_SSTHRESH = 0x7fffffff;

interface Fake extends SendMemoryState {
  sndUna: number;
  sndMax: number;
  sndWnd: number;
  maxSndWnd: number;
  sndBufSeq: number;
  sndbuf: number;
  notsentLowat: number;
  readonly sndBuf: RingBuffer;
  readonly cc: { cwnd: number; ssthresh: number };
  readonly rtt: { srtt: Duration | undefined; minRtt: Duration | undefined };
  readonly config: { minTsoSegs: number };
}

function fake(over: Partial<Pick<Fake, 'sndbuf' | 'maxSndWnd'>> & { minTsoSegs?: number } = {}): Fake {
  const start = seqAdd(ISS, 1);
  const f: Fake = {
    iss: ISS,
    mss: 1000,
    maxSndWnd: over.maxSndWnd ?? 50000,
    sndWnd: over.maxSndWnd ?? 50000,
    sndUna: start,
    sndMax: start,
    sndBufSeq: start,
    sndBuf: new RingBuffer(1 << 20),
    sndbuf: over.sndbuf ?? 42000,
    sndTailOff: 1,
    sndPushedOff: 1,
    notsentLowat: 0xffff_ffff,
    rtt: { srtt: 100_000 as Duration, minRtt: undefined },
    cc: { cwnd: 10000, ssthresh: INFINITE_SSTHRESH },
    config: { minTsoSegs: over.minTsoSegs ?? 10 },
    cwnd() {
      return this.cc.cwnd;
    },
    flightSize() {
      return seqSub(this.sndMax, this.sndUna);
    },
  };
  return f;
}

/** The stream offset of a sequence number (0: the first data byte). */
const at = (f: Fake, off: number): number => seqAdd(f.iss, 1 + off);
/** Output sent up to stream offset `off`. */
function sendTo(f: Fake, off: number): void {
  f.sndMax = at(f, off);
}
/** An ACK of everything before stream offset `off` (tcp_clean_rtx_queue / tcp_trim_head). */
function ackTo(f: Fake, off: number): void {
  const to = at(f, off);
  f.sndBuf.consume(seqSub(to, f.sndBufSeq));
  f.sndBufSeq = to;
  f.sndUna = to;
}
/** sk_stream_is_writeable: free space of at least half of sk_wmem_queued. */
const writeable = (f: Fake): boolean => f.sndbuf - sendCharge(f) >= sendCharge(f) / 2;

describe('send-buffer accounting (Linux sk_wmem_queued against sk_sndbuf)', () => {
  it('size_goal is half the largest window the peer offered, in whole segments, at most 64 KiB', () => {
    expect(sizeGoal(fake())).toBe(25000);
    expect(sizeGoal(fake({ maxSndWnd: 50999 }))).toBe(25000);
    expect(sizeGoal(fake({ maxSndWnd: 1 << 20 }))).toBe(65000);
    // A tiny window: one segment, never less.
    expect(sizeGoal(fake({ maxSndWnd: 600 }))).toBe(1000);
  });

  it('a transmitted skb is tcp_min_tso_segs segments at a low pacing rate, more as the rate grows', () => {
    const f = fake();
    expect(tsoBytes(f)).toBe(10000);
    f.config.minTsoSegs = 2;
    expect(tsoBytes(f)).toBe(2000);
    // 200% of 1 MB per 1 ms srtt: about 1.9 MB per 1/1024 s, capped at 64 KiB.
    f.cc.cwnd = 1_000_000;
    f.rtt.srtt = 1000 as Duration;
    expect(tsoBytes(f)).toBe(65000);
    // No RTT sample yet: no pacing rate to bound it.
    f.rtt.srtt = undefined;
    f.cc.cwnd = 10000;
    expect(tsoBytes(f)).toBe(65000);
  });

  it('charges a fixed per-skb overhead on top of the payload', () => {
    const f = fake();
    expect(sendCharge(f)).toBe(0);
    expect(sendQueue(f, new Uint8Array(100))).toBe(100);
    expect(sendCharge(f)).toBe(100 + SKB_OVERHEAD);
  });

  it('an empty queue takes a write unless SO_SNDBUF or TCP_NOTSENT_LOWAT is 0, as the charge and unsent tests say (the empty-queue shortcut)', () => {
    // Each exit of sendQueue's empty-queue test against what the general test answers for the same state.
    for (const [sndbuf, lowat, takes] of [
      [42000, 0xffff_ffff, true],
      [0, 0xffff_ffff, false],
      [42000, 0, false],
      [1, 1, true],
    ] as const) {
      const f = fake({ sndbuf });
      f.notsentLowat = lowat;
      expect(sendMemoryFree(f)).toBe(takes);
      expect(sendQueue(f, new Uint8Array(10))).toBe(takes ? 10 : 0);
      // The same after data was queued, sent and acknowledged: the queue is empty again at a later sequence number.
      if (takes) {
        f.sndMax = seqAdd(f.sndBufSeq, 10);
        f.sndBuf.consume(10);
        f.sndBufSeq = f.sndMax;
        f.sndUna = f.sndMax;
        expect(sendCharge(f)).toBe(0);
        expect(sendQueue(f, new Uint8Array(3))).toBe(3);
        expect(sendCharge(f)).toBe(3 + SKB_OVERHEAD);
      }
    }
  });

  it('a write fills the tail skb to size_goal without looking at SO_SNDBUF, and starts a new skb only while the charge is under it', () => {
    const f = fake({ sndbuf: 10000 });
    f.cc.cwnd = 0; // nothing can be pushed: the skbs stay whole
    // 25000 bytes in one skb although SO_SNDBUF is 10000; the next skb may not start.
    expect(sendQueue(f, new Uint8Array(40000))).toBe(25000);
    expect(sendMemoryFree(f)).toBe(false);
    expect(tailRoom(f)).toBe(0);
    expect(sendQueue(f, new Uint8Array(1))).toBe(0);
  });

  it('a full skb at the head of the unsent data is split after one tso piece (tcp_push_one), and the rest takes more', () => {
    const f = fake();
    // blocking-write.pkt at 0.2 s: 25000 fill the first skb, 10 segments go,
    // the 15000 left take 10000 more; a second skb starts (37560 < 42000) and
    // fills; a third would not: 60000 bytes queued, past SO_SNDBUF's 42000.
    expect(sendQueue(f, new Uint8Array(61000))).toBe(60000);
    sendTo(f, 10000);
    expect(sendCharge(f)).toBe(60000 + 3 * SKB_OVERHEAD);
    expect(sendQueue(f, new Uint8Array(1000))).toBe(0);
  });

  it('sent data counts one skb per tso-sized piece; a partial ACK trims the payload but keeps the overhead', () => {
    const f = fake();
    sendQueue(f, new Uint8Array(61000));
    sendTo(f, 10000);
    ackTo(f, 10000);
    f.cc.cwnd = 40000;
    sendTo(f, 60000);
    ackTo(f, 30000);
    // [30000, 60000): three 10000-byte pieces.
    expect(sendCharge(f)).toBe(30000 + 3 * SKB_OVERHEAD);
    ackTo(f, 36000);
    // [36000, 40000) is what is left of a piece: still an skb.
    expect(sendCharge(f)).toBe(24000 + 3 * SKB_OVERHEAD);
  });

  it('a blocked writer wakes when a third of SO_SNDBUF is free counting per-skb overhead', () => {
    const f = fake();
    sendQueue(f, new Uint8Array(61000));
    sendTo(f, 10000);
    ackTo(f, 10000);
    f.cc.cwnd = 20000;
    sendTo(f, 30000);
    expect(writeable(f)).toBe(false);
    ackTo(f, 30000);
    f.cc.cwnd = 40000;
    sendTo(f, 60000);
    // 30000 payload would leave 12000 free, over a third of 42000 less the
    // payload's half; with 3 skbs of overhead it does not.
    expect(sendCharge(f)).toBe(33840);
    expect(writeable(f)).toBe(false);
    ackTo(f, 35000);
    expect(writeable(f)).toBe(false); // "An ACK of 35001 does not."
    ackTo(f, 36000);
    expect(sendCharge(f)).toBe(27840);
    expect(writeable(f)).toBe(true);
    expect(sendQueue(f, new Uint8Array(1000))).toBe(1000);
  });

  it('auto-tuning asks for the payload plus the overhead of the skbs it spans', () => {
    const f = fake({ minTsoSegs: 2 });
    expect(chargeFor(f, 20000)).toBe(20000 + (10 + 2) * SKB_OVERHEAD);
  });
});

describe('blocking-write.pkt, ACK by ACK', () => {
  const script = (lastAck: number, returnsAt: string): string => `
--tolerance_usecs=10000
0 \`sysctl -q net.ipv4.tcp_min_tso_segs=10\`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
  +.1 < S 0:0(0) win 50000 <mss 1000,nop,wscale 0>
   +0 > S. 0:0(0) ack 1 <...>
  +.1 < . 1:1(0) ack 1 win 50000
   +0 accept(3, ..., ...) = 4
   +0 setsockopt(4, SOL_SOCKET, SO_SNDBUF, [21000], 4) = 0
   +0...${returnsAt} write(4, ..., 61000) = 61000
  +.1 < . 1:1(0) ack 10001 win 50000
  +.1 < . 1:1(0) ack 30001 win 50000
  +.1 < . 1:1(0) ack ${lastAck} win 50000
  +.1 < . 1:1(0) ack 60001 win 50000
`;

  it('the write returns at the ACK of 36001', async () => {
    const r = await runScript(script(36001, '0.300'));
    expect(r.error).toBeNull();
  });

  it('an ACK of 35001 leaves too little free (per-skb overhead of 1280 bytes): the write returns only at the next ACK', async () => {
    const r = await runScript(script(35001, '0.400'));
    expect(r.error).toBeNull();
  });
});
