import { IpProtocol } from './ipv4.js';
import { describe, expect, it } from 'vitest';
import { ipv4 } from './address.js';
import { fromHex, readU16, toHex, writeU16 } from './bytes.js';
import { internetChecksum, pseudoHeaderSum } from './checksum.js';
import {
  TcpFlag,
  TcpPacket,
  emitTcp,
  emitTcpHeader,
  emitTcpHeaderTrusted,
  finishTcpChecksum,
  finishTcpChecksumAt,
  formatTcp,
  formatTcpFlags,
  parseTcp,
  parseTcpInto,
  parseTcpIntoAt,
  TcpReprScratch,
  tcpBufferLen,
  tcpHeaderLen,
  tcpPayloadLength,
} from './tcp.js';
import type { TcpPseudoHeader, TcpRepr } from './tcp.js';
import { dataOptions, synOptions } from './tcp-options.js';
import type { TcpOption } from './tcp-options.js';
import { SeededRng } from '../random/rng.js';

const A = ipv4('10.0.0.1');
const B = ipv4('10.0.0.2');
const AB: TcpPseudoHeader = { src: A, dst: B };
const BA: TcpPseudoHeader = { src: B, dst: A };

/**
 * Real segments sent by Linux 6.18, captured with tcpdump on a veth pair
 * between two network namespaces (checksum offload off, so the checksums are
 * the ones Linux computed). `line` is what tcpdump -S printed for each.
 */
interface Fixture {
  readonly name: string;
  readonly ip: TcpPseudoHeader;
  readonly hex: string;
  readonly line: string;
}

const FIXTURES: readonly Fixture[] = [
  {
    name: 'SYN (Linux layout with timestamps)',
    ip: AB,
    hex: 'b466138866cb252600000000a002faf0eef60000020405b40402080a3f21b711000000000103030a',
    line: '10.0.0.1:46182 > 10.0.0.2:5000 S 1724589350:1724589350(0) win 64240 <mss 1460,sackOK,TS val 1059174161 ecr 0,nop,wscale 10>',
  },
  {
    name: 'SYN-ACK',
    ip: BA,
    hex: '1388b4661c08126b66cb2527a012fe881a550000020405b40402080a862e1c573f21b7110103030a',
    line: '10.0.0.2:5000 > 10.0.0.1:46182 S. 470291051:470291051(0) ack 1724589351 win 65160 <mss 1460,sackOK,TS val 2251168855 ecr 1059174161,nop,wscale 10>',
  },
  {
    name: 'ACK with timestamps',
    ip: AB,
    hex: 'b466138866cb25271c08126c8010003f476e00000101080a3f21b711862e1c57',
    line: '10.0.0.1:46182 > 10.0.0.2:5000 . 1724589351:1724589351(0) ack 470291052 win 63 <nop,nop,TS val 1059174161 ecr 2251168855>',
  },
  {
    name: 'ACK with a SACK block',
    ip: BA,
    hex: '1388b4661c08126c66cb30dfb0100044ca8c00000101080a862e1c573f21b7110101050a66cb34c766cb38af',
    line: '10.0.0.2:5000 > 10.0.0.1:46182 . 470291052:470291052(0) ack 1724592351 win 68 <nop,nop,TS val 2251168855 ecr 1059174161,nop,nop,sack 1724593351:1724594351>',
  },
  {
    name: 'data with timestamps',
    ip: BA,
    hex: '1388b4661c08126c66cb4468801800445be800000101080a862e1eaf3f21b9696279650a',
    line: '10.0.0.2:5000 > 10.0.0.1:46182 P. 470291052:470291056(4) ack 1724597352 win 68 <nop,nop,TS val 2251169455 ecr 1059174761>',
  },
  {
    name: 'FIN',
    ip: BA,
    hex: '1388b4661c08127066cb446880110044237300000101080a862e1eaf3f21b969',
    line: '10.0.0.2:5000 > 10.0.0.1:46182 F. 470291056:470291056(0) ack 1724597352 win 68 <nop,nop,TS val 2251169455 ecr 1059174761>',
  },
  {
    name: 'SYN without timestamps',
    ip: AB,
    hex: 'b4681388c380bb53000000008002faf019560000020405b4010104020103030a',
    line: '10.0.0.1:46184 > 10.0.0.2:5000 S 3279993683:3279993683(0) win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 10>',
  },
  {
    name: 'SYN-ACK without timestamps',
    ip: BA,
    hex: '1388b4687ad61f16c380bb548012faf07f580000020405b4010104020103030a',
    line: '10.0.0.2:5000 > 10.0.0.1:46184 S. 2060853014:2060853014(0) ack 3279993684 win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 10>',
  },
  {
    name: 'ACK without options',
    ip: AB,
    hex: 'b4681388c380bb547ad61f175010003fbadf0000',
    line: '10.0.0.1:46184 > 10.0.0.2:5000 . 3279993684:3279993684(0) ack 2060853015 win 63',
  },
  {
    name: 'data without options (odd length)',
    ip: AB,
    hex: 'b4681388c380bb547ad61f175018003f486b000068690a',
    line: '10.0.0.1:46184 > 10.0.0.2:5000 P. 3279993684:3279993687(3) ack 2060853015 win 63',
  },
  {
    name: 'RST-ACK to a closed port',
    ip: BA,
    hex: '1389ad6c000000009a9ee21a501400005e1f0000',
    line: '10.0.0.2:5001 > 10.0.0.1:44396 R. 0:0(0) ack 2594103834 win 0',
  },
];

