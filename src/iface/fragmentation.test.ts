import { describe, expect, it } from 'vitest';
import { ipv4 } from '../wire/address.js';
import type { Ipv4Header } from '../wire/ipv4.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { copiedOptions, fragmentIpv4 } from './fragmentation.js';

const header: Ipv4Header = {
  src: ipv4('10.0.0.1'),
  dst: ipv4('10.0.0.2'),
  protocol: 17,
  ttl: 64,
  dscp: 0,
  ecn: 0,
  identification: 0x1234,
  dontFragment: false,
  moreFragments: false,
  fragmentOffset: 0,
  options: new Uint8Array(0),
};

function payloadOf(n: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 7) & 0xff;
  return p;
}

describe('fragmentIpv4', () => {
  it('returns one packet when the datagram fits', () => {
    const out = fragmentIpv4(header, payloadOf(1480), 1500, { headroom: 14 });
    expect(out).toHaveLength(1);
    const r = parseIpv4(out[0]!.subarray(14));
    expect(r.ok && r.value.payload.length).toBe(1480);
    expect(r.ok && r.value.moreFragments).toBe(false);
  });

  it('splits at 8-byte boundaries (RFC 791) and the pieces cover the payload exactly', () => {
    const payload = payloadOf(4000);
    const out = fragmentIpv4(header, payload, 1500);
    expect(out.map((b) => b.length)).toEqual([1500, 1500, 1060]);
    const joined = new Uint8Array(4000);
    out.forEach((b, i) => {
      const r = parseIpv4(b);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.identification).toBe(0x1234);
      expect(r.value.moreFragments).toBe(i < 2);
      expect(r.value.fragmentOffset % 8).toBe(0);
      joined.set(r.value.payload, r.value.fragmentOffset);
    });
    expect(joined).toEqual(payload);
  });

  it('keeps the original MF and offset when refragmenting a fragment', () => {
    const out = fragmentIpv4({ ...header, moreFragments: true, fragmentOffset: 1480 }, payloadOf(1480), 576);
    const parsed = out.map((b) => parseIpv4(b)).map((r) => (r.ok ? r.value : undefined));
    expect(parsed.map((p) => p?.fragmentOffset)).toEqual([1480, 2032, 2584]);
    expect(parsed.every((p) => p?.moreFragments === true)).toBe(true);
  });

  it('repeats only copied options in later fragments', () => {
    // Security (130, copied) 4 bytes + Record Route (7, not copied) 7 bytes + EOL pad.
    const opts = new Uint8Array([130, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0]);
    expect(copiedOptions(opts)).toEqual(new Uint8Array([130, 4, 0, 0]));
    const out = fragmentIpv4({ ...header, options: opts }, payloadOf(200), 120);
    const second = parseIpv4(out[1]!);
    expect(second.ok && second.value.options).toEqual(new Uint8Array([130, 4, 0, 0]));
  });

  it('refuses DF datagrams that do not fit and MTUs below 68', () => {
    expect(() => fragmentIpv4({ ...header, dontFragment: true }, payloadOf(2000), 1500)).toThrow(RangeError);
    expect(() => fragmentIpv4(header, payloadOf(2000), 27)).toThrow(RangeError);
  });
});
