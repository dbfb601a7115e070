import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import { ipv4, mac } from '../wire/address.js';
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

  it('releases queued packets on a reply and caches until expiry', () => {
    const c = new NeighbourCache<string>({ reachableTime: Duration.fromSecs(60) });
    c.resolve(s(0), A, 'p1');
    expect(c.update(s(0.2), A, MA, false)).toEqual(['p1']);
    expect(c.resolve(s(1), A, 'p2')).toEqual({ kind: 'resolved', mac: MA });
    expect(c.lookup(s(60.1), A)).toBe(MA);
    expect(c.lookup(s(60.2), A)).toBeUndefined(); // expired
    expect(c.poll(s(60.3)).expired).toBe(1);
    expect(c.resolve(s(61), A, 'p3').kind).toBe('queued');
  });

  it('creates entries only when we are the target (RFC 826 merge rule)', () => {
    const c = new NeighbourCache<string>();
    expect(c.update(s(0), A, MA, false)).toEqual([]);
    expect(c.lookup(s(0), A)).toBeUndefined();
    c.update(s(0), A, MA, true);
    expect(c.lookup(s(0), A)).toBe(MA);
    const other = mac('02:00:00:00:00:09');
    c.update(s(1), A, other, false);
    expect(c.lookup(s(1), A)).toBe(other);
  });

  it('stays within maxEntries, reporting packets of evicted entries as failed', () => {
    const c = new NeighbourCache<string>({ maxEntries: 2 });
    c.resolve(s(0), 1, 'a');
    c.resolve(s(0), 2, 'b');
    c.resolve(s(0), 3, 'c');
    expect(c.size).toBe(2);
    expect(c.pollAt()).toBe(0);
    expect(c.poll(s(0)).failed).toEqual([{ ip: 0, packets: ['a'] }]);
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
