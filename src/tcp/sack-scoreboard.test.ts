import { describe, expect, it } from 'vitest';
import { SeededRng } from '../random/rng.js';
import type { SackBlock } from '../wire/tcp-options.js';
import type { NextSegment } from './sack-scoreboard.js';
import { SackScoreboard } from './sack-scoreboard.js';
import { seqAdd, seqSub } from './seq.js';

const MSS = 1000;
// Just below the wrap, so every scenario crosses 2^32 -> 0.
const BASE = 0xfffff000;
const at = (off: number): number => seqAdd(BASE, off);
const blk = (l: number, r: number): SackBlock => ({ left: at(l), right: at(r) });
const rel = (b: SackBlock): [number, number] => [seqSub(b.left, BASE), seqSub(b.right, BASE)];

describe('SackScoreboard: RFC 6675 scenarios', () => {
  it('declares the first segment lost once more than 2 MSS above it are SACKed (IsLost byte rule)', () => {
    const sb = new SackScoreboard({ mss: MSS });
    const una = at(0);
    const nxt = at(10_000);
    expect(sb.update(una, nxt, [blk(1000, 2000)])).toEqual({ newlySacked: 1000, dsack: undefined });
    expect(sb.isLost(una)).toBe(false);
    sb.update(una, nxt, [blk(1000, 3000)]);
    expect(sb.isLost(una)).toBe(false); // exactly 2 MSS: not "more than"
    expect(sb.update(una, nxt, [blk(1000, 4000)]).newlySacked).toBe(1000);
    expect(sb.isLost(una)).toBe(true);
    expect(sb.isLost(at(999))).toBe(true);
    expect(sb.isLost(at(1500))).toBe(false); // SACKed
    expect(sb.isLost(at(4000))).toBe(false); // nothing SACKed above
    expect(sb.ranges().map(rel)).toEqual([[1000, 4000]]);
    expect(sb.highestSacked).toBe(at(4000));
    expect(sb.sackedBytes).toBe(3000);
    expect(sb.isSacked(at(1000), 3000)).toBe(true);
    expect(sb.isSacked(at(1000), 3001)).toBe(false);
    expect(sb.isSacked(at(999), 2)).toBe(false);
  });

  it('declares loss after DupThresh discontiguous SACKed ranges, however small', () => {
    const sb = new SackScoreboard({ mss: MSS });
    sb.update(at(0), at(1000), [blk(100, 200), blk(300, 400)]);
    expect(sb.isLost(at(0))).toBe(false);
    sb.update(at(0), at(1000), [blk(500, 600)]);
    expect(sb.isLost(at(0))).toBe(true);
    expect(sb.isLost(at(250))).toBe(false); // only two ranges above
    expect(sb.rangeCount).toBe(3);
  });

  it('walks a recovery: fast retransmit, pipe, NextSeg rules (1)-(4)', () => {
    const sb = new SackScoreboard({ mss: MSS });
    let una = at(0);
    const nxt = at(10_000);
    // Segments 1 and 6 (offsets 0 and 5000) are lost; 2-5 and 7-9 arrive.
    sb.update(una, nxt, [blk(1000, 5000)]);
    sb.update(una, nxt, [blk(6000, 9000), blk(1000, 5000)]);
    expect(sb.isLost(una)).toBe(true);
    expect(sb.isLost(at(5000))).toBe(true); // 3 MSS SACKed above it
    expect(sb.isLost(at(9000))).toBe(false);
    // pipe: 10000 - 7000 SACKed - lost {0..1000, 5000..6000} = 1000 bytes (9000..10000).
    expect(sb.pipe(una, nxt)).toBe(1000);

    sb.startRecovery(una, nxt);
    const first = sb.nextSeg(una, nxt, false);
    expect(first).toEqual({ kind: 'retransmit', seq: at(0), len: 1000, rule: 1 });
    sb.onFastRetransmit(at(0), 1000); // RFC 6675 5 (4.3)
    expect(sb.pipe(una, nxt)).toBe(2000);

    // Rule (1): the next lost hole above HighRxt.
    const second = sb.nextSeg(una, nxt, true);
    expect(second).toEqual({ kind: 'retransmit', seq: at(5000), len: 1000, rule: 1 });
    sb.onRetransmit(second as Extract<NextSegment, { kind: 'retransmit' }>);
    expect(sb.highRxt).toBe(at(6000));
    expect(sb.pipe(una, nxt)).toBe(3000);

    // Nothing lost is left: rule (2) when new data may be sent.
    expect(sb.nextSeg(una, nxt, true)).toEqual({ kind: 'new' });
    // Rule (3) would need an unSACKed hole below the highest SACK above HighRxt: there is none,
    // and the rescue (4) waits until HighACK passes RescueRxt (set by the fast retransmit).
    expect(sb.nextSeg(una, nxt, false)).toBeUndefined();

    // A partial ACK up to 5000: the rescue retransmission becomes possible, once.
    una = at(5000);
    sb.update(una, nxt, [blk(6000, 9000)]);
    const rescue = sb.nextSeg(una, nxt, false);
    expect(rescue).toEqual({ kind: 'retransmit', seq: at(9000), len: 1000, rule: 4 });
    sb.onRetransmit(rescue as Extract<NextSegment, { kind: 'retransmit' }>);
    expect(sb.highRxt).toBe(at(6000)); // rule (4) leaves HighRxt alone
    expect(sb.nextSeg(una, nxt, false)).toBeUndefined();

    sb.endRecovery();
    expect(sb.inRecovery).toBe(false);
    expect(sb.ranges().map(rel)).toEqual([[6000, 9000]]);
  });

  it('uses rule (3) for holes not yet deemed lost', () => {
    const sb = new SackScoreboard({ mss: MSS });
    const una = at(0);
    const nxt = at(5000);
    sb.update(una, nxt, [blk(1000, 2000)]);
    sb.startRecovery(una, nxt);
    expect(sb.isLost(una)).toBe(false);
    expect(sb.nextSeg(una, nxt, true)).toEqual({ kind: 'new' });
    expect(sb.nextSeg(una, nxt, false)).toEqual({ kind: 'retransmit', seq: una, len: 1000, rule: 3 });
  });

  it('never lets a retransmission cover SACKed bytes or pass SND.NXT', () => {
    const sb = new SackScoreboard({ mss: MSS });
    const una = at(0);
    const nxt = at(4000);
    sb.update(una, nxt, [blk(300, 400), blk(500, 600), blk(700, 800), blk(3000, 3950)]);
    sb.startRecovery(una, nxt);
    expect(sb.nextSeg(una, nxt, false)).toEqual({ kind: 'retransmit', seq: una, len: 300, rule: 1 });
    // Rule (3) stops at the next SACKed range too.
    const three = new SackScoreboard({ mss: MSS });
    three.update(una, nxt, [blk(3500, 4000)]);
    three.startRecovery(una, nxt);
    expect(three.nextSeg(una, nxt, false)).toEqual({ kind: 'retransmit', seq: una, len: 1000, rule: 3 });
    // The rescue ends at the highest unSACKed octet, below a SACK that reaches SND.NXT...
    three.onRetransmit({ kind: 'retransmit', seq: una, len: 3500, rule: 3 });
    expect(three.nextSeg(una, nxt, false)).toEqual({ kind: 'retransmit', seq: at(2500), len: 1000, rule: 4 });
    // ...and does not reach back into a SACKed range below it.
    const four = new SackScoreboard({ mss: MSS });
    four.update(una, nxt, [blk(3000, 3600)]);
    four.startRecovery(una, nxt);
    four.onRetransmit({ kind: 'retransmit', seq: una, len: 3000, rule: 3 });
    expect(four.nextSeg(una, nxt, false)).toEqual({ kind: 'retransmit', seq: at(3600), len: 400, rule: 4 });
  });

  it('recognises D-SACKs (RFC 2883) and does not record them', () => {
    const sb = new SackScoreboard({ mss: MSS });
    // Below the cumulative ACK.
    let r = sb.update(at(2000), at(5000), [blk(0, 1000)]);
    expect(r.dsack).toEqual(blk(0, 1000));
    expect(sb.sackedBytes).toBe(0);
    // Inside the second block.
    r = sb.update(at(2000), at(5000), [blk(3000, 3500), blk(3000, 4000)]);
    expect(r.dsack).toEqual(blk(3000, 3500));
    expect(sb.ranges().map(rel)).toEqual([[3000, 4000]]);
    // Only the first block can be a D-SACK.
    r = sb.update(at(2000), at(5000), [blk(4000, 4500), blk(0, 500)]);
    expect(r.dsack).toBeUndefined();
  });

  it('ignores invalid blocks and clips one straddling SND.UNA', () => {
    const sb = new SackScoreboard({ mss: MSS });
    const una = at(1000);
    const nxt = at(5000);
    sb.update(una, nxt, [blk(6000, 7000)]); // beyond SND.NXT
    sb.update(una, nxt, [blk(3000, 3000)]); // empty
    sb.update(una, nxt, [blk(3000, 2000)]); // inverted
    sb.update(una, nxt, [blk(4000, 5001)]); // ends past SND.NXT
    expect(sb.sackedBytes).toBe(0);
    sb.update(una, nxt, [blk(2000, 2500), blk(500, 1500)]); // second straddles SND.UNA
    expect(sb.ranges().map(rel)).toEqual([
      [1000, 1500],
      [2000, 2500],
    ]);
  });

  it('forgets everything below a new cumulative ACK', () => {
    const sb = new SackScoreboard({ mss: MSS });
    sb.update(at(0), at(9000), [blk(1000, 2000), blk(3000, 4000), blk(5000, 6000)]);
    sb.update(at(3500), at(9000), []);
    expect(sb.ranges().map(rel)).toEqual([
      [3500, 4000],
      [5000, 6000],
    ]);
    expect(sb.sackedBytes).toBe(1500);
  });

  it('bounds memory by forgetting the smallest range', () => {
    const sb = new SackScoreboard({ mss: MSS, maxRanges: 3 });
    const una = at(0);
    const nxt = at(10_000);
    sb.update(una, nxt, [blk(1000, 1500), blk(2000, 2100), blk(3000, 3800)]);
    sb.update(una, nxt, [blk(5000, 5300)]);
    expect(sb.ranges().map(rel)).toEqual([
      [1000, 1500],
      [3000, 3800],
      [5000, 5300],
    ]);
    expect(sb.sackedBytes).toBe(1600);
  });

  it('merges adjacent and overlapping blocks', () => {
    const sb = new SackScoreboard({ mss: MSS });
    const una = at(0);
    const nxt = at(10_000);
    sb.update(una, nxt, [blk(1000, 2000), blk(3000, 4000)]);
    expect(sb.update(una, nxt, [blk(2000, 3000)]).newlySacked).toBe(1000);
    expect(sb.ranges().map(rel)).toEqual([[1000, 4000]]);
    expect(sb.update(una, nxt, [blk(500, 4500)]).newlySacked).toBe(1000);
    expect(sb.ranges().map(rel)).toEqual([[500, 4500]]);
  });

  it('clear() forgets ranges and recovery state', () => {
    const sb = new SackScoreboard({ mss: MSS });
    sb.update(at(0), at(5000), [blk(1000, 2000)]);
    sb.startRecovery(at(0), at(5000));
    sb.clear();
    expect(sb.rangeCount).toBe(0);
    expect(sb.sackedBytes).toBe(0);
    expect(sb.highestSacked).toBeUndefined();
    expect(sb.inRecovery).toBe(false);
  });
});

