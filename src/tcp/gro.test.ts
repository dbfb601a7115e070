/**
 * GRO's merge and flush rules (gro.ts, Linux tcp_gro_receive and
 * inet_gro_receive), one case per rule: each fails if its rule is removed.
 */
import { describe, expect, it } from 'vitest';
import type { Ipv4Repr } from '../wire/ipv4.js';
import { IpProtocol } from '../wire/ipv4.js';
import { TcpFlag, TcpReprScratch, emitTcp, parseTcpInto, tcpPayloadLength } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { TcpOption } from '../wire/tcp-options.js';
import { GroMerge, TcpGro } from './gro.js';

const SRC = 0x0a000001;
const DST = 0x0a000002;
const SEQ = 0xfffff000; // the train wraps around 2^32 on the way

interface Seg {
  readonly ip: Ipv4Repr;
  readonly bytes: Uint8Array;
  readonly rec: TcpReprScratch;
}

interface SegSpec {
  seq?: number;
  len?: number;
  flags?: number;
  ack?: number;
  window?: number;
  reserved?: number;
  options?: readonly TcpOption[];
  srcPort?: number;
  ip?: Partial<Ipv4Repr>;
  fill?: number;
  /** The payload's first bytes. */
  head?: readonly number[];
}

const TS = (tsVal: number): readonly TcpOption[] => [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal, tsEcr: 99 }];

/** A wire segment (emitted, then parsed as TCP input parses it) and its IP header. */
function seg(spec: SegSpec = {}): Seg {
  const len = spec.len ?? 1000;
  const payload = new Uint8Array(len).fill(spec.fill ?? 1);
  if (spec.head !== undefined) payload.set(spec.head);
  const repr: TcpRepr = {
    srcPort: spec.srcPort ?? 40000,
    dstPort: 80,
    seq: spec.seq ?? SEQ,
    ack: spec.ack ?? 5000,
    flags: spec.flags ?? TcpFlag.ACK,
    window: spec.window ?? 500,
    urgentPointer: 0,
    options: spec.options ?? TS(7),
    payload,
    ...(spec.reserved === undefined ? {} : { reserved: spec.reserved }),
  };
  const bytes = new Uint8Array(20 + 40 + len);
  const n = emitTcp(repr, bytes);
  const rec = new TcpReprScratch();
  expect(parseTcpInto(bytes.subarray(0, n), false, SRC, DST, rec)).toBeUndefined();
  const ip: Ipv4Repr = {
    src: SRC,
    dst: DST,
    protocol: IpProtocol.Tcp,
    ttl: 64,
    dscp: 0,
    ecn: 0,
    identification: 1,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    options: new Uint8Array(0),
    payload: bytes.subarray(0, n),
    ...spec.ip,
  };
  return { ip, bytes: bytes.subarray(0, n), rec };
}

/** A train started with the default segment (1000 bytes at SEQ). */
function train(first: Seg = seg()): TcpGro<string> {
  const gro = new TcpGro<string>();
  expect(TcpGro.canStart(first.ip, first.rec, 32)).toBe(true);
  gro.hold('conn', first.ip, first.bytes, 0, first.rec);
  return gro;
}

function merge(gro: TcpGro<string>, s: Seg): GroMerge {
  expect(gro.sameFlow(s.ip, s.rec)).toBe(true);
  return gro.tryMerge(s.ip, s.bytes, 0, s.rec);
}

const next = (k: number, spec: SegSpec = {}): Seg => seg({ seq: (SEQ + 1000 * k) >>> 0, ...spec });

describe('TcpGro: what may start a train', () => {
  it('a data segment with ACK and no other flag', () => {
    const s = seg();
    expect(TcpGro.canStart(s.ip, s.rec, 32)).toBe(true);
  });

  it('not a segment without payload (a pure ACK goes up at once)', () => {
    const s = seg({ len: 0 });
    expect(TcpGro.canStart(s.ip, s.rec, 32)).toBe(false);
  });

  for (const [name, flag] of [
    ['PSH', TcpFlag.PSH],
    ['FIN', TcpFlag.FIN],
    ['SYN', TcpFlag.SYN],
    ['RST', TcpFlag.RST],
    ['URG', TcpFlag.URG],
  ] as const) {
    it(`not a segment with ${name} (out_check_final flushes it)`, () => {
      const s = seg({ flags: TcpFlag.ACK | flag });
      expect(TcpGro.canStart(s.ip, s.rec, 32)).toBe(false);
    });
  }

  it('not a segment that leaves no room under 64 KiB (nothing could join it)', () => {
    const s = seg({ len: 65_536 - 20 - 32 - 1 });
    expect(TcpGro.canStart(s.ip, s.rec, 32)).toBe(false);
    const fits = seg({ len: 65_536 - 20 - 32 - 2 });
    expect(TcpGro.canStart(fits.ip, fits.rec, 32)).toBe(true);
  });

  it('not a segment without ACK', () => {
    const s = seg({ flags: 0 });
    expect(TcpGro.canStart(s.ip, s.rec, 32)).toBe(false);
  });

  it('not a datagram with IP options (inet_gro_receive wants a 20-byte header)', () => {
    const s = seg({ ip: { options: new Uint8Array([1, 1, 1, 1]) } });
    expect(TcpGro.canStart(s.ip, s.rec, 32)).toBe(false);
  });

  it('not a fragment', () => {
    expect(TcpGro.canStart(seg({ ip: { moreFragments: true } }).ip, seg().rec, 32)).toBe(false);
    expect(TcpGro.canStart(seg({ ip: { fragmentOffset: 8 } }).ip, seg().rec, 32)).toBe(false);
  });
});