function mustParse(bytes: Uint8Array, pseudo?: TcpPseudoHeader): TcpRepr {
  const r = parseTcp(bytes, pseudo);
  if (!r.ok) throw new Error(`parse failed: ${r.reason}`);
  return r.value;
}

/** Rewrites the checksum so that a hand-modified segment is valid again. */
function fixChecksum(bytes: Uint8Array, ip: TcpPseudoHeader): Uint8Array {
  writeU16(bytes, 16, 0);
  writeU16(bytes, 16, internetChecksum(bytes, pseudoHeaderSum(ip.src, ip.dst, IpProtocol.Tcp, bytes.length)));
  return bytes;
}

/** Builds a segment with a raw options area (possibly malformed) and a valid checksum. */
function segmentWithOptions(optionsHex: string, flags: number = TcpFlag.ACK): Uint8Array {
  const opts = fromHex(optionsHex);
  const headerLen = 20 + opts.length;
  if (headerLen % 4 !== 0) throw new Error('pad the options area to 4 bytes');
  const seg = new Uint8Array(headerLen + 2);
  seg.set(fromHex('b466138866cb25271c08126c'));
  seg[12] = (headerLen / 4) << 4;
  seg[13] = flags;
  writeU16(seg, 14, 1000);
  seg.set(opts, 20);
  seg.set([0x68, 0x69], headerLen);
  return fixChecksum(seg, AB);
}

describe('parseTcp on real Linux segments', () => {
  for (const f of FIXTURES) {
    it(`${f.name}: checksum verifies and fields match tcpdump`, () => {
      const repr = mustParse(fromHex(f.hex), f.ip);
      expect(formatTcp(repr, f.ip)).toBe(f.line);
      expect(repr.reserved).toBeUndefined();
    });

    it(`${f.name}: re-emits byte for byte`, () => {
      const bytes = fromHex(f.hex);
      const repr = mustParse(bytes, f.ip);
      expect(tcpBufferLen(repr)).toBe(bytes.length);
      const out = new Uint8Array(bytes.length);
      expect(emitTcp(repr, out, f.ip)).toBe(bytes.length);
      expect(toHex(out)).toBe(f.hex);
    });
  }

  it('gives every field of the SYN-ACK', () => {
    const repr = mustParse(fromHex(FIXTURES[1]!.hex), BA);
    expect(repr).toEqual({
      srcPort: 5000,
      dstPort: 46182,
      seq: 470291051,
      ack: 1724589351,
      flags: TcpFlag.SYN | TcpFlag.ACK,
      window: 65160,
      urgentPointer: 0,
      options: synOptions({ mss: 1460, sackPermitted: true, timestamps: { tsVal: 2251168855, tsEcr: 1059174161 }, windowScale: 10 }),
      payload: new Uint8Array(0),
    });
  });

  it('the builders reproduce the captured data-segment options', () => {
    const sack = mustParse(fromHex(FIXTURES[3]!.hex), BA);
    expect(sack.options).toEqual(
      dataOptions({ timestamps: { tsVal: 2251168855, tsEcr: 1059174161 }, sackBlocks: [{ left: 1724593351, right: 1724594351 }] }),
    );
  });

  it('the payload is a view into the input, not a copy', () => {
    const big = new Uint8Array(100).fill(0xaa);
    const seg = fromHex(FIXTURES[4]!.hex);
    big.set(seg, 10);
    const view = big.subarray(10, 10 + seg.length);
    const repr = mustParse(view, BA);
    expect(repr.payload.buffer).toBe(big.buffer);
    expect(repr.payload.byteOffset).toBe(10 + 32);
    expect(new TextDecoder().decode(repr.payload)).toBe('bye\n');
  });

  it('a checksum error in any byte is reported as bad-checksum', () => {
    for (const f of FIXTURES) {
      const bytes = fromHex(f.hex);
      for (let i = 0; i < bytes.length; i++) {
        const bad = bytes.slice();
        bad[i] = bad[i]! ^ 0x10;
        const r = parseTcp(bad, f.ip);
        // Flipping the data offset may change the header length first.
        if (i === 12) expect(r.ok).toBe(false);
        else expect(r).toEqual({ ok: false, reason: 'bad-checksum' });
      }
    }
  });

  it('the wrong pseudo-header fails the checksum; no pseudo-header skips it', () => {
    const bytes = fromHex(FIXTURES[0]!.hex);
    // (Swapping src and dst would not do: the one's complement sum commutes.)
    expect(parseTcp(bytes, { src: A, dst: ipv4('10.0.0.3') })).toEqual({ ok: false, reason: 'bad-checksum' });
    const bad = bytes.slice();
    bad[16] = bad[16]! ^ 0xff;
    expect(parseTcp(bad).ok).toBe(true);
  });
});

