/**
 * TCP input of a GRO-merged segment (TcpRepr.gro, gro.ts): the text of all
 * its wire segments lands in order with one buffer commit, and it is ACKed
 * once, as Linux's __tcp_ack_snd_check decides for a GRO skb: at once when
 * more than one rcv_mss has come since the last ACK.
 */
import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../wire/tcp.js';
import type { TcpGroPayload, TcpRepr } from '../wire/tcp.js';
import type { TcpConnection } from './connection.js';
import { connectedPair, drain } from './harness.fixtures.js';
import { seqAdd } from './seq.js';

const MSS = 1460;

function established(): { c: TcpConnection; s: TcpConnection; now: ReturnType<typeof connectedPair>['net']['now'] } {
  // No quick ACKs, no timestamps: the delayed-ACK rule alone decides.
  const { net, c, s } = connectedPair({ seed: 3, client: { timestamps: false }, server: { timestamps: false, quickAcks: 0 } });
  return { c, s, now: net.now };
}

/** The merged segment of `chunks` from c to s, starting `skip` bytes before c's SND.NXT. */
function merged(c: TcpConnection, chunks: Uint8Array[], back = 0, flags: number = TcpFlag.ACK): TcpRepr {
  const length = chunks.reduce((n, x) => n + x.length, 0);
  const gro: TcpGroPayload = { chunks, segs: chunks.length, length, gsoSize: chunks[0]!.length };
  return {
    srcPort: c.local.port,
    dstPort: c.remote.port,
    seq: seqAdd(c.info.sndNxt, -back),
    ack: c.info.rcvNxt,
    flags,
    window: 1000,
    urgentPointer: 0,
    options: [],
    payload: chunks[0]!,
    gro,
  };
}

const bytes = (n: number, from: number): Uint8Array => new Uint8Array(n).map((_, i) => (from + i) & 0xff);

describe('TCP input of a GRO-merged segment', () => {
  it('stores the text of every wire segment in order and ACKs it once, at once', () => {
    const { c, s, now } = established();
    const chunks = [bytes(MSS, 0), bytes(MSS, MSS), bytes(MSS, 2 * MSS), bytes(700, 3 * MSS)];
    const seg = merged(c, chunks);
    s.input(now, seg);
    expect(s.info.rcvNxt).toBe(seqAdd(seg.seq, 3 * MSS + 700));
    expect(s.ackDue).toBe(true);
    const ack = s.poll(now);
    expect(ack?.header.flags).toBe(TcpFlag.ACK);
    expect(ack?.header.ack).toBe(seqAdd(seg.seq, 3 * MSS + 700));
    // One ACK for the merged segment, not one per two wire segments.
    expect(s.poll(now)).toBeUndefined();
    const got: number[] = [];
    expect(drain(s, got)).toBe(3 * MSS + 700);
    expect(got).toEqual([...bytes(3 * MSS + 700, 0)]);
  });

  it('ACKs at once a full segment and a short one merged (more than rcv_mss since the last ACK)', () => {
    const { c, s, now } = established();
    // Two full-sized wire segments: rcv_mss is learnt, and their ACK goes out.
    s.input(now, { ...merged(c, [bytes(MSS, 0)]), gro: undefined });
    s.input(now, { ...merged(c, [bytes(MSS, MSS)]), seq: seqAdd(c.info.sndNxt, MSS), gro: undefined });
    expect(s.ackDue).toBe(true);
    while (s.poll(now) !== undefined);
    expect(s.ackDue).toBe(false);
    // One and a bit segments' worth: Linux ACKs a GRO skb of more than rcv_mss at once.
    s.input(now, { ...merged(c, [bytes(MSS, 2 * MSS), bytes(100, 3 * MSS)]), seq: seqAdd(c.info.sndNxt, 2 * MSS) });
    expect(s.ackDue).toBe(true);
  });

  it('leaves a merged segment of less than rcv_mss to the delayed ACK', () => {
    const { c, s, now } = established();
    s.input(now, merged(c, [bytes(300, 0), bytes(200, 300)]));
    expect(s.info.rcvNxt).toBe(seqAdd(c.info.sndNxt, 500));
    expect(s.ackDue).toBe(false);
    expect(s.poll(now)).toBeUndefined();
  });

  it('takes only the new part of a merged segment that starts with data already received', () => {
    const { c, s, now } = established();
    s.input(now, { ...merged(c, [bytes(1000, 0)]), gro: undefined });
    // Retransmitted 1000..3000 merged from two 1000-byte segments, then 3000..3500 new.
    const seg = { ...merged(c, [bytes(1000, 0), bytes(1000, 1000), bytes(1000, 2000), bytes(500, 3000)]) };
    s.input(now, seg);
    const got: number[] = [];
    expect(drain(s, got)).toBe(3500);
    expect(got).toEqual([...bytes(3500, 0)]);
  });

  it('clips inside a wire segment: a merged segment whose overlap with received data ends mid-chunk', () => {
    const { c, s, now } = established();
    s.input(now, { ...merged(c, [bytes(1500, 0)]), gro: undefined });
    // 0..3000 again as three 1000-byte wire segments: the second is new from its 500th byte on.
    s.input(now, merged(c, [bytes(1000, 0), bytes(1000, 1000), bytes(1000, 2000)]));
    const got: number[] = [];
    expect(drain(s, got)).toBe(3000);
    expect(got).toEqual([...bytes(3000, 0)]);
  });

  it('parks an out-of-order merged segment and delivers it once the hole is filled', () => {
    const { c, s, now } = established();
    const late = { ...merged(c, [bytes(1000, 1000), bytes(1000, 2000)]), seq: seqAdd(c.info.sndNxt, 1000) };
    s.input(now, late);
    // Out of order: ACKed at once (a duplicate ACK with SACK), nothing readable.
    expect(s.ackDue).toBe(true);
    expect(s.recvAvailable).toBe(0);
    s.input(now, { ...merged(c, [bytes(1000, 0)]), gro: undefined });
    const got: number[] = [];
    expect(drain(s, got)).toBe(3000);
    expect(got).toEqual([...bytes(3000, 0)]);
  });

  it('a merged segment ending with FIN closes the direction after its text', () => {
    const { c, s, now } = established();
    s.input(now, merged(c, [bytes(1000, 0), bytes(500, 1000)], 0, TcpFlag.ACK | TcpFlag.FIN));
    expect(s.info.rcvNxt).toBe(seqAdd(c.info.sndNxt, 1501));
    const got: number[] = [];
    expect(drain(s, got)).toBe(1500);
    expect(s.eof).toBe(true);
  });
});
