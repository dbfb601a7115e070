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
  it('takes the millisecond count modulo 2^32 past 2^31 and 2^32 ms (the cached int32 wraps; RFC 7323 5.4 compares TSvals modulo 2^32)', () => {
    const a = tcb(0);
    const b = tcb(0x80000001);
    // Millisecond counts at and around the int32 and uint32 edges, and epoch milliseconds (instants stay below 2^53 us).
    for (const ms of [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 3 * 2 ** 32 + 2 ** 31, 1_764_130_000_123, 2 ** 42 + 7]) {
      for (const us of [ms * 1000, ms * 1000 + 999]) {
        expect(a.tsNow(us as Instant), `${ms} ms`).toBe(ms % 2 ** 32);
        expect(b.tsNow(us as Instant), `${ms} ms`).toBe((ms + 0x80000001) % 2 ** 32);
      }
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