describe('parseTcpIntoAt (in place, inside a larger buffer)', () => {
  it('reads every fixture like parseTcpInto, at any offset, with the payload a view of the buffer', () => {
    for (const f of FIXTURES) {
      const seg = fromHex(f.hex);
      const want = new TcpReprScratch();
      expect(parseTcpInto(seg, true, f.ip.src, f.ip.dst, want)).toBeUndefined();
      for (const at of [0, 34, 7]) {
        const frame = new Uint8Array(at + seg.length + 6).fill(0xee);
        frame.set(seg, at);
        const got = new TcpReprScratch();
        expect(parseTcpIntoAt(frame, at, at + seg.length, true, f.ip.src, f.ip.dst, got), `${f.name} at ${at}`).toBeUndefined();
        // The payload's range (payloadBytes, payloadFrom) is where it lies in each buffer: checked below.
        const same = (r: TcpReprScratch) => ({ ...r, payloadBytes: undefined, payloadFrom: undefined, payload: toHex(r.payload), options: r.options });
        expect(same(got)).toEqual(same(want));
        // The range is the segment's payload in the frame itself, viewed only when read.
        expect(got.payloadBytes).toBe(frame);
        expect(got.payloadFrom).toBe(at + tcpHeaderLen(want));
        expect(got.payloadLength).toBe(seg.length - tcpHeaderLen(want));
        expect(tcpPayloadLength(got)).toBe(got.payloadLength);
        // A view of the buffer; an empty payload is one shared empty view.
        if (seg.length > tcpHeaderLen(want)) expect(got.payload.buffer).toBe(frame.buffer);
        else expect(got.payload.length).toBe(0);
      }
    }
  });

  it('views the payload only when read, once, and forgets the range on release', () => {
    const f = FIXTURES.find((x) => {
      const r = new TcpReprScratch();
      return parseTcpInto(fromHex(x.hex), true, x.ip.src, x.ip.dst, r) === undefined && r.payloadLength > 0;
    })!;
    const seg = fromHex(f.hex);
    const frame = new Uint8Array(seg.length + 10);
    frame.set(seg, 10);
    const got = new TcpReprScratch();
    expect(parseTcpIntoAt(frame, 10, 10 + seg.length, true, f.ip.src, f.ip.dst, got)).toBeUndefined();
    const view = got.payload;
    expect(got.payload).toBe(view);
    expect(view.byteOffset).toBe(got.payloadFrom);
    expect(view.length).toBe(got.payloadLength);
    got.release();
    expect(got.payloadLength).toBe(0);
    expect(got.payload.length).toBe(0);
    expect(tcpPayloadLength(got)).toBe(0);
  });

  it('reports what parseTcpInto reports for cut and corrupted segments (seeded)', () => {
    const rng = new SeededRng(31);
    for (let k = 0; k < 2000; k++) {
      const f = FIXTURES[k % FIXTURES.length]!;
      const seg = fromHex(f.hex).slice(0, rng.nextU32() % (f.hex.length / 2 + 1));
      if (seg.length > 0 && (k & 1) === 1) seg[rng.nextU32() % seg.length] = rng.nextU32() & 0xff;
      const frame = new Uint8Array(seg.length + 40);
      frame.set(seg, 34);
      for (const verify of [true, false]) {
        const a = parseTcpInto(seg, verify, f.ip.src, f.ip.dst, new TcpReprScratch());
        const b = parseTcpIntoAt(frame, 34, 34 + seg.length, verify, f.ip.src, f.ip.dst, new TcpReprScratch());
        expect(b).toBe(a);
      }
    }
  });
});

