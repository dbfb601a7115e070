/**
 * Link.setBatchEnd on MemoryNetwork (issue 9): on a real-time clock a
 * due-now batch is delivered in one loop and each receiving port hears of
 * its end once, after the whole batch; on a simulated clock every frame is
 * its own run and is followed by its own end. A Stack relies on this to read
 * the clock and re-arm its timer once per run instead of once per frame.
 */
import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { ManualClock } from '../time/manual-clock.js';
import { SystemClock } from '../time/system-clock.js';
import type { Instant } from '../time/instant.js';
import type { TimerCallback, TimerHandle } from '../time/clock.js';
import { microtasks, seqFrame as frame } from './memory.fixtures.js';
import { MemoryNetwork } from './memory.js';

/** A SystemClock in type (the network batches for it) that never arms a platform timer. */
class StillClock extends SystemClock {
  override now(): Instant {
    return 0 as Instant;
  }
  override setTimer(_at: Instant, _fn: TimerCallback): TimerHandle {
    throw new Error('no timer expected: zero latency batches go as microtasks');
  }
}

describe('MemoryLink.setBatchEnd', () => {
  it('reports the end of a real-time batch once per receiving port, after all its frames', async () => {
    const network = new MemoryNetwork({ clock: new StillClock(), seed: 5 });
    const a = network.attach();
    const b = network.attach();
    const c = network.attach();
    const log: string[] = [];
    for (const [name, link] of [['a', a], ['b', b], ['c', c]] as const) {
      link.setReceiver((f) => log.push(`${name}${f[14]}`));
      link.setBatchEnd(() => log.push(`${name}-end`));
    }
    b.send(frame(a.mac, b.mac, 0));
    a.send(frame(b.mac, a.mac, 1));
    b.send(frame(a.mac, b.mac, 2));
    a.send(frame(b.mac, a.mac, 3));
    await microtasks();
    // c got nothing, so it hears nothing.
    expect(log).toEqual(['a0', 'b1', 'a2', 'b3', 'a-end', 'b-end']);
  });

  it('ends a real-time batch of one frame before giving the frame back, as a longer batch does', async () => {
    // The one-frame batch takes a shorter path (a request/response hop, issue 9): same order.
    const network = new MemoryNetwork({ clock: new StillClock(), seed: 5 });
    const a = network.attach();
    const b = network.attach();
    const log: string[] = [];
    b.setReceiver((f) => {
      log.push(`b${f[14]}`);
      return true;
    });
    b.setBatchEnd(() => log.push('b-end'));
    a.setRecycler((f) => log.push(`back${f[14]}`));
    a.send(frame(b.mac, a.mac, 1));
    await microtasks();
    a.send(frame(b.mac, a.mac, 2));
    a.send(frame(b.mac, a.mac, 3));
    await microtasks();
    a.send(frame(b.mac, a.mac, 4));
    await microtasks();
    expect(log).toEqual(['b1', 'b-end', 'back1', 'b2', 'b3', 'b-end', 'back2', 'back3', 'b4', 'b-end', 'back4']);
  });

  it('still reports the end when a receiver throws', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ clock, seed: 5 });
    const a = network.attach();
    const b = network.attach();
    let ends = 0;
    b.setReceiver(() => {
      throw new Error('receiver failed');
    });
    b.setBatchEnd(() => ends++);
    a.send(frame(b.mac, a.mac, 1));
    expect(() => clock.advance(Duration.ZERO)).toThrow('receiver failed');
    expect(ends).toBe(1);
  });

  it('ends every frame on its own on a simulated clock (one timer per frame)', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork({ clock, seed: 5 });
    const a = network.attach();
    const b = network.attach();
    const log: string[] = [];
    b.setReceiver((f) => log.push(`b${f[14]}`));
    b.setBatchEnd(() => log.push('end'));
    a.send(frame(b.mac, a.mac, 1));
    a.send(frame(b.mac, a.mac, 2));
    clock.advance(Duration.ZERO);
    expect(log).toEqual(['b1', 'end', 'b2', 'end']);
    b.setBatchEnd(undefined);
    a.send(frame(b.mac, a.mac, 3));
    clock.advance(Duration.ZERO);
    expect(log).toEqual(['b1', 'end', 'b2', 'end', 'b3']);
  });
});
