import { describe, expect, it } from 'vitest';
import { ipv4 } from './address.js';
import { bytesEqual, fromHex, readU16, toHex, writeU16 } from './bytes.js';
import { checksumValid } from './checksum.js';
import {
  emitIcmpv4,
  ICMPV4_HEADER_LEN,
  icmpv4BufferLen,
  icmpv4ErrorQuote,
  icmpv4HeaderLen,
  Icmpv4TimeExceededCode,
  Icmpv4Type,
  Icmpv4UnreachableCode,
  isIcmpv4Other,
  parseIcmpQuote,
  parseIcmpv4,
} from './icmpv4.js';
import type { Icmpv4Repr } from './icmpv4.js';
import { IpProtocol, parseIpv4 } from './ipv4.js';

/** Echo request id 0x1c2d seq 1 with 48 data bytes (a timestamp, then 0x10..0x37 like Linux ping). */
const ECHO_REQUEST = fromHex(`
  0800df4d1c2d000165f1a2b3
  000c3500101112131415161718191a1b
  1c1d1e1f202122232425262728292a2b
  2c2d2e2f3031323334353637
`);

/** The matching echo reply: only the type and the checksum differ. */
const ECHO_REPLY = fromHex(`
  0000e74d1c2d000165f1a2b3
  000c3500101112131415161718191a1b
  1c1d1e1f202122232425262728292a2b
  2c2d2e2f3031323334353637
`);

/** Port unreachable for a DNS query 10.0.0.1:51000 -> 10.0.0.2:53, quoting the whole 32-byte datagram. */
const PORT_UNREACHABLE = fromHex(`
  0303224f00000000
  4500002033334000 4011f3970a000001 0a000002
  c7380035000c0000 12340100
`);

/**
 * Fragmentation needed, next-hop MTU 1400 (RFC 1191), about a 1500-byte TCP
 * segment 10.0.0.1:43210 -> 203.0.113.80:443. The quote is cut after 8 bytes
 * of TCP and its total length still says 1500; its header checksum is stale
 * on purpose (parseIcmpQuote must not verify it).
 */
const FRAG_NEEDED = fromHex(`
  030402f800000578
  450005dc44444000 3f06b1260a000001 cb007150
  a8ca01bb11223344
`);

/** A full IPv4 packet: router 10.0.0.254 says TTL exceeded in transit for a traceroute probe to port 33434. */
const TIME_EXCEEDED_PACKET = fromHex(`
  45c0004422220000400142d90a0000fe
  0a0000010b009e320000000045000028
  01010000011184890a000001c6336407
  9c40829a00140000736f636b73746163
  6b21210a
`);

/** Timestamp request (type 13, RFC 792), which has no variant of its own. */
const TIMESTAMP = fromHex('0d00450a 01020003 0123abcd 00000000 00000000');

/** Parameter problem (type 12) with pointer 20, quoting the same datagram as PORT_UNREACHABLE. */
const PARAMETER_PROBLEM = fromHex(`
  0c00055214000000
  4500002033334000 4011f3970a000001 0a000002
  c7380035000c0000 12340100
`);

const TIME_EXCEEDED = TIME_EXCEEDED_PACKET.subarray(20);

const FIXTURES: readonly [string, Uint8Array][] = [
  ['echo request', ECHO_REQUEST],
  ['echo reply', ECHO_REPLY],
  ['port unreachable', PORT_UNREACHABLE],
  ['frag needed', FRAG_NEEDED],
  ['time exceeded', TIME_EXCEEDED],
  ['timestamp', TIMESTAMP],
  ['parameter problem', PARAMETER_PROBLEM],
];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mustParse(b: Uint8Array): Icmpv4Repr {
  const r = parseIcmpv4(b);
  if (!r.ok) throw new Error(`parse failed: ${r.reason}`);
  return r.value;
}

function emitted(repr: Icmpv4Repr): Uint8Array {
  const out = new Uint8Array(icmpv4BufferLen(repr));
  expect(emitIcmpv4(repr, out)).toBe(out.length);
  return out;
}

describe('constants', () => {
  it('have the RFC 792 / 1122 / 1812 values', () => {
    expect([Icmpv4Type.EchoReply, Icmpv4Type.DestinationUnreachable, Icmpv4Type.EchoRequest, Icmpv4Type.TimeExceeded]).toEqual([0, 3, 8, 11]);
    expect([
      Icmpv4UnreachableCode.NetUnreachable,
      Icmpv4UnreachableCode.HostUnreachable,
      Icmpv4UnreachableCode.ProtocolUnreachable,
      Icmpv4UnreachableCode.PortUnreachable,
      Icmpv4UnreachableCode.FragmentationNeeded,
      Icmpv4UnreachableCode.CommunicationProhibited,
    ]).toEqual([0, 1, 2, 3, 4, 13]);
    expect(Icmpv4TimeExceededCode).toEqual({ TtlExceeded: 0, FragmentReassemblyTimeExceeded: 1 });
  });
});

