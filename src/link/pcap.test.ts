import { describe, expect, it } from 'vitest';
import { Instant } from '../time/instant.js';
import { fromHex, toHex } from '../wire/bytes.js';
import { concatBytes as concat } from '../wire/bytes.js';
import { LinkType } from './link.js';
import type { PcapWriterOptions } from './pcap.js';
import { PCAP_DEFAULT_SNAPLEN, PcapWriter, readPcap } from './pcap.js';
import { SeededRng } from '../random/rng.js';

function capture(options: PcapWriterOptions): { writer: PcapWriter; bytes: () => Uint8Array; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  const writer = new PcapWriter((c) => chunks.push(c), options);
  return { writer, chunks, bytes: () => concat(chunks) };
}

// 2023-11-14T22:13:20.123456Z
const T = Instant.fromMicros(1_700_000_000_123_456);

describe('PcapWriter', () => {
  it('writes the classic little-endian microsecond format byte for byte', () => {
    const cap = capture({ linkType: LinkType.Ethernet });
    expect(toHex(cap.bytes())).toBe('d4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000');
    cap.writer.writePacket(T, fromHex('deadbeef'));
    expect(toHex(cap.chunks[1]!)).toBe(
      '00f15365' + // 1700000000 s
        '40e20100' + // 123456 us
        '04000000' + // captured length
        '04000000' + // original length
        'deadbeef',
    );
  });

  it('writes nanosecond, big-endian and raw-IP headers', () => {
    const cap = capture({ linkType: LinkType.RawIp, resolution: 'ns', byteOrder: 'big', snaplen: 96 });
    expect(toHex(cap.bytes())).toBe('a1b23c4d' + '0002' + '0004' + '00000000' + '00000000' + '00000060' + '00000065');
    cap.writer.writePacket(T, fromHex('45'));
    expect(toHex(cap.chunks[1]!)).toBe('6553f100' + '075bca00' /* 123456000 ns */ + '00000001' + '00000001' + '45');
  });

  it('cuts frames to the snaplen and records their original length', () => {
    const cap = capture({ linkType: LinkType.Ethernet, snaplen: 4 });
    cap.writer.writePacket(T, fromHex('0102030405060708'));
    cap.writer.writePacket(T, fromHex('0102'));
    const r = readPcap(cap.bytes());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.records.map((x) => [toHex(x.data), x.originalLength])).toEqual([
      ['01020304', 8],
      ['0102', 2],
    ]);
    expect(cap.writer.frames).toBe(2);
    expect(cap.writer.frameBytes).toBe(10);
    expect(cap.writer.capturedBytes).toBe(6);
    expect(cap.writer.truncatedFrames).toBe(1);
    expect(cap.writer.bytesWritten).toBe(24 + 16 + 4 + 16 + 2);
  });

  it('copies the frame: later changes to the caller buffer do not leak into the capture', () => {
    const cap = capture({ linkType: LinkType.Ethernet });
    const frame = fromHex('aabbcc');
    cap.writer.writePacket(T, frame);
    frame.fill(0);
    expect(toHex(cap.chunks[1]!.subarray(16))).toBe('aabbcc');
  });

  it('records a frame the caller already cut', () => {
    const cap = capture({ linkType: LinkType.Ethernet });
    cap.writer.writePacket(T, fromHex('0102'), 1514);
    const r = readPcap(cap.bytes());
    expect(r.ok && r.value.records[0]!.originalLength).toBe(1514);
    expect(cap.writer.truncatedFrames).toBe(1);
  });

  it('rejects programmer errors with RangeError', () => {
    expect(() => new PcapWriter(() => undefined, { linkType: LinkType.Ethernet, snaplen: 0 })).toThrow(RangeError);
    expect(() => new PcapWriter(() => undefined, { linkType: LinkType.Ethernet, snaplen: 1.5 })).toThrow(RangeError);
    const w = new PcapWriter(() => undefined, { linkType: LinkType.Ethernet });
    expect(() => w.writePacket(-1 as Instant, new Uint8Array(1))).toThrow(RangeError);
    expect(() => w.writePacket(0.5 as Instant, new Uint8Array(1))).toThrow(RangeError);
    expect(() => w.writePacket(Instant.fromSecs(2 ** 32), new Uint8Array(1))).toThrow(RangeError);
    expect(() => w.writePacket(T, new Uint8Array(4), 3)).toThrow(RangeError);
    expect(w.frames).toBe(0);
  });

  it('has the tcpdump default snaplen', () => {
    expect(PCAP_DEFAULT_SNAPLEN).toBe(262144);
    expect(new PcapWriter(() => undefined, { linkType: LinkType.RawIp }).snaplen).toBe(262144);
  });
});

