import { IpProtocol } from './ipv4.js';
import { describe, expect, it } from 'vitest';
import { ipv4 } from './address.js';
import { fromHex, readU16, toHex, writeU16 } from './bytes.js';
import { checksumAdd, checksumFold, pseudoHeaderSum } from './checksum.js';
import {
  UDP_HEADER_LEN,
  UDP_MAX_PAYLOAD_LEN,
  emitUdp,
  emitUdpHeader,
  finishUdpChecksum,
  parseUdp,
  udpBufferLen,
  udpHeaderLen,
} from './udp.js';
import type { UdpPseudoHeader, UdpRepr } from './udp.js';
import { SeededRng } from '../random/rng.js';

const A = ipv4('10.0.0.1');
const B = ipv4('10.0.0.2');
const AB: UdpPseudoHeader = { src: A, dst: B };
const BA: UdpPseudoHeader = { src: B, dst: A };

/**
 * Real datagrams sent by Linux 6.18 (Python sockets, captured with tcpdump on
 * a veth pair between two network namespaces, checksum offload off). The
 * third was sent with SO_NO_CHECK, so Linux left the checksum out (0).
 */
const FIXTURES = [
  { name: 'request', ip: AB, hex: '9c401b58000d4b6870696e670a', src: 40000, dst: 7000, text: 'ping\n' },
  { name: 'reply', ip: BA, hex: '1b589c40000d8ba850494e470a', src: 7000, dst: 40000, text: 'PING\n' },
  { name: 'no checksum (SO_NO_CHECK)', ip: AB, hex: '9c411b58000b00006f6464', src: 40001, dst: 7000, text: 'odd' },
  { name: 'odd-length reply', ip: BA, hex: '1b589c41000ba0f74f4444', src: 7000, dst: 40001, text: 'ODD' },
] as const;

function mustParse(bytes: Uint8Array, pseudo?: UdpPseudoHeader): UdpRepr {
  const r = parseUdp(bytes, pseudo);
  if (!r.ok) throw new Error(`parse failed: ${r.reason}`);
  return r.value;
}

describe('parseUdp on real Linux datagrams', () => {
  for (const f of FIXTURES) {
    it(`${f.name}: parses and verifies`, () => {
      const repr = mustParse(fromHex(f.hex), f.ip);
      expect(repr.srcPort).toBe(f.src);
      expect(repr.dstPort).toBe(f.dst);
      expect(new TextDecoder().decode(repr.payload)).toBe(f.text);
    });

    it(`${f.name}: re-emits byte for byte`, () => {
      const bytes = fromHex(f.hex);
      const repr = mustParse(bytes, f.ip);
      const out = new Uint8Array(udpBufferLen(repr));
      // Linux left out the checksum only where told to; emit likewise.
      const withChecksum = readU16(bytes, 6) !== 0;
      expect(emitUdp(repr, out, withChecksum ? f.ip : undefined)).toBe(bytes.length);
      expect(toHex(out)).toBe(f.hex);
    });
  }

  it('payload is a view into the input', () => {
    const bytes = fromHex(FIXTURES[0].hex);
    const repr = mustParse(bytes, AB);
    expect(repr.payload.buffer).toBe(bytes.buffer);
    expect(repr.payload.byteOffset).toBe(bytes.byteOffset + 8);
  });
});

