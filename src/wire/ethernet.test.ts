import { describe, expect, it } from 'vitest';
import { mac, MAC_BROADCAST } from './address.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import {
  EtherType,
  ETHERNET_HEADER_LEN,
  ETHERNET_MIN_FRAME_LEN,
  EthernetFrame,
  emitEthernet,
  emitEthernetHeader,
  ethernetBufferLen,
  ethernetHeaderLen,
  parseEthernet,
} from './ethernet.js';
import type { EthernetRepr } from './ethernet.js';
import { SeededRng } from '../random/rng.js';

/** A broadcast ARP request "who has 192.168.1.1? tell 192.168.1.10", padded to 60 bytes as on a real wire. */
const ARP_FRAME = fromHex(`
  ffffffffffff 525400123456 0806
  0001 0800 06 04 0001 525400123456 c0a8010a 000000000000 c0a80101
  000000000000000000000000000000000000
`);

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

describe('EtherType', () => {
  it('has the IEEE values', () => {
    expect(EtherType).toEqual({ Ipv4: 0x0800, Arp: 0x0806, Vlan: 0x8100, Ipv6: 0x86dd });
  });
});

describe('parseEthernet', () => {
  it('parses a padded broadcast ARP frame', () => {
    expect(ARP_FRAME.length).toBe(ETHERNET_MIN_FRAME_LEN);
    const r = parseEthernet(ARP_FRAME);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.dst).toBe(MAC_BROADCAST);
    expect(r.value.src).toBe(mac('52:54:00:12:34:56'));
    expect(r.value.ethertype).toBe(EtherType.Arp);
    // The payload keeps the link padding: ARP's 28 bytes + 18 zeros.
    expect(r.value.payload.length).toBe(46);
    expect(toHex(r.value.payload.subarray(0, 8))).toBe('0001080006040001');
  });

  it('returns the payload as a view, not a copy', () => {
    const frame = ARP_FRAME.slice();
    const r = parseEthernet(frame);
    if (!r.ok) throw new Error('parse failed');
    expect(r.value.payload.buffer).toBe(frame.buffer);
    expect(r.value.payload.byteOffset).toBe(frame.byteOffset + ETHERNET_HEADER_LEN);
    frame[ETHERNET_HEADER_LEN] = 0xaa;
    expect(r.value.payload[0]).toBe(0xaa);
  });

  it('parses a header-only frame with an empty payload', () => {
    const r = parseEthernet(ARP_FRAME.subarray(0, 14));
    expect(r.ok && r.value.payload.length).toBe(0);
  });

  it('reports an 802.1Q tag by its ethertype without parsing it', () => {
    const tagged = fromHex('0200000000010200000000028100 0064 0800 45');
    const r = parseEthernet(tagged);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.ethertype).toBe(EtherType.Vlan);
    expect(toHex(r.value.payload)).toBe('0064080045');
  });

  it('respects the byte offset of a view into a larger buffer', () => {
    const big = new Uint8Array(100).fill(0xee);
    big.set(ARP_FRAME, 17);
    const r = parseEthernet(big.subarray(17, 17 + ARP_FRAME.length));
    expect(r.ok && r.value.src).toBe(mac('52:54:00:12:34:56'));
    expect(r.ok && r.value.payload.length).toBe(46);
  });

  it('reports every cut below 14 bytes as truncated, and accepts every longer one', () => {
    for (let n = 0; n <= ARP_FRAME.length; n++) {
      const r = parseEthernet(ARP_FRAME.subarray(0, n));
      if (n < ETHERNET_HEADER_LEN) {
        expect(r).toEqual({ ok: false, reason: 'truncated' });
      } else {
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value.payload.length).toBe(n - ETHERNET_HEADER_LEN);
      }
    }
  });
});