/** A byte-level model of the scoreboard: one flag per outstanding octet, offsets from BASE. */
class Model {
  una = 0;
  nxt = 0;
  sacked = new Set<number>();
  constructor(
    readonly mss: number,
    readonly dupThresh: number,
  ) {}

  update(una: number, nxt: number, blocks: readonly [number, number][]): { newly: number; dsack: boolean } {
    this.una = una;
    this.nxt = nxt;
    for (const o of [...this.sacked]) if (o < una) this.sacked.delete(o);
    let newly = 0;
    let dsack = false;
    blocks.forEach(([l, r], i) => {
      if (i === 0 && l < r) {
        const second = blocks[1];
        if (l < una || (second !== undefined && l >= second[0] && r <= second[1])) {
          dsack = true;
          return;
        }
      }
      if (!(l < r) || r <= una || r > nxt) return;
      for (let o = Math.max(l, una); o < r; o++) {
        if (!this.sacked.has(o)) newly++;
        this.sacked.add(o);
      }
    });
    return { newly, dsack };
  }

  ranges(): [number, number][] {
    const out: [number, number][] = [];
    for (let o = this.una; o < this.nxt; o++) {
      if (!this.sacked.has(o)) continue;
      const last = out[out.length - 1];
      if (last !== undefined && last[1] === o) last[1] = o + 1;
      else out.push([o, o + 1]);
    }
    return out;
  }