describe('fixtures', () => {
  it('carry valid checksums (checked independently of the parser)', () => {
    for (const [name, pkt] of FIXTURES) expect(checksumValid(pkt), name).toBe(true);
    expect(checksumValid(TIME_EXCEEDED_PACKET.subarray(0, 20))).toBe(true);
  });
});

describe('parseIcmpv4', () => {
  it('parses an echo request and reply', () => {
    const req = mustParse(ECHO_REQUEST);
    expect(req).toEqual({ type: Icmpv4Type.EchoRequest, identifier: 0x1c2d, sequence: 1, data: ECHO_REQUEST.subarray(8) });
    const rep = mustParse(ECHO_REPLY);
    expect(rep).toEqual({ type: Icmpv4Type.EchoReply, identifier: 0x1c2d, sequence: 1, data: ECHO_REPLY.subarray(8) });
    if (isIcmpv4Other(req) || req.type !== Icmpv4Type.EchoRequest) throw new Error('not echo');
    expect(req.data.length).toBe(48);
    expect(req.data.buffer).toBe(ECHO_REQUEST.buffer); // a view, not a copy
  });

  it('parses a port unreachable', () => {
    const r = mustParse(PORT_UNREACHABLE);
    expect(r).toEqual({
      type: Icmpv4Type.DestinationUnreachable,
      code: Icmpv4UnreachableCode.PortUnreachable,
      nextHopMtu: 0,
      quoted: PORT_UNREACHABLE.subarray(8),
    });
  });

  it('parses fragmentation needed with its next-hop MTU', () => {
    const r = mustParse(FRAG_NEEDED);
    expect(isIcmpv4Other(r)).toBe(false);
    if (isIcmpv4Other(r) || r.type !== Icmpv4Type.DestinationUnreachable) throw new Error('not unreachable');
    expect(r.code).toBe(Icmpv4UnreachableCode.FragmentationNeeded);
    expect(r.nextHopMtu).toBe(1400);
    expect(r.quoted.length).toBe(28);
  });

  it('parses a time exceeded carried in an IPv4 packet', () => {
    const ip = parseIpv4(TIME_EXCEEDED_PACKET);
    if (!ip.ok) throw new Error('ip parse failed');
    expect(ip.value.protocol).toBe(IpProtocol.Icmp);
    const r = mustParse(ip.value.payload);
    expect(r).toEqual({ type: Icmpv4Type.TimeExceeded, code: Icmpv4TimeExceededCode.TtlExceeded, quoted: TIME_EXCEEDED.subarray(8) });
  });

  it('keeps unknown types raw in the other variant', () => {
    const ts = mustParse(TIMESTAMP);
    expect(ts).toEqual({ type: Icmpv4Type.Timestamp, code: 0, rest: 0x01020003, data: TIMESTAMP.subarray(8) });
    expect(isIcmpv4Other(ts)).toBe(true);
    const pp = mustParse(PARAMETER_PROBLEM);
    expect(isIcmpv4Other(pp) && pp.rest >>> 24).toBe(20); // the pointer
  });

  it('ignores the unused bytes of error messages', () => {
    const b = PORT_UNREACHABLE.slice();
    b[4] = 0x12; // an RFC 4884 length, say; adjust the checksum to match
    writeU16(b, 2, readU16(b, 2) - 0x1200);
    expect(checksumValid(b)).toBe(true);
    expect(mustParse(b)).toEqual(mustParse(PORT_UNREACHABLE));
  });

  it('reports bad-checksum for any single flipped bit, unless told not to verify', () => {
    for (const [name, pkt] of FIXTURES) {
      for (let bit = 0; bit < pkt.length * 8; bit += 3) {
        const b = pkt.slice();
        b[bit >>> 3]! ^= 0x80 >>> (bit & 7);
        expect(parseIcmpv4(b), `${name} bit ${bit}`).toEqual({ ok: false, reason: 'bad-checksum' });
        expect(parseIcmpv4(b, { verifyChecksum: false }).ok).toBe(true);
      }
    }
  });

  it('reports truncated below 8 bytes and never throws on any cut', () => {
    for (const [name, pkt] of FIXTURES) {
      for (let n = 0; n <= pkt.length; n++) {
        const cut = pkt.subarray(0, n);
        const r = parseIcmpv4(cut);
        const unchecked = parseIcmpv4(cut, { verifyChecksum: false });
        if (n < ICMPV4_HEADER_LEN) {
          expect(r).toEqual({ ok: false, reason: 'truncated' });
          expect(unchecked).toEqual({ ok: false, reason: 'truncated' });
          continue;
        }
        // A cut that drops only zero bytes keeps a valid checksum: then it must still be consistent.
        expect(r.ok, `${name} cut to ${n}`).toBe(checksumValid(cut));
        expect(unchecked.ok).toBe(true);
        if (unchecked.ok) {
          expect(icmpv4BufferLen(unchecked.value)).toBe(n);
          if (r.ok) expect(toHex(emitted(r.value))).toBe(toHex(cut));
        }
      }
    }
  });

  it('never throws on random bytes (seeded)', () => {
    const next = rng(792);
    for (let i = 0; i < 3000; i++) {
      const b = new Uint8Array(Math.floor(next() * 40));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(next() * 256);
      if (b.length >= 4) b[0] = [0, 3, 8, 11, 12, 13][i % 6]!;
      const r = parseIcmpv4(b, { verifyChecksum: i % 2 === 0 });
      if (r.ok) expect(icmpv4BufferLen(r.value)).toBe(b.length);
    }
  });
});