describe('parseUdp checks', () => {
  it('fewer than 8 bytes is truncated', () => {
    for (let n = 0; n < 8; n++) expect(parseUdp(new Uint8Array(n))).toEqual({ ok: false, reason: 'truncated' });
  });

  it('a length field below 8 is bad-length', () => {
    for (const len of [0, 1, 7]) {
      const b = fromHex(FIXTURES[0].hex);
      writeU16(b, 4, len);
      expect(parseUdp(b)).toEqual({ ok: false, reason: 'bad-length' });
    }
  });

  it('a length field past the buffer is bad-length', () => {
    const b = fromHex(FIXTURES[0].hex);
    writeU16(b, 4, b.length + 1);
    expect(parseUdp(b)).toEqual({ ok: false, reason: 'bad-length' });
    writeU16(b, 4, 0xffff);
    expect(parseUdp(b, AB)).toEqual({ ok: false, reason: 'bad-length' });
  });

  it('bytes past the length field (link padding) are not payload and not checksummed', () => {
    const f = FIXTURES[0];
    const padded = new Uint8Array(fromHex(f.hex).length + 5).fill(0xee);
    padded.set(fromHex(f.hex));
    const repr = mustParse(padded, AB);
    expect(new TextDecoder().decode(repr.payload)).toBe('ping\n');
  });

  it('a length of exactly 8 gives an empty payload', () => {
    const b = new Uint8Array(8);
    writeU16(b, 0, 53);
    writeU16(b, 2, 1234);
    writeU16(b, 4, 8);
    expect(mustParse(b)).toEqual({ srcPort: 53, dstPort: 1234, payload: new Uint8Array(0) });
  });

  it('a corrupted byte is bad-checksum', () => {
    for (const f of [FIXTURES[0], FIXTURES[1], FIXTURES[3]]) {
      const bytes = fromHex(f.hex);
      for (let i = 0; i < bytes.length; i++) {
        if (i === 4 || i === 5) continue; // the length field gives bad-length first
        const bad = bytes.slice();
        bad[i] = bad[i]! ^ 0x01;
        expect(parseUdp(bad, f.ip)).toEqual({ ok: false, reason: 'bad-checksum' });
      }
      expect(parseUdp(bytes, { src: A, dst: ipv4('10.0.0.3') })).toEqual({ ok: false, reason: 'bad-checksum' });
    }
  });

  it('checksum 0 means "no checksum" and is not verified (RFC 768, IPv4)', () => {
    const bytes = fromHex(FIXTURES[2].hex);
    expect(mustParse(bytes, { src: 1, dst: 2 }).srcPort).toBe(40001);
  });

  it('without a pseudo-header the checksum is not verified', () => {
    const bad = fromHex(FIXTURES[0].hex);
    bad[6] = bad[6]! ^ 0xff;
    expect(parseUdp(bad).ok).toBe(true);
  });

  it('every truncation never throws', () => {
    for (const f of FIXTURES) {
      const bytes = fromHex(f.hex);
      for (let n = 0; n < bytes.length; n++) {
        let r: ReturnType<typeof parseUdp> | undefined;
        expect(() => (r = parseUdp(bytes.subarray(0, n), f.ip))).not.toThrow();
        expect(r?.ok).toBe(false);
      }
    }
  });

  it('seeded random garbage never throws', () => {
    const nextRng = new SeededRng(7);
    const next = (): number => nextRng.nextFloat();
    for (let k = 0; k < 2000; k++) {
      const len = Math.floor(next() * 40);
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(next() * 256);
      if (len >= 8 && next() < 0.5) writeU16(b, 4, len - Math.floor(next() * 3));
      expect(() => parseUdp(b, AB)).not.toThrow();
    }
  });
});