describe('readPcap', () => {
  for (const resolution of ['us', 'ns'] as const) {
    for (const byteOrder of ['little', 'big'] as const) {
      it(`round-trips a ${resolution} ${byteOrder}-endian capture`, () => {
        const cap = capture({ linkType: LinkType.RawIp, resolution, byteOrder, snaplen: 1000 });
        const times = [Instant.ZERO, T, Instant.fromMicros(4_294_967_295_999_999)];
        const frames = [new Uint8Array(0), fromHex('4500'), new Uint8Array(1200).map((_, i) => i)];
        times.forEach((t, i) => cap.writer.writePacket(t, frames[i]!));
        const r = readPcap(cap.bytes());
        if (!r.ok) throw new Error(r.reason);
        expect(r.value.header).toEqual({
          versionMajor: 2,
          versionMinor: 4,
          linkType: 101,
          snaplen: 1000,
          resolution,
          byteOrder,
          thiszone: 0,
        });
        expect(r.value.records.map((x) => x.at)).toEqual(times);
        expect(r.value.records[1]!.fraction).toBe(resolution === 'ns' ? 123_456_000 : 123_456);
        expect(r.value.records[1]!.seconds).toBe(1_700_000_000);
        expect(r.value.records.map((x) => toHex(x.data))).toEqual([
          '',
          '4500',
          toHex(frames[2]!.subarray(0, 1000)),
        ]);
        expect(r.value.records[2]!.originalLength).toBe(1200);
      });
    }
  }

  it('returns views into the input, not copies', () => {
    const cap = capture({ linkType: LinkType.Ethernet });
    cap.writer.writePacket(T, fromHex('01020304'));
    const bytes = cap.bytes();
    const r = readPcap(bytes);
    if (!r.ok) throw new Error(r.reason);
    const data = r.value.records[0]!.data;
    expect(data.buffer).toBe(bytes.buffer);
    expect(data.byteOffset).toBe(40);
  });

  it('reads a capture inside a larger buffer (non-zero byteOffset)', () => {
    const cap = capture({ linkType: LinkType.Ethernet, byteOrder: 'big' });
    cap.writer.writePacket(T, fromHex('ff'));
    const inner = cap.bytes();
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 7);
    const r = readPcap(outer.subarray(7, 7 + inner.length));
    expect(r.ok && toHex(r.value.records[0]!.data)).toBe('ff');
  });

  it('reads nanosecond fractions, rounding down to microseconds', () => {
    // A hand-made big-endian ns file with one record at 1.000000999 s.
    const bytes = fromHex(
      'a1b23c4d 0002 0004 00000000 00000000 0000ffff 00000001' + '00000001 000003e7 00000001 00000001 aa',
    );
    const r = readPcap(bytes);
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.records[0]!.at).toBe(1_000_000);
    expect(r.value.records[0]!.fraction).toBe(999);
  });

  it('reports bad input without throwing', () => {
    const good = (() => {
      const cap = capture({ linkType: LinkType.Ethernet });
      cap.writer.writePacket(T, fromHex('01020304'));
      return cap.bytes();
    })();
    expect(readPcap(new Uint8Array(0))).toEqual({ ok: false, reason: 'truncated' });
    expect(readPcap(good.subarray(0, 23))).toEqual({ ok: false, reason: 'truncated' });
    expect(readPcap(good.subarray(0, 24 + 15))).toEqual({ ok: false, reason: 'truncated' });
    expect(readPcap(good.subarray(0, good.length - 1))).toEqual({ ok: false, reason: 'truncated' });
    // pcapng's section header block is not classic pcap.
    expect(readPcap(fromHex('0a0d0d0a' + '00'.repeat(28)))).toEqual({ ok: false, reason: 'bad-type' });
    const v1 = good.slice();
    v1[4] = 1;
    expect(readPcap(v1)).toEqual({ ok: false, reason: 'bad-version' });
    const hugeCaplen = good.slice();
    hugeCaplen.set([0xff, 0xff, 0xff, 0xff], 32);
    expect(readPcap(hugeCaplen)).toEqual({ ok: false, reason: 'truncated' });
    // Header alone: a valid, empty capture.
    const empty = readPcap(good.subarray(0, 24));
    expect(empty.ok && empty.value.records.length).toBe(0);
  });

  it('never throws on random corruption of a valid file (seeded)', () => {
    const randRng = new SeededRng(0x5eed);
    const rand = (): number => randRng.nextFloat();
    const cap = capture({ linkType: LinkType.Ethernet });
    for (let i = 0; i < 8; i++) cap.writer.writePacket(Instant.fromMicros(i * 1000), new Uint8Array(i * 7).fill(i));
    const good = cap.bytes();
    let rejected = 0;
    for (let n = 0; n < 3000; n++) {
      const b = good.slice(0, Math.floor(rand() * (good.length + 1)));
      const flips = Math.floor(rand() * 4);
      for (let f = 0; f < flips && b.length > 0; f++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const r = readPcap(b);
      if (!r.ok) {
        rejected++;
        continue;
      }
      for (const rec of r.value.records) expect(rec.data.byteOffset + rec.data.length).toBeLessThanOrEqual(b.length);
    }
    expect(rejected).toBeGreaterThan(0);
  });
});