describe('parseTcp length checks', () => {
  it('fewer than 20 bytes is truncated', () => {
    expect(parseTcp(new Uint8Array(19))).toEqual({ ok: false, reason: 'truncated' });
    expect(parseTcp(new Uint8Array(0))).toEqual({ ok: false, reason: 'truncated' });
  });

  it('a data offset below 5 is bad-header-length', () => {
    for (let off = 0; off < 5; off++) {
      const seg = fromHex(FIXTURES[8]!.hex);
      seg[12] = off << 4;
      expect(parseTcp(fixChecksum(seg, AB), AB)).toEqual({ ok: false, reason: 'bad-header-length' });
    }
  });

  it('a data offset past the buffer is bad-header-length', () => {
    const seg = fromHex(FIXTURES[8]!.hex);
    seg[12] = 6 << 4;
    expect(parseTcp(fixChecksum(seg, AB), AB)).toEqual({ ok: false, reason: 'bad-header-length' });
  });

  it('every truncation of every fixture fails cleanly and never throws', () => {
    for (const f of FIXTURES) {
      const bytes = fromHex(f.hex);
      const headerLen = (bytes[12]! >>> 4) * 4;
      for (let n = 0; n < bytes.length; n++) {
        const cut = bytes.subarray(0, n);
        let r: ReturnType<typeof parseTcp> | undefined;
        let s: ReturnType<typeof parseTcp> | undefined;
        expect(() => {
          r = parseTcp(cut, f.ip);
          s = parseTcp(cut);
        }).not.toThrow();
        // With a checksum every cut is caught; without one, cuts inside the
        // payload are legitimately shorter segments.
        expect(r?.ok).toBe(false);
        if (n < headerLen) expect(s?.ok).toBe(false);
        else expect(s?.ok && s.value.payload.length).toBe(n - headerLen);
      }
    }
  });

  it('seeded random garbage never throws', () => {
    const nextRng = new SeededRng(1234);
    const next = (): number => nextRng.nextFloat();
    let ok = 0;
    for (let k = 0; k < 3000; k++) {
      const len = Math.floor(next() * 70);
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(next() * 256);
      if (len > 12 && next() < 0.7) b[12] = (5 + Math.floor(next() * 3)) << 4;
      expect(() => parseTcp(b)).not.toThrow();
      expect(() => parseTcp(b, AB)).not.toThrow();
      if (parseTcp(b).ok) ok++;
    }
    expect(ok).toBeGreaterThan(50);
  });
});

