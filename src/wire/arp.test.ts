import { describe, expect, it } from 'vitest';
import { ipv4, mac } from './address.js';
import { fromHex, toHex } from './bytes.js';
import { ArpOperation, ARP_PACKET_LEN, arpBufferLen, arpHeaderLen, emitArp, parseArp } from './arp.js';
import type { ArpRepr } from './arp.js';

/** "Who has 192.168.1.1? Tell 192.168.1.10" (hrd 1, pro 0x0800, hln 6, pln 4, op 1). */
const REQUEST = fromHex('0001 0800 06 04 0001 525400123456 c0a8010a 000000000000 c0a80101');
/** "192.168.1.1 is at 00:1a:2b:3c:4d:5e", sent back to the asker. */
const REPLY = fromHex('0001 0800 06 04 0002 001a2b3c4d5e c0a80101 525400123456 c0a8010a');

function withByte(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = b.slice();
  c[at] = v;
  return c;
}

describe('ArpOperation', () => {
  it('has the RFC 826 values', () => {
    expect(ArpOperation.Request).toBe(1);
    expect(ArpOperation.Reply).toBe(2);
  });
});

describe('parseArp', () => {
  it('parses a request', () => {
    expect(parseArp(REQUEST)).toEqual({
      ok: true,
      value: {
        operation: ArpOperation.Request,
        senderMac: mac('52:54:00:12:34:56'),
        senderIp: ipv4('192.168.1.10'),
        targetMac: 0,
        targetIp: ipv4('192.168.1.1'),
      },
    });
  });

  it('parses a reply', () => {
    expect(parseArp(REPLY)).toEqual({
      ok: true,
      value: {
        operation: ArpOperation.Reply,
        senderMac: mac('00:1a:2b:3c:4d:5e'),
        senderIp: ipv4('192.168.1.1'),
        targetMac: mac('52:54:00:12:34:56'),
        targetIp: ipv4('192.168.1.10'),
      },
    });
  });

  it('ignores trailing Ethernet padding', () => {
    const padded = new Uint8Array(46);
    padded.set(REQUEST);
    padded.fill(0xa5, 28); // padding is not always zero on real wires
    expect(parseArp(padded)).toEqual(parseArp(REQUEST));
  });

  it('rejects other hardware and protocol types and lengths as bad-type', () => {
    expect(parseArp(withByte(REQUEST, 1, 6))).toEqual({ ok: false, reason: 'bad-type' }); // IEEE 802 hardware
    expect(parseArp(withByte(REQUEST, 0, 1))).toEqual({ ok: false, reason: 'bad-type' });
    expect(parseArp(withByte(withByte(REQUEST, 2, 0x86), 3, 0xdd))).toEqual({ ok: false, reason: 'bad-type' }); // IPv6
    expect(parseArp(withByte(REQUEST, 4, 8))).toEqual({ ok: false, reason: 'bad-type' }); // hln 8
    expect(parseArp(withByte(REQUEST, 5, 16))).toEqual({ ok: false, reason: 'bad-type' }); // pln 16
  });

  it('rejects operations other than request and reply as bad-type', () => {
    for (const op of [0, 3, 4, 8, 9, 0x100, 0xffff]) {
      const b = withByte(withByte(REQUEST, 6, op >>> 8), 7, op & 0xff);
      expect(parseArp(b)).toEqual({ ok: false, reason: 'bad-type' });
    }
  });

  it('reports a foreign format as bad-type even when short', () => {
    expect(parseArp(fromHex('0006 0800 06 04'))).toEqual({ ok: false, reason: 'bad-type' });
  });

  it('reports every cut of a valid packet as truncated, never throwing', () => {
    for (const pkt of [REQUEST, REPLY]) {
      for (let n = 0; n < ARP_PACKET_LEN; n++) {
        expect(parseArp(pkt.subarray(0, n))).toEqual({ ok: false, reason: 'truncated' });
      }
      expect(parseArp(pkt.subarray(0, ARP_PACKET_LEN)).ok).toBe(true);
    }
  });

  it('reads through a view at a non-zero offset', () => {
    const big = new Uint8Array(64).fill(0x77);
    big.set(REPLY, 14);
    expect(parseArp(big.subarray(14))).toEqual(parseArp(REPLY));
  });
});

describe('emitArp', () => {
  it('round-trips both fixtures byte for byte', () => {
    for (const pkt of [REQUEST, REPLY]) {
      const r = parseArp(pkt);
      if (!r.ok) throw new Error('parse failed');
      const out = new Uint8Array(arpBufferLen(r.value)).fill(0xcc);
      expect(emitArp(r.value, out)).toBe(28);
      expect(toHex(out)).toBe(toHex(pkt));
    }
  });

  it('emits a gratuitous ARP announcement', () => {
    const me = mac('02:00:00:00:00:0a');
    const ip = ipv4('10.0.0.10');
    const repr: ArpRepr = { operation: ArpOperation.Request, senderMac: me, senderIp: ip, targetMac: 0, targetIp: ip };
    const out = new Uint8Array(28);
    emitArp(repr, out);
    expect(toHex(out)).toBe('0001080006040001' + '02000000000a' + '0a00000a' + '000000000000' + '0a00000a');
    expect(parseArp(out)).toEqual({ ok: true, value: repr });
  });

  it('reports fixed lengths', () => {
    expect(arpHeaderLen()).toBe(28);
    expect(arpBufferLen()).toBe(28);
  });

  it('throws RangeError for a buffer too small, and writes nothing', () => {
    const r = parseArp(REPLY);
    if (!r.ok) throw new Error('parse failed');
    const small = new Uint8Array(27);
    expect(() => emitArp(r.value, small)).toThrow(RangeError);
    expect(small.every((b) => b === 0)).toBe(true);
  });
});