describe('emitIcmpv4', () => {
  it('round-trips every fixture byte for byte, checksum included', () => {
    for (const [name, pkt] of FIXTURES) {
      const r = mustParse(pkt);
      const out = new Uint8Array(pkt.length + 3).fill(0xab);
      expect(emitIcmpv4(r, out), name).toBe(pkt.length);
      expect(toHex(out.subarray(0, pkt.length)), name).toBe(toHex(pkt));
      expect(toHex(out.subarray(pkt.length))).toBe('ababab');
    }
  });

  it('builds an echo reply from a request', () => {
    const req = mustParse(ECHO_REQUEST);
    if (isIcmpv4Other(req) || req.type !== Icmpv4Type.EchoRequest) throw new Error('not echo');
    const reply: Icmpv4Repr = { ...req, type: Icmpv4Type.EchoReply };
    expect(toHex(emitted(reply))).toBe(toHex(ECHO_REPLY));
  });

  it('builds the error messages from hand-written reprs', () => {
    expect(
      toHex(
        emitted({
          type: Icmpv4Type.DestinationUnreachable,
          code: Icmpv4UnreachableCode.FragmentationNeeded,
          nextHopMtu: 1400,
          quoted: FRAG_NEEDED.subarray(8),
        }),
      ),
    ).toBe(toHex(FRAG_NEEDED));
    expect(
      toHex(emitted({ type: Icmpv4Type.TimeExceeded, code: Icmpv4TimeExceededCode.TtlExceeded, quoted: TIME_EXCEEDED.subarray(8) })),
    ).toBe(toHex(TIME_EXCEEDED));
  });

  it('computes a checksum over an odd-length message', () => {
    const out = emitted({ type: Icmpv4Type.EchoRequest, identifier: 7, sequence: 65535, data: fromHex('616263') });
    expect(out.length).toBe(11);
    expect(checksumValid(out)).toBe(true);
    expect(mustParse(out)).toEqual({ type: 8, identifier: 7, sequence: 65535, data: fromHex('616263') });
  });

  it('throws RangeError for a buffer too small', () => {
    for (const [, pkt] of FIXTURES) {
      const r = mustParse(pkt);
      expect(() => emitIcmpv4(r, new Uint8Array(pkt.length - 1))).toThrow(RangeError);
    }
    expect(icmpv4HeaderLen()).toBe(8);
  });

  it('round-trips random other-type messages (seeded)', () => {
    const next = rng(4884);
    for (let i = 0; i < 200; i++) {
      const data = new Uint8Array(Math.floor(next() * 30)).map(() => Math.floor(next() * 256));
      const repr: Icmpv4Repr = {
        type: [4, 5, 9, 10, 12, 13, 14, 40, 255][i % 9]!,
        code: Math.floor(next() * 256),
        rest: Math.floor(next() * 2 ** 32),
        data,
      };
      const out = emitted(repr);
      const back = mustParse(out);
      expect(back).toEqual(repr);
      expect(bytesEqual(emitted(back), out)).toBe(true);
    }
  });
});

