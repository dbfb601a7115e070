import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import { ipv4, mac } from '../wire/address.js';
import { SeededRng } from '../random/rng.js';
import { NeighbourCache } from './neighbour-cache.js';

const s = (x: number): Instant => Instant.fromSecs(x);
const A = ipv4('10.0.0.2');
const MA = mac('02:00:00:00:00:02');

describe('NeighbourCache', () => {
  it('queues packets, retries three times one second apart, then fails with the packets', () => {
    const c = new NeighbourCache<string>({ maxPending: 2 });
    expect(c.resolve(s(0), A, 'p1')).toEqual({ kind: 'queued', sendRequest: true });
    expect(c.resolve(s(0), A, 'p2')).toEqual({ kind: 'queued', sendRequest: false });
    expect(c.resolve(s(0), A, 'p3')).toEqual({ kind: 'dropped' });
    expect(c.pollAt()).toBe(s(1));
    expect(c.poll(s(0.5)).requests).toEqual([]);
    expect(c.poll(s(1)).requests).toEqual([A]);
    expect(c.poll(s(2)).requests).toEqual([A]);
    const r = c.poll(s(3));
    expect(r.requests).toEqual([]);
    expect(r.failed).toEqual([{ ip: A, packets: ['p1', 'p2'] }]);
    expect(c.size).toBe(0);
    expect(c.pollAt()).toBeUndefined();
  });

  it('releases queued packets on a reply; REACHABLE turns STALE, still used, and an unused STALE entry is forgotten', () => {
    const c = new NeighbourCache<string>({ reachableTime: Duration.fromSecs(30) });
    c.resolve(s(0), A, 'p1');
    expect(c.update(s(0.2), A, MA, false)).toEqual(['p1']);
    expect(c.resolve(s(1), A, 'p2')).toEqual({ kind: 'resolved', mac: MA });
    expect(c.entries()[0]!.state).toBe('reachable');
    expect(c.poll(s(30.2)).expired).toBe(0);
    expect(c.entries()[0]!.state).toBe('stale');
    expect(c.lookup(s(31), A)).toBe(MA);
    // 60 s unused: gone, and the next packet resolves afresh.
    expect(c.poll(s(90.2)).expired).toBe(1);
    expect(c.resolve(s(91), A, 'p3').kind).toBe('queued');
  });

  it('NUD: a STALE entry in use is re-verified (DELAY, then unicast PROBEs to the cached MAC), and dropped when nobody answers', () => {
    const c = new NeighbourCache<string>();
    const wrong = mac('02:00:00:00:00:77');
    // Learned from an ARP request (not a confirmation): STALE.
    c.update(s(0), A, wrong, true, false);
    expect(c.entries()[0]!.state).toBe('stale');
    expect(c.resolve(s(1), A, 'p1')).toEqual({ kind: 'resolved', mac: wrong });
    expect(c.entries()[0]!.state).toBe('delay');
    expect(c.pollAt()).toBe(s(6));
    const r1 = c.poll(s(6));
    expect(r1.probes).toEqual([{ ip: A, mac: wrong }]);
    expect(r1.requests).toEqual([]);
    expect(c.entries()[0]!.state).toBe('probe');
    // Still used while probing.
    expect(c.resolve(s(6.5), A, 'p2')).toEqual({ kind: 'resolved', mac: wrong });
    expect(c.poll(s(7)).probes).toEqual([{ ip: A, mac: wrong }]);
    expect(c.poll(s(8)).probes).toEqual([{ ip: A, mac: wrong }]);
    const r4 = c.poll(s(9));
    expect(r4.probes).toEqual([]);
    expect(r4.expired).toBe(1);
    expect(c.size).toBe(0);
    // The next packet asks the whole LAN again, and the right answer is REACHABLE.
    expect(c.resolve(s(9), A, 'p3')).toEqual({ kind: 'queued', sendRequest: true });
    expect(c.update(s(9.1), A, MA, true, true)).toEqual(['p3']);
    expect(c.entries()[0]).toMatchObject({ state: 'reachable', mac: MA });
  });

  it('NUD: an answer to a probe confirms the entry; a different MAC within lockTime is ignored', () => {
    const c = new NeighbourCache<string>();
    c.update(s(0), A, MA, true, false);
    c.resolve(s(0), A, 'p');
    c.poll(s(5));
    expect(c.entries()[0]!.state).toBe('probe');
    c.update(s(5.1), A, MA, true, true);
    expect(c.entries()[0]!.state).toBe('reachable');
    // A corrupted duplicate right after: ignored.
    c.update(s(5.2), A, mac('02:00:00:00:00:66'), true, true);
    expect(c.lookup(s(5.2), A)).toBe(MA);
    // A request from the same MAC does not downgrade a REACHABLE entry.
    c.update(s(7), A, MA, true, false);
    expect(c.entries()[0]!.state).toBe('reachable');
  });

  it('creates entries only when we are the target (RFC 826 merge rule)', () => {
    const c = new NeighbourCache<string>();
    expect(c.update(s(0), A, MA, false)).toEqual([]);
    expect(c.lookup(s(0), A)).toBeUndefined();
    c.update(s(0), A, MA, true);
    expect(c.lookup(s(0), A)).toBe(MA);
    const other = mac('02:00:00:00:00:09');
    // A different MAC for a confirmed (REACHABLE) mapping is ignored ...
    c.update(s(1), A, other, false);
    expect(c.lookup(s(1), A)).toBe(MA);
    // ... and replaces a STALE one, unconfirmed (it is probed before it is trusted).
    c.poll(s(31));
    c.update(s(32), A, other, false);
    expect(c.lookup(s(32), A)).toBe(other);
    expect(c.entries()[0]!.state).toBe('stale');
  });

  it('stays within maxEntries, reporting packets of evicted entries as failed', () => {
    const c = new NeighbourCache<string>({ maxEntries: 2 });
    c.resolve(s(0), 1, 'a');
    c.resolve(s(0), 2, 'b');
    c.resolve(s(0), 3, 'c');
    expect(c.size).toBe(2);
    expect(c.pollAt()).toBe(0);
    expect(c.poll(s(0)).failed).toEqual([{ ip: 0, packets: ['a'] }]);
    // Reported once: the next deadline is the remaining entries' first retry, not "now" again.
    expect(c.pollAt()).toBe(s(1));
  });

  it('keeps static entries', () => {
    const c = new NeighbourCache<string>();
    c.addStatic(A, MA);
    expect(c.lookup(s(1e6), A)).toBe(MA);
    c.update(s(1), A, mac('02:00:00:00:00:09'), true);
    expect(c.lookup(s(1), A)).toBe(MA);
    expect(c.pollAt()).toBeUndefined();
  });
});

