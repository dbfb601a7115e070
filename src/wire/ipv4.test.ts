import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { ipv4 } from './address.js';
import { bytesEqual, fromHex, readU16, toHex, writeU16 } from './bytes.js';
import { checksumValid, internetChecksum } from './checksum.js';
import {
  emitIpv4,
  emitIpv4Header,
  emitIpv4HeaderAt,
  emitIpv4PlainHeaderAt,
  IPV4_HEADER_LEN,
  ipv4BufferLen,
  ipv4HeaderLen,
  ipv4Options,
  Ipv4OptionType,
  Ipv4Packet,
  IpProtocol,
  Ipv4ReprScratch,
  parseIpv4,
  parseIpv4Into,
  poisonReusedIpv4Records,
} from './ipv4.js';
import type { Ipv4Header, Ipv4Option, Ipv4Repr } from './ipv4.js';
import type { ParseResult } from './result.js';

/** Like Linux `ping -c1 -s 48 10.0.0.2` from 10.0.0.1: DF, TTL 64, an ICMP echo request with 48 data bytes. */
const PING = fromHex(`
  4500004c4d2e40004001d9800a000001
  0a0000020800df4d1c2d000165f1a2b3
  000c3500101112131415161718191a1b
  1c1d1e1f202122232425262728292a2b
  2c2d2e2f3031323334353637
`);

/** IGMPv2 membership report for 224.0.0.251: TTL 1, DSCP CS6, IHL 6 with a Router Alert option (RFC 2113). */
const IGMP_RA = fromHex('46c00020000040000102416ac0a8010a e00000fb 94040000 16000904e00000fb');

/** A middle UDP fragment: MF set, offset 1480 bytes, DSCP 46 (EF), ECN 2 (ECT(0)), 24 payload bytes. */
const FRAGMENT = fromHex(`
  45ba002cbeef20b93f114330ac100005
  ac100009a0a1a2a3a4a5a6a7a8a9aaab
  acadaeafb0b1b2b3b4b5b6b7
`);

/** The IPv4 header example from Wikipedia's "IPv4 header checksum" article (checksum 0xb861). */
const WIKI_HEADER = fromHex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');