describe('emitUdp', () => {
  it('sizes', () => {
    const repr: UdpRepr = { srcPort: 1, dstPort: 2, payload: new Uint8Array(5) };
    expect(udpHeaderLen(repr)).toBe(8);
    expect(UDP_HEADER_LEN).toBe(8);
    expect(udpBufferLen(repr)).toBe(13);
  });

  it('without a pseudo-header writes checksum 0', () => {
    const buf = new Uint8Array(13).fill(0xff);
    emitUdp({ srcPort: 40001, dstPort: 7000, payload: new TextEncoder().encode('odd\0\0') }, buf);
    expect(toHex(buf)).toBe('9c411b58000d00006f64640000');
  });

  it('sends a computed checksum of 0 as 0xffff (RFC 768)', () => {
    // Pick the payload word that makes the one's complement sum all ones.
    const repr = (w: number): UdpRepr => ({ srcPort: 1000, dstPort: 2000, payload: new Uint8Array([w >>> 8, w & 0xff]) });
    const base = new Uint8Array(10);
    emitUdp(repr(0), base);
    const s = checksumFold(checksumAdd(pseudoHeaderSum(A, B, IpProtocol.Udp, 10), base));
    const w = 0xffff - s;
    const buf = new Uint8Array(10);
    emitUdp(repr(w), buf, AB);
    expect(readU16(buf, 6)).toBe(0xffff);
    // And 0xffff verifies as a valid checksum.
    expect(mustParse(buf, AB).payload).toEqual(repr(w).payload);
  });

  it('throws RangeError on a too small buffer or out-of-range fields', () => {
    const repr: UdpRepr = { srcPort: 1, dstPort: 2, payload: new Uint8Array(5) };
    expect(() => emitUdp(repr, new Uint8Array(12))).toThrow(RangeError);
    expect(() => emitUdp({ ...repr, srcPort: 65536 }, new Uint8Array(13))).toThrow(RangeError);
    expect(() => emitUdp({ ...repr, dstPort: -1 }, new Uint8Array(13))).toThrow(RangeError);
    const huge = { ...repr, payload: new Uint8Array(UDP_MAX_PAYLOAD_LEN + 1) };
    expect(() => emitUdp(huge, new Uint8Array(70000))).toThrow(RangeError);
  });

  it('a maximum-size datagram round trips', () => {
    const payload = new Uint8Array(UDP_MAX_PAYLOAD_LEN).map((_, i) => i * 7);
    const buf = new Uint8Array(0xffff);
    expect(emitUdp({ srcPort: 9, dstPort: 9, payload }, buf, AB)).toBe(0xffff);
    expect(mustParse(buf, AB).payload).toEqual(payload);
  });
});

describe('emitUdpHeader + finishUdpChecksum (zero-copy send)', () => {
  it('matches emitUdp for any chunking of the payload (seeded)', () => {
    const nextRng = new SeededRng(99);
    const next = (): number => nextRng.nextFloat();
    for (let round = 0; round < 300; round++) {
      const payload = new Uint8Array(Math.floor(next() * 50));
      for (let i = 0; i < payload.length; i++) payload[i] = Math.floor(next() * 256);
      const ports = { srcPort: Math.floor(next() * 65536), dstPort: Math.floor(next() * 65536) };
      const ip = { src: Math.floor(next() * 2 ** 32), dst: Math.floor(next() * 2 ** 32) };
      const expected = new Uint8Array(8 + payload.length);
      emitUdp({ ...ports, payload }, expected, ip);

      const header = new Uint8Array(8);
      expect(emitUdpHeader(ports, header, payload.length, ip)).toBe(8);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < payload.length; ) {
        const n = Math.min(payload.length - at, Math.floor(next() * 6));
        chunks.push(payload.subarray(at, at + n));
        at += n;
      }
      finishUdpChecksum(header, next() < 0.2 ? payload : chunks);
      expect(toHex(header)).toBe(toHex(expected.subarray(0, 8)));
    }
  });

  it('reproduces a captured datagram from header and payload', () => {
    const header = new Uint8Array(8);
    emitUdpHeader({ srcPort: 7000, dstPort: 40001 }, header, 3, BA);
    finishUdpChecksum(header, [new TextEncoder().encode('O'), new TextEncoder().encode('DD')]);
    expect(toHex(header) + '4f4444').toBe(FIXTURES[3].hex);
  });

  it('without a pseudo-header the header is complete with checksum 0', () => {
    const header = new Uint8Array(8).fill(0xff);
    emitUdpHeader({ srcPort: 40001, dstPort: 7000 }, header, 3);
    expect(toHex(header) + '6f6464').toBe(FIXTURES[2].hex);
  });

  it('throws RangeError on a too small buffer or payload length', () => {
    expect(() => emitUdpHeader({ srcPort: 1, dstPort: 2 }, new Uint8Array(7), 0)).toThrow(RangeError);
    expect(() => emitUdpHeader({ srcPort: 1, dstPort: 2 }, new Uint8Array(8), UDP_MAX_PAYLOAD_LEN + 1)).toThrow(RangeError);
  });
});