describe('emitEthernet', () => {
  it('round-trips the fixture byte for byte', () => {
    const r = parseEthernet(ARP_FRAME);
    if (!r.ok) throw new Error('parse failed');
    expect(ethernetBufferLen(r.value)).toBe(60);
    const out = new Uint8Array(ethernetBufferLen(r.value));
    expect(emitEthernet(r.value, out)).toBe(60);
    expect(toHex(out)).toBe(toHex(ARP_FRAME));
  });

  it('pads to minFrameLen with zeros, over a dirty buffer', () => {
    const repr: EthernetRepr = {
      dst: MAC_BROADCAST,
      src: mac('52:54:00:12:34:56'),
      ethertype: EtherType.Arp,
      payload: ARP_FRAME.subarray(14, 14 + 28),
    };
    const opts = { minFrameLen: ETHERNET_MIN_FRAME_LEN };
    expect(ethernetBufferLen(repr, opts)).toBe(60);
    const out = new Uint8Array(64).fill(0xff);
    expect(emitEthernet(repr, out, opts)).toBe(60);
    expect(toHex(out.subarray(0, 60))).toBe(toHex(ARP_FRAME));
    // Bytes past the frame are not ours to touch.
    expect(out[60]).toBe(0xff);
  });

  it('does not pad unless asked', () => {
    const repr: EthernetRepr = { dst: 1, src: 2, ethertype: EtherType.Ipv4, payload: fromHex('4500') };
    expect(ethernetBufferLen(repr)).toBe(16);
    const out = new Uint8Array(16);
    expect(emitEthernet(repr, out)).toBe(16);
    expect(toHex(out)).toBe('000000000001000000000002080045' + '00');
  });

  it('does not shrink a frame already longer than minFrameLen', () => {
    const repr: EthernetRepr = { dst: 1, src: 2, ethertype: 0x86dd, payload: new Uint8Array(100) };
    expect(ethernetBufferLen(repr, { minFrameLen: 60 })).toBe(114);
  });

  it('writes only the header with emitEthernetHeader', () => {
    const out = new Uint8Array(20).fill(0x55);
    expect(emitEthernetHeader({ dst: MAC_BROADCAST, src: mac('52:54:00:12:34:56'), ethertype: 0x0806 }, out)).toBe(14);
    expect(toHex(out)).toBe(toHex(ARP_FRAME.subarray(0, 14)) + '555555555555');
    expect(ethernetHeaderLen()).toBe(14);
  });

  it('throws RangeError for a buffer too small', () => {
    const repr: EthernetRepr = { dst: 1, src: 2, ethertype: 0x0800, payload: new Uint8Array(10) };
    expect(() => emitEthernet(repr, new Uint8Array(23))).toThrow(RangeError);
    expect(() => emitEthernet(repr, new Uint8Array(59), { minFrameLen: 60 })).toThrow(RangeError);
    expect(() => emitEthernetHeader(repr, new Uint8Array(13))).toThrow(RangeError);
    expect(emitEthernet(repr, new Uint8Array(24))).toBe(24);
  });

  it('round-trips random frames (seeded)', () => {
    const nextRng = new SeededRng(0xe7e7);
    const next = (): number => nextRng.nextFloat();
    for (let i = 0; i < 200; i++) {
      const repr: EthernetRepr = {
        dst: Math.floor(next() * 2 ** 48),
        src: Math.floor(next() * 2 ** 48),
        ethertype: Math.floor(next() * 65536),
        payload: randomBytes(next, Math.floor(next() * 80)),
      };
      const out = new Uint8Array(ethernetBufferLen(repr));
      emitEthernet(repr, out);
      const back = parseEthernet(out);
      if (!back.ok) throw new Error('parse failed');
      expect(back.value.dst).toBe(repr.dst);
      expect(back.value.src).toBe(repr.src);
      expect(back.value.ethertype).toBe(repr.ethertype);
      expect(bytesEqual(back.value.payload, repr.payload)).toBe(true);
    }
  });
});

describe('EthernetFrame', () => {
  it('reads and writes fields in place', () => {
    const bytes = ARP_FRAME.slice();
    const f = EthernetFrame.of(bytes);
    if (f === undefined) throw new Error('no view');
    expect(f.dst).toBe(MAC_BROADCAST);
    expect(f.src).toBe(mac('52:54:00:12:34:56'));
    expect(f.ethertype).toBe(EtherType.Arp);
    expect(f.payload.length).toBe(46);
    f.dst = mac('02:00:00:00:00:01');
    f.src = mac('02:00:00:00:00:02');
    f.ethertype = EtherType.Ipv4;
    expect(toHex(bytes.subarray(0, 14))).toBe('0200000000010200000000020800');
  });

  it('refuses buffers shorter than a header', () => {
    expect(EthernetFrame.of(new Uint8Array(13))).toBeUndefined();
    expect(EthernetFrame.of(new Uint8Array(14))).toBeInstanceOf(EthernetFrame);
  });
});
