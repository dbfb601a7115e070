/**
 * On a real-time clock, MemoryNetwork delivers due-now frames in microtask
 * batches, but gives the event loop a turn (a timer batch) after
 * MICROTASK_FRAMES frames, so two stacks talking without pause cannot starve
 * a process's timers and I/O. Counted in frames: a ping-pong of one-frame
 * batches gets its turn after the same number of frames as a bulk flow.
 */
import { describe, expect, it } from 'vitest';
import type { TimerCallback, TimerHandle } from '../time/clock.js';
import type { Instant } from '../time/instant.js';
import { SystemClock } from '../time/system-clock.js';
import { seqFrame as frame } from './memory.fixtures.js';
import { MemoryNetwork } from './memory.js';

/** A SystemClock in type (the network batches for it) whose timers only queue here: a timer is an event loop turn. */
class TurnClock extends SystemClock {
  readonly turns: TimerCallback[] = [];
  override now(): Instant {
    return 0 as Instant;
  }
  override setTimer(_at: Instant, fn: TimerCallback): TimerHandle {
    this.turns.push(fn);
    return undefined as unknown as TimerHandle;
  }
}

/** Every microtask has run (a macrotask comes only after the queue is empty). */
const drained = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('MemoryNetwork on a real-time clock', () => {
  it('gives the event loop a turn every 512 frames of one-frame batches (a ping-pong never pausing)', async () => {
    const clock = new TurnClock();
    const network = new MemoryNetwork({ clock, seed: 9 });
    const a = network.attach();
    const b = network.attach();
    let delivered = 0;
    // Each side answers every frame at once: one frame per batch, for ever.
    a.setReceiver(() => {
      delivered++;
      a.send(frame(b.mac, a.mac, 1));
    });
    b.setReceiver(() => {
      delivered++;
      b.send(frame(a.mac, b.mac, 2));
    });
    a.send(frame(b.mac, a.mac, 0));
    await drained();
    // The chain stopped by itself, waiting for its turn: 511 frames went by
    // microtask, the 512th waits for the timer (32 one-frame batches would
    // have stopped it at 31).
    expect(delivered).toBe(511);
    expect(clock.turns).toHaveLength(1);
    for (let turn = 1; turn <= 4; turn++) {
      clock.turns.shift()!();
      await drained();
      expect(delivered).toBe(511 + 512 * turn);
      expect(clock.turns).toHaveLength(1);
    }
    a.setReceiver(undefined);
    b.setReceiver(undefined);
  });
});