  isLost(s: number): boolean {
    if (this.sacked.has(s)) return false;
    const above = this.ranges().filter(([l]) => l > s);
    const bytes = above.reduce((n, [l, r]) => n + r - l, 0);
    return above.length >= this.dupThresh || bytes > (this.dupThresh - 1) * this.mss;
  }

  pipe(highRxt: number): number {
    // Walk down from the top, counting the SACKed runs and bytes above each octet.
    let p = 0;
    let runs = 0;
    let bytes = 0;
    for (let o = this.nxt - 1; o >= this.una; o--) {
      if (this.sacked.has(o)) {
        bytes++;
        if (!this.sacked.has(o + 1)) runs++;
        continue;
      }
      const lost = runs >= this.dupThresh || bytes > (this.dupThresh - 1) * this.mss;
      if (!lost) p++;
      if (o < highRxt) p++;
    }
    return p;
  }

  /** NextSeg rules (1)-(3): the octet a retransmission must start at, or 'new' / undefined. */
  nextSeg(highRxt: number, canSendNew: boolean): { seq: number; rule: 1 | 3 } | 'new' | undefined {
    const ranges = this.ranges();
    const top = ranges[ranges.length - 1];
    let first: number | undefined;
    if (top !== undefined) {
      for (let o = Math.max(highRxt, this.una); o < top[0]; o++) {
        if (!this.sacked.has(o)) {
          first = o;
          break;
        }
      }
    }
    if (first !== undefined && this.isLost(first)) return { seq: first, rule: 1 };
    if (canSendNew) return 'new';
    if (first !== undefined) return { seq: first, rule: 3 };
    return undefined;
  }
}