describe('parseIcmpQuote', () => {
  it('finds the UDP socket a port unreachable is about', () => {
    const r = mustParse(PORT_UNREACHABLE);
    if (isIcmpv4Other(r) || r.type !== Icmpv4Type.DestinationUnreachable) throw new Error('not unreachable');
    const q = parseIcmpQuote(r.quoted);
    expect(q.ok).toBe(true);
    if (!q.ok) return;
    expect({ ...q.value, transport: toHex(q.value.transport) }).toEqual({
      src: ipv4('10.0.0.1'),
      dst: ipv4('10.0.0.2'),
      protocol: IpProtocol.Udp,
      identification: 0x3333,
      ttl: 64,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      headerLen: 20,
      totalLength: 32,
      transport: 'c7380035000c000012340100',
      srcPort: 51000,
      dstPort: 53,
    });
  });

  it('accepts a cut quote with a stale checksum and a larger total length', () => {
    const q = parseIcmpQuote(FRAG_NEEDED.subarray(8));
    expect(q.ok).toBe(true);
    if (!q.ok) return;
    expect(q.value.totalLength).toBe(1500);
    expect(q.value.protocol).toBe(IpProtocol.Tcp);
    expect(q.value.dst).toBe(ipv4('203.0.113.80'));
    expect([q.value.srcPort, q.value.dstPort]).toEqual([43210, 443]);
    expect(q.value.transport.length).toBe(8);
    expect(checksumValid(FRAG_NEEDED.subarray(8, 28))).toBe(false);
  });

  it('finds the traceroute probe in a time exceeded', () => {
    const q = parseIcmpQuote(TIME_EXCEEDED.subarray(8));
    expect(q.ok && [q.value.ttl, q.value.srcPort, q.value.dstPort, q.value.transport.length]).toEqual([1, 40000, 33434, 20]);
  });

  it('clips the transport bytes to the quoted total length', () => {
    const quoted = new Uint8Array(40);
    quoted.set(PORT_UNREACHABLE.subarray(8)); // total length 32, then 8 bytes of junk
    quoted.fill(0xee, 32);
    const q = parseIcmpQuote(quoted);
    expect(q.ok && q.value.transport.length).toBe(12);
  });

  it('reports no ports when fewer than 4 transport bytes are quoted', () => {
    const quoted = PORT_UNREACHABLE.subarray(8);
    for (let n = 20; n < 24; n++) {
      const q = parseIcmpQuote(quoted.subarray(0, n));
      expect(q.ok && [q.value.srcPort, q.value.dstPort]).toEqual([undefined, undefined]);
    }
    const q = parseIcmpQuote(quoted.subarray(0, 24));
    expect(q.ok && [q.value.srcPort, q.value.dstPort]).toEqual([51000, 53]);
  });

  it('reports no ports for a non-first fragment', () => {
    const quoted = PORT_UNREACHABLE.slice(8);
    writeU16(quoted, 6, 0x2000 | 185); // MF, offset 1480
    const q = parseIcmpQuote(quoted);
    expect(q.ok && [q.value.fragmentOffset, q.value.moreFragments, q.value.srcPort]).toEqual([1480, true, undefined]);
  });

  it('reports every error reason, never throwing', () => {
    const quoted = PORT_UNREACHABLE.subarray(8);
    for (let n = 0; n < 20; n++) expect(parseIcmpQuote(quoted.subarray(0, n))).toEqual({ ok: false, reason: 'truncated' });
    const v6 = quoted.slice();
    v6[0] = 0x65;
    expect(parseIcmpQuote(v6)).toEqual({ ok: false, reason: 'bad-version' });
    const ihl4 = quoted.slice();
    ihl4[0] = 0x44;
    expect(parseIcmpQuote(ihl4)).toEqual({ ok: false, reason: 'bad-header-length' });
    const ihl15 = quoted.slice();
    ihl15[0] = 0x4f;
    expect(parseIcmpQuote(ihl15)).toEqual({ ok: false, reason: 'bad-header-length' });
    const tiny = quoted.slice();
    writeU16(tiny, 2, 19);
    expect(parseIcmpQuote(tiny)).toEqual({ ok: false, reason: 'bad-length' });
  });
});

describe('icmpv4ErrorQuote', () => {
  it('quotes as much as fits in a 576-byte error datagram', () => {
    const big = new Uint8Array(1500);
    const q = icmpv4ErrorQuote(big);
    expect(q.length).toBe(576 - 20 - 8);
    expect(q.buffer).toBe(big.buffer);
    expect(icmpv4ErrorQuote(big, 1280).length).toBe(1252);
  });

  it('quotes a small datagram whole', () => {
    const small = PORT_UNREACHABLE.subarray(8);
    expect(icmpv4ErrorQuote(small).length).toBe(small.length);
    expect(icmpv4ErrorQuote(small, 10).length).toBe(0);
  });
});