describe('NeighbourCache.pollAt (cached between changes)', () => {
  it('always equals the earliest deadline recomputed from the table, through seeded random operations', () => {
    for (const seed of [1, 2, 3, 0xbeef]) {
      const rng = new SeededRng(seed);
      const int = (n: number): number => Math.floor(rng.nextFloat() * n);
      // Room for every address: no eviction (its pollAt of "now" is tested above).
      const c = new NeighbourCache<number>({ maxEntries: 16, maxPending: 2 });
      const ips = [1, 2, 3, 4, 5, 6, 7, 8].map((k) => ipv4(`10.0.0.${k}`));
      const macs = [1, 2, 3].map((k) => mac(`02:00:00:00:00:0${k}`));
      let now = 0;
      for (let step = 0; step < 3000; step++) {
        now += int(3) * 1_000_000 + int(1000);
        const at = now as Instant;
        const ip = ips[int(ips.length)]!;
        const m = macs[int(macs.length)]!;
        switch (int(10)) {
          case 0: {
            const known = c.lookupForSend(at, ip);
            if (known === undefined) c.resolve(at, ip, step);
            break;
          }
          case 1:
            c.resolve(at, ip, step);
            break;
          case 2:
            c.update(at, ip, m, int(2) === 0, int(2) === 0);
            break;
          case 3:
            c.confirm(at, ip);
            break;
          case 4:
            c.suspect(at, ip);
            break;
          case 5:
            if (int(8) === 0) c.addStatic(ip, m);
            break;
          case 6:
            c.delete(ip);
            break;
          default:
            c.poll(at);
        }
        let want: number | undefined;
        for (const e of c.entries()) if (e.state !== 'static' && (want === undefined || e.deadline < want)) want = e.deadline;
        expect(c.pollAt()).toBe(want);
        expect(c.pollAt()).toBe(want);
      }
    }
  });
});