describe('RFC 9293 option requirements at segment level', () => {
  it('MUST-5: options are received in any segment (MSS and wscale on a data ACK, TS on RST)', () => {
    const ack = mustParse(segmentWithOptions('020405b401030307'), AB);
    expect(ack.flags).toBe(TcpFlag.ACK);
    expect(ack.options).toEqual([{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'window-scale', shift: 7 }]);
    expect(new TextDecoder().decode(ack.payload)).toBe('hi');
    const rst = mustParse(segmentWithOptions('0101080a0000000100000002', TcpFlag.RST), AB);
    expect(rst.options).toEqual(dataOptions({ timestamps: { tsVal: 1, tsEcr: 2 } }));
  });

  it('MUST-6: an unsupported option is skipped by its length and preserved', () => {
    const seg = segmentWithOptions('1e04beef0101080a0000000100000002');
    const repr = mustParse(seg, AB);
    expect(repr.options[0]).toEqual({ kind: 'unknown', type: 30, data: fromHex('beef') });
    expect(repr.options.slice(1)).toEqual(dataOptions({ timestamps: { tsVal: 1, tsEcr: 2 } }));
    const out = new Uint8Array(seg.length);
    emitTcp(repr, out, AB);
    expect(toHex(out)).toBe(toHex(seg));
  });

  const illegal = [
    ['length 0', '02000000'],
    ['length 1', '1e010000'],
    ['length past the options area', '01011e08'],
    ['no room for the length byte', '01010102'],
    ['MSS length 3', '02030000'],
    ['SACK length not 2+8n', '01010505' + '00000000'],
    ['timestamps length 9', '0101080900000000000000000000'.padEnd(32, '0')],
  ] as const;
  for (const [what, hex] of illegal) {
    it(`MUST-7: illegal option length drops the segment (${what})`, () => {
      const seg = segmentWithOptions(hex);
      let r: ReturnType<typeof parseTcp> | undefined;
      expect(() => (r = parseTcp(seg, AB))).not.toThrow();
      expect(r).toEqual({ ok: false, reason: 'bad-option' });
    });
  }

  it('MUST-7: a checksum error is reported before a bad option', () => {
    const seg = segmentWithOptions('02000000');
    seg[20 + 4] = seg[20 + 4]! ^ 1;
    expect(parseTcp(seg, AB)).toEqual({ ok: false, reason: 'bad-checksum' });
  });
});

describe('reserved bits', () => {
  it('are ignored on parse and preserved on re-emit', () => {
    for (const reserved of [1, 0x8, 0xf]) {
      const seg = fromHex(FIXTURES[2]!.hex);
      seg[12] = seg[12]! | reserved;
      fixChecksum(seg, AB);
      const repr = mustParse(seg, AB);
      expect(repr.reserved).toBe(reserved);
      expect(repr.flags).toBe(TcpFlag.ACK);
      expect(tcpHeaderLen(repr)).toBe(32);
      const out = new Uint8Array(seg.length);
      emitTcp(repr, out, AB);
      expect(toHex(out)).toBe(toHex(seg));
    }
  });
});

describe('emitTcp', () => {
  const repr: TcpRepr = {
    srcPort: 80,
    dstPort: 5000,
    seq: 0xfffffff0,
    ack: 1,
    flags: TcpFlag.SYN | TcpFlag.ACK,
    window: 65535,
    urgentPointer: 0,
    options: synOptions({ mss: 1460, sackPermitted: true, timestamps: { tsVal: 100, tsEcr: 0 }, windowScale: 8 }),
    payload: new Uint8Array(0),
  };

  it('writes a segment that parses back to the same repr', () => {
    const buf = new Uint8Array(tcpBufferLen(repr));
    expect(buf.length).toBe(40);
    emitTcp(repr, buf, AB);
    expect(mustParse(buf, AB)).toEqual(repr);
    expect(formatTcp(repr, AB)).toBe(
      '10.0.0.1:80 > 10.0.0.2:5000 S. 4294967280:4294967280(0) ack 1 win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>',
    );
  });

  it('leaves the checksum 0 without a pseudo-header', () => {
    const buf = new Uint8Array(tcpBufferLen(repr)).fill(0xff);
    emitTcp(repr, buf);
    expect(readU16(buf, 16)).toBe(0);
  });

  it('throws RangeError on a too small buffer or a field that does not fit', () => {
    expect(() => emitTcp(repr, new Uint8Array(39))).toThrow(RangeError);
    const buf = new Uint8Array(64);
    expect(() => emitTcp({ ...repr, srcPort: 65536 }, buf)).toThrow(RangeError);
    expect(() => emitTcp({ ...repr, seq: 2 ** 32 }, buf)).toThrow(RangeError);
    expect(() => emitTcp({ ...repr, seq: -1 }, buf)).toThrow(RangeError);
    expect(() => emitTcp({ ...repr, flags: 0x100 }, buf)).toThrow(RangeError);
    expect(() => emitTcp({ ...repr, window: 70000 }, buf)).toThrow(RangeError);
    expect(() => emitTcp({ ...repr, reserved: 16 }, buf)).toThrow(RangeError);
    const ts = { kind: 'timestamps', tsVal: 0, tsEcr: 0 } as const;
    expect(() => emitTcp({ ...repr, options: [ts, ts, ts, ts, { kind: 'nop' }] }, new Uint8Array(200))).toThrow(RangeError);
  });

  it('keeps the sequence range modular in formatTcp', () => {
    const data: TcpRepr = { ...repr, flags: TcpFlag.PSH | TcpFlag.ACK | TcpFlag.URG, urgentPointer: 3, options: [], payload: new Uint8Array(32) };
    expect(formatTcp(data)).toBe('80 > 5000 PU. 4294967280:16(32) ack 1 win 65535 urg 3');
  });
});

