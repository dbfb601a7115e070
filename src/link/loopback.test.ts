import { describe, expect, it } from 'vitest';
import { ManualClock } from '../time/manual-clock.js';
import { Duration } from '../time/duration.js';
import { Instant } from '../time/instant.js';
import { defineLinkConformance } from './link-conformance.js';
import type { Link } from './link.js';
import { LinkType } from './link.js';
import { LOOPBACK_MTU, LoopbackLink } from './loopback.js';

defineLinkConformance(
  'LoopbackLink',
  () => {
    const clock = new ManualClock();
    const link = new LoopbackLink({ clock });
    return { sender: link, receiver: link, flush: () => void clock.runUntilIdle() };
  },
  { describe, it },
);

describe('LoopbackLink', () => {
  it('is a trusted raw-IP link with the Linux loopback MTU', () => {
    const link = new LoopbackLink({ clock: new ManualClock() });
    expect(link.linkType).toBe(LinkType.RawIp);
    expect(link.mtu).toBe(LOOPBACK_MTU);
    expect(link.mtu).toBe(65_536);
    expect(link.trusted).toBe(true);
    expect((link as Link).mac).toBeUndefined();
  });

  it('delivers at the current instant through the clock, without advancing time', () => {
    const clock = new ManualClock(Instant.fromSecs(5));
    const link = new LoopbackLink({ clock });
    const seen: number[] = [];
    link.setReceiver(() => seen.push(clock.now()));
    link.send(new Uint8Array([0x45, 0, 0, 20]));
    expect(seen).toEqual([]);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(Duration.ZERO);
    expect(seen).toEqual([5_000_000]);
  });

  it('counts what it sends, delivers and drops', () => {
    const clock = new ManualClock();
    const link = new LoopbackLink({ clock, mtu: 100 });
    link.send(new Uint8Array(10));
    link.send(new Uint8Array(101));
    clock.runUntilIdle();
    link.setReceiver(() => undefined);
    link.send(new Uint8Array(10));
    clock.runUntilIdle();
    // In flight when closed: dropped, not delivered to a dead stack.
    link.send(new Uint8Array(10));
    link.close();
    link.send(new Uint8Array(10));
    clock.runUntilIdle();
    expect(link.closed).toBe(true);
    expect(link.counters.snapshot()).toEqual({
      sent: 4,
      delivered: 1,
      oversize: 1,
      'dropped-no-receiver': 1,
      'dropped-closed': 2,
    });
  });

  it('rejects a nonsensical MTU', () => {
    expect(() => new LoopbackLink({ clock: new ManualClock(), mtu: 10 })).toThrow(RangeError);
  });
});