const FIXTURES: readonly [string, Uint8Array][] = [
  ['ping', PING],
  ['igmp with router alert', IGMP_RA],
  ['fragment', FRAGMENT],
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

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

/** A copy with one header byte changed and the header checksum made valid again. */
function patched(pkt: Uint8Array, at: number, v: number): Uint8Array {
  const c = pkt.slice();
  c[at] = v;
  const hl = (c[0]! & 0x0f) * 4;
  if (hl >= 20 && hl <= c.length) {
    writeU16(c, 10, 0);
    writeU16(c, 10, internetChecksum(c.subarray(0, hl)));
  }
  return c;
}

function mustParse(b: Uint8Array): Ipv4Repr {
  const r = parseIpv4(b);
  if (!r.ok) throw new Error(`parse failed: ${r.reason}`);
  return r.value;
}

function emitted(repr: Ipv4Repr): Uint8Array {
  const out = new Uint8Array(ipv4BufferLen(repr));
  expect(emitIpv4(repr, out)).toBe(out.length);
  return out;
}

describe('fixtures', () => {
  it('carry valid header checksums (checked independently of the parser)', () => {
    expect(checksumValid(WIKI_HEADER)).toBe(true);
    for (const [, pkt] of FIXTURES) expect(checksumValid(pkt.subarray(0, (pkt[0]! & 15) * 4))).toBe(true);
  });
});

describe('parseIpv4', () => {
  it('parses a ping', () => {
    const r = mustParse(PING);
    expect({ ...r, options: toHex(r.options), payload: r.payload.length }).toEqual({
      src: ipv4('10.0.0.1'),
      dst: ipv4('10.0.0.2'),
      protocol: IpProtocol.Icmp,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      identification: 0x4d2e,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      options: '',
      payload: 8 + 48,
    });
    expect(toHex(r.payload.subarray(0, 8))).toBe('0800df4d1c2d0001');
  });

  it('parses a header with options and keeps them raw', () => {
    const r = mustParse(IGMP_RA);
    expect(r.protocol).toBe(IpProtocol.Igmp);
    expect(r.ttl).toBe(1);
    expect(r.dscp).toBe(48);
    expect(r.ecn).toBe(0);
    expect(r.dst).toBe(ipv4('224.0.0.251'));
    expect(toHex(r.options)).toBe('94040000');
    expect(toHex(r.payload)).toBe('16000904e00000fb');
    expect(ipv4HeaderLen(r)).toBe(24);
  });

  it('parses fragment fields with the offset in bytes', () => {
    const r = mustParse(FRAGMENT);
    expect(r.dontFragment).toBe(false);
    expect(r.moreFragments).toBe(true);
    expect(r.fragmentOffset).toBe(1480);
    expect(r.identification).toBe(0xbeef);
    expect(r.dscp).toBe(46);
    expect(r.ecn).toBe(2);
    expect(r.ttl).toBe(63);
    expect(r.protocol).toBe(IpProtocol.Udp);
    expect(r.payload.length).toBe(24);
  });

  it('accepts the Wikipedia header example', () => {
    const pkt = new Uint8Array(0x73);
    pkt.set(WIKI_HEADER);
    const r = mustParse(pkt);
    expect(r.src).toBe(ipv4('192.168.0.1'));
    expect(r.dst).toBe(ipv4('192.168.0.199'));
    expect(r.protocol).toBe(IpProtocol.Udp);
    expect(r.payload.length).toBe(0x73 - 20);
    expect(toHex(emitted(r))).toBe(toHex(pkt));
  });

  it('excludes link padding beyond the total length from the payload', () => {
    // A 28-byte IGMP packet in a minimum-size Ethernet frame: 18 bytes of padding follow.
    const frame = new Uint8Array(46).fill(0xee);
    frame.set(IGMP_RA.subarray(0, 32));
    const r = mustParse(frame);
    expect(r.payload.length).toBe(8);
    expect(toHex(emitted(r))).toBe(toHex(IGMP_RA));
  });

  it('returns options and payload as views into the input', () => {
    const r = mustParse(IGMP_RA);
    expect(r.payload.buffer).toBe(IGMP_RA.buffer);
    expect(r.payload.byteOffset).toBe(IGMP_RA.byteOffset + 24);
    expect(r.options.byteOffset).toBe(IGMP_RA.byteOffset + 20);
  });

  it('reports truncated below 20 bytes', () => {
    for (let n = 0; n < IPV4_HEADER_LEN; n++) {
      expect(parseIpv4(PING.subarray(0, n))).toEqual({ ok: false, reason: 'truncated' });
    }
  });

  it('reports bad-version for anything but 4', () => {
    for (const v of [0, 5, 6, 15]) {
      expect(parseIpv4(patched(PING, 0, (v << 4) | 5))).toEqual({ ok: false, reason: 'bad-version' });
    }
  });

  it('reports bad-header-length for IHL below 5 or past the buffer', () => {
    for (const ihl of [0, 1, 4]) {
      const b = PING.slice();
      b[0] = 0x40 | ihl;
      expect(parseIpv4(b)).toEqual({ ok: false, reason: 'bad-header-length' });
    }
    const b = PING.slice(0, 40);
    b[0] = 0x4f; // 60-byte header in 40 bytes
    expect(parseIpv4(b)).toEqual({ ok: false, reason: 'bad-header-length' });
  });

  it('reports bad-length for a total length below the header or past the buffer', () => {
    const short = PING.slice();
    writeU16(short, 2, 19);
    expect(parseIpv4(patched(short, 1, 0))).toEqual({ ok: false, reason: 'bad-length' });
    const belowOptions = IGMP_RA.slice();
    writeU16(belowOptions, 2, 22); // IHL says 24
    expect(parseIpv4(patched(belowOptions, 1, 0xc0))).toEqual({ ok: false, reason: 'bad-length' });
    const long = PING.slice();
    writeU16(long, 2, PING.length + 1);
    expect(parseIpv4(patched(long, 1, 0))).toEqual({ ok: false, reason: 'bad-length' });
  });

  it('accepts a header-only packet (total length = header length)', () => {
    const b = PING.slice(0, 20);
    writeU16(b, 2, 20);
    const r = parseIpv4(patched(b, 1, 0));
    expect(r.ok && r.value.payload.length).toBe(0);
  });

  it('reports bad-checksum for any single flipped header bit, unless told not to verify', () => {
    for (let bit = 0; bit < 20 * 8; bit++) {
      const b = PING.slice();
      b[bit >>> 3]! ^= 0x80 >>> (bit & 7);
      const r = parseIpv4(b);
      expect(r.ok).toBe(false);
      // A flip in version/IHL/length is caught by a structural check first.
      if (bit >= 32) expect(r).toEqual({ ok: false, reason: 'bad-checksum' });
    }
    const b = PING.slice();
    b[8] = 1; // TTL changed, checksum stale
    expect(parseIpv4(b)).toEqual({ ok: false, reason: 'bad-checksum' });
    expect(parseIpv4(b, { verifyChecksum: false }).ok).toBe(true);
    expect(parseIpv4(b, { verifyChecksum: true }).ok).toBe(false);
  });

  it('does not let the payload change the header checksum verdict', () => {
    const b = PING.slice();
    b[30] = b[30]! ^ 0xff;
    expect(parseIpv4(b).ok).toBe(true);
  });

  it('reports bad-fragment when offset plus payload passes 65535', () => {
    const base = mustParse(FRAGMENT); // 24 payload bytes
    const lastFit: Ipv4Repr = { ...base, fragmentOffset: 65535 - 24 - ((65535 - 24) % 8) }; // 65504
    expect(parseIpv4(emitted(lastFit)).ok).toBe(true);
    const tooFar: Ipv4Repr = { ...base, fragmentOffset: 65512 }; // 65512 + 24 = 65536
    expect(parseIpv4(emitted(tooFar))).toEqual({ ok: false, reason: 'bad-fragment' });
    const max: Ipv4Repr = { ...base, fragmentOffset: 65528, payload: new Uint8Array(7) };
    expect(parseIpv4(emitted(max)).ok).toBe(true);
    expect(parseIpv4(emitted({ ...max, payload: new Uint8Array(8) }))).toEqual({ ok: false, reason: 'bad-fragment' });
  });

  it('ignores the reserved (evil) flag bit, and emit clears it', () => {
    const evil = patched(PING, 6, PING[6]! | 0x80);
    const r = mustParse(evil);
    expect(r.dontFragment).toBe(true);
    expect(toHex(emitted(r))).toBe(toHex(PING));
  });

  it('never throws on any cut of a valid packet: only the full length parses', () => {
    for (const [name, pkt] of FIXTURES) {
      for (let n = 0; n <= pkt.length; n++) {
        const r = parseIpv4(pkt.subarray(0, n));
        expect(r.ok, `${name} cut to ${n}`).toBe(n === pkt.length);
      }
    }
  });

  it('never throws or overreads on random corruption (seeded)', () => {
    const next = rng(0x1b4);
    for (let i = 0; i < 3000; i++) {
      const [, src] = FIXTURES[i % FIXTURES.length]!;
      const b = src.slice(0, Math.floor(next() * (src.length + 1)));
      const flips = 1 + Math.floor(next() * 4);
      for (let k = 0; k < flips && b.length > 0; k++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
      for (const verifyChecksum of [true, false]) {
        const r = parseIpv4(b, { verifyChecksum });
        if (!r.ok) continue;
        const v = r.value;
        expect(ipv4BufferLen(v)).toBeLessThanOrEqual(b.length);
        expect(ipv4BufferLen(v)).toBe(readU16(b, 2));
        expect(v.options.length % 4).toBe(0);
        expect(v.fragmentOffset + v.payload.length).toBeLessThanOrEqual(65535);
      }
    }
  });
});

describe('parseIpv4Into', () => {
  /** The fields parseIpv4 returns, read off a scratch record. */
  function fields(r: Ipv4ReprScratch): Record<string, unknown> {
    const { at: _at, totalLength: _len, bytes: _bytes, payloadStart: _start, ...rest } = { ...r };
    return { ...rest, options: toHex(r.options), payload: toHex(r.payload) };
  }

  it('agrees with parseIpv4 on every fixture, at any offset in a larger buffer, and reuses the record', () => {
    const into = new Ipv4ReprScratch();
    for (const [name, pkt] of FIXTURES) {
      const expected = parseIpv4(pkt);
      if (!expected.ok) throw new Error(name);
      for (const at of [0, 14, 3]) {
        const frame = new Uint8Array(at + pkt.length + 5);
        frame.set(pkt, at);
        expect(parseIpv4Into(frame, at, true, into), name).toBeUndefined();
        expect(fields(into), `${name} at ${at}`).toEqual({ ...expected.value, options: toHex(expected.value.options), payload: toHex(expected.value.payload) });
        expect(into.at).toBe(at);
        expect(into.totalLength).toBe(pkt.length);
        // Views into the frame, not copies.
        expect(into.payload.buffer).toBe(frame.buffer);
      }
    }
  });

  it('gives the same verdict as parseIpv4 on random corruption (seeded)', () => {
    const next = rng(0x1b5);
    const into = new Ipv4ReprScratch();
    for (let i = 0; i < 3000; i++) {
      const [, src] = FIXTURES[i % FIXTURES.length]!;
      const b = src.slice(0, Math.floor(next() * (src.length + 1)));
      const flips = 1 + Math.floor(next() * 4);
      for (let k = 0; k < flips && b.length > 0; k++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
      const framed = new Uint8Array(b.length + 14);
      framed.set(b, 14);
      for (const verifyChecksum of [true, false]) {
        const r = parseIpv4(b, { verifyChecksum });
        const err = parseIpv4Into(framed, 14, verifyChecksum, into);
        expect(err).toBe(r.ok ? undefined : r.reason);
        if (r.ok) expect(toHex(into.payload)).toBe(toHex(r.value.payload));
      }
    }
  });

  it('holds junk after release in poison mode, and empty views otherwise', () => {
    const into = new Ipv4ReprScratch();
    expect(parseIpv4Into(PING, 0, true, into)).toBeUndefined();
    into.release();
    expect(into.payload.length).toBe(0);
    expect(into.src).toBe(ipv4('10.0.0.1'));
    poisonReusedIpv4Records(true);
    try {
      expect(parseIpv4Into(PING, 0, true, into)).toBeUndefined();
      into.release();
      expect(into.src).toBeNaN();
      expect(into.payload[0]).toBe(0xa5);
    } finally {
      poisonReusedIpv4Records(false);
    }
  });
});

describe('emitIpv4', () => {
  it('round-trips every fixture byte for byte', () => {
    for (const [, pkt] of FIXTURES) {
      const r = mustParse(pkt);
      expect(ipv4BufferLen(r)).toBe(pkt.length);
      const out = new Uint8Array(pkt.length + 4).fill(0x99);
      expect(emitIpv4(r, out)).toBe(pkt.length);
      expect(toHex(out.subarray(0, pkt.length))).toBe(toHex(pkt));
      expect(toHex(out.subarray(pkt.length))).toBe('99999999');
    }
  });

  it('builds the ping fixture from a hand-written repr', () => {
    const repr: Ipv4Repr = {
      src: ipv4('10.0.0.1'),
      dst: ipv4('10.0.0.2'),
      protocol: IpProtocol.Icmp,
      ttl: 64,
      dscp: 0,
      ecn: 0,
      identification: 0x4d2e,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      options: new Uint8Array(0),
      payload: PING.subarray(20),
    };
    expect(toHex(emitted(repr))).toBe(toHex(PING));
  });

  it('leaves the checksum zero when asked (offload)', () => {
    const r = mustParse(PING);
    const out = new Uint8Array(PING.length);
    emitIpv4(r, out, { computeChecksum: false });
    expect(readU16(out, 10)).toBe(0);
    expect(toHex(out.subarray(12))).toBe(toHex(PING.subarray(12)));
    emitIpv4(r, out, { computeChecksum: true });
    expect(toHex(out)).toBe(toHex(PING));
  });

  it('emitIpv4Header writes just the header, for a payload placed by the caller', () => {
    const r = mustParse(IGMP_RA);
    const out = new Uint8Array(IGMP_RA.length).fill(0x42);
    expect(emitIpv4Header(r, out, r.payload.length)).toBe(24);
    expect(toHex(out.subarray(0, 24))).toBe(toHex(IGMP_RA.subarray(0, 24)));
    expect(toHex(out.subarray(24))).toBe('4242424242424242');
    // Only the header must fit.
    const header: Ipv4Header = r;
    expect(emitIpv4Header(header, new Uint8Array(24), 1000)).toBe(24);
    expect(() => emitIpv4Header(header, new Uint8Array(23), 0)).toThrow(RangeError);
  });

  it('throws RangeError for a buffer too small', () => {
    const r = mustParse(PING);
    expect(() => emitIpv4(r, new Uint8Array(PING.length - 1))).toThrow(RangeError);
    expect(() => emitIpv4(r, new Uint8Array(0))).toThrow(RangeError);
  });

  it('throws RangeError for options it cannot express', () => {
    const r = mustParse(PING);
    for (const n of [1, 2, 3, 5, 41, 44]) {
      const bad: Ipv4Repr = { ...r, options: new Uint8Array(n) };
      expect(() => emitIpv4(bad, new Uint8Array(200)), `options ${n}`).toThrow(RangeError);
    }
    const forty: Ipv4Repr = { ...r, options: new Uint8Array(40).fill(1) };
    const out = emitted(forty);
    expect(out[0]).toBe(0x4f);
    expect(mustParse(out).options.length).toBe(40);
  });

  it('throws RangeError for fragment offsets and lengths it cannot express', () => {
    const r = mustParse(PING);
    for (const off of [1, 7, 65529, 65536, -8, 8.5]) {
      expect(() => emitIpv4({ ...r, fragmentOffset: off }, new Uint8Array(200)), `offset ${off}`).toThrow(RangeError);
    }
    expect(() => emitIpv4Header(r, new Uint8Array(20), 65536 - 20)).toThrow(RangeError);
    expect(emitIpv4Header(r, new Uint8Array(20), 65535 - 20)).toBe(20);
    expect(() => emitIpv4Header(r, new Uint8Array(20), -1)).toThrow(RangeError);
  });

  it('round-trips random headers (seeded)', () => {
    const next = rng(791);
    const int = (n: number) => Math.floor(next() * n);
    for (let i = 0; i < 300; i++) {
      const payload = randomBytes(next, int(64));
      const repr: Ipv4Repr = {
        src: int(2 ** 32),
        dst: int(2 ** 32),
        protocol: int(256),
        ttl: int(256),
        dscp: int(64),
        ecn: int(4),
        identification: int(65536),
        dontFragment: next() < 0.5,
        moreFragments: next() < 0.5,
        fragmentOffset: int(8000) * 8,
        options: randomBytes(next, int(11) * 4),
        payload,
      };
      const out = emitted(repr);
      const back = mustParse(out);
      expect({ ...back, options: toHex(back.options), payload: toHex(back.payload) }).toEqual({
        ...repr,
        options: toHex(repr.options),
        payload: toHex(repr.payload),
      });
      expect(bytesEqual(emitted(back), out)).toBe(true);
    }
  });
});

describe('emitIpv4PlainHeaderAt', () => {
  it('writes what emitIpv4HeaderAt writes, checksum included, for seeded random fields', () => {
    const rng = new SeededRng(42);
    for (let i = 0; i < 2000; i++) {
      // Edge values often: all-ones addresses and ids push the checksum's carries.
      const pick = (max: number): number => (rng.nextU32() % 4 === 0 ? max : rng.nextU32() % (max + 1));
      const h: Ipv4Header = {
        src: pick(0xffffffff),
        dst: pick(0xffffffff),
        protocol: pick(255),
        ttl: pick(255),
        dscp: pick(63),
        ecn: pick(3),
        identification: pick(0xffff),
        dontFragment: rng.nextU32() % 2 === 0,
        moreFragments: false,
        fragmentOffset: 0,
        options: new Uint8Array(0),
      };
      const payloadLength = pick(0xffff - IPV4_HEADER_LEN);
      const at = rng.nextU32() % 3;
      const want = new Uint8Array(at + IPV4_HEADER_LEN).fill(0x5a);
      const got = new Uint8Array(at + IPV4_HEADER_LEN).fill(0x5a);
      emitIpv4HeaderAt(h, want, at, payloadLength);
      const tos = (h.dscp << 2) | h.ecn;
      emitIpv4PlainHeaderAt(got, at, h.src, h.dst, h.protocol, h.ttl, tos, h.identification, h.dontFragment, payloadLength);
      expect(toHex(got)).toBe(toHex(want));
    }
  });
});

describe('ipv4Options', () => {
  const all = (b: Uint8Array): ParseResult<Ipv4Option>[] => [...ipv4Options(b)];

  it('walks a Router Alert option', () => {
    expect(all(fromHex('94040000'))).toEqual([
      { ok: true, value: { offset: 0, type: Ipv4OptionType.RouterAlert, length: 4, data: fromHex('0000') } },
    ]);
  });

  it('yields NOPs, stops after End of List, and ignores the padding after it', () => {
    const items = all(fromHex('0101 07 07 04 0a000001 00 ff ff'));
    expect(items.map((i) => (i.ok ? [i.value.offset, i.value.type, i.value.length, toHex(i.value.data)] : i.reason))).toEqual([
      [0, Ipv4OptionType.Nop, 1, ''],
      [1, Ipv4OptionType.Nop, 1, ''],
      [2, Ipv4OptionType.RecordRoute, 7, '040a000001'],
      [9, Ipv4OptionType.EndOfList, 1, ''],
    ]);
  });

  it('yields nothing for no options', () => {
    expect(all(new Uint8Array(0))).toEqual([]);
  });

  it('reports malformed options once and stops, never throwing', () => {
    expect(all(fromHex('94'))).toEqual([{ ok: false, reason: 'bad-option' }]); // no length octet
    expect(all(fromHex('9400'))).toEqual([{ ok: false, reason: 'bad-option' }]); // length 0 would loop forever
    expect(all(fromHex('9401'))).toEqual([{ ok: false, reason: 'bad-option' }]); // length 1 < 2
    expect(all(fromHex('01 9405 0000'))).toEqual([
      { ok: true, value: { offset: 0, type: 1, length: 1, data: new Uint8Array(0) } },
      { ok: false, reason: 'bad-option' }, // runs past the end
    ]);
  });

  it('terminates on random option bytes (seeded)', () => {
    const next = rng(2113);
    for (let i = 0; i < 2000; i++) {
      const b = randomBytes(next, Math.floor(next() * 41));
      let count = 0;
      for (const item of ipv4Options(b)) {
        count++;
        if (item.ok) expect(item.value.offset + item.value.length).toBeLessThanOrEqual(b.length);
      }
      expect(count).toBeLessThanOrEqual(b.length);
    }
  });
});

describe('Ipv4Packet', () => {
  it('reads the same fields as parseIpv4', () => {
    const p = Ipv4Packet.of(FRAGMENT);
    if (p === undefined) throw new Error('no view');
    const r = mustParse(FRAGMENT);
    expect(p.headerLen).toBe(20);
    expect(p.totalLength).toBe(FRAGMENT.length);
    expect([p.src, p.dst, p.protocol, p.ttl, p.dscp, p.ecn, p.identification]).toEqual([
      r.src, r.dst, r.protocol, r.ttl, r.dscp, r.ecn, r.identification,
    ]);
    expect([p.dontFragment, p.moreFragments, p.fragmentOffset]).toEqual([false, true, 1480]);
    expect(p.checksum).toBe(0x4330);
    expect(p.checksumValid()).toBe(true);
    expect(bytesEqual(p.payload, r.payload)).toBe(true);
    expect(toHex(Ipv4Packet.of(IGMP_RA)!.options)).toBe('94040000');
  });

  it('rewrites fields in place and refreshes the checksum', () => {
    const bytes = PING.slice();
    const p = Ipv4Packet.of(bytes)!;
    p.ttl = p.ttl - 1;
    expect(p.checksumValid()).toBe(false);
    p.fillChecksum();
    expect(p.checksumValid()).toBe(true);
    p.src = ipv4('192.0.2.1');
    p.dst = ipv4('192.0.2.2');
    p.fillChecksum();
    const r = mustParse(bytes);
    expect([r.ttl, r.src, r.dst]).toEqual([63, ipv4('192.0.2.1'), ipv4('192.0.2.2')]);
  });

  it('clips to the total length and refuses unusable headers', () => {
    const padded = new Uint8Array(46);
    padded.set(IGMP_RA);
    expect(Ipv4Packet.of(padded)!.bytes.length).toBe(32);
    expect(Ipv4Packet.of(PING.subarray(0, 19))).toBeUndefined();
    expect(Ipv4Packet.of(PING.subarray(0, PING.length - 1))).toBeUndefined();
    expect(Ipv4Packet.of(patched(PING, 0, 0x65))).toBeUndefined();
    expect(Ipv4Packet.of(patched(PING, 0, 0x44))).toBeUndefined();
  });
});