describe('emitTcpHeader + finishTcpChecksum (zero-copy send)', () => {
  it('matches emitTcp for every fixture and any chunking of the payload (seeded)', () => {
    const nextRng = new SeededRng(42);
    const next = (): number => nextRng.nextFloat();
    for (const f of FIXTURES) {
      const bytes = fromHex(f.hex);
      const repr = mustParse(bytes, f.ip);
      for (let round = 0; round < 20; round++) {
        // A payload long enough to split at many (odd and even) places.
        const payload = new Uint8Array(Math.floor(next() * 40));
        for (let i = 0; i < payload.length; i++) payload[i] = Math.floor(next() * 256);
        const full = { ...repr, payload };
        const expected = new Uint8Array(tcpBufferLen(full));
        emitTcp(full, expected, f.ip);

        const header = new Uint8Array(60);
        const hl = emitTcpHeader(repr, header, payload.length, f.ip);
        expect(hl).toBe(tcpHeaderLen(repr));
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < payload.length; ) {
          const n = Math.min(payload.length - at, Math.floor(next() * 7));
          chunks.push(payload.subarray(at, at + n));
          at += n;
        }
        finishTcpChecksum(header, next() < 0.2 ? payload : chunks);
        expect(toHex(header.subarray(0, hl))).toBe(toHex(expected.subarray(0, hl)));
      }
    }
  });

  it('matches emitTcp for seeded random headers and option layouts, with and without the header length given', () => {
    const rng = new SeededRng(9);
    const u32 = (): number => rng.nextInt(2 ** 32);
    const u16 = (): number => rng.nextInt(0x10000);
    const ts = (): TcpOption => ({ kind: 'timestamps', tsVal: u32(), tsEcr: u32() });
    const nop: TcpOption = { kind: 'nop' };
    const sack = (n: number): TcpOption => ({ kind: 'sack', blocks: Array.from({ length: n }, () => ({ left: u32(), right: u32() })) });
    const layouts: (() => TcpOption[])[] = [
      () => [],
      () => [nop, nop, ts()], // every data segment's (the fast path)
      () => [nop, nop, ts(), nop, nop, sack(1 + rng.nextInt(3))],
      () => [nop, nop, sack(1 + rng.nextInt(4))],
      () => [ts()], // 10 bytes padded to 12: not the fast path's layout
      () => [nop, ts(), nop], // 12 bytes of three options, in another order
      () => [ts(), nop, nop],
      () => [{ kind: 'mss', value: u16() }, nop, { kind: 'window-scale', shift: rng.nextInt(15) }, { kind: 'sack-permitted' }, nop, nop, ts()],
    ];
    for (let round = 0; round < 500; round++) {
      const options = layouts[rng.nextInt(layouts.length)]!();
      const payload = new Uint8Array(rng.nextInt(300));
      for (let i = 0; i < payload.length; i++) payload[i] = rng.nextInt(256);
      const full: TcpRepr = {
        srcPort: u16(),
        dstPort: u16(),
        seq: u32(),
        ack: u32(),
        flags: rng.nextInt(256),
        window: u16(),
        urgentPointer: u16(),
        options,
        payload,
        ...(rng.nextInt(4) === 0 ? { reserved: rng.nextInt(16) } : {}),
      };
      const ip = rng.nextInt(2) === 0 ? AB : BA;
      const expected = new Uint8Array(tcpBufferLen(full));
      emitTcp(full, expected, ip);
      const hl = tcpHeaderLen(full);
      for (const given of [hl, undefined]) {
        const segment = new Uint8Array(hl + payload.length).fill(0xcc);
        expect(emitTcpHeader(full, segment, payload.length, ip, given)).toBe(hl);
        segment.set(payload, hl);
        finishTcpChecksumAt(segment, hl, segment.length);
        expect(toHex(segment), `round ${round}, header length ${given}`).toBe(toHex(expected));
      }
      // The stack's own emitter (no range checks): the same bytes, with and without the pseudo-header.
      const trusted = new Uint8Array(hl + payload.length).fill(0xcc);
      expect(emitTcpHeaderTrusted(full, trusted, payload.length, ip, hl)).toBe(hl);
      trusted.set(payload, hl);
      finishTcpChecksumAt(trusted, hl, trusted.length);
      expect(toHex(trusted), `round ${round}, trusted`).toBe(toHex(expected));
      const bare = new Uint8Array(hl).fill(0xcc);
      const checked = new Uint8Array(hl).fill(0xcc);
      emitTcpHeaderTrusted(full, bare, payload.length, undefined, hl);
      emitTcpHeader(full, checked, payload.length);
      expect(toHex(bare), `round ${round}, trusted without checksum`).toBe(toHex(checked));
    }
  });

  it('reproduces a captured data segment from header and payload', () => {
    const f = FIXTURES[4]!;
    const bytes = fromHex(f.hex);
    const repr = mustParse(bytes, f.ip);
    const header = new Uint8Array(32);
    emitTcpHeader(repr, header, 4, f.ip);
    finishTcpChecksum(header, [new TextEncoder().encode('b'), new TextEncoder().encode('ye\n')]);
    expect(toHex(header) + toHex(repr.payload)).toBe(f.hex);
  });

  it('leaves the checksum 0 without a pseudo-header', () => {
    const header = new Uint8Array(20).fill(0xff);
    emitTcpHeader({ srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: TcpFlag.RST, window: 0, urgentPointer: 0, options: [] }, header, 0);
    expect(toHex(header)).toBe('000100020000000300000004500400000000' + '0000');
  });

  it('throws RangeError on a too small buffer', () => {
    const f = mustParse(fromHex(FIXTURES[0]!.hex), AB);
    expect(() => emitTcpHeader(f, new Uint8Array(39), 0, AB)).toThrow(RangeError);
    expect(() => emitTcpHeader(f, new Uint8Array(40), -1, AB)).toThrow(RangeError);
  });
});