describe('TcpGro: merging', () => {
  it('merges in-order segments into one, its payload the frames views in order', () => {
    const first = seg({ fill: 1 });
    const gro = train(first);
    const second = next(1, { fill: 2 });
    const third = next(2, { fill: 3 });
    expect(merge(gro, second)).toBe(GroMerge.Merged);
    expect(merge(gro, third)).toBe(GroMerge.Merged);
    expect(gro.entry).toBe('conn');
    const m = gro.take();
    expect(gro.merged).toBe(3);
    expect(m.seq).toBe(SEQ);
    expect(m.flags).toBe(TcpFlag.ACK);
    expect(m.gro?.segs).toBe(3);
    expect(m.gro?.length).toBe(3000);
    expect(m.gro?.gsoSize).toBe(1000);
    expect(tcpPayloadLength(m)).toBe(3000);
    const chunks = m.gro!.chunks.slice(0, 3);
    // Views of the frames themselves: no copy.
    expect(chunks[0]!.buffer).toBe(first.bytes.buffer);
    expect(chunks[1]!.buffer).toBe(second.bytes.buffer);
    expect(chunks.map((c) => c[0])).toEqual([1, 2, 3]);
    gro.done();
    expect(gro.entry).toBeUndefined();
  });

  it('a lone segment is handed over as it came (no gro payload)', () => {
    const gro = train();
    const m = gro.take();
    expect(m.gro).toBeUndefined();
    expect(m.payload.length).toBe(1000);
    expect(gro.merged).toBe(1);
    gro.done();
  });

  it('done() lets go of every frame view', () => {
    const gro = train();
    expect(merge(gro, next(1))).toBe(GroMerge.Merged);
    const m = gro.take();
    const p = m.gro!;
    gro.done();
    expect(p.chunks.every((c) => c.length === 0)).toBe(true);
    expect(m.gro).toBeUndefined();
  });

  it('a segment with PSH joins and ends the train, which then carries PSH', () => {
    const gro = train();
    expect(merge(gro, next(1, { flags: TcpFlag.ACK | TcpFlag.PSH }))).toBe(GroMerge.MergedLast);
    expect(gro.take().flags).toBe(TcpFlag.ACK | TcpFlag.PSH);
  });

  it('a segment with FIN joins and ends the train, which then carries FIN', () => {
    const gro = train();
    expect(merge(gro, next(1, { flags: TcpFlag.ACK | TcpFlag.FIN }))).toBe(GroMerge.MergedLast);
    expect(gro.take().flags).toBe(TcpFlag.ACK | TcpFlag.FIN);
  });

  it('a segment shorter than the first joins and ends the train', () => {
    const gro = train();
    expect(merge(gro, next(1, { len: 999 }))).toBe(GroMerge.MergedLast);
    expect(gro.take().gro?.length).toBe(1999);
  });

  it('stays below 64 KiB in all (gro_max_size)', () => {
    // 20 (IP) + 32 (TCP with timestamps) + 1000 per segment: the 65th would reach 65536.
    const gro = train();
    for (let k = 1; k < 65; k++) expect(merge(gro, next(k))).toBe(GroMerge.Merged);
    expect(merge(gro, next(65))).toBe(GroMerge.No);
    expect(gro.take().gro?.length).toBe(65_000);
  });
});

describe('TcpGro: what ends a train before a segment (flush)', () => {
  const cases: [string, SegSpec][] = [
    ['another flag (ECE)', { flags: TcpFlag.ACK | TcpFlag.ECE }],
    ['CWR', { flags: TcpFlag.ACK | TcpFlag.CWR }],
    ['URG', { flags: TcpFlag.ACK | TcpFlag.URG }],
    ['another ACK number', { ack: 5001 }],
    ['another window', { window: 501 }],
    ['other reserved bits', { reserved: 1 }],
    // Its first payload bytes are the train's option bytes: only the data offset differs.
    ['another header length', { options: [], head: [1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 99] }],
    ['other option bytes (TSval)', { options: TS(8) }],
    ['no payload', { len: 0 }],
    ['a payload larger than the first', { len: 1001 }],
    ['a gap in sequence', { seq: (SEQ + 1001) >>> 0 }],
    ['an overlap in sequence', { seq: (SEQ + 999) >>> 0 }],
    ['another TTL', { ip: { ttl: 63 } }],
    ['another TOS (DSCP)', { ip: { dscp: 8 } }],
    ['another TOS (ECN)', { ip: { ecn: 1 } }],
    ['another DF bit', { ip: { dontFragment: false } }],
  ];
  for (const [name, spec] of cases) {
    it(name, () => {
      const gro = train();
      expect(merge(gro, next(1, spec))).toBe(GroMerge.No);
      // The train is intact: still one segment, the next good one may join.
      expect(merge(gro, next(1))).toBe(GroMerge.Merged);
    });
  }

  it('a segment of another flow is not the train flow', () => {
    const gro = train();
    const other = next(1, { srcPort: 40001 });
    expect(gro.sameFlow(other.ip, other.rec)).toBe(false);
    const otherHost = next(1, { ip: { src: SRC + 1 } });
    expect(gro.sameFlow(otherHost.ip, otherHost.rec)).toBe(false);
    const toOther = next(1, { ip: { dst: DST + 1 } });
    expect(gro.sameFlow(toOther.ip, toOther.rec)).toBe(false);
  });

  it('the train started with CWR takes nothing more', () => {
    const gro = train(seg({ flags: TcpFlag.ACK | TcpFlag.CWR }));
    expect(merge(gro, next(1))).toBe(GroMerge.No);
    expect(merge(gro, next(1, { flags: TcpFlag.ACK | TcpFlag.CWR }))).toBe(GroMerge.No);
  });
});
