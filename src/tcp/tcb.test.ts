import { describe, expect, it } from 'vitest';
import { Instant } from '../time/instant.js';
import { ipv4 } from '../wire/address.js';
import { tcpConfig } from './config.js';
import { RackState } from './rack.js';
import { SackScoreboard } from './sack-scoreboard.js';
import { Tcb } from './tcb.js';

function tcb(tsOffset: number): Tcb {
  return new Tcb(Instant.ZERO, tcpConfig(), { addr: ipv4('10.0.0.1'), port: 1 }, { addr: ipv4('10.0.0.2'), port: 2 }, 1, tsOffset);
}

describe('Tcb.tsNow: whole milliseconds plus the offset, through a cache of the current millisecond', () => {
  it('is floor(now / 1 ms) + offset on either side of each millisecond edge, forwards, backwards and between connections', () => {
    const a = tcb(0);
    const b = tcb(0xfffffffe);
    const at = (us: number) => us as Instant;
    // Every answer checked against the formula, in an order that leaves the cached millisecond in each direction.
    const instants = [999, 1000, 1999, 1000, 999, 0, 2000, 1_700_000_000_123_456, 1_700_000_000_123_999, 1_700_000_000_124_000, 5, 1500.5, 1999.9];
    for (const us of instants) {
      expect(a.tsNow(at(us))).toBe(Math.floor(us / 1000) >>> 0);
      expect(b.tsNow(at(us))).toBe((Math.floor(us / 1000) + 0xfffffffe) >>> 0);
    }
  });
});

describe('Tcb.reclaimStores: a quiet connection gives back its RACK log too (issue 9)', () => {
  it('keeps the log while a segment is logged, and releases it once everything is acknowledged', () => {
    const t = tcb(0);
    const rack = (t.sb.rack = new RackState());
    const sb = new SackScoreboard({ mss: 1000 });
    rack.onSend(1000, 2000, 5 as Instant);
    t.reclaimStores();
    expect(rack.holdsLog).toBe(true);
    expect(rack.size).toBe(1);
    sb.update(2000, 2000, []);
    rack.onAck(sb, 2000, 10 as Instant, undefined);
    // Emptied by the ACK, but kept for the next segment until the connection is quiet.
    expect(rack.holdsLog).toBe(true);
    t.reclaimStores();
    expect(rack.holdsLog).toBe(false);
  });
});