describe('TcpPacket view', () => {
  it('reads the same fields as parseTcp', () => {
    for (const f of FIXTURES) {
      const bytes = fromHex(f.hex);
      const repr = mustParse(bytes, f.ip);
      const v = TcpPacket.view(bytes);
      if (!v.ok) throw new Error(v.reason);
      const p = v.value;
      expect([p.srcPort, p.dstPort, p.seq, p.ack, p.flags, p.window, p.urgentPointer]).toEqual([
        repr.srcPort,
        repr.dstPort,
        repr.seq,
        repr.ack,
        repr.flags,
        repr.window,
        repr.urgentPointer,
      ]);
      expect(p.headerLen).toBe(tcpHeaderLen(repr));
      expect(toHex(p.payload)).toBe(toHex(repr.payload));
      expect(p.optionsBytes.length).toBe(p.headerLen - 20);
      expect(p.checksum).toBe(readU16(bytes, 16));
      expect(p.verifyChecksum(f.ip)).toBe(true);
      expect(p.verifyChecksum({ src: f.ip.dst, dst: f.ip.dst })).toBe(false);
    }
  });

  it('rejects what parseTcp rejects for length', () => {
    expect(TcpPacket.view(new Uint8Array(19))).toEqual({ ok: false, reason: 'truncated' });
    const seg = fromHex(FIXTURES[8]!.hex);
    seg[12] = 0x40;
    expect(TcpPacket.view(seg)).toEqual({ ok: false, reason: 'bad-header-length' });
    seg[12] = 0x60;
    expect(TcpPacket.view(seg)).toEqual({ ok: false, reason: 'bad-header-length' });
  });
});

describe('formatTcpFlags', () => {
  it('uses packetdrill letters with ACK as a trailing dot', () => {
    expect(formatTcpFlags(TcpFlag.SYN)).toBe('S');
    expect(formatTcpFlags(TcpFlag.SYN | TcpFlag.ACK)).toBe('S.');
    expect(formatTcpFlags(TcpFlag.FIN | TcpFlag.PSH | TcpFlag.ACK)).toBe('FP.');
    expect(formatTcpFlags(TcpFlag.SYN | TcpFlag.ECE | TcpFlag.CWR)).toBe('SEW');
    expect(formatTcpFlags(TcpFlag.SYN | TcpFlag.ECE | TcpFlag.ACK)).toBe('SE.');
    expect(formatTcpFlags(TcpFlag.RST)).toBe('R');
    expect(formatTcpFlags(TcpFlag.ACK)).toBe('.');
    expect(formatTcpFlags(0)).toBe('-');
  });
});
