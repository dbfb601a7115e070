import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import { ipv4 } from '../wire/address.js';
import type { Ipv4Header, Ipv4Repr } from '../wire/ipv4.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { fragmentIpv4 } from './fragmentation.js';
import { FRAGMENT_OVERHEAD, Reassembler } from './reassembly.js';

const base: Ipv4Header = {
  src: ipv4('10.0.0.1'),
  dst: ipv4('10.0.0.2'),
  protocol: 253,
  ttl: 64,
  dscp: 0,
  ecn: 0,
  identification: 7,
  dontFragment: false,
  moreFragments: false,
  fragmentOffset: 0,
  options: new Uint8Array(0),
};

function payloadOf(n: number, seed: number): Uint8Array {
  const rng = new SeededRng(seed);
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = rng.nextU32() & 0xff;
  return p;
}

function fragments(n: number, mtu: number, id = 7, seed = 1): { payload: Uint8Array; frags: { ip: Ipv4Repr; raw: Uint8Array }[] } {
  const payload = payloadOf(n, seed);
  const frags = fragmentIpv4({ ...base, identification: id }, payload, mtu).map((raw) => {
    const r = parseIpv4(raw);
    if (!r.ok) throw new Error(r.reason);
    return { ip: r.value, raw };
  });
  return { payload, frags };
}

/** A fragment with arbitrary offset/length/MF, for crafted overlaps. */
function frag(offset: number, len: number, mf: boolean, fill = 0xaa): { ip: Ipv4Repr; raw: Uint8Array } {
  const payload = new Uint8Array(len).fill(fill);
  const ip: Ipv4Repr = { ...base, fragmentOffset: offset, moreFragments: mf, payload };
  return { ip, raw: new Uint8Array(20 + len) };
}

const t0 = Instant.ZERO;

describe('Reassembler', () => {
  it('reassembles under seeded reordering and duplication, sizes 1..65507', () => {
    const rng = new SeededRng(42);
    for (const n of [1, 7, 8, 9, 1471, 1472, 1473, 2960, 8000, 65507]) {
      const { payload, frags } = fragments(n, n > 30000 ? 1500 : 576, n & 0xffff);
      const order = [...frags, ...frags.filter(() => rng.nextFloat() < 0.3)];
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.nextInt(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const r = new Reassembler();
      let done: Uint8Array | undefined;
      for (const f of order) {
        if (frags.length === 1) break;
        const res = r.input(t0, f.ip, f.raw);
        if (res.kind === 'complete') {
          expect(done).toBeUndefined();
          done = res.datagram.payload;
          const again = parseIpv4(res.raw);
          expect(again.ok && again.value.payload).toEqual(payload);
        } else {
          expect(['pending', 'duplicate']).toContain(res.kind);
        }
      }
      if (frags.length > 1) expect(done).toEqual(payload);
      if (r.pending === 0) expect(r.memory).toBe(0);
    }
  });

  it('ignores exact duplicates but drops the whole datagram on a partial overlap', () => {
    const r = new Reassembler();
    expect(r.input(t0, frag(0, 16, true).ip, frag(0, 16, true).raw).kind).toBe('pending');
    expect(r.input(t0, frag(0, 16, true).ip, frag(0, 16, true).raw).kind).toBe('duplicate');
    expect(r.input(t0, frag(8, 8, true).ip, frag(8, 8, true).raw).kind).toBe('duplicate');
    expect(r.input(t0, frag(8, 16, true).ip, frag(8, 16, true).raw)).toEqual({ kind: 'dropped', reason: 'overlap' });
    expect(r.pending).toBe(0);
    expect(r.memory).toBe(0);
    // The rest of the datagram no longer completes anything.
    expect(r.input(t0, frag(16, 8, false).ip, frag(16, 8, false).raw).kind).toBe('pending');
  });

  it('rejects non-last fragments of odd size and last fragments that disagree', () => {
    const r = new Reassembler();
    expect(r.input(t0, frag(0, 12, true).ip, frag(0, 12, true).raw)).toEqual({ kind: 'dropped', reason: 'bad-length' });
    r.input(t0, frag(0, 16, true).ip, frag(0, 16, true).raw);
    r.input(t0, frag(32, 8, false).ip, frag(32, 8, false).raw);
    expect(r.input(t0, frag(40, 8, true).ip, frag(40, 8, true).raw)).toEqual({ kind: 'dropped', reason: 'bad-length' });
    expect(r.pending).toBe(0);
  });

  it('expires incomplete datagrams after the timeout and frees their memory', () => {
    const r = new Reassembler({ timeout: Duration.fromSecs(30) });
    const { frags } = fragments(4000, 1500);
    r.input(t0, frags[0]!.ip, frags[0]!.raw);
    r.input(t0, frags[2]!.ip, frags[2]!.raw);
    expect(r.memory).toBeGreaterThan(0);
    expect(r.pollAt()).toBe(Instant.fromSecs(30));
    expect(r.poll(Instant.fromSecs(29))).toEqual([]);
    const expired = r.poll(Instant.fromSecs(30));
    expect(expired).toHaveLength(1);
    expect(expired[0]!.firstFragmentQuote?.length).toBe(28);
    expect(r.memory).toBe(0);
    expect(r.pollAt()).toBeUndefined();
    // Without fragment zero there is nothing to quote (no ICMP time exceeded).
    r.input(t0, frags[1]!.ip, frags[1]!.raw);
    expect(r.poll(Instant.fromSecs(100))[0]!.firstFragmentQuote).toBeUndefined();
  });

  it('keeps a fragment flood inside the memory bound by evicting the oldest', () => {
    const maxBytes = 256 * 1024;
    const r = new Reassembler({ maxBytes });
    const rng = new SeededRng(9);
    for (let i = 0; i < 5000; i++) {
      const id = rng.nextU32() & 0xffff;
      const offset = rng.nextInt(8000) * 8;
      const ip: Ipv4Repr = { ...base, identification: id, fragmentOffset: offset, moreFragments: true, payload: new Uint8Array(1024) };
      r.input(t0, ip, new Uint8Array(0));
      expect(r.memory).toBeLessThanOrEqual(maxBytes);
    }
    expect(r.evicted).toBeGreaterThan(0);
    expect(r.pending).toBeLessThanOrEqual(maxBytes / (1024 + FRAGMENT_OVERHEAD));
    // A legitimate datagram still gets through afterwards.
    const { payload, frags } = fragments(3000, 1500, 0xbeef, 3);
    let out: Uint8Array | undefined;
    for (const f of frags) {
      const res = r.input(t0, f.ip, f.raw);
      if (res.kind === 'complete') out = res.datagram.payload;
    }
    expect(out).toEqual(payload);
  });
});