describe('SackScoreboard against a byte-level model (randomized, seeded)', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('agrees on seed %i', (seed) => {
    const rng = new SeededRng(seed);
    const mss = 50 + rng.nextInt(100);
    const sb = new SackScoreboard({ mss, maxRanges: 1000 });
    const model = new Model(mss, 3);
    let una = 0;
    let nxt = 0;
    let recovering = false;
    const seen = { new: 0, 1: 0, 3: 0, 4: 0, pipe: 0 };
    for (let step = 0; step < 300; step++) {
      const op = rng.nextInt(10);
      if (op < 2) nxt += rng.nextInt(6 * mss);
      else if (op < 4) una = Math.min(nxt, una + rng.nextInt(4 * mss));
      const blocks: [number, number][] = [];
      const count = rng.nextInt(5);
      for (let b = 0; b < count; b++) {
        const l = Math.max(0, una - 2 * mss + rng.nextInt(nxt - una + 3 * mss));
        blocks.push([l, l + rng.nextInt(3 * mss) - 20]);
      }
      const got = sb.update(at(una), at(nxt), blocks.map(([l, r]) => blk(l, r)));
      const want = model.update(una, nxt, blocks);
      expect(got.newlySacked).toBe(want.newly);
      expect(got.dsack !== undefined).toBe(want.dsack);
      expect(sb.ranges().map(rel)).toEqual(model.ranges());
      expect(sb.sackedBytes).toBe(model.sacked.size);

      for (let q = 0; q < 5; q++) {
        const s = una + rng.nextInt(Math.max(1, nxt - una));
        const len = rng.nextInt(2 * mss);
        let all = true;
        for (let o = s; o < s + len; o++) all &&= model.sacked.has(o);
        if (len === 0) all = model.sacked.has(s);
        expect(sb.isSacked(at(s), len), `isSacked ${s} ${len}`).toBe(all);
        expect(sb.isLost(at(s)), `isLost ${s}`).toBe(model.isLost(s));
      }

      if (!recovering && rng.nextInt(20) === 0 && nxt > una) {
        sb.startRecovery(at(una), at(nxt));
        recovering = true;
      }
      if (recovering) {
        const highRxt = seqSub(sb.highRxt ?? at(una), BASE);
        expect(sb.pipe(at(una), at(nxt))).toBe(model.pipe(highRxt));
        seen.pipe++;
        const canSendNew = rng.nextInt(2) === 0;
        const seg = sb.nextSeg(at(una), at(nxt), canSendNew);
        const expected = model.nextSeg(highRxt, canSendNew);
        if (seg !== undefined) seen[seg.kind === 'new' ? 'new' : seg.rule]++;
        if (expected === 'new') {
          expect(seg).toEqual({ kind: 'new' });
        } else if (expected !== undefined) {
          expect(seg?.kind).toBe('retransmit');
          if (seg?.kind === 'retransmit') {
            expect([seqSub(seg.seq, BASE), seg.rule]).toEqual([expected.seq, expected.rule]);
            // Up to one MSS, all unSACKed, never past SND.NXT.
            const start = seqSub(seg.seq, BASE);
            expect(seg.len).toBeGreaterThan(0);
            expect(seg.len).toBeLessThanOrEqual(mss);
            expect(start + seg.len).toBeLessThanOrEqual(nxt);
            for (let o = start; o < start + seg.len; o++) expect(model.sacked.has(o)).toBe(false);
            sb.onRetransmit(seg);
          }
        } else if (seg !== undefined) {
          // Only a rescue is possible when rules (1)-(3) found nothing: it ends
          // just after the highest unSACKed outstanding octet and covers no SACKed byte.
          expect(seg).toMatchObject({ kind: 'retransmit', rule: 4 });
          let highest = nxt - 1;
          while (model.sacked.has(highest)) highest--;
          const r = seg as Extract<NextSegment, { kind: 'retransmit' }>;
          const start = seqSub(r.seq, BASE);
          expect(start + r.len).toBe(highest + 1);
          expect(r.len).toBeLessThanOrEqual(mss);
          for (let o = start; o < start + r.len; o++) expect(model.sacked.has(o)).toBe(false);
          sb.onRetransmit(seg as Extract<NextSegment, { kind: 'retransmit' }>);
        }
        if (una >= seqSub(sb.recoveryPoint ?? at(0), BASE) && rng.nextInt(3) === 0) {
          sb.endRecovery();
          recovering = false;
        }
      }
    }
    // The run must have exercised recovery, or it proves little.
    expect(seen.pipe).toBeGreaterThan(10);
    expect(seen.new + seen[1] + seen[3]).toBeGreaterThan(5);
  });
});
