// Issue 9: many idle connections in one process, and what each costs.
// 20 000 connections between two stacks on a VirtualClock (deterministic:
// no real timer, seeded ISNs and ports), one byte each way on every one,
// a virtual second idle, then every socket closed (clients first: their ends
// wait in TIME-WAIT, as compact records, until 2 MSL pass). The memory bound is
// twice the target, so a figure that drifts a little between Node versions
// cannot make this flaky, while a per-connection buffer left allocated
// (4 KiB and more) or a per-connection timer still fails it.
import { describe, expect, it } from 'vitest';
import { IDLE_MEMORY_TARGET, TIME_WAIT_MEMORY_TARGET, measureIdleMemory } from '../bench/memory.js';

describe('20 000 idle TCP connections', () => {
  it('open, carry a byte each way, idle under 2x the memory target, and close cleanly', { timeout: 120_000 }, async () => {
    const n = 20_000;
    const r = await measureIdleMemory({ connections: n, seed: 9, closeAll: true, timeWait: true });
    expect(r.bytesExchanged).toBe(2 * n);
    expect(r.serverFds).toBe(n + 1); // the listener too
    expect(r.clientFds).toBe(n);
    // Idle connections hold no timer of their own: a stack arms one for all its connections.
    expect(r.timersWhileIdle).toBeLessThanOrEqual(4);
    expect(r.bytesPerEndpoint).toBeGreaterThan(0);
    expect(r.bytesPerEndpoint).toBeLessThan(2 * IDLE_MEMORY_TARGET);
    // Drained send and receive buffers went back to the pool: no store per endpoint.
    expect(r.arrayBuffersPerEndpoint).toBeLessThan(256);
    // A connection in TIME-WAIT without its socket holds a compact record, not its TCB (about 3 KB).
    expect(r.timeWaitBytesPerEntry).toBeGreaterThan(0);
    expect(r.timeWaitBytesPerEntry).toBeLessThan(2 * TIME_WAIT_MEMORY_TARGET);
    expect(r.afterClose).toEqual({ fds: 0, timers: 0, resets: 0 });
  });
});
